#!/usr/bin/env python3
"""ListExecutions of 100 items against a daemon binary: wall time and daemon CPU per call.

    python3 bench/api/list_executions.py BIN [CALLS]

Starts BIN on a free port with a fresh data directory (run from that directory, so no
config file is read), creates a Pass machine, runs 1,000 executions of it, and then times
CALLS (500) ListExecutions of the machine's ARN, 100 items each, one after the other.
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request
bin_, n_calls = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 500
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
data = tempfile.mkdtemp()
p = subprocess.Popen([bin_, "serve", "--port", str(port), "--data-dir", data], cwd=data,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = f"http://127.0.0.1:{port}/"
def call(op, body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {
        "content-type": "application/x-amz-json-1.0", "x-amz-target": f"AWSStepFunctions.{op}"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())
for _ in range(100):
    try: call("ListStateMachines", {}); break
    except Exception: time.sleep(0.1)
sm = call("CreateStateMachine", {"name": "m", "roleArn": "arn:aws:iam::123456789012:role/r",
    "definition": json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})})["stateMachineArn"]
for i in range(1000):
    call("StartExecution", {"stateMachineArn": sm})
time.sleep(2)
def cpu():
    f = open(f"/proc/{p.pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
for _ in range(20): call("ListExecutions", {"stateMachineArn": sm, "maxResults": 100})
c0, t0 = cpu(), time.perf_counter()
for _ in range(n_calls):
    out = call("ListExecutions", {"stateMachineArn": sm, "maxResults": 100})
t1, c1 = time.perf_counter(), cpu()
assert len(out["executions"]) == 100
print(f"{bin_}: {n_calls} ListExecutions of 100 items: {(t1-t0)/n_calls*1e3:.2f} ms each, daemon CPU {(c1-c0)/n_calls*1e6:.0f} us each")
p.kill(); p.wait()
shutil.rmtree(data, ignore_errors=True)

"""RSS of the daemon with many executions waiting for a call that never answers.

usage: python3 bench/waiting_calls.py HOURGLASS_BINARY COUNT [KEYS]
Each execution's input is an object of KEYS short fields (about 25 bytes each)."""
import json, os, socket, socketserver, subprocess, sys, tempfile, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

binary, count = sys.argv[1], int(sys.argv[2])
keys = int(sys.argv[3]) if len(sys.argv) > 3 else 40

class Hold(socketserver.BaseRequestHandler):
    def handle(self):
        time.sleep(3600)

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

hole = Server(("127.0.0.1", 0), Hold)
threading.Thread(target=hole.serve_forever, daemon=True).start()
port = free_port()
data = tempfile.mkdtemp()
env = dict(os.environ, HOURGLASS_PORT=str(port), HOURGLASS_DATA_DIR=data,
           LAMBDA_ENDPOINT=f"http://127.0.0.1:{hole.server_address[1]}", HOURGLASS_LOG="warn")
daemon = subprocess.Popen([binary, "serve"], env=env, cwd=data)
url = f"http://127.0.0.1:{port}/"

def call(target, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AWSStepFunctions.{target}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())

for _ in range(100):
    try:
        call("ListStateMachines", {}); break
    except Exception:
        time.sleep(0.1)
definition = {"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "End": True}}}
sm = call("CreateStateMachine", {"name": "hot", "definition": json.dumps(definition),
          "roleArn": "arn:aws:iam::123456789012:role/r"})["stateMachineArn"]
payload = json.dumps({f"field{k:03}": f"value{k:03}-abcdef" for k in range(keys)})

def rss():
    with open(f"/proc/{daemon.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024

before = rss()
began = time.time()
with ThreadPoolExecutor(32) as pool:
    list(pool.map(lambda i: call("StartExecution", {"stateMachineArn": sm, "input": payload}), range(count)))
took = time.time() - began
time.sleep(5)
after = rss()
print(f"{binary}: {count} executions waiting for a call, input {len(payload)} bytes; "
      f"started in {took:.1f} s; RSS {before} MiB before, {after} MiB after")
daemon.kill(); daemon.wait()
subprocess.run(["rm", "-rf", data])

#!/usr/bin/env python3
"""Measure hourglass beside other Step Functions servers on this machine, with the same
scenarios and the same clients:

  run      hourglass-bench --endpoint URL run --count N: starts/s, latency and executions
           run to completion per second (Pass -> Wait 0 -> Pass);
  hold     start executions of a machine whose only state is a Wait of one day, in batches,
           until the server errors, a batch's start p99 passes 5 s, or the cap; the count
           reached and the server's RSS (VmRSS) at the end, then its RSS at idle;
  restart  then SIGTERM the server, start it again on the same data directory (or state),
           and count with ListStateMachines, ListExecutions and DescribeExecution what it
           still has.

Each server is started fresh, on a fresh directory under /tmp, for each scenario. Before each
measured run the script waits until no rustc, cargo, cargo-nextest or test binary runs (polling
every 10 s) and records the load average; another hourglass-bench that runs is recorded, with
the CPU it and its daemon take during the run. Results go to a JSON-lines file, one line a run.

Servers: hourglass (the release binary), moto (moto_server from a venv, with
execute_state_machine on), localstack (localstack-core's runtime in host mode, from a venv).
Run it with a Python that has boto3. Usage: see --help; scripts/bench-peers wraps it.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

WAIT_DAY = json.dumps(
    {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 86400, "End": True}}}
)
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/bench"


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ---------------------------------------------------------------- machine state


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def busy_processes():
    """Compilers, test runs and hourglass-bench processes that are running (none of them
    ours when this is called): rustc, cargo, cargo-nextest, test binaries under a
    target/*/deps/ folder, hourglass-bench."""
    found = []
    for name in ("rustc", "cargo", "cargo-nextest", "hourglass-bench"):
        r = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
        found += [f"{name}:{p}" for p in r.stdout.split()]
    r = subprocess.run(["pgrep", "-f", r"/target/[a-z]+/deps/"], capture_output=True, text=True)
    found += [f"test-binary:{p}" for p in r.stdout.split() if int(p) != os.getpid()]
    return found


def wait_quiet(max_wait_other=0):
    """Wait (polling every 10 s) until no rustc and no cargo runs; also wait for another
    hourglass-bench to end, at most max_wait_other seconds (by default not at all: it is
    recorded, and its CPU use during the run measured)."""
    t0 = time.time()
    said = False
    while True:
        busy = busy_processes()
        compiler = [b for b in busy if not b.startswith("hourglass-bench")]
        other = [b for b in busy if b.startswith("hourglass-bench")]
        if not compiler and (not other or time.time() - t0 > max_wait_other):
            waited = time.time() - t0
            if said:
                log(f"quiet after {waited:.0f} s")
            return {"waited_s": round(waited), "load": loadavg(), "other_running": other}
        if not said:
            log("waiting for", ", ".join(busy))
            said = True
        time.sleep(10)


def cpu_jiffies(pid):
    """utime + stime of pid (all its threads), in clock ticks; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def machine_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(c) for c in f.read().split()]
                    out += kids
                    todo += kids
        except OSError:
            pass
    return out


class Watch:
    """During a run: samples every 2 s whether rustc/cargo/another hourglass-bench runs, and
    measures the CPU the machine, the server and other benchmarks (hourglass-bench processes
    not ours, with their children) used."""

    def __init__(self, server_pid, own_pids=()):
        self.seen = set()
        self.own = set(own_pids)
        self.server_pid = server_pid
        self.hz = os.sysconf("SC_CLK_TCK")
        self.others = {}  # pid -> jiffies at first sight
        self.t0 = time.time()
        self.m0 = machine_jiffies()
        self.s0 = cpu_jiffies(server_pid)
        self.last_other = {}
        self.sample_others()
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def sample_others(self):
        r = subprocess.run(["pgrep", "-x", "hourglass-bench"], capture_output=True, text=True)
        for p in r.stdout.split():
            if p in self.own:
                continue
            for q in [int(p)] + descendants(int(p)):
                j = cpu_jiffies(q)
                if q not in self.others:
                    self.others[q] = j
                if j:
                    self.last_other[q] = j

    def loop(self):
        while not self.stop.wait(2):
            self.sample_others()
            for b in busy_processes():
                if b.split(":")[1] not in self.own:
                    self.seen.add(b.split(":")[0])

    def end(self):
        self.stop.set()
        self.sample_others()
        wall = time.time() - self.t0
        m1 = machine_jiffies()
        busy = (m1[0] - self.m0[0]) / max(1, m1[1] - self.m0[1]) * os.cpu_count()
        other = sum(self.last_other.get(p, j) - j for p, j in self.others.items()) / self.hz
        server = (cpu_jiffies(self.server_pid) - self.s0) / self.hz
        return {"seen": sorted(self.seen), "wall_s": round(wall, 1),
                "machine_busy_cores": round(busy, 2),
                "server_cpu_cores": round(server / wall, 2) if wall else 0,
                "other_bench_cpu_cores": round(other / wall, 2) if wall else 0}


def rss_kib(pid):
    """VmRSS of pid plus that of its descendants, in KiB (and the pid's own)."""
    def one(p):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def children(p):
        out = []
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    out += [int(c) for c in f.read().split()]
        except OSError:
            pass
        return out

    own = one(pid)
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += one(p)
        todo += children(p)
    return own, total


def threads_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def http_get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except Exception as e:  # noqa: BLE001
        return None, str(e)


# ---------------------------------------------------------------- servers


class Server:
    name = "?"

    def __init__(self, args, port, workdir):
        self.args = args
        self.port = port
        self.workdir = workdir
        self.proc = None
        self.logf = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def healthy(self):
        raise NotImplementedError

    def after_ready(self):
        pass

    def start(self, timeout=180):
        try:
            return self._start(timeout)
        except Exception:
            self.stop(signal.SIGKILL, timeout=10)
            raise

    def _start(self, timeout):
        self.starts += 1
        self.logf = open(os.path.join(self.workdir, f"server-{self.starts}.log"), "wb")
        t0 = time.time()
        self.proc = subprocess.Popen(
            self.command(), cwd=self.workdir, env=self.env(), stdout=self.logf,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} while starting; "
                                   f"log {self.logf.name}")
            if self.healthy():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.name} not ready in {timeout} s")
        self.after_ready()
        # Ready for the API: a ListStateMachines answers.
        c = client(self.url, 1)
        while True:
            try:
                c.list_state_machines(maxResults=1)
                break
            except Exception:  # noqa: BLE001
                if time.time() - t0 > timeout:
                    raise
                time.sleep(0.1)
        return time.time() - t0

    def stop(self, sig=signal.SIGTERM, timeout=120):
        """Send sig; wait up to timeout, then SIGKILL. Returns (seconds, how it ended)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0, "not running"
        t0 = time.time()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
            how = f"exited rc={rc}"
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            how = f"still running {timeout} s after {signal.Signals(sig).name}: SIGKILL"
        # Anything it left behind in its session (its own children).
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.logf.close()
        return time.time() - t0, how


class Hourglass(Server):
    name = "hourglass"

    def command(self):
        return [self.args.hourglass, "serve", "--port", str(self.port),
                "--data-dir", os.path.join(self.workdir, "data")]

    def env(self):
        # Built-in defaults only: no HOURGLASS_* variable from the caller's environment.
        return {k: v for k, v in os.environ.items() if not k.startswith("HOURGLASS_")}

    def healthy(self):
        return http_get(self.url + "/ready")[0] == 200


class Moto(Server):
    name = "moto"

    def command(self):
        return [os.path.join(self.args.moto_venv, "bin", "moto_server"), "-p", str(self.port)]

    def healthy(self):
        code = http_get(self.url + "/moto-api/config")[0]
        return code is not None and 200 <= code < 300

    def after_ready(self):
        # moto only runs state machines when told to.
        req = urllib.request.Request(
            self.url + "/moto-api/config", method="POST",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode())
        urllib.request.urlopen(req, timeout=10).read()


class LocalStack(Server):
    name = "localstack"

    def command(self):
        return [os.path.join(self.args.ls_venv, "bin", "python"), "-m", "localstack.runtime.main"]

    def env(self):
        e = dict(os.environ)
        e.update({
            # Step Functions sends every execution's status changes to EventBridge; without
            # events each of them fails and is logged as an error.
            "SERVICES": self.args.ls_services,
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            # Host mode: keep every directory under the run's own one (this machine looks
            # like a container to it, which would put them under /var/lib/localstack).
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": os.path.join(self.workdir, "localstack-fs"),
            "PERSISTENCE": "1",
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
        })
        return e

    def healthy(self):
        code, body = http_get(self.url + "/_localstack/health")
        if code != 200:
            return False
        try:
            return json.loads(body)["services"].get("stepfunctions") in ("available", "running")
        except Exception:  # noqa: BLE001
            return False


SERVERS = {"hourglass": Hourglass, "moto": Moto, "localstack": LocalStack}
PORTS = {"hourglass": 5110, "moto": 5111, "localstack": 5112}


def client(url, pool):
    return boto3.client(
        "stepfunctions", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(max_pool_connections=pool, retries={"total_max_attempts": 1},
                      connect_timeout=10, read_timeout=60),
    )


# ---------------------------------------------------------------- scenarios


def pct(sorted_list, p):
    if not sorted_list:
        return 0.0
    return sorted_list[min(len(sorted_list) - 1, round(p / 100 * (len(sorted_list) - 1)))]


def scenario_run(args, kind, workdir):
    srv = SERVERS[kind](args, PORTS[kind], workdir)
    quiet = wait_quiet()
    log(f"[{kind}] run --count {args.run_count}; load {quiet['load']}")
    try:
        return _scenario_run(args, kind, srv, quiet)
    finally:
        srv.stop()


def _scenario_run(args, kind, srv, quiet):
    ready_s = srv.start()
    cmd = [args.bench, "--endpoint", srv.url, "run", "--count", str(args.run_count)]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = Watch(srv.proc.pid, own_pids=[str(p.pid)])
    try:
        out, err = p.communicate(timeout=1200)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rc = "timeout"
    wall = time.time() - t0
    rss_own, rss_tree = rss_kib(srv.proc.pid)
    seen = watch.end()
    srv.stop()
    res = {"scenario": "run", "server": kind, "count": args.run_count, "command": cmd,
           "quiet": quiet, "load_end": loadavg(), "during": seen, "ready_s": round(ready_s, 2),
           "rc": rc, "wall_s": round(wall, 2), "stdout": out, "stderr": err[-4000:],
           "rss_end_kib": rss_own, "rss_tree_end_kib": rss_tree}
    m = re.search(r"start \(run\): (\d+) starts in ([\d.]+) s = (\d+)/s; latency p50 ([\d.]+) ms, "
                  r"p99 ([\d.]+) ms, p99.9 ([\d.]+) ms; throttled or refused and retried (\d+)", out)
    if m:
        res.update(starts_per_s=int(m[3]), start_p50_ms=float(m[4]), start_p99_ms=float(m[5]),
                   start_p999_ms=float(m[6]), throttled=int(m[7]))
    m = re.search(r"succeeded in ([\d.]+) s = (\d+) executions/s", out)
    if m:
        res.update(run_s=float(m[1]), executions_per_s=int(m[2]))
    log(f"[{kind}] run: {res.get('starts_per_s')} starts/s, {res.get('executions_per_s')} "
        f"executions/s, rc {rc}")
    return res


def start_batch(c, sm, names, threads, stop_flag):
    """Start executions named names from threads workers. Returns (arns, latencies, errors,
    throttled) where errors lists (name, text) of failures other than throttling."""
    lock = threading.Lock()
    it = iter(names)
    arns, lats, errors = [], [], []
    throttled = [0]

    def worker():
        while not stop_flag.is_set():
            with lock:
                name = next(it, None)
            if name is None:
                return
            while True:
                t = time.perf_counter()
                try:
                    r = c.start_execution(stateMachineArn=sm, name=name, input="{}")
                    dt = time.perf_counter() - t
                    with lock:
                        arns.append(r["executionArn"])
                        lats.append(dt)
                    break
                except ClientError as e:
                    code = e.response.get("Error", {}).get("Code", "")
                    if code in ("ThrottlingException", "ServiceUnavailableException"):
                        with lock:
                            throttled[0] += 1
                        time.sleep(0.005)
                        continue
                    with lock:
                        errors.append((name, f"{code}: {e}", time.perf_counter() - t))
                    stop_flag.set()
                    return
                except Exception as e:  # noqa: BLE001
                    with lock:
                        errors.append((name, f"{type(e).__name__}: {e}", time.perf_counter() - t))
                    stop_flag.set()
                    return

    with ThreadPoolExecutor(threads) as ex:
        for f in [ex.submit(worker) for _ in range(threads)]:
            f.result()
    return arns, lats, errors, throttled[0]


def count_executions(c, sm, status=None):
    n, token = 0, None
    while True:
        kw = {"stateMachineArn": sm, "maxResults": 1000}
        if status:
            kw["statusFilter"] = status
        if token:
            kw["nextToken"] = token
        page = c.list_executions(**kw)
        n += len(page["executions"])
        token = page.get("nextToken")
        if not token:
            return n


def count_machines(c):
    names, token = [], None
    while True:
        kw = {"maxResults": 1000}
        if token:
            kw["nextToken"] = token
        page = c.list_state_machines(**kw)
        names += [m["name"] for m in page["stateMachines"]]
        token = page.get("nextToken")
        if not token:
            return names


def guarded(fn, *a, **kw):
    t0 = time.time()
    try:
        return {"value": fn(*a, **kw), "s": round(time.time() - t0, 2)}
    except Exception as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}", "s": round(time.time() - t0, 2)}


def describe_sample(c, arns, n, threads):
    sample = arns if len(arns) <= n else [arns[i * len(arns) // n] for i in range(n)]
    found = {"RUNNING": 0}
    missing, other_errors = 0, []
    lock = threading.Lock()

    def one(arn):
        nonlocal missing
        try:
            s = c.describe_execution(executionArn=arn)["status"]
            with lock:
                found[s] = found.get(s, 0) + 1
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            with lock:
                if code == "ExecutionDoesNotExist":
                    missing += 1
                else:
                    other_errors.append(f"{code}: {e}")
        except Exception as e:  # noqa: BLE001
            with lock:
                other_errors.append(f"{type(e).__name__}: {e}")

    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(one, sample))
    return {"sampled": len(sample), "statuses": found, "does_not_exist": missing,
            "other_errors": len(other_errors), "first_errors": other_errors[:3]}


def scenario_hold(args, kind, workdir):
    srv = SERVERS[kind](args, PORTS[kind], workdir)
    quiet = wait_quiet()
    cap = args.hold_cap
    log(f"[{kind}] hold: batches of {args.batch} up to {cap}; load {quiet['load']}")
    try:
        return _scenario_hold(args, kind, srv, quiet)
    finally:
        srv.stop()


def _scenario_hold(args, kind, srv, quiet):
    cap = args.hold_cap
    ready_s = srv.start()
    pid = srv.proc.pid
    watch = Watch(pid)
    c = client(srv.url, args.threads + 4)
    sm = c.create_state_machine(name="hold-a-day", definition=WAIT_DAY, roleArn=ROLE)["stateMachineArn"]
    extra = [c.create_state_machine(name=f"keep-{i}", definition=PASS, roleArn=ROLE)["stateMachineArn"]
             for i in range(args.extra_machines)]
    machines_created = 1 + len(extra)
    rss0 = rss_kib(pid)
    batches, arns, stop_reason, errors = [], [], None, []
    stop_flag = threading.Event()
    t_all = time.time()
    i = 0
    while True:
        if len(arns) >= cap:
            stop_reason = f"cap {cap} reached"
            break
        n = min(args.batch, cap - len(arns))
        names = [f"w{j}" for j in range(i, i + n)]
        i += n
        t0 = time.time()
        got, lats, errs, thr = start_batch(c, sm, names, args.threads, stop_flag)
        secs = time.time() - t0
        arns += got
        lats.sort()
        own, tree = rss_kib(pid)
        b = {"started": len(got), "total": len(arns), "s": round(secs, 2),
             "per_s": round(len(got) / secs, 1) if secs else 0,
             "p50_ms": round(pct(lats, 50) * 1000, 1), "p99_ms": round(pct(lats, 99) * 1000, 1),
             "max_ms": round((lats[-1] if lats else 0) * 1000, 1), "throttled": thr,
             "rss_kib": own, "rss_tree_kib": tree, "threads": threads_of(pid),
             "errors": len(errs), "load": loadavg()}
        batches.append(b)
        log(f"[{kind}] {b['total']} held; batch {b['per_s']}/s p99 {b['p99_ms']} ms; "
            f"rss {own // 1024} MiB; threads {b['threads']}; errors {len(errs)}")
        if errs:
            errors = errs[:10]
            stop_reason = f"server error: {errs[0][1]}"
            break
        if srv.proc.poll() is not None:
            stop_reason = f"server exited rc={srv.proc.returncode}"
            break
        if pct(lats, 99) > 5.0:
            stop_reason = f"start p99 {pct(lats, 99):.1f} s > 5 s"
            break
        if tree > args.rss_guard_mib * 1024 or mem_available_mib() < args.min_available_mib:
            stop_reason = (f"memory guard (server RSS {tree // 1024} MiB, machine MemAvailable "
                           f"{mem_available_mib()} MiB)")
            break
    hold_s = time.time() - t_all
    during = watch.end()
    alive = srv.proc.poll() is None
    rss_end = rss_kib(pid)
    res = {"scenario": "hold", "server": kind, "quiet": quiet, "ready_s": round(ready_s, 2),
           "machines_created": machines_created, "rss_start_kib": rss0[0],
           "reached": len(arns), "stop_reason": stop_reason, "errors": errors,
           "hold_s": round(hold_s, 1), "rss_end_kib": rss_end[0], "rss_tree_end_kib": rss_end[1],
           "threads_end": threads_of(pid), "batches": batches, "load_end": loadavg(),
           "during": during}
    log(f"[{kind}] hold stopped at {len(arns)}: {stop_reason}")
    if not alive:
        srv.stop()
        return res
    # (d) idle: no requests for idle_secs.
    time.sleep(args.idle_secs)
    res["rss_idle_kib"], res["rss_tree_idle_kib"] = rss_kib(pid)
    res["threads_idle"] = threads_of(pid)
    res["load_idle"] = loadavg()
    log(f"[{kind}] idle rss {res['rss_idle_kib'] // 1024} MiB")
    # What the server itself reports as running before the restart.
    res["before_restart"] = {
        "machines": guarded(lambda: len(count_machines(c))),
        "running": guarded(count_executions, c, sm, "RUNNING"),
        "describe": guarded(describe_sample, c, arns, args.describe_sample, args.threads),
    }
    log(f"[{kind}] before restart: {json.dumps(res['before_restart'])[:300]}")
    # (e) restart: SIGTERM, then the same command on the same directory.
    stop_s, how = srv.stop(signal.SIGTERM, timeout=args.term_timeout)
    res["sigterm"] = {"s": round(stop_s, 2), "how": how}
    log(f"[{kind}] SIGTERM: {how} after {stop_s:.1f} s")
    try:
        res["restart_ready_s"] = round(srv.start(timeout=args.restart_timeout), 2)
        pid = srv.proc.pid
        res["rss_restart_kib"] = rss_kib(pid)[0]
        c = client(srv.url, args.threads + 4)
        names = guarded(count_machines, c)
        after = {"machines": {"value": len(names["value"]), "s": names["s"]} if "value" in names else names}
        after["running"] = guarded(count_executions, c, sm, "RUNNING")
        after["all"] = guarded(count_executions, c, sm)
        after["describe"] = guarded(describe_sample, c, arns, args.describe_sample, args.threads)
        res["after_restart"] = after
        res["rss_after_queries_kib"] = rss_kib(pid)[0]
        log(f"[{kind}] after restart: {json.dumps(after)[:400]}")
    except Exception as e:  # noqa: BLE001
        res["after_restart"] = {"error": f"{type(e).__name__}: {e}"}
    srv.stop()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="hourglass,moto,localstack")
    ap.add_argument("--scenarios", default="run,hold")
    ap.add_argument("--rounds", type=int, default=2, help="each round runs every server once")
    ap.add_argument("--hourglass", default="target/release/hourglass")
    ap.add_argument("--bench", default="target/release/hourglass-bench")
    ap.add_argument("--moto-venv", default="/work/.venv-peers")
    ap.add_argument("--ls-venv", default="/work/.venv-peers-ls")
    ap.add_argument("--ls-services", default="stepfunctions,events",
                    help="LocalStack's SERVICES (Step Functions reports status changes to events)")
    ap.add_argument("--run-count", type=int, default=2000)
    ap.add_argument("--hold-cap", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--extra-machines", type=int, default=10)
    ap.add_argument("--idle-secs", type=int, default=30)
    ap.add_argument("--describe-sample", type=int, default=1000)
    ap.add_argument("--term-timeout", type=int, default=120)
    ap.add_argument("--restart-timeout", type=int, default=600)
    ap.add_argument("--rss-guard-mib", type=int, default=12 * 1024)
    ap.add_argument("--min-available-mib", type=int, default=4 * 1024)
    ap.add_argument("--out", default=time.strftime("/tmp/bench-peers-%Y%m%d-%H%M%S.jsonl"))
    args = ap.parse_args()
    # A SIGTERM unwinds like an exception, so that the server running is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    servers = args.servers.split(",")
    log(f"results: {args.out}")
    with open(args.out, "a") as out:
        for scen in args.scenarios.split(","):
            for rnd in range(1, args.rounds + 1):
                for kind in servers:
                    workdir = tempfile.mkdtemp(prefix=f"peers-{kind}-{scen}-", dir="/tmp")
                    t0 = time.time()
                    try:
                        fn = scenario_run if scen == "run" else scenario_hold
                        res = fn(args, kind, workdir)
                    except Exception as e:  # noqa: BLE001
                        res = {"scenario": scen, "server": kind, "error": f"{type(e).__name__}: {e}"}
                        log(f"[{kind}] {scen} failed: {res['error']}")
                    res.update(round=rnd, workdir=workdir, started=time.strftime("%Y-%m-%d %H:%M:%S",
                               time.localtime(t0)), elapsed_s=round(time.time() - t0, 1))
                    out.write(json.dumps(res) + "\n")
                    out.flush()


if __name__ == "__main__":
    main()

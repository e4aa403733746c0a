#!/usr/bin/env bash
# The floor under the daemon's CPU per start: the same wrk load as run.sh (2 threads, 64
# connections, unnamed StartExecution requests) against `hourglass-bench floor`, a server on the
# daemon's HTTP stack that parses and answers each start and does nothing else. Then CALLS
# (200,000 unless given) calls of its Lambda Invoke API from 64 tasks in another process,
# through the daemon's own Lambda client: the floor under a Task's call.
#   bench/wrk/floor.sh [HOURGLASS_BENCH_BINARY] [SECONDS]
# With DURABLE=1 the server also stores each start before answering it (`floor --durable`: one
# row in one table of an SQLite database, group commit, synchronous=FULL), and the calls are
# left out: the floor under a start that survives a crash. With TASKS=1 as well, each start
# then calls a second floor's Lambda Invoke API through the daemon's client and stores the
# result before answering (`--task-call`): the floor under a durable Task execution.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../target/release/hourglass-bench}"
secs="${2:-30}"
port=$((20000 + RANDOM % 20000))
log="$(mktemp)"
store="$(mktemp -d)"
durable=()
[ "${DURABLE:-0}" = 1 ] && durable=(--durable "$store")
fn_pid=""
if [ "${DURABLE:-0}" = 1 ] && [ "${TASKS:-0}" = 1 ]; then
  # The function the starts call: a plain floor of its own, whose CPU is not counted.
  fn_port=$((port + 1))
  "$bin" floor --port "$fn_port" > /dev/null 2>&1 &
  fn_pid=$!
  durable+=(--task-call "http://127.0.0.1:$fn_port")
fi
"$bin" floor --port "$port" "${durable[@]}" > "$log" 2>&1 &
pid=$!
stop() {
  local rc=$?
  kill "$pid" $fn_pid 2>/dev/null
  wait "$pid" $fn_pid 2>/dev/null || true
  rm -rf "$log" "$store"
  exit "$rc"
}
trap stop EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/count" > /dev/null && break; sleep 0.1; done
export MACHINE_ARN="arn:aws:states:us-east-1:123456789012:stateMachine:wrk"
export WRK_DIR="$here"
n0=$(curl -sf "http://127.0.0.1:$port/count")
cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
wrk -t2 -c"${CONNECTIONS:-64}" -d"${secs}s" --latency -s "$here/start.lua" "http://127.0.0.1:$port/" | tail -1
cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat")
n1=$(curl -sf "http://127.0.0.1:$port/count")
python3 -c "import sys; c=(int(sys.argv[2])-int(sys.argv[1]))/int(sys.argv[3]); n=int(sys.argv[5])-int(sys.argv[4]); print(f'floor CPU {c:.1f} s for {n} starts: {c*1e6/max(n,1):.1f} µs per start')" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" "$n0" "$n1"
if [ "${DURABLE:-0}" = 1 ]; then
  echo "stored: $(sqlite3 "$store/floor.db" "SELECT COUNT(*) FROM starts") starts"
  exit 0
fi
"$bin" floor --call "http://127.0.0.1:$port" --count "${CALLS:-200000}" --clients 64

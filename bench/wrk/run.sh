#!/usr/bin/env bash
# Starts measured by wrk: 2 threads, 64 connections, unnamed StartExecution of a machine that
# waits ten days, against a fresh daemon (SQLite, synchronous=FULL).
#   bench/wrk/run.sh [HOURGLASS_BINARY] [SECONDS] [PREFILL]
# At least PREFILL executions are started first (by wrk too, not measured) to measure at that
# size. With KEEP_DATA=1 the data directory is kept (its path is printed), the daemon stopped.
# Executions are counted through the view `executions` (a table in builds before 0009).
# With DESCRIBE=1 the measured load is DescribeExecution of 10,000 of the PREFILL executions
# chosen at random (describe.lua) instead of starts (OPERATION=GetExecutionHistory, or another
# operation that takes only an executionArn, instead of DescribeExecution). CONNECTIONS sets
# wrk's connections for the measured run (64 unless given). The daemon's CPU per start is also
# given by thread name: the runtime's workers, the writer, and SQLite's connection threads (the
# writer's own, the busiest, apart from the readers'), sqlx's and the direct reads'.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../target/release/hourglass}"
secs="${2:-30}"
prefill="${3:-0}"
data="$(mktemp -d)"
# shellcheck source=bench/wrk/daemon.sh
. "$here/daemon.sh"
start_daemon 100 "$bin" serve --port "$port" --data-dir "$data"
create_machine
count() { sqlite3 "$data/hourglass.db" "SELECT COUNT(*) FROM executions" 2>/dev/null || echo 0; }
if [ "$prefill" -gt 0 ]; then
  # Fill with the same load, in rounds of at most two minutes, until PREFILL are stored.
  while :; do
    left=$(( prefill - $(count) ))
    [ "$left" -gt 0 ] || break
    fill_secs=$(( left / 8000 + 1 ))
    [ "$fill_secs" -le 120 ] || fill_secs=120
    wrk -t2 -c64 -d"${fill_secs}s" -s "$here/start.lua" "http://127.0.0.1:$port/" > /dev/null
  done
fi
pending=$(count)
echo "pending before the run: $pending"
if [ "${DESCRIBE:-0}" = 1 ]; then
  export ARNS_FILE="$data/arns"
  sqlite3 "$data/hourglass.db" "SELECT arn FROM executions ORDER BY random() LIMIT 10000" > "$ARNS_FILE"
  cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  wrk -t2 -c"${CONNECTIONS:-64}" -d"${secs}s" --latency -s "$here/describe.lua" "http://127.0.0.1:$port/" | tail -1
  cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  python3 -c "import sys; print(f'daemon CPU {(int(sys.argv[2])-int(sys.argv[1]))/int(sys.argv[3]):.1f} s')" "$cpu0" "$cpu1" "$(getconf CLK_TCK)"
  exit 0
fi
# Each thread's id, name and CPU ticks.
threads() {
  for t in /proc/"$pid"/task/*; do
    echo "${t##*/} $(tr ' ' _ < "$t/comm") $(awk '{print $14+$15}' "$t/stat")"
  done
}
threads > "$data/threads0"
cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
wrk -t2 -c"${CONNECTIONS:-64}" -d"${secs}s" --latency -s "$here/start.lua" "http://127.0.0.1:$port/" | tail -1
cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat")
threads > "$data/threads1"
total=$(count)
ticks=$(getconf CLK_TCK)
python3 -c "import sys; c=(int(sys.argv[2])-int(sys.argv[1]))/int(sys.argv[3]); n=int(sys.argv[5])-int(sys.argv[4]); print(f'daemon CPU {c:.1f} s for {n} starts: {c*1e6/max(n,1):.0f} µs per start')" "$cpu0" "$cpu1" "$ticks" "$pending" "$total"
python3 - "$data/threads0" "$data/threads1" "$ticks" "$pending" "$total" <<'PY'
import sys
def read(path):
    return {int(t): (name, int(ticks)) for t, name, ticks in (l.split() for l in open(path))}
before, after = read(sys.argv[1]), read(sys.argv[2])
ticks, n = int(sys.argv[3]), max(int(sys.argv[5]) - int(sys.argv[4]), 1)
used = {t: (name, c - before.get(t, (name, 0))[1]) for t, (name, c) in after.items()}
# sqlx's SQLite connection threads: the read connections' (and, in builds before the writer
# drove its own connection on its own thread, the writer's connection's as well); and the
# threads of the connections the engine's reads of executions run on (`hourglass-read-N`).
by_name = {}
for name, c in used.values():
    key = name
    if name.startswith("sqlx-sqlite"):
        key = "sqlx's SQLite threads"
    elif name.startswith("hourglass-read"):
        key = "the direct read threads"
    by_name[key] = by_name.get(key, 0) + c
parts = sorted(by_name.items(), key=lambda kv: -kv[1])
print("per start by thread: " + ", ".join(f"{k} {v * 1e6 / ticks / n:.1f} µs" for k, v in parts if v))
PY
sqlite3 "$data/hourglass.db" "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)" |
  python3 -c "import sys; p,s=map(int,sys.stdin.read().split('|')); n=int(sys.argv[1]); print(f'database {p*s/2**20:.1f} MiB in use: {p*s/max(n,1):.0f} B per execution ({n} pending)')" "$total"

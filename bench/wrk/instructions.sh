#!/usr/bin/env bash
# Instructions per start, by thread, counted by valgrind's callgrind: the same load as run.sh
# (wrk, unnamed StartExecution of a machine that waits ten days) against a daemon run under
# callgrind, which counts every instruction each thread ran. Unlike CPU time, the count does
# not move with what else the machine runs, so two builds can be told apart by a few percent.
# Under callgrind the daemon runs 30–100 times slower, so far fewer starts are made; the
# counts include the daemon's start-up and shutdown (the same for both builds).
#   bench/wrk/instructions.sh [HOURGLASS_BINARY] [SECONDS]
# With KEEP_DATA=1 the data directory and callgrind's files are kept (the path is printed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../target/release/hourglass}"
secs="${2:-30}"
data="$(mktemp -d)"
mkdir "$data/db"
# shellcheck source=bench/wrk/daemon.sh
. "$here/daemon.sh"
start_daemon 600 valgrind --tool=callgrind --separate-threads=yes \
  --callgrind-out-file="$data/cg.out" "$bin" serve --port "$port" --data-dir "$data/db"
create_machine
wrk -t2 -c"${CONNECTIONS:-64}" -d"${secs}s" -s "$here/start.lua" "http://127.0.0.1:$port/" | tail -1
kill -TERM "$pid"
wait "$pid" || true
n=$(sqlite3 "$data/db/hourglass.db" "SELECT COUNT(*) FROM executions")
# One file per thread: the writer's thread is the one that ran the writer's loop; the
# runtime's workers ran its scheduler. valgrind gives a new thread the number of one that has
# ended, and the file of that number then holds both: the writer's can hold the start-up's
# (about 3,500 instructions a start in a run of 15 s). The total is exact.
python3 - "$data" "$n" <<'PY'
import glob, os, re, sys
data, n = sys.argv[1], max(int(sys.argv[2]), 1)
workers, writer, other = 0, 0, 0
for path in glob.glob(os.path.join(data, "cg.out*")):
    text = open(path, errors="replace").read()
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    total = int(m.group(1)) if m else 0
    if "hourglass::store::sqlite::writer::run" in text:
        writer += total
    elif "tokio::runtime::scheduler::multi_thread::worker" in text:
        workers += total
    else:
        other += total
print(f"{n} starts; instructions per start: the writer {writer / n:,.0f}, "
      f"the runtime's workers {workers / n:,.0f}, other threads {other / n:,.0f}, "
      f"all {(writer + workers + other) / n:,.0f}")
PY

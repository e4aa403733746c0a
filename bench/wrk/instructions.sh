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
# Split by thread (see callgrind_threads.py for what a thread's file can hold).
python3 "$here/../callgrind_threads.py" "$data" "$n" starts

#!/usr/bin/env bash
# Instructions per Task execution, by thread, counted by valgrind's callgrind: `hourglass-bench
# tasks` (Wait 0 s → lambda:invoke → Pass against the bench's no-op function) against a daemon
# run under callgrind. Like bench/wrk/instructions.sh for starts: the count does not move with
# what else the machine runs, so two builds can be told apart by a few percent. The counts
# include the daemon's start-up and shutdown (the same for both builds).
#   bench/task_instructions.sh [HOURGLASS_BINARY] [COUNT] [HOURGLASS_BENCH_BINARY]
# With INPUT='{...}' each execution starts with that input (default {"n":1}).
# With KEEP_DATA=1 callgrind's files are kept (the path is printed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${1:-$here/../target/release/hourglass}")"
count="${2:-3000}"
bench="${3:-$here/../target/release/hourglass-bench}"
data="$(mktemp -d)"
[ "${KEEP_DATA:-0}" = 1 ] && echo "callgrind's files: $data" || trap 'rm -rf "$data"' EXIT
cat > "$data/daemon" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$data/cg.out" "$bin" "\$@"
WRAP
chmod +x "$data/daemon"
"$bench" --daemon "$data/daemon" tasks --count "$count" --input "${INPUT:-{\"n\":1\}}" 2>/dev/null | grep -E "^tasks:" || true
# Split by thread (see callgrind_threads.py for what a thread's file can hold).
python3 "$here/callgrind_threads.py" "$data" "$count" "Task executions"

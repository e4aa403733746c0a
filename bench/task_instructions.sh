#!/usr/bin/env bash
# Instructions per Task execution, by thread, counted by valgrind's callgrind: `hourglass-bench
# tasks` (Wait 0 s → lambda:invoke → Pass against the bench's no-op function) against a daemon
# run under callgrind. Like bench/wrk/instructions.sh for starts: the count does not move with
# what else the machine runs, so two builds can be told apart by a few percent. The counts
# include the daemon's start-up and shutdown (the same for both builds).
#   bench/task_instructions.sh [HOURGLASS_BINARY] [COUNT] [HOURGLASS_BENCH_BINARY]
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
"$bench" --daemon "$data/daemon" tasks --count "$count" 2>/dev/null | grep -E "^tasks:" || true
# valgrind numbers a thread after one that ended with the same number, so a file may hold an
# earlier thread's count too: the writer's file can hold the start-up's. The total is exact.
python3 - "$data" "$count" <<'PY'
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
print(f"{n} Task executions; instructions per execution: the writer {writer / n:,.0f}, "
      f"the runtime's workers {workers / n:,.0f}, other threads {other / n:,.0f}, "
      f"all {(writer + workers + other) / n:,.0f}")
PY

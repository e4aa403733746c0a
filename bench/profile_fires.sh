#!/usr/bin/env bash
# A perf profile of the daemon while 200,000 timers due in the same millisecond fire:
#   bench/profile_fires.sh HOURGLASS_BENCH_BINARY OUT.perf
# then: perf report -i OUT.perf --no-children --sort sym -g none
# The first deadline is 60 s after the first start; the starts take about 15 s here, so the
# profile (8 s) begins 48 s after they end, inside the firing.
set -uo pipefail
bench=$1; out=$2
log=$(mktemp)
"$bench" timers --count 200000 --lead-ms 60000 > "$log" 2>&1 &
bpid=$!
until grep -q "start (timers)" "$log"; do sleep 0.5; done
pid=$(pgrep -n -f "hourglass serve")
sleep 48
perf record -F 999 -g --call-graph dwarf,16384 -p "$pid" -o "$out" -- sleep 8 >/dev/null 2>&1
wait $bpid
cat "$log"
rm -f "$log"

#!/usr/bin/env bash
# Two daemon builds side by side on a million deadlines: the burst (all due in the same second,
# with 1,000 DescribeExecution calls a second) in the order after, before, before, after, then
# the spread over a minute in the order before, after, after, before. Each run also prints the
# daemon's CPU from the end of the starts to its exit, per fire.
#   bench/fires.sh BEFORE_BIN AFTER_BIN
# COUNT (default 1000000) sets the number of deadlines, LEAD_MS (default 150000) how long after
# the first start they fall due. Needs the release build of the benchmark (`cargo build
# --release --workspace`); about four minutes a run at the defaults.
set -uo pipefail
before="${1:?BEFORE_BIN}"
after="${2:?AFTER_BIN}"
bench="$(cd "$(dirname "$0")/.." && pwd)/target/release/hourglass-bench"
count="${COUNT:-1000000}"
lead="${LEAD_MS:-150000}"

# Ticks of the newest daemon from the line that ends the starts to its exit.
firing_cpu() {
    local log=$1
    until grep -q "start (timers)" "$log" 2>/dev/null; do sleep 0.2; done
    local pid t0 last v
    pid=$(pgrep -n -f "hourglass serve") || return
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    last=$t0
    while [ -r "/proc/$pid/stat" ]; do
        v=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && [ -n "$v" ] && last=$v
        sleep 0.3
    done
    awk -v t="$((last - t0))" -v n="$count" \
        'BEGIN {printf "firing CPU: %.1f s = %.1f us per fire\n", t / 100, t * 10000 / n}'
}

run() {
    local bin=$1
    shift
    local log
    log=$(mktemp)
    firing_cpu "$log" >"$log.cpu" &
    local watch=$!
    "$bench" --daemon "$bin" timers --count "$count" --lead-ms "$lead" "$@" >"$log" 2>&1
    wait "$watch"
    grep -v '^\s*$\|^machine' "$log" | tail -3
    cat "$log.cpu"
    rm -f "$log" "$log.cpu"
}

for which in after before before after; do
    bin=$after; [ "$which" = before ] && bin=$before
    echo "=== burst, $which ($bin) $(date +%T)"
    run "$bin" --read-rate 1000
done
for which in before after after before; do
    bin=$after; [ "$which" = before ] && bin=$before
    echo "=== spread over a minute, $which ($bin) $(date +%T)"
    run "$bin" --spread-ms 60000 --readers 0
done

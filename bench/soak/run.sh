#!/usr/bin/env bash
# The two-hour soak: mixed load at a fixed rate, a row of figures a minute, plotted as a PNG.
# Usage: bench/soak/run.sh [RATE] [MINUTES] [OUT_PREFIX]   (defaults: 800 120 docs/soak)
# Needs the release build (`cargo build --release --workspace`) and PyPI once, for matplotlib.
set -euo pipefail
cd "$(dirname "$0")/../.."
rate="${1:-800}"
minutes="${2:-120}"
out="${3:-docs/soak}"

if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c 'import matplotlib' 2>/dev/null; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet matplotlib
fi
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
target/release/hourglass-bench --data-dir "$data" soak \
    --rate "$rate" --minutes "$minutes" --retention-secs 300 --csv "$out.csv" | tee "$out.txt"
.venv-bench/bin/python bench/soak/plot.py "$out.csv" "$out.png" \
    "hourglass soak: $rate starts/s of Wait 1-60 s -> lambda:invoke (5% retried) -> Pass, 1% stopped, reads; retention 300 s"

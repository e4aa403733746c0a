#!/usr/bin/env bash
# The soak's mix with disk stalls made on purpose: the daemon's data directory is on an ext4
# file system of its own (a loop device), frozen with fsfreeze for STALL_SECS every EVERY_SECS,
# so every write and fsync of the daemon waits as it does when a real disk stalls.
#   bench/soak/stall.sh DAEMON_BIN OUT_PREFIX [MINUTES] [RATE] [EVERY_SECS] [STALL_SECS]
# Defaults: 15 minutes at 800 starts/s, frozen 5 s every 180 s (at minutes 3, 6, 9 and 12).
# Writes OUT_PREFIX.csv (the soak's minutes), OUT_PREFIX.txt, OUT_PREFIX.probe.csv
# (bench/soak/probe.sh) and OUT_PREFIX.stalls (when each stall began and ended).
# Needs root (mount, fsfreeze), a free loop device and the release build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:?DAEMON_BIN}"
out="${2:?OUT_PREFIX}"
minutes="${3:-15}"
rate="${4:-800}"
every="${5:-180}"
stall="${6:-5}"
out="$(realpath -m "$out")"
bin="$(realpath "$bin")"

work="$(mktemp -d)"
mnt="$work/mnt"
mkdir -p "$mnt"
truncate -s 4G "$work/fs.img"
mkfs.ext4 -q -F "$work/fs.img"
mount -o loop "$work/fs.img" "$mnt"
cleanup() {
    fsfreeze -u "$mnt" 2>/dev/null || true
    jobs -p | xargs -r kill 2>/dev/null || true
    umount "$mnt" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$mnt/data"
# Run from there, so that the daemon reads no config/hourglass.toml: its defaults, whatever
# the build.
cd "$work"

: > "$out.stalls"
(
    begun=$(date +%s)
    for ((k = 1; k * every < minutes * 60; k++)); do
        left=$((begun + k * every - $(date +%s)))
        if ((left > 0)); then sleep "$left"; fi
        echo "stall $k from $(date +%s.%N)" >> "$out.stalls"
        fsfreeze -f "$mnt"
        sleep "$stall"
        fsfreeze -u "$mnt"
        echo "stall $k to $(date +%s.%N)" >> "$out.stalls"
    done
) &
"$root/bench/soak/probe.sh" "$out.probe.csv" &
"$root/target/release/hourglass-bench" --daemon "$bin" --data-dir "$mnt/data" soak \
    --rate "$rate" --minutes "$minutes" --retention-secs 300 --csv "$out.csv" | tee "$out.txt"

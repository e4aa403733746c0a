#!/usr/bin/env bash
# A sample every half second of a running daemon and of the machine, beside a soak: where a
# slow minute's time went (the writer's commits, I/O or CPU pressure, the WAL, other work).
#   bench/soak/probe.sh OUT.csv [PID]
# Without PID it waits for the daemon `hourglass-bench soak` starts. Needs curl, ss and the
# kernel's pressure files (/proc/pressure). Read the CSV with bench/soak/probe.py.
set -uo pipefail
out="${1:?OUT.csv}"
pid="${2:-}"
while [ -z "$pid" ]; do pid=$(pgrep -f 'hourglass serve --port 0' | head -1); sleep 1; done
port=""
while [ -z "$port" ]; do
  port=$(ss -ltnpH | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://' | head -1)
  sleep 1
done
data=$(tr '\0' ' ' < "/proc/$pid/cmdline" | sed 's/.*--data-dir \([^ ]*\).*/\1/')
metric() { echo "$1" | awk -v k="$2" 'index($0, k) == 1 {s += $2} END {print s + 0}'; }
psi() { awk -v k="$2" '$1 == k {sub("total=", "", $5); print $5}' "/proc/pressure/$1"; }
echo "t,health_ms,commits,commit_sum_s,commits_le_100ms,api_count,cpu_ticks,wal_b,db_b,io_some_us,io_full_us,cpu_some_us,dirty_kb,writeback_kb,rustc,load1,write_bytes,rss_anon_kb,sqlite_mem_b,anon_huge_kb" > "$out"
while kill -0 "$pid" 2>/dev/null; do
  t=$(date +%s.%N)
  health=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "http://127.0.0.1:$port/health")
  m=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
  row=(
    "$t"
    "$(awk -v s="$health" 'BEGIN {print s * 1000}')"
    "$(metric "$m" hourglass_store_commit_duration_seconds_count)"
    "$(metric "$m" hourglass_store_commit_duration_seconds_sum)"
    "$(metric "$m" 'hourglass_store_commit_duration_seconds_bucket{le="0.1')"
    "$(metric "$m" hourglass_api_request_duration_seconds_count)"
    "$(awk '{print $14 + $15}' "/proc/$pid/stat")"
    "$(stat -c %s "$data/hourglass.db-wal" 2>/dev/null || echo 0)"
    "$(stat -c %s "$data/hourglass.db" 2>/dev/null || echo 0)"
    "$(psi io some)" "$(psi io full)" "$(psi cpu some)"
    "$(awk '$1 == "Dirty:" {print $2}' /proc/meminfo)"
    "$(awk '$1 == "Writeback:" {print $2}' /proc/meminfo)"
    "$(pgrep -c rustc)"
    "$(cut -d' ' -f1 /proc/loadavg)"
    "$(awk '$1 == "write_bytes:" {print $2}' "/proc/$pid/io")"
    "$(awk '$1 == "RssAnon:" {print $2}' "/proc/$pid/status")"
    "$(metric "$m" hourglass_sqlite_memory_bytes)"
    "$(awk '$1 == "AnonHugePages:" {print $2}' "/proc/$pid/smaps_rollup")"
  )
  (IFS=,; echo "${row[*]}") >> "$out"
  sleep 0.5
done

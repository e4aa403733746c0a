#!/usr/bin/env bash
# Beside a soak: every 20 s, the pages the sweep gave back (the counter), executions removed,
# the database and WAL files' sizes, and the free and all pages (`PRAGMA freelist_count`,
# `page_count`, read-only). Waits for the daemon `hourglass-bench soak` starts; CSV on stdout.
#   bench/soak/free_pages.sh > OUT.csv
set -uo pipefail
pid=""
while [ -z "$pid" ]; do pid=$(pgrep -f 'hourglass serve --port 0' | head -1); sleep 1; done
sleep 2; port=$(ss -ltnpH | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://' | head -1)
data=$(tr '\0' ' ' < "/proc/$pid/cmdline" | sed 's/.*--data-dir \([^ ]*\).*/\1/')
t0=$(date +%s)
echo "sec,released,removed,db_b,wal_b,freelist,pages"
while kill -0 "$pid" 2>/dev/null; do
  m=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
  r=$(echo "$m" | awk '/^hourglass_database_pages_released_total/ {print $2}')
  d=$(echo "$m" | awk '/^hourglass_retention_removed_total/ {print $2}')
  fl=$(timeout 5 sqlite3 "file:$data/hourglass.db?mode=ro" "PRAGMA freelist_count; PRAGMA page_count;" 2>/dev/null | tr '\n' ',')
  echo "$(( $(date +%s) - t0 )),$r,$d,$(stat -c %s $data/hourglass.db),$(stat -c %s $data/hourglass.db-wal),${fl%,}"
  sleep 20
done

#!/usr/bin/env bash
# Bytes of database per execution: pending (a machine that waits three days, started through
# the API) and finished (Wait 0 -> Task -> Pass, 11 history events), each in a database of its
# own, after VACUUM, summed over SQLite's pages (dbstat) by table and index.
#   bench/disk.sh BIN_DIR [PENDING] [FINISHED] [INPUT]
# BIN_DIR holds `hourglass` and `hourglass-bench` of one build.
set -euo pipefail
bin="${1:?a directory holding hourglass and hourglass-bench}"
pending="${2:-100000}"
finished="${3:-20000}"
input="${4:-{\"expirydate\":11,\"a\":1233333\}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Pages by table and index, and in all, per execution of the database $1 holding $2.
per_execution() {
  sqlite3 "$1" "VACUUM"
  sqlite3 -separator ' ' "$1" \
    "SELECT printf('%-28s %7.1f B', name, SUM(pgsize) * 1.0 / $2) FROM dbstat
     GROUP BY name HAVING SUM(pgsize) * 1.0 / $2 >= 0.5 ORDER BY SUM(pgsize) DESC;
     SELECT printf('%-28s %7.1f B', 'all', page_count * page_size * 1.0 / $2)
     FROM pragma_page_count, pragma_page_size;"
}

"$bin/hourglass-bench" --data-dir "$work/pending" pending --sizes "$pending" \
  --sample "$(( pending / 5 ))" --input "$input" > "$work/pending.log"
echo "pending, $pending executions, input $input:"
per_execution "$work/pending/hourglass.db" "$pending"
"$bin/hourglass-bench" --data-dir "$work/finished" tasks --count "$finished" > "$work/finished.log"
echo "finished, $finished executions:"
per_execution "$work/finished/hourglass.db" "$finished"

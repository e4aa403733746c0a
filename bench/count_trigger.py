"""What the count trigger costs an ended execution, on a copy of a real database.

Usage: python3 bench/count_trigger.py DB [trigger|none] [ROWS]

Ends ROWS (200,000 unless given) running executions of the database DB the way the writer does
at a fire (status, output, stop time, cursor, last event id), 256 to a transaction, and prints
the CPU per update, with the trigger that keeps `execution_counts` (migration 0010) or with it
dropped. DB is changed: run it on a copy, for instance of the data directory that
`KEEP_DATA=1 bench/wrk/run.sh BIN 20 0` keeps. Python's own SQLite and its per-row overhead
are included, so only the difference between the two is the trigger's.
"""

import sqlite3
import sys
import time


def main() -> None:
    path = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "trigger"
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 200_000
    if mode not in ("trigger", "none"):
        sys.exit(f"mode: trigger or none, not {mode!r}")
    # Opened read-write but never created: a mistyped path is refused, not made empty.
    try:
        c = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)
    except sqlite3.OperationalError as e:
        sys.exit(f"{path}: {e}")
    c.execute("PRAGMA journal_mode=WAL")
    # No fsync: the disk's time is not what is measured.
    c.execute("PRAGMA synchronous=OFF")
    c.execute("PRAGMA cache_size=-2000")
    if mode == "none":
        c.execute("DROP TRIGGER executions_recounted")
    ids = [r[0] for r in c.execute(
        "SELECT id FROM execution_rows WHERE status = 1 ORDER BY id LIMIT ?", (rows,))]
    if not ids:
        sys.exit(f"{path}: no running execution")
    began = time.process_time()
    for i in range(0, len(ids), 256):
        c.execute("BEGIN")
        c.executemany(
            "UPDATE execution_rows SET status = 2, output = '{}', stop_ms = ?, cursor = NULL, "
            "last_event_id = 5 WHERE id = ?",
            [(1_700_000_000_000 + j, j) for j in ids[i:i + 256]],
        )
        c.execute("COMMIT")
    spent = time.process_time() - began
    print(f"{mode}: {len(ids)} updates, {spent * 1e6 / len(ids):.1f} µs of CPU each")


if __name__ == "__main__":
    main()

-- The index by machine, status and start time kept the newest first (`start_ms DESC, id DESC`).
-- A new execution starts later than every other, so each start put its entry at the front of
-- its machine's RUNNING entries: in the middle of the index, where a full page is split into
-- half-full ones, instead of at the end, where SQLite appends a new page and leaves the full
-- one full. The index now runs oldest first; ListExecutions, newest first, reads it from the
-- end, with the same plan and no sort.
DROP INDEX executions_by_status;
CREATE INDEX executions_by_status ON execution_rows (machine, status, start_ms, id);

-- The index by machine, status and start time kept the newest first (`start_ms DESC, id DESC`).
-- A new execution starts later than every other, so each start put its entry at the front of
-- its machine's RUNNING entries: in the middle of the index, where a full page is split in
-- half, instead of at the end, where PostgreSQL leaves the full page full. The index now runs
-- oldest first; ListExecutions, newest first, reads it backward, with the same plan.
DROP INDEX executions_by_status;
CREATE INDEX executions_by_status ON executions (state_machine_arn, status, start_ms, id);

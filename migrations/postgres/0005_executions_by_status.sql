-- Executions of a machine by status, newest first: ListExecutions with a status filter, and the
-- console's counts by status, read this index instead of every execution of the machine.
CREATE INDEX executions_by_status ON executions (state_machine_arn, status, start_ms DESC, id DESC);

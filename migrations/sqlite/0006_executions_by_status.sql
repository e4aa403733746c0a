-- Executions of a machine by status, newest first, in place of the index by machine alone:
-- ListExecutions with a status filter reads one range of it instead of every execution of the
-- machine, and without a filter merges the newest of each status. A start writes one index
-- entry for both.
DROP INDEX executions_by_machine;
CREATE INDEX executions_by_status ON executions (state_machine_arn, status, start_ms DESC, id DESC);

-- Executions counted by machine, status and partition, kept by the triggers below in the
-- transaction that inserts, updates or deletes the execution: the console shows counts by
-- status without counting a million rows. (By partition so that, on PostgreSQL, each node
-- writes only the rows of the partitions it holds.)
CREATE TABLE execution_counts (
    state_machine_arn TEXT NOT NULL,
    status            TEXT NOT NULL,
    partition         INTEGER NOT NULL,
    n                 INTEGER NOT NULL,
    PRIMARY KEY (state_machine_arn, status, partition)
) WITHOUT ROWID;

INSERT INTO execution_counts (state_machine_arn, status, partition, n)
SELECT state_machine_arn, status, partition, COUNT(*) FROM executions
GROUP BY state_machine_arn, status, partition;

CREATE TRIGGER executions_counted_in AFTER INSERT ON executions
BEGIN
    INSERT INTO execution_counts (state_machine_arn, status, partition, n)
    VALUES (NEW.state_machine_arn, NEW.status, NEW.partition, 1)
    ON CONFLICT (state_machine_arn, status, partition) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER executions_counted_out AFTER DELETE ON executions
BEGIN
    UPDATE execution_counts SET n = n - 1
    WHERE state_machine_arn = OLD.state_machine_arn AND status = OLD.status
      AND partition = OLD.partition;
END;

CREATE TRIGGER executions_recounted AFTER UPDATE OF status ON executions
WHEN OLD.status <> NEW.status
BEGIN
    UPDATE execution_counts SET n = n - 1
    WHERE state_machine_arn = OLD.state_machine_arn AND status = OLD.status
      AND partition = OLD.partition;
    INSERT INTO execution_counts (state_machine_arn, status, partition, n)
    VALUES (NEW.state_machine_arn, NEW.status, NEW.partition, 1)
    ON CONFLICT (state_machine_arn, status, partition) DO UPDATE SET n = n + 1;
END;

-- Executions of a machine by status, newest first, in place of the index by machine alone:
-- ListExecutions with a status filter reads one range of it instead of every execution of the
-- machine, and without a filter merges the newest of each status. A start writes one index
-- entry for both.
DROP INDEX executions_by_machine;
CREATE INDEX executions_by_status ON executions (state_machine_arn, status, start_ms DESC, id DESC);

-- Executions by ARN compared byte by byte: the console finds names by their start (a range of
-- ARNs) whatever the database's collation, which the unique index on arn follows.
CREATE INDEX executions_by_arn_bytes ON executions (arn COLLATE "C");

-- Executions counted by machine, status and partition, kept by the triggers below in the
-- transaction that inserts, updates or deletes the executions: the console shows counts by
-- status without counting a million rows. By partition, so that each node writes only the
-- rows of the partitions it holds. The triggers run once a statement (the writer changes
-- executions a batch at a time) and touch the rows in key order.
CREATE TABLE execution_counts (
    state_machine_arn TEXT NOT NULL,
    status            TEXT NOT NULL,
    partition         BIGINT NOT NULL,
    n                 BIGINT NOT NULL,
    PRIMARY KEY (state_machine_arn, status, partition)
);

INSERT INTO execution_counts (state_machine_arn, status, partition, n)
SELECT state_machine_arn, status, partition, COUNT(*) FROM executions
GROUP BY state_machine_arn, status, partition;

CREATE FUNCTION execution_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO execution_counts AS c (state_machine_arn, status, partition, n)
        SELECT state_machine_arn, status, partition, COUNT(*) FROM added
        GROUP BY state_machine_arn, status, partition
        ORDER BY state_machine_arn, status, partition
        ON CONFLICT (state_machine_arn, status, partition) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE execution_counts c SET n = c.n - d.k
        FROM (SELECT state_machine_arn, status, partition, COUNT(*) AS k FROM removed
              GROUP BY state_machine_arn, status, partition) d
        WHERE c.state_machine_arn = d.state_machine_arn AND c.status = d.status
          AND c.partition = d.partition;
    ELSE
        INSERT INTO execution_counts AS c (state_machine_arn, status, partition, n)
        SELECT state_machine_arn, status, partition, SUM(k) FROM (
            SELECT o.state_machine_arn, o.status, o.partition, -1 AS k
            FROM removed o JOIN added a ON a.id = o.id WHERE a.status <> o.status
            UNION ALL
            SELECT a.state_machine_arn, a.status, a.partition, 1 AS k
            FROM removed o JOIN added a ON a.id = o.id WHERE a.status <> o.status
        ) changes
        GROUP BY state_machine_arn, status, partition
        ORDER BY state_machine_arn, status, partition
        ON CONFLICT (state_machine_arn, status, partition) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER executions_counted_in AFTER INSERT ON executions
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_apply();
CREATE TRIGGER executions_counted_out AFTER DELETE ON executions
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_apply();
CREATE TRIGGER executions_recounted AFTER UPDATE ON executions
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_apply();

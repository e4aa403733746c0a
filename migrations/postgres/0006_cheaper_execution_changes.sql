-- What a change to an execution costs PostgreSQL, made smaller.
--
-- The partial index of running executions by machine is left from before the index by machine
-- and status (0005), which holds the same entries as one of its ranges, and the counts of
-- running executions are read from execution_counts: a start wrote an entry in both.
DROP INDEX executions_running;

-- Updates were counted by the update branch of execution_counts_apply, which joined the rows
-- before and after twice, once for the status left and once for the status entered. They are
-- now counted by a function of their own that joins them once and takes both.
CREATE FUNCTION execution_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO execution_counts AS c (state_machine_arn, status, partition, n)
    SELECT v.state_machine_arn, v.status, v.partition, SUM(v.k)
    FROM removed o JOIN added a ON a.id = o.id
    CROSS JOIN LATERAL (VALUES (o.state_machine_arn, o.status, o.partition, -1),
                               (a.state_machine_arn, a.status, a.partition, 1))
        AS v(state_machine_arn, status, partition, k)
    WHERE a.status <> o.status
    GROUP BY v.state_machine_arn, v.status, v.partition
    ORDER BY v.state_machine_arn, v.status, v.partition
    ON CONFLICT (state_machine_arn, status, partition) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

DROP TRIGGER executions_recounted ON executions;
CREATE TRIGGER executions_recounted AFTER UPDATE ON executions
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION execution_counts_moved();

-- What a change to an execution costs PostgreSQL, made smaller.
--
-- The partial index of running executions by machine is left from before the index by machine
-- and status (0005), which holds the same entries as one of its ranges, and the counts of
-- running executions are read from execution_counts: a start wrote an entry in both.
DROP INDEX executions_running;

-- The update branch of the counting trigger joined the rows before and after twice, once for
-- the status left and once for the status entered; it now joins them once and takes both.
CREATE OR REPLACE FUNCTION execution_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
        SELECT v.state_machine_arn, v.status, v.partition, SUM(v.k)
        FROM removed o JOIN added a ON a.id = o.id
        CROSS JOIN LATERAL (VALUES (o.state_machine_arn, o.status, o.partition, -1),
                                   (a.state_machine_arn, a.status, a.partition, 1))
            AS v(state_machine_arn, status, partition, k)
        WHERE a.status <> o.status
        GROUP BY v.state_machine_arn, v.status, v.partition
        ORDER BY v.state_machine_arn, v.status, v.partition
        ON CONFLICT (state_machine_arn, status, partition) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

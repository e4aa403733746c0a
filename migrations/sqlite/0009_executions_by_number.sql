-- Executions keyed by numbers: a row kept its execution's ARN and its machine's ARN (about
-- 62 bytes each) and its revision id (36), and the unique index on the ARN and the index by
-- machine and status repeated them (about 170 bytes of a pending execution's 605). A row now
-- keeps the machine's number and the revision's, from `numbers` (a text is numbered once and
-- its row never removed), and its ARN is rebuilt from the machine's ARN and the name:
-- `arn:...:stateMachine:M` + name `N` is `arn:...:execution:M:N`. A row whose ARN is not the
-- one rebuilt keeps it in `arn` (NULL otherwise). The unique index on the machine and the
-- name keeps ARNs unique: the ARN rebuilt is a function of the two.
--
-- The index of running executions is gone: the count the start-up reads of them is the sum
-- of `execution_counts` below (16 bytes of each pending execution).
--
-- The view `executions` reads as the table did, so every query that only reads keeps its
-- text; changes go to `execution_rows`.

CREATE TABLE numbers (
    n                 INTEGER PRIMARY KEY NOT NULL,
    text              TEXT NOT NULL UNIQUE
);
INSERT OR IGNORE INTO numbers (text) SELECT state_machine_arn FROM executions ORDER BY id;
INSERT OR IGNORE INTO numbers (text) SELECT revision_id FROM executions ORDER BY id;

CREATE TABLE execution_rows (
    id                INTEGER PRIMARY KEY NOT NULL,  -- assigned by the engine
    machine           INTEGER NOT NULL,              -- numbers.n of the machine's ARN
    name              TEXT NOT NULL,
    partition         INTEGER NOT NULL,              -- derived from the ARN, for scale-out
    revision          INTEGER NOT NULL,              -- numbers.n of the revision id
    status            TEXT NOT NULL,                 -- RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    input             TEXT NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    start_ms          INTEGER NOT NULL,
    stop_ms           INTEGER,
    -- The interpreter's position (packed; see store/packed.rs) at the last blocking point.
    cursor            TEXT,
    -- Id of the last history event written; the next one is last_event_id + 1.
    last_event_id     INTEGER NOT NULL,
    -- The ARN, only where it is not the one the machine's ARN and the name make.
    arn               TEXT
);

INSERT INTO execution_rows (id, machine, name, partition, revision, status, input, output,
                            error, cause, start_ms, stop_ms, cursor, last_event_id, arn)
    SELECT e.id, m.n, e.name, e.partition, r.n, e.status, e.input, e.output, e.error, e.cause,
           e.start_ms, e.stop_ms, e.cursor, e.last_event_id,
           CASE WHEN e.arn = replace(e.state_machine_arn, ':stateMachine:', ':execution:')
                             || ':' || e.name
                THEN NULL ELSE e.arn END
    FROM executions e
    JOIN numbers m ON m.text = e.state_machine_arn
    JOIN numbers r ON r.text = e.revision_id
    ORDER BY e.id;

-- Its indexes and count triggers go with it.
DROP TABLE executions;

CREATE UNIQUE INDEX executions_by_name ON execution_rows (machine, name);
CREATE UNIQUE INDEX executions_by_arn ON execution_rows (arn) WHERE arn IS NOT NULL;
CREATE INDEX executions_by_status ON execution_rows (machine, status, start_ms DESC, id DESC);
CREATE INDEX executions_by_stop ON execution_rows (stop_ms) WHERE stop_ms IS NOT NULL;

CREATE VIEW executions AS
    SELECT e.id AS id,
           COALESCE(e.arn, replace(m.text, ':stateMachine:', ':execution:') || ':' || e.name)
               AS arn,
           e.partition AS partition,
           m.text AS state_machine_arn,
           r.text AS revision_id,
           e.name AS name,
           e.status AS status,
           e.input AS input,
           e.output AS output,
           e.error AS error,
           e.cause AS cause,
           e.start_ms AS start_ms,
           e.stop_ms AS stop_ms,
           e.cursor AS cursor,
           e.last_event_id AS last_event_id
    FROM execution_rows e
    JOIN numbers m ON m.n = e.machine
    JOIN numbers r ON r.n = e.revision;

-- The counts by machine, status and partition, keyed by the machine's number.
DROP TABLE execution_counts;
CREATE TABLE execution_counts (
    machine           INTEGER NOT NULL,              -- numbers.n of the machine's ARN
    status            TEXT NOT NULL,
    partition         INTEGER NOT NULL,
    n                 INTEGER NOT NULL,
    PRIMARY KEY (machine, status, partition)
) WITHOUT ROWID;

INSERT INTO execution_counts (machine, status, partition, n)
SELECT machine, status, partition, COUNT(*) FROM execution_rows
GROUP BY machine, status, partition;

CREATE TRIGGER executions_counted_in AFTER INSERT ON execution_rows
BEGIN
    INSERT INTO execution_counts (machine, status, partition, n)
    VALUES (NEW.machine, NEW.status, NEW.partition, 1)
    ON CONFLICT (machine, status, partition) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER executions_counted_out AFTER DELETE ON execution_rows
BEGIN
    UPDATE execution_counts SET n = n - 1
    WHERE machine = OLD.machine AND status = OLD.status AND partition = OLD.partition;
END;

CREATE TRIGGER executions_recounted AFTER UPDATE OF status ON execution_rows
WHEN OLD.status <> NEW.status
BEGIN
    UPDATE execution_counts SET n = n - 1
    WHERE machine = OLD.machine AND status = OLD.status AND partition = OLD.partition;
    INSERT INTO execution_counts (machine, status, partition, n)
    VALUES (NEW.machine, NEW.status, NEW.partition, 1)
    ON CONFLICT (machine, status, partition) DO UPDATE SET n = n + 1;
END;

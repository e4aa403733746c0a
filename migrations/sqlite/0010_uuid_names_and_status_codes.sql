-- A pending execution started without a name kept its name, a UUID of 36 characters, twice:
-- in its row and in the unique index on the machine and the name. It now keeps the UUID's 16
-- bytes in both, as a BLOB. Only a name that is a UUID exactly as hourglass writes one
-- (lowercase hex digits and dashes, 8-4-4-4-12) is kept so; it is rebuilt to the same text,
-- and every other name is kept as text. A name kept as bytes never equals one kept as text.
--
-- The status is kept as a number (`execution_statuses`): RUNNING is 1, which SQLite stores in
-- no bytes at all, in the row and in the index by status.
--
-- The view `executions` gives back both as text, as the table had them. Queries that look a
-- row up by its name, or read a range of names, say so in the stored form (see
-- store/sqlite/numbers.rs).

CREATE TABLE execution_statuses (
    code              INTEGER PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL UNIQUE
);
INSERT INTO execution_statuses (code, name) VALUES
    (1, 'RUNNING'),
    (2, 'SUCCEEDED'),
    (3, 'FAILED'),
    (4, 'TIMED_OUT'),
    (5, 'ABORTED'),
    (6, 'PENDING_REDRIVE');

DROP VIEW executions;

CREATE TABLE execution_rows_new (
    id                INTEGER PRIMARY KEY NOT NULL,  -- assigned by the engine
    machine           INTEGER NOT NULL,              -- numbers.n of the machine's ARN
    name              BLOB NOT NULL,                 -- text, or a UUID's 16 bytes
    partition         INTEGER NOT NULL,              -- derived from the ARN, for scale-out
    revision          INTEGER NOT NULL,              -- numbers.n of the revision id
    status            INTEGER NOT NULL,              -- execution_statuses.code
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

INSERT INTO execution_rows_new (id, machine, name, partition, revision, status, input, output,
                                error, cause, start_ms, stop_ms, cursor, last_event_id, arn)
    SELECT e.id, e.machine,
           CASE WHEN e.name GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
                THEN unhex(e.name, '-') ELSE e.name END,
           e.partition, e.revision, s.code, e.input, e.output, e.error, e.cause, e.start_ms,
           e.stop_ms, e.cursor, e.last_event_id, e.arn
    FROM execution_rows e
    JOIN execution_statuses s ON s.name = e.status
    ORDER BY e.id;

-- Its indexes and count triggers go with it.
DROP TABLE execution_rows;
ALTER TABLE execution_rows_new RENAME TO execution_rows;

CREATE UNIQUE INDEX executions_by_name ON execution_rows (machine, name);
CREATE UNIQUE INDEX executions_by_arn ON execution_rows (arn) WHERE arn IS NOT NULL;
CREATE INDEX executions_by_status ON execution_rows (machine, status, start_ms DESC, id DESC);
CREATE INDEX executions_by_stop ON execution_rows (stop_ms) WHERE stop_ms IS NOT NULL;

-- The name as text: a UUID's bytes in lowercase hex, 8-4-4-4-12.
CREATE VIEW executions AS
    SELECT e.id AS id,
           COALESCE(e.arn, replace(m.text, ':stateMachine:', ':execution:') || ':' ||
               CASE WHEN typeof(e.name) = 'blob'
                    THEN lower(substr(hex(e.name), 1, 8) || '-' || substr(hex(e.name), 9, 4)
                         || '-' || substr(hex(e.name), 13, 4) || '-'
                         || substr(hex(e.name), 17, 4) || '-' || substr(hex(e.name), 21))
                    ELSE e.name END)
               AS arn,
           e.partition AS partition,
           m.text AS state_machine_arn,
           r.text AS revision_id,
           CASE WHEN typeof(e.name) = 'blob'
                THEN lower(substr(hex(e.name), 1, 8) || '-' || substr(hex(e.name), 9, 4)
                     || '-' || substr(hex(e.name), 13, 4) || '-'
                     || substr(hex(e.name), 17, 4) || '-' || substr(hex(e.name), 21))
                ELSE e.name END
               AS name,
           s.name AS status,
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
    JOIN numbers r ON r.n = e.revision
    JOIN execution_statuses s ON s.code = e.status;

-- The counts by machine, status and partition, with the status as a number.
CREATE TABLE execution_counts_new (
    machine           INTEGER NOT NULL,              -- numbers.n of the machine's ARN
    status            INTEGER NOT NULL,              -- execution_statuses.code
    partition         INTEGER NOT NULL,
    n                 INTEGER NOT NULL,
    PRIMARY KEY (machine, status, partition)
) WITHOUT ROWID;
INSERT INTO execution_counts_new (machine, status, partition, n)
    SELECT c.machine, s.code, c.partition, c.n
    FROM execution_counts c JOIN execution_statuses s ON s.name = c.status;
DROP TABLE execution_counts;
ALTER TABLE execution_counts_new RENAME TO execution_counts;

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

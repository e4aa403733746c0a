-- The logical schema of migrations/sqlite on PostgreSQL, with what a cluster of nodes needs:
-- the partition of every timer and call (each node reads only the partitions it holds),
-- partition leases with epochs, the nodes, and execution ids handed out in blocks.
-- Times are UTC milliseconds since the Unix epoch (BIGINT), as in SQLite.

CREATE TABLE state_machines (
    arn                   TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    type                  TEXT NOT NULL,            -- STANDARD | EXPRESS
    status                TEXT NOT NULL,            -- ACTIVE | DELETING
    revision_id           TEXT NOT NULL,
    creation_date_ms      BIGINT NOT NULL,
    update_date_ms        BIGINT,
    logging_configuration TEXT,
    tracing_configuration TEXT
);

CREATE TABLE state_machine_revisions (
    revision_id       TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    definition        TEXT NOT NULL,
    role_arn          TEXT NOT NULL,
    description       TEXT,
    created_ms        BIGINT NOT NULL
);
CREATE INDEX state_machine_revisions_by_machine ON state_machine_revisions (state_machine_arn);

CREATE TABLE executions (
    id                BIGINT PRIMARY KEY,
    arn               TEXT NOT NULL UNIQUE,
    partition         BIGINT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    revision_id       TEXT NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    input             TEXT NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    start_ms          BIGINT NOT NULL,
    stop_ms           BIGINT,
    cursor            TEXT,
    last_event_id     BIGINT NOT NULL
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_ms DESC, id DESC);
CREATE INDEX executions_running ON executions (state_machine_arn) WHERE status = 'RUNNING';
CREATE INDEX executions_by_stop ON executions (stop_ms) WHERE stop_ms IS NOT NULL;

CREATE TABLE history_events (
    execution_id      BIGINT NOT NULL,
    id                BIGINT NOT NULL,
    previous_id       BIGINT NOT NULL,
    type              TEXT NOT NULL,
    timestamp_ms      BIGINT NOT NULL,
    details           TEXT,
    PRIMARY KEY (execution_id, id)
);

CREATE TABLE timers (
    execution_id      BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    due_ms            BIGINT NOT NULL,
    partition         BIGINT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);
CREATE INDEX timers_by_due ON timers (due_ms, execution_id, seq);

CREATE TABLE tasks (
    execution_id      BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    partition         BIGINT NOT NULL,
    scheduled_ms      BIGINT NOT NULL,
    invocation        TEXT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);

CREATE TABLE tags (
    resource_arn      TEXT NOT NULL,
    key               TEXT NOT NULL,
    value             TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
);

-- Settings fixed when the database is first initialised (the number of partitions).
CREATE TABLE cluster_settings (
    key               TEXT PRIMARY KEY,
    value             TEXT NOT NULL
);

-- One lease per partition: who holds it, until when (the database's clock), and the epoch,
-- which grows on every change of owner and fences every write.
CREATE TABLE leases (
    partition         BIGINT PRIMARY KEY,
    owner             TEXT,
    epoch             BIGINT NOT NULL DEFAULT 0,
    expires_at        TIMESTAMPTZ NOT NULL DEFAULT 'epoch'
);

-- The nodes of the cluster and where their API answers (requests for a partition another node
-- holds are forwarded there).
CREATE TABLE nodes (
    node_id           TEXT PRIMARY KEY,
    address           TEXT NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL
);

-- Execution ids, handed to nodes a block of 1000 at a time.
CREATE SEQUENCE execution_ids INCREMENT BY 1000 START WITH 1;

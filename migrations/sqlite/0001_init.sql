-- State machines, their revisions, executions, history, timers, tasks and tags.
-- Times are UTC milliseconds since the Unix epoch (INTEGER).

CREATE TABLE state_machines (
    arn                   TEXT PRIMARY KEY NOT NULL,
    name                  TEXT NOT NULL,
    type                  TEXT NOT NULL,            -- STANDARD | EXPRESS
    status                TEXT NOT NULL,            -- ACTIVE | DELETING
    revision_id           TEXT NOT NULL,            -- the current revision
    creation_date_ms      INTEGER NOT NULL,
    update_date_ms        INTEGER,                  -- set by the first UpdateStateMachine
    logging_configuration TEXT,                     -- JSON as the API received it
    tracing_configuration TEXT                      -- JSON as the API received it
);

-- Every definition a state machine has had; executions point at the one they started with,
-- so UpdateStateMachine never changes a running execution.
CREATE TABLE state_machine_revisions (
    revision_id       TEXT PRIMARY KEY NOT NULL,
    state_machine_arn TEXT NOT NULL,
    definition        TEXT NOT NULL,
    role_arn          TEXT NOT NULL,
    description       TEXT,
    created_ms        INTEGER NOT NULL
);
CREATE INDEX state_machine_revisions_by_machine ON state_machine_revisions (state_machine_arn);

CREATE TABLE executions (
    id                INTEGER PRIMARY KEY NOT NULL,  -- assigned by the engine
    arn               TEXT NOT NULL UNIQUE,
    partition         INTEGER NOT NULL,              -- derived from the ARN, for scale-out
    state_machine_arn TEXT NOT NULL,
    revision_id       TEXT NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,                 -- RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    input             TEXT NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    start_ms          INTEGER NOT NULL,
    stop_ms           INTEGER,
    -- The interpreter's position (asl::ExecutionState as JSON) at the last committed blocking point.
    cursor            TEXT,
    -- Id of the last history event written; the next one is last_event_id + 1.
    last_event_id     INTEGER NOT NULL
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_ms DESC, id DESC);
CREATE INDEX executions_running ON executions (status) WHERE status = 'RUNNING';

CREATE TABLE history_events (
    execution_id      INTEGER NOT NULL,
    id                INTEGER NOT NULL,
    previous_id       INTEGER NOT NULL,
    type              TEXT NOT NULL,
    timestamp_ms      INTEGER NOT NULL,
    details           TEXT,                           -- the event's *EventDetails object as JSON
    PRIMARY KEY (execution_id, id)
) WITHOUT ROWID;

-- Pending deadlines: Wait states, retry back-offs, execution and task timeouts.
-- A timer is named by its execution and a sequence number the interpreter chooses (the id of
-- the history event that armed it; 0 for the execution's own timeout), so a stale firing is
-- recognised without any id allocation.
CREATE TABLE timers (
    execution_id      INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    due_ms            INTEGER NOT NULL,
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
CREATE INDEX timers_by_due ON timers (due_ms, execution_id, seq);

-- Task invocations scheduled and not yet recorded as finished (at-least-once redelivery).
-- Named like timers: the execution and the id of the Scheduled event.
CREATE TABLE tasks (
    execution_id      INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    scheduled_ms      INTEGER NOT NULL,
    invocation        TEXT NOT NULL,                  -- asl::task::Invocation as JSON
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;

CREATE TABLE tags (
    resource_arn      TEXT NOT NULL,
    key               TEXT NOT NULL,
    value             TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
) WITHOUT ROWID;

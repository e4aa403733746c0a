-- Distributed Map runs, and their items. A run is named by its parent execution and the id
-- of its MapRunStarted event (the id of the call the parent waits on); its ARN is unique too.

CREATE TABLE map_runs (
    execution_id         BIGINT NOT NULL,
    seq                  BIGINT NOT NULL,
    arn                  TEXT NOT NULL UNIQUE,
    execution_arn        TEXT NOT NULL,
    partition            BIGINT NOT NULL,
    state_machine_arn    TEXT NOT NULL,             -- the children's: the machine's ARN/label
    revision_id          TEXT NOT NULL,             -- the children's definition
    execution_type       TEXT NOT NULL,             -- STANDARD | EXPRESS
    status               TEXT NOT NULL,             -- RUNNING | SUCCEEDED | FAILED | ABORTED
    start_ms             BIGINT NOT NULL,
    stop_ms              BIGINT,
    max_concurrency      BIGINT NOT NULL,
    tolerated_count      DOUBLE PRECISION,
    tolerated_percentage DOUBLE PRECISION,
    item_count           BIGINT NOT NULL,
    started              BIGINT NOT NULL DEFAULT 0,
    succeeded            BIGINT NOT NULL DEFAULT 0,
    failed               BIGINT NOT NULL DEFAULT 0,
    timed_out            BIGINT NOT NULL DEFAULT 0,
    aborted              BIGINT NOT NULL DEFAULT 0,
    result_writer        TEXT,                       -- ResultWriter, evaluated, as JSON
    error                TEXT,
    cause                TEXT,
    redrive_count        BIGINT NOT NULL DEFAULT 0,        -- RedriveExecution of its parent
    PRIMARY KEY (execution_id, seq)
);
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn, start_ms);

-- One row per child to run. status is NULL until its child starts, then the child's status.
CREATE TABLE map_run_items (
    execution_id         BIGINT NOT NULL,
    seq                  BIGINT NOT NULL,
    idx                  BIGINT NOT NULL,
    input                TEXT NOT NULL,
    status               TEXT,
    execution_arn        TEXT,
    output               TEXT,                       -- the child's output, or its error object
    PRIMARY KEY (execution_id, seq, idx)
);
CREATE INDEX map_run_items_by_execution ON map_run_items (execution_arn);

-- Distributed Map runs, and their items. A run is named by its parent execution and the id
-- of its MapRunStarted event (the id of the call the parent waits on); its ARN is unique too.

CREATE TABLE map_runs (
    execution_id         INTEGER NOT NULL,
    seq                  INTEGER NOT NULL,
    arn                  TEXT NOT NULL UNIQUE,
    execution_arn        TEXT NOT NULL,
    partition            INTEGER NOT NULL,
    state_machine_arn    TEXT NOT NULL,             -- the children's: the machine's ARN/label
    revision_id          TEXT NOT NULL,             -- the children's definition
    execution_type       TEXT NOT NULL,             -- STANDARD | EXPRESS
    status               TEXT NOT NULL,             -- RUNNING | SUCCEEDED | FAILED | ABORTED
    start_ms             INTEGER NOT NULL,
    stop_ms              INTEGER,
    max_concurrency      INTEGER NOT NULL,
    tolerated_count      REAL,
    tolerated_percentage REAL,
    item_count           INTEGER NOT NULL,
    started              INTEGER NOT NULL DEFAULT 0,
    succeeded            INTEGER NOT NULL DEFAULT 0,
    failed               INTEGER NOT NULL DEFAULT 0,
    timed_out            INTEGER NOT NULL DEFAULT 0,
    aborted              INTEGER NOT NULL DEFAULT 0,
    result_writer        TEXT,                       -- ResultWriter, evaluated, as JSON
    error                TEXT,
    cause                TEXT,
    redrive_count        INTEGER NOT NULL DEFAULT 0,        -- RedriveExecution of its parent
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn, start_ms);

-- One row per child to run. status is NULL until its child starts, then the child's status.
CREATE TABLE map_run_items (
    execution_id         INTEGER NOT NULL,
    seq                  INTEGER NOT NULL,
    idx                  INTEGER NOT NULL,
    input                TEXT NOT NULL,
    status               TEXT,
    execution_arn        TEXT,
    output               TEXT,                       -- the child's output, or its error object
    PRIMARY KEY (execution_id, seq, idx)
) WITHOUT ROWID;
CREATE INDEX map_run_items_by_execution ON map_run_items (execution_arn);

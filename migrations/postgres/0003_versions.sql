-- Published versions of state machines (PublishStateMachineVersion), the aliases routing
-- starts to them, and which version and alias an execution was started through.

-- A version is a revision given a number. A deleted version keeps its row, marked, so its
-- number is never given again.
CREATE TABLE state_machine_versions (
    arn               TEXT PRIMARY KEY,    -- the machine's ARN and ":N"
    state_machine_arn TEXT NOT NULL,
    version           BIGINT  NOT NULL,
    revision_id       TEXT NOT NULL,
    description       TEXT,
    creation_date_ms  BIGINT  NOT NULL,
    deleted           BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX state_machine_versions_by_machine
    ON state_machine_versions (state_machine_arn, version);

CREATE TABLE state_machine_aliases (
    arn               TEXT PRIMARY KEY,    -- the machine's ARN and ":NAME"
    state_machine_arn TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    routing           TEXT NOT NULL,                -- [{"stateMachineVersionArn", "weight"}]
    creation_date_ms  BIGINT  NOT NULL,
    update_date_ms    BIGINT  NOT NULL
);
CREATE INDEX state_machine_aliases_by_machine ON state_machine_aliases (state_machine_arn);

-- Only executions started through a version or an alias have a row.
CREATE TABLE execution_versions (
    execution_id      BIGINT PRIMARY KEY,
    version_arn       TEXT NOT NULL,
    alias_arn         TEXT
);
CREATE INDEX execution_versions_by_version ON execution_versions (version_arn, execution_id);
CREATE INDEX execution_versions_by_alias ON execution_versions (alias_arn, execution_id);

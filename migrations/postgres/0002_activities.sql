-- Activities: named queues of Task work that workers take with GetActivityTask.
CREATE TABLE activities (
    arn               TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    creation_date_ms  BIGINT NOT NULL
);

-- Activities: named queues of Task work that workers take with GetActivityTask.
CREATE TABLE activities (
    arn               TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    creation_date_ms  INTEGER NOT NULL
);

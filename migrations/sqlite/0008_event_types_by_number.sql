-- History event types stored as numbers instead of their names: a history row's type was
-- its name, 11 to 28 bytes repeated in every row (about 170 bytes of an 11-event history);
-- it is now the number `event_types` names. The numbers are `HistoryEventType`'s (never
-- changed; a new type takes the next number, and the start-up adds its row here).
CREATE TABLE event_types (
    code              INTEGER PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL UNIQUE
);
INSERT INTO event_types (code, name) VALUES
    (0, 'ActivityFailed'),
    (1, 'ActivityScheduleFailed'),
    (2, 'ActivityScheduled'),
    (3, 'ActivityStarted'),
    (4, 'ActivitySucceeded'),
    (5, 'ActivityTimedOut'),
    (6, 'ChoiceStateEntered'),
    (7, 'ChoiceStateExited'),
    (8, 'EvaluationFailed'),
    (9, 'ExecutionAborted'),
    (10, 'ExecutionFailed'),
    (11, 'ExecutionRedriven'),
    (12, 'ExecutionStarted'),
    (13, 'ExecutionSucceeded'),
    (14, 'ExecutionTimedOut'),
    (15, 'FailStateEntered'),
    (16, 'LambdaFunctionFailed'),
    (17, 'LambdaFunctionScheduleFailed'),
    (18, 'LambdaFunctionScheduled'),
    (19, 'LambdaFunctionStartFailed'),
    (20, 'LambdaFunctionStarted'),
    (21, 'LambdaFunctionSucceeded'),
    (22, 'LambdaFunctionTimedOut'),
    (23, 'MapIterationAborted'),
    (24, 'MapIterationFailed'),
    (25, 'MapIterationStarted'),
    (26, 'MapIterationSucceeded'),
    (27, 'MapRunAborted'),
    (28, 'MapRunFailed'),
    (29, 'MapRunRedriven'),
    (30, 'MapRunStarted'),
    (31, 'MapRunSucceeded'),
    (32, 'MapStateAborted'),
    (33, 'MapStateEntered'),
    (34, 'MapStateExited'),
    (35, 'MapStateFailed'),
    (36, 'MapStateStarted'),
    (37, 'MapStateSucceeded'),
    (38, 'ParallelStateAborted'),
    (39, 'ParallelStateEntered'),
    (40, 'ParallelStateExited'),
    (41, 'ParallelStateFailed'),
    (42, 'ParallelStateStarted'),
    (43, 'ParallelStateSucceeded'),
    (44, 'PassStateEntered'),
    (45, 'PassStateExited'),
    (46, 'SucceedStateEntered'),
    (47, 'SucceedStateExited'),
    (48, 'TaskFailed'),
    (49, 'TaskScheduled'),
    (50, 'TaskStartFailed'),
    (51, 'TaskStarted'),
    (52, 'TaskStateAborted'),
    (53, 'TaskStateEntered'),
    (54, 'TaskStateExited'),
    (55, 'TaskSubmitFailed'),
    (56, 'TaskSubmitted'),
    (57, 'TaskSucceeded'),
    (58, 'TaskTimedOut'),
    (59, 'WaitStateAborted'),
    (60, 'WaitStateEntered'),
    (61, 'WaitStateExited');

CREATE TABLE history_by_code (
    key               INTEGER PRIMARY KEY NOT NULL,  -- execution_id * 16777216 + id
    previous_id       INTEGER NOT NULL,
    type_code         INTEGER NOT NULL,              -- event_types.code
    timestamp_ms      INTEGER NOT NULL,
    details           TEXT                           -- packed JSON (see store/packed.rs)
);
-- A type without a number leaves type_code NULL and fails the migration: nothing is dropped.
INSERT INTO history_by_code (key, previous_id, type_code, timestamp_ms, details)
    SELECT h.key, h.previous_id, t.code, h.timestamp_ms, h.details
    FROM history_events h LEFT JOIN event_types t ON t.name = h.type ORDER BY h.key;
DROP TABLE history_events;
ALTER TABLE history_by_code RENAME TO history_events;

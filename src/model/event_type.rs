//! History event types, with AWS's names (the `HistoryEventType` enum of the Step Functions
//! API). PostgreSQL stores them as those names; SQLite as their numbers (the `event_types`
//! table of migration 0008 names them).

/// The type of a history event. Each type's number is stored on disk: a number never
/// changes, and a new type takes the next one (the start-up adds it to `event_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryEventType {
    ActivityFailed = 0,
    ActivityScheduleFailed = 1,
    ActivityScheduled = 2,
    ActivityStarted = 3,
    ActivitySucceeded = 4,
    ActivityTimedOut = 5,
    ChoiceStateEntered = 6,
    ChoiceStateExited = 7,
    EvaluationFailed = 8,
    ExecutionAborted = 9,
    ExecutionFailed = 10,
    ExecutionRedriven = 11,
    ExecutionStarted = 12,
    ExecutionSucceeded = 13,
    ExecutionTimedOut = 14,
    FailStateEntered = 15,
    LambdaFunctionFailed = 16,
    LambdaFunctionScheduleFailed = 17,
    LambdaFunctionScheduled = 18,
    LambdaFunctionStartFailed = 19,
    LambdaFunctionStarted = 20,
    LambdaFunctionSucceeded = 21,
    LambdaFunctionTimedOut = 22,
    MapIterationAborted = 23,
    MapIterationFailed = 24,
    MapIterationStarted = 25,
    MapIterationSucceeded = 26,
    MapRunAborted = 27,
    MapRunFailed = 28,
    MapRunRedriven = 29,
    MapRunStarted = 30,
    MapRunSucceeded = 31,
    MapStateAborted = 32,
    MapStateEntered = 33,
    MapStateExited = 34,
    MapStateFailed = 35,
    MapStateStarted = 36,
    MapStateSucceeded = 37,
    ParallelStateAborted = 38,
    ParallelStateEntered = 39,
    ParallelStateExited = 40,
    ParallelStateFailed = 41,
    ParallelStateStarted = 42,
    ParallelStateSucceeded = 43,
    PassStateEntered = 44,
    PassStateExited = 45,
    SucceedStateEntered = 46,
    SucceedStateExited = 47,
    TaskFailed = 48,
    TaskScheduled = 49,
    TaskStartFailed = 50,
    TaskStarted = 51,
    TaskStateAborted = 52,
    TaskStateEntered = 53,
    TaskStateExited = 54,
    TaskSubmitFailed = 55,
    TaskSubmitted = 56,
    TaskSucceeded = 57,
    TaskTimedOut = 58,
    WaitStateAborted = 59,
    WaitStateEntered = 60,
    WaitStateExited = 61,
}

named_enum!(HistoryEventType {
    ActivityFailed => "ActivityFailed",
    ActivityScheduleFailed => "ActivityScheduleFailed",
    ActivityScheduled => "ActivityScheduled",
    ActivityStarted => "ActivityStarted",
    ActivitySucceeded => "ActivitySucceeded",
    ActivityTimedOut => "ActivityTimedOut",
    ChoiceStateEntered => "ChoiceStateEntered",
    ChoiceStateExited => "ChoiceStateExited",
    EvaluationFailed => "EvaluationFailed",
    ExecutionAborted => "ExecutionAborted",
    ExecutionFailed => "ExecutionFailed",
    ExecutionRedriven => "ExecutionRedriven",
    ExecutionStarted => "ExecutionStarted",
    ExecutionSucceeded => "ExecutionSucceeded",
    ExecutionTimedOut => "ExecutionTimedOut",
    FailStateEntered => "FailStateEntered",
    LambdaFunctionFailed => "LambdaFunctionFailed",
    LambdaFunctionScheduleFailed => "LambdaFunctionScheduleFailed",
    LambdaFunctionScheduled => "LambdaFunctionScheduled",
    LambdaFunctionStartFailed => "LambdaFunctionStartFailed",
    LambdaFunctionStarted => "LambdaFunctionStarted",
    LambdaFunctionSucceeded => "LambdaFunctionSucceeded",
    LambdaFunctionTimedOut => "LambdaFunctionTimedOut",
    MapIterationAborted => "MapIterationAborted",
    MapIterationFailed => "MapIterationFailed",
    MapIterationStarted => "MapIterationStarted",
    MapIterationSucceeded => "MapIterationSucceeded",
    MapRunAborted => "MapRunAborted",
    MapRunFailed => "MapRunFailed",
    MapRunRedriven => "MapRunRedriven",
    MapRunStarted => "MapRunStarted",
    MapRunSucceeded => "MapRunSucceeded",
    MapStateAborted => "MapStateAborted",
    MapStateEntered => "MapStateEntered",
    MapStateExited => "MapStateExited",
    MapStateFailed => "MapStateFailed",
    MapStateStarted => "MapStateStarted",
    MapStateSucceeded => "MapStateSucceeded",
    ParallelStateAborted => "ParallelStateAborted",
    ParallelStateEntered => "ParallelStateEntered",
    ParallelStateExited => "ParallelStateExited",
    ParallelStateFailed => "ParallelStateFailed",
    ParallelStateStarted => "ParallelStateStarted",
    ParallelStateSucceeded => "ParallelStateSucceeded",
    PassStateEntered => "PassStateEntered",
    PassStateExited => "PassStateExited",
    SucceedStateEntered => "SucceedStateEntered",
    SucceedStateExited => "SucceedStateExited",
    TaskFailed => "TaskFailed",
    TaskScheduled => "TaskScheduled",
    TaskStartFailed => "TaskStartFailed",
    TaskStarted => "TaskStarted",
    TaskStateAborted => "TaskStateAborted",
    TaskStateEntered => "TaskStateEntered",
    TaskStateExited => "TaskStateExited",
    TaskSubmitFailed => "TaskSubmitFailed",
    TaskSubmitted => "TaskSubmitted",
    TaskSucceeded => "TaskSucceeded",
    TaskTimedOut => "TaskTimedOut",
    WaitStateAborted => "WaitStateAborted",
    WaitStateEntered => "WaitStateEntered",
    WaitStateExited => "WaitStateExited",
});

impl HistoryEventType {
    /// The number the type is stored as (SQLite).
    pub fn code(self) -> i64 {
        self as i64
    }

    /// `<Type>StateEntered` of a state type (`Pass`, `Task`, ...).
    pub fn state_entered(state_type: &str) -> Self {
        match state_type {
            "Choice" => HistoryEventType::ChoiceStateEntered,
            "Fail" => HistoryEventType::FailStateEntered,
            "Map" => HistoryEventType::MapStateEntered,
            "Parallel" => HistoryEventType::ParallelStateEntered,
            "Succeed" => HistoryEventType::SucceedStateEntered,
            "Task" => HistoryEventType::TaskStateEntered,
            "Wait" => HistoryEventType::WaitStateEntered,
            _ => HistoryEventType::PassStateEntered,
        }
    }

    /// `<Type>StateExited` of a state type (a Fail state never exits).
    pub fn state_exited(state_type: &str) -> Self {
        match state_type {
            "Choice" => HistoryEventType::ChoiceStateExited,
            "Map" => HistoryEventType::MapStateExited,
            "Parallel" => HistoryEventType::ParallelStateExited,
            "Succeed" => HistoryEventType::SucceedStateExited,
            "Task" => HistoryEventType::TaskStateExited,
            "Wait" => HistoryEventType::WaitStateExited,
            _ => HistoryEventType::PassStateExited,
        }
    }

    /// Whether this event ends its execution.
    pub fn ends_execution(self) -> bool {
        matches!(
            self,
            HistoryEventType::ExecutionSucceeded
                | HistoryEventType::ExecutionFailed
                | HistoryEventType::ExecutionAborted
                | HistoryEventType::ExecutionTimedOut
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_by_name() {
        assert_eq!(HistoryEventType::ALL.len(), 62);
        for t in HistoryEventType::ALL {
            assert_eq!(HistoryEventType::parse(t.as_str()), Some(*t));
        }
    }

    #[test]
    fn numbers_are_the_stored_ones() {
        // Stored on disk: these must never change.
        assert_eq!(HistoryEventType::ActivityFailed.code(), 0);
        assert_eq!(HistoryEventType::ExecutionStarted.code(), 12);
        assert_eq!(HistoryEventType::TaskStateEntered.code(), 53);
        assert_eq!(HistoryEventType::WaitStateExited.code(), 61);
        let mut codes: Vec<i64> = HistoryEventType::ALL.iter().map(|t| t.code()).collect();
        codes.sort_unstable();
        assert_eq!(codes, (0..62).collect::<Vec<i64>>());
    }
}

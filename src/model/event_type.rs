//! History event types, with AWS's names (the `HistoryEventType` enum of the Step Functions
//! API), stored as those names.

/// The type of a history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryEventType {
    ActivityFailed,
    ActivityScheduleFailed,
    ActivityScheduled,
    ActivityStarted,
    ActivitySucceeded,
    ActivityTimedOut,
    ChoiceStateEntered,
    ChoiceStateExited,
    EvaluationFailed,
    ExecutionAborted,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionTimedOut,
    FailStateEntered,
    LambdaFunctionFailed,
    LambdaFunctionScheduleFailed,
    LambdaFunctionScheduled,
    LambdaFunctionStartFailed,
    LambdaFunctionStarted,
    LambdaFunctionSucceeded,
    LambdaFunctionTimedOut,
    MapIterationAborted,
    MapIterationFailed,
    MapIterationStarted,
    MapIterationSucceeded,
    MapRunAborted,
    MapRunFailed,
    MapRunRedriven,
    MapRunStarted,
    MapRunSucceeded,
    MapStateAborted,
    MapStateEntered,
    MapStateExited,
    MapStateFailed,
    MapStateStarted,
    MapStateSucceeded,
    ParallelStateAborted,
    ParallelStateEntered,
    ParallelStateExited,
    ParallelStateFailed,
    ParallelStateStarted,
    ParallelStateSucceeded,
    PassStateEntered,
    PassStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    TaskFailed,
    TaskScheduled,
    TaskStartFailed,
    TaskStarted,
    TaskStateAborted,
    TaskStateEntered,
    TaskStateExited,
    TaskSubmitFailed,
    TaskSubmitted,
    TaskSucceeded,
    TaskTimedOut,
    WaitStateAborted,
    WaitStateEntered,
    WaitStateExited,
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
}

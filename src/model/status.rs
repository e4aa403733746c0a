//! Statuses and types, with AWS's names, stored as those names.

/// An execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    PendingRedrive,
}

named_enum!(ExecutionStatus {
    Running => "RUNNING",
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
    TimedOut => "TIMED_OUT",
    Aborted => "ABORTED",
    PendingRedrive => "PENDING_REDRIVE",
});

impl ExecutionStatus {
    /// Whether the execution has ended.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            ExecutionStatus::Running | ExecutionStatus::PendingRedrive
        )
    }

    /// AWS's `ExecutionStatus` enum in the order its validation message lists it.
    pub const MODEL_ORDER: [ExecutionStatus; 6] = [
        ExecutionStatus::Succeeded,
        ExecutionStatus::TimedOut,
        ExecutionStatus::PendingRedrive,
        ExecutionStatus::Aborted,
        ExecutionStatus::Failed,
        ExecutionStatus::Running,
    ];
}

/// A state machine's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateMachineStatus {
    Active,
    Deleting,
}

named_enum!(StateMachineStatus {
    Active => "ACTIVE",
    Deleting => "DELETING",
});

/// A Distributed Map run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapRunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

named_enum!(MapRunStatus {
    Running => "RUNNING",
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
    Aborted => "ABORTED",
});

/// The files a Distributed Map's `ResultWriter` writes its children's results to, by how
/// they ended (`SUCCEEDED_0.json`, ...), as its manifest names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResultFile {
    Succeeded,
    Failed,
    Pending,
}

named_enum!(ResultFile {
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
    Pending => "PENDING",
});

/// A state machine's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateMachineType {
    Standard,
    Express,
}

named_enum!(StateMachineType {
    Standard => "STANDARD",
    Express => "EXPRESS",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).expect("serialize");
            assert_eq!(
                serde_json::from_str::<ExecutionStatus>(&json).ok(),
                Some(*s)
            );
        }
        for s in StateMachineStatus::ALL {
            assert_eq!(StateMachineStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(ExecutionStatus::parse("running"), None);
        assert!(serde_json::from_str::<ExecutionStatus>("\"NOPE\"").is_err());
    }
}

/// How a state run by TestState ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestExecutionStatus {
    Succeeded,
    Failed,
    Retriable,
    CaughtError,
}

named_enum!(TestExecutionStatus {
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
    Retriable => "RETRIABLE",
    CaughtError => "CAUGHT_ERROR",
});

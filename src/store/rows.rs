//! The shapes of stored data: rows read back, and the changes ([`WriteOp`]) a commit applies.
//! Storage shapes only; the engine and the API convert them to their own.

use crate::model::{
    ExecutionStatus, HistoryEventType, StateMachineStatus, StateMachineType, TimerKey,
};

/// A state machine with its current revision.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StateMachineRow {
    pub arn: String,
    pub name: String,
    #[sqlx(rename = "type")]
    pub machine_type: StateMachineType,
    pub status: StateMachineStatus,
    pub revision_id: String,
    pub creation_date_ms: i64,
    pub update_date_ms: Option<i64>,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    /// From the current revision.
    pub definition: String,
    /// From the current revision.
    pub role_arn: String,
    /// From the current revision.
    pub description: Option<String>,
}

/// One definition a state machine has had.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RevisionRow {
    pub revision_id: String,
    pub state_machine_arn: String,
    pub definition: String,
    pub role_arn: String,
    pub description: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExecutionRow {
    pub id: i64,
    pub arn: String,
    pub partition: i64,
    pub state_machine_arn: String,
    pub revision_id: String,
    pub name: String,
    pub status: ExecutionStatus,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub cursor: Option<String>,
    pub last_event_id: i64,
}

#[cfg(test)]
impl ExecutionRow {
    /// For tests: a RUNNING execution of machine `sm` named `name`.
    pub fn running_for_tests(id: i64, name: &str, start_ms: i64) -> ExecutionRow {
        ExecutionRow {
            id,
            arn: format!("arn:aws:states:us-east-1:123456789012:execution:sm:{name}"),
            partition: 0,
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            revision_id: "r1".into(),
            name: name.into(),
            status: ExecutionStatus::Running,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            start_ms,
            stop_ms: None,
            cursor: Some("{}".into()),
            last_event_id: 1,
        }
    }
}

/// The columns of an execution that change as it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionUpdate {
    pub id: i64,
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_ms: Option<i64>,
    pub cursor: Option<String>,
    pub last_event_id: i64,
}

/// A pending deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::FromRow)]
pub struct TimerRow {
    pub due_ms: i64,
    pub execution_id: i64,
    /// The id of the event that armed it.
    pub seq: i64,
    /// The execution's partition (a store that serves one node does not keep it).
    #[sqlx(default)]
    pub partition: i64,
}

impl TimerRow {
    pub fn key(&self) -> TimerKey {
        TimerKey {
            execution: crate::model::ExecutionId(self.execution_id),
            event: crate::model::EventId(self.seq),
        }
    }
}

/// A Lambda call scheduled and not yet recorded as finished.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    pub execution_id: i64,
    pub seq: i64,
    /// The execution's partition (a store that serves one node does not keep it).
    #[sqlx(default)]
    pub partition: i64,
    pub scheduled_ms: i64,
    /// The call to make, as JSON (the interpreter's `Invocation`).
    pub invocation: String,
}

/// History events of one execution, to be inserted.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvents {
    pub execution_id: i64,
    pub events: Vec<EventRow>,
}

/// A stored history event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub previous_id: i64,
    #[sqlx(rename = "type")]
    pub event_type: HistoryEventType,
    pub timestamp_ms: i64,
    pub details: Option<String>,
}

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// The commit holds only while this node holds `partition` at `epoch`: checked in the same
    /// transaction, so a node that lost the partition writes nothing of it
    /// ([`super::Error::Fenced`]). A store that serves one node holds every partition.
    Fence {
        partition: i64,
        epoch: i64,
    },
    /// The commit holds only while the machine is ACTIVE at this revision (a start must run
    /// the revision that is current when it commits; another node may have changed it).
    ExpectRevision {
        arn: String,
        revision_id: String,
    },
    InsertStateMachine {
        arn: String,
        name: String,
        machine_type: StateMachineType,
        creation_date_ms: i64,
        logging_configuration: Option<String>,
        tracing_configuration: Option<String>,
        revision: RevisionRow,
    },
    /// Point a state machine at a new revision and/or change its configuration.
    UpdateStateMachine {
        arn: String,
        revision: Option<RevisionRow>,
        update_date_ms: i64,
        logging_configuration: Option<String>,
        tracing_configuration: Option<String>,
    },
    SetStateMachineStatus {
        arn: String,
        status: StateMachineStatus,
    },
    /// Remove a state machine and its tags; its revisions stay for its executions.
    DeleteStateMachine {
        arn: String,
    },
    InsertExecution(ExecutionRow),
    UpdateExecution(ExecutionUpdate),
    InsertEvents(NewEvents),
    InsertTimer(TimerRow),
    DeleteTimer {
        execution_id: i64,
        seq: i64,
    },
    InsertTask(TaskRow),
    DeleteTask {
        execution_id: i64,
        seq: i64,
    },
    /// Forget every task of an execution (it has ended).
    DeleteTasksOf {
        execution_id: i64,
    },
    /// Remove closed executions and their history (retention).
    DeleteExecutions {
        ids: Vec<i64>,
    },
    PutTags {
        arn: String,
        tags: Vec<(String, String)>,
    },
    DeleteTags {
        arn: String,
        keys: Vec<String>,
    },
}

//! The shapes of stored data: rows read back, and the changes ([`WriteOp`]) a commit applies.
//! Storage shapes only; the engine and the API convert them to their own.

use crate::model::{
    ExecutionStatus, HistoryEventType, MapRunStatus, StateMachineStatus, StateMachineType, TimerKey,
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

/// An activity: a named queue of Task work that workers take with GetActivityTask.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ActivityRow {
    pub arn: String,
    pub name: String,
    pub creation_date_ms: i64,
}

/// A published version of a state machine: a revision given a number.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VersionRow {
    /// The machine's ARN and `:N`.
    pub arn: String,
    pub state_machine_arn: String,
    pub version: i64,
    pub revision_id: String,
    pub description: Option<String>,
    pub creation_date_ms: i64,
}

/// An alias of a state machine, routing starts to one or two of its versions.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AliasRow {
    /// The machine's ARN and `:NAME`.
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub description: Option<String>,
    /// `[{"stateMachineVersionArn", "weight"}]` as JSON.
    pub routing: String,
    pub creation_date_ms: i64,
    pub update_date_ms: i64,
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

/// An execution with the version and alias it was started through, if it was: what
/// DescribeExecution shows, read at once.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DescribedExecution {
    #[sqlx(flatten)]
    pub row: ExecutionRow,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
}

impl DescribedExecution {
    /// The version and alias, as [`super::ports::VersionReads::execution_version`] gives them.
    pub fn through(&self) -> Option<(String, Option<String>)> {
        let version = self.version_arn.clone()?;
        Some((version, self.alias_arn.clone()))
    }
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

/// A Distributed Map's run. Named by its parent execution and `seq`, the id of its
/// MapRunStarted event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MapRunRow {
    pub execution_id: i64,
    pub seq: i64,
    pub arn: String,
    pub execution_arn: String,
    pub partition: i64,
    /// The children's state machine: the machine's ARN, `/` and the label.
    pub state_machine_arn: String,
    /// The children's definition.
    pub revision_id: String,
    pub execution_type: StateMachineType,
    pub status: MapRunStatus,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub max_concurrency: i64,
    pub tolerated_count: Option<f64>,
    pub tolerated_percentage: Option<f64>,
    pub item_count: i64,
    /// Children started, and ended by status.
    pub started: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub timed_out: i64,
    pub aborted: i64,
    /// `ResultWriter`, evaluated, as JSON.
    pub result_writer: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Times a redrive of its parent ran its unsuccessful items again.
    pub redrive_count: i64,
}

/// One item of a map run, as its child left it: `status` is `None` until the child starts.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MapItemRow {
    pub idx: i64,
    pub input: String,
    pub status: Option<ExecutionStatus>,
    pub execution_arn: Option<String>,
    pub output: Option<String>,
}

/// A map run is named by its parent execution and the id of its MapRunStarted event.
pub type MapRunKey = (i64, i64);

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
    /// Remove a state machine, its tags, versions and aliases; its revisions stay for its
    /// executions.
    DeleteStateMachine {
        arn: String,
    },
    /// Publish a version. Its number must be new for the machine.
    InsertVersion(VersionRow),
    /// Delete a version (its number stays taken).
    DeleteVersion {
        arn: String,
    },
    /// Create or replace an alias.
    PutAlias(AliasRow),
    DeleteAlias {
        arn: String,
    },
    /// The version (and alias) an execution was started through.
    InsertExecutionVersion {
        execution_id: i64,
        version_arn: String,
        alias_arn: Option<String>,
    },
    /// Create an activity; one that exists already is kept as it is (CreateActivity is
    /// idempotent by name).
    InsertActivity(ActivityRow),
    /// Remove an activity and its tags.
    DeleteActivity {
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
    /// Give up to `pages` of the database's free pages back to the file system (SQLite's
    /// `PRAGMA incremental_vacuum`). Nothing where the database does that itself.
    ReleaseFreePages {
        pages: u32,
    },
    /// Create a map run with its items (their inputs by index) and its children's
    /// definition.
    InsertMapRun {
        run: Box<MapRunRow>,
        revision: RevisionRow,
        items: Vec<String>,
    },
    /// A child of a map run started (its item is counted once, when it was pending).
    MapItemStarted {
        run: MapRunKey,
        index: i64,
        execution_arn: String,
    },
    /// A child of a map run ended (its item is counted once, when it was running).
    MapItemEnded {
        run: MapRunKey,
        index: i64,
        status: ExecutionStatus,
        output: Option<String>,
    },
    /// UpdateMapRun: what is given changes.
    UpdateMapRun {
        arn: String,
        max_concurrency: Option<i64>,
        tolerated_count: Option<f64>,
        tolerated_percentage: Option<f64>,
    },
    /// A redrive of the run's parent: its items that did not succeed are pending again.
    RedriveMapRun {
        run: MapRunKey,
    },
    /// A map run ended.
    EndMapRun {
        run: MapRunKey,
        status: MapRunStatus,
        stop_ms: i64,
        error: Option<String>,
        cause: Option<String>,
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

/// Every row a batch of commits writes, by kind, for the writers' shared statements. Within
/// one batch no two requests touch the same execution (the engine serialises per execution),
/// so grouping by kind reorders nothing that matters; inside one request, keys never repeat.
#[derive(Debug, Default)]
pub struct RowsByKind<'a> {
    pub executions: Vec<&'a ExecutionRow>,
    pub updates: Vec<&'a ExecutionUpdate>,
    pub timer_deletes: Vec<(i64, i64)>,
    pub timers: Vec<&'a TimerRow>,
    pub task_deletes: Vec<(i64, i64)>,
    pub tasks_ended: Vec<i64>,
    pub tasks: Vec<&'a TaskRow>,
    pub events: Vec<(i64, &'a EventRow)>,
}

impl<'a> RowsByKind<'a> {
    /// The rows of `ops` by kind, and the rare changes (machines, tags, retention) in their
    /// order. Fences and revision checks are no rows: each writer checks them its own way.
    pub fn gather(ops: impl IntoIterator<Item = &'a WriteOp>) -> (Self, Vec<&'a WriteOp>) {
        let mut rows = Self::default();
        let mut rare = Vec::new();
        for op in ops {
            match op {
                WriteOp::InsertExecution(e) => rows.executions.push(e),
                WriteOp::UpdateExecution(u) => rows.updates.push(u),
                WriteOp::InsertEvents(new) => rows
                    .events
                    .extend(new.events.iter().map(|e| (new.execution_id, e))),
                WriteOp::DeleteTimer { execution_id, seq } => {
                    rows.timer_deletes.push((*execution_id, *seq))
                }
                WriteOp::InsertTimer(t) => rows.timers.push(t),
                WriteOp::DeleteTask { execution_id, seq } => {
                    rows.task_deletes.push((*execution_id, *seq))
                }
                WriteOp::DeleteTasksOf { execution_id } => rows.tasks_ended.push(*execution_id),
                WriteOp::InsertTask(t) => rows.tasks.push(t),
                WriteOp::Fence { .. } | WriteOp::ExpectRevision { .. } => {}
                other => rare.push(other),
            }
        }
        (rows, rare)
    }

    /// The inputs of the executions these rows insert, each read once, by execution id: the
    /// texts written with a start may leave the input out (`packed`).
    pub fn started_inputs(
        &self,
    ) -> crate::model::hash::FastMap<i64, Option<super::packed::HeldInput>> {
        self.executions
            .iter()
            .map(|r| (r.id, super::packed::HeldInput::of(&r.input)))
            .collect()
    }
}

//! Where an execution stands between two steps: the [`ExecutionState`] the engine stores as
//! JSON in the executions' `cursor` column and hands back to the next [`super::step`].
//!
//! The JSON is a contract with every database already written: fields are only ever added,
//! with `#[serde(default)]`, and names never change (`run/tests/cursor.rs` holds cursors
//! written by earlier code and checks they resume identically). A field that holds nothing
//! (`null`, an id of 0) is left out, as it reads back the same. A Map with one iteration done
//! and one waiting looks like this (the root frame is flattened into the top object):
//!
//! ```text
//! {"status":"RUNNING", "current":"M", "input":{"items":[1,2]}, "entered_ms":1000,
//!  "entered_event_id":2,
//!  "fanout":{"inputs":[null,null], "next":2, "max_concurrency":1,
//!            "running":[{"index":1, "frame":{"current":"W", "input":2, "entered_ms":6000,
//!                        "waiting":{"seq":9,"due_ms":11000}, "chain_id":8,
//!                        "entered_event_id":9}}],
//!            "results":[1,null], "failures":0, "tolerated":null, "error":null},
//!  "last_event_id":9}
//! ```
//!
//! Nothing here runs states; the interpreter reads and changes these fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::call::Invocation;
use crate::asl::errors::StatesError;

/// An execution's status (the shared vocabulary's; stored in the cursor by its AWS name).
pub use crate::model::ExecutionStatus as Status;

fn is_zero_id(id: &i64) -> bool {
    *id == 0
}

/// A timer the execution is blocked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub seq: i64,
    pub due_ms: i64,
}

/// Where an execution stands between two steps. Persisted as JSON (the executions' `cursor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionState {
    pub status: Status,
    /// The machine's own thread of control.
    #[serde(flatten)]
    pub root: Frame,
    /// The execution's TimeoutSeconds deadline, while it is armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_due_ms: Option<i64>,
    /// Id of the last history event written.
    pub last_event_id: i64,
    /// The event the next one chains to when it is not the last written (see
    /// `journal`: an iteration's end or an aborted state leaves the chain where it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_to: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The key of the execution's task tokens ([`crate::model::token`]); set by the engine
    /// before the first step that may need one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// The Task of another execution that started this one with `.sync` or `.sync:2` and
    /// waits for its end; set by the engine at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentLink>,
    /// Started on `stateMachineArn#TestCase`: its Task states answer from the mock file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock: Option<MockRun>,
    /// Where a redrive (RedriveExecution) resumes, once the execution failed, timed out or
    /// was aborted in a state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive: Option<Box<RedrivePoint>>,
    /// Redrives so far, and when the last one was.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redrive_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redriven_ms: Option<i64>,
    /// The longest the execution may run whatever its TimeoutSeconds (an Express
    /// workflow's five minutes); set by the engine before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_secs: Option<u64>,
    /// A child execution of a Distributed Map: its map run and item, told of its end in the
    /// commit that ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_item: Option<MapItemLink>,
}

/// The map run and the item a child execution of a Distributed Map runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapItemLink {
    pub map_run_arn: String,
    /// The map run's key: the parent execution and its MapRunStarted event.
    pub execution_id: i64,
    pub seq: i64,
    pub index: i64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The top-level state an execution ended in (a Parallel or Map state for a failure inside
/// one), with its input and the variables of the machine's scope then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedrivePoint {
    pub state: String,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// The branches or iterations of that state (a Parallel or an inline Map) that had
    /// succeeded: a redrive runs only the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Box<Partial>>,
}

/// The branches or iterations of a Parallel or Map state that succeeded, with their outputs
/// (`results` by index; only the `succeeded` ones count).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Partial {
    pub state: String,
    pub results: Vec<Value>,
    pub succeeded: std::collections::BTreeSet<usize>,
    /// A Distributed Map's run, whose items that did not succeed a redrive runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run: Option<MapRunRef>,
}

/// A map run as its parent names it: its ARN, the id of its MapRunStarted event (its key)
/// and how many redrives it has had.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MapRunRef {
    pub arn: String,
    pub seq: i64,
    #[serde(default)]
    pub redrives: u32,
}

/// A test case of the mock file being run: its name, and how many times each Task state was
/// called so far (the index into its mocked responses).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MockRun {
    pub test_case: String,
    #[serde(default)]
    pub calls: std::collections::BTreeMap<String, u32>,
}

/// Where a child execution's end is reported: the parent execution and its attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    pub execution_id: i64,
    pub partition: i64,
    /// The id of the attempt's TaskScheduled event.
    pub seq: i64,
}

impl ExecutionState {
    /// A new execution that has not run yet.
    pub fn new(input: Value) -> Self {
        Self {
            status: Status::Running,
            root: Frame {
                input,
                ..Frame::default()
            },
            timeout_due_ms: None,
            last_event_id: 0,
            chain_to: None,
            output: None,
            error: None,
            cause: None,
            token_key: None,
            parent: None,
            mock: None,
            redrive: None,
            redrive_count: 0,
            redriven_ms: None,
            max_duration_secs: None,
            map_item: None,
        }
    }
}

/// One thread of control: the machine, a Parallel branch or a Map iteration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Frame {
    /// The state being run; `None` before the start and after the end.
    pub current: Option<String>,
    /// The raw input of `current`, as its StateEntered event shows it.
    pub input: Value,
    /// When `current` was entered (UTC ms), for `$$.State.EnteredTime`.
    pub entered_ms: i64,
    /// The Wait timer `current` is blocked on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// Id of the event the next StateEntered chains to.
    #[serde(default, skip_serializing_if = "is_zero_id")]
    pub chain_id: i64,
    /// Id of `current`'s StateEntered event, quoted in runtime error causes.
    #[serde(default)]
    pub entered_event_id: i64,
    /// The Task `current` is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Box<TaskProgress>>,
    /// Retry bookkeeping of `current`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryProgress>,
    /// Variables assigned in this frame (outer frames' variables are visible too).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// The branches or iterations of the Parallel or Map state `current` is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<Box<Fanout>>,
    /// The state an error ended the frame in (where a redrive resumes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_in: Option<String>,
    /// What the last Parallel or Map state that failed in this frame had finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_partial: Option<Box<Partial>>,
    /// After a redrive: what the state it resumes in had finished before (taken when that
    /// state starts its branches or iterations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Box<Partial>>,
}

impl Frame {
    /// Variables visible in this frame: the outer ones, overridden by the frame's own.
    pub(super) fn visible(&self, outer: &Map<String, Value>) -> Map<String, Value> {
        let mut all = outer.clone();
        for (k, v) in &self.variables {
            all.insert(k.clone(), v.clone());
        }
        all
    }
}

/// A Task state between its Scheduled event and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// The call to make (its `seq` is that of the latest attempt).
    pub invocation: Invocation,
    /// The effective parameters, shown again in every attempt's Scheduled event.
    pub parameters: Value,
    /// The Scheduled event id of the attempt in flight.
    pub in_flight: Option<i64>,
    /// The attempt's TimeoutSeconds timer.
    pub timeout: Option<Waiting>,
    pub timeout_secs: Option<u64>,
    pub heartbeat_secs: Option<u64>,
    /// A task waiting for its token: the call was made (`TaskSubmitted`); the attempt is
    /// still `in_flight` until the callback comes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub submitted: bool,
    /// The heartbeat deadline of a task waiting for its token (timer key: the attempt's
    /// TaskStarted id, `seq + 1`); each SendTaskHeartbeat moves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<Waiting>,
    /// A callback that came before its attempt's call was answered: AWS always writes
    /// `TaskSubmitted` first, so it is kept here and applied right after that event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early: Option<Result<Value, StatesError>>,
}

/// Retries of the current state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RetryProgress {
    /// Attempts made under each Retry rule.
    pub attempts: Vec<u32>,
    /// Retries so far, for `$$.State.RetryCount`.
    pub count: u32,
    /// The back-off timer before the next attempt.
    pub backoff: Option<Waiting>,
}

impl MapRunRef {
    /// The run a Distributed Map's frame waits on, from its call.
    pub fn of(t: &TaskProgress) -> Self {
        Self {
            arn: t.invocation.function_name.clone(),
            seq: t.parameters["MapRunSeq"]
                .as_i64()
                .unwrap_or(t.invocation.seq),
            redrives: t.parameters["Redrives"]
                .as_u64()
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        }
    }
}

/// The branches of a Parallel state, or the iterations of a Map state, in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fanout {
    /// The input of each branch or iteration (taken when it starts).
    pub inputs: Vec<Value>,
    /// The index of the next one to start.
    pub next: usize,
    /// How many may run at once; 0 means all.
    pub max_concurrency: usize,
    pub running: Vec<Child>,
    /// Outputs by index (`null` until one finishes).
    pub results: Vec<Value>,
    pub failures: usize,
    /// The branches or iterations that failed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub failed: std::collections::BTreeSet<usize>,
    /// After a redrive: the ones that had succeeded before, not run again.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub skip: std::collections::BTreeSet<usize>,
    /// Failures a Map tolerates; `None` when it tolerates none and fails with the first error.
    pub tolerated: Option<usize>,
    /// The error that fails the state once the running ones are stopped.
    pub error: Option<StatesError>,
}

impl Fanout {
    /// What has succeeded so far: the outputs by index, and which indices they are (started,
    /// or skipped after a redrive, and neither running nor failed).
    pub fn partial(&self, state: &str) -> Partial {
        let running: std::collections::BTreeSet<usize> =
            self.running.iter().map(|c| c.index).collect();
        Partial {
            state: state.to_owned(),
            results: self.results.clone(),
            succeeded: (0..self.next)
                .filter(|i| !running.contains(i) && !self.failed.contains(i))
                .collect(),
            map_run: None,
        }
    }
}

/// A running branch or iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Child {
    pub index: usize,
    pub frame: Frame,
}

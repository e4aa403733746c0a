//! The interpreter: apply one event to an execution and run it to its next blocking point.
//!
//! [`step`] is pure. It mutates the [`ExecutionState`] it is given and returns the history
//! events it appended and the [`Effect`]s its caller performs *after* committing both
//! (write-ahead):
//!
//! ```text
//!  Event::Start ──> ExecutionStarted, <S>StateEntered, ... ──> blocks on a Wait ──> Effect::ArmTimer
//!  Event::TimerFired ──> WaitStateExited, ... ──> ExecutionSucceeded   (status becomes terminal)
//! ```
//!
//! An execution is a tree of [`Frame`]s, each a thread of control running one set of states:
//! the machine at the root, and under a Parallel or Map state in progress one frame per
//! running branch or iteration ([`Fanout`]). The whole tree is persisted with the execution,
//! so a Wait or a Task inside a branch survives a restart like one at the top.
//!
//! Timers and Lambda calls are named by a sequence number the interpreter chooses: the id of
//! the history event that armed them (`WaitStateEntered`, `TaskScheduled`, ...), or
//! [`EXECUTION_TIMEOUT_SEQ`] for the execution's `TimeoutSeconds`. Ids are unique across the
//! tree, so an event finds its frame by its sequence; one that no frame waits for is stale
//! and ignored (a timer that fires after a StopExecution changes nothing).
//!
//! | module | owns |
//! |---|---|
//! | `cursor` | [`ExecutionState`] and its frames: what is persisted between steps |
//! | `step` | [`step`]: starting, stopping, timing out and ending the execution |
//! | `machine` | running states in one frame; routing an event to the frame that waits for it |
//! | `outcome` | what a state's handler returns and how a frame's run ends |
//! | `journal` | history events: ids, previous ids, the history cap |
//! | `io` | data flow, the one place that tells the two query languages apart |
//! | `context` | the context object (`$$`) and JSONata's `$states` |
//! | `simple` | Pass, Choice, Succeed and Fail |
//! | `wait` | Wait |
//! | [`task`] | Task: the Lambda call, its result, its timeout |
//! | `call` | the call asked for and what comes back, as persisted |
//! | `callback` | a Task waiting for its token or an activity worker: the callback, heartbeats |
//! | `resource` | the history events of each kind of Task resource |
//! | `fanout` | Parallel and Map |
//! | `distributed` | a Distributed Map: its map run, as one call |
//! | `recovery` | Retry and Catch, applied in one place |
//!
//! Nothing here performs I/O or reads a clock: the step's time comes in as `now_ms`.

use serde_json::Value;

use super::errors::StatesError;
use super::history::HistoryEvent;

mod batcher;
mod call;
mod callback;
mod context;
mod cursor;
mod distributed;
mod fanout;
mod io;
mod journal;
mod machine;
mod outcome;
pub mod probe;
pub(crate) mod recovery;
mod resource;
mod simple;
mod step;
pub mod task;
#[cfg(test)]
pub(crate) mod tests;
mod wait;

pub use call::MapRunStart;
pub use cursor::{
    Child, ExecutionState, Fanout, Frame, MapItemLink, MapRunRef, MockRun, ParentLink, Partial,
    RedrivePoint, RetryProgress, Status, TaskProgress, Waiting,
};
pub use distributed::{map_run_arn, threshold_exceeded, MAX_CHILDREN_AT_ONCE};
pub use step::step;
pub use task::{CallKind, Invocation, InvokeOutput, MockCall};

/// Sequence number of the execution-timeout timer (history event ids start at 1).
pub const EXECUTION_TIMEOUT_SEQ: i64 = 0;

/// AWS's limit on an execution's input, a state's output and a task's result: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// Facts about the execution that do not change while it runs (the `$$.Execution` and
/// `$$.StateMachine` parts of the context object).
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    pub arn: String,
    /// An execution of an Express machine: the context object shows its ARN as AWS names it.
    pub express: bool,
    pub name: String,
    pub role_arn: String,
    pub start_ms: i64,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    /// The execution's input, for `$$.Execution.Input`.
    pub input: ExecutionInput,
    /// The region named in TaskScheduled events.
    pub region: String,
}

/// The execution's input as the context object shows it: kept as its stored text and parsed
/// when first read. Few states read the context object, and a step that reads none (a Task's
/// result, a Wait's end) need not parse an input it does not show.
#[derive(Debug, Clone)]
pub struct ExecutionInput {
    text: String,
    value: std::sync::OnceLock<Value>,
}

impl ExecutionInput {
    /// The input as stored: JSON text that parsed when the execution was started.
    pub fn from_text(text: String) -> Self {
        Self {
            text,
            value: std::sync::OnceLock::new(),
        }
    }

    /// An input already parsed.
    pub fn from_value(value: Value) -> Self {
        Self {
            text: String::new(),
            value: std::sync::OnceLock::from(value),
        }
    }

    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            serde_json::from_str(&self.text).unwrap_or_else(|e| {
                // The store gave back text that does not parse: the context shows null.
                tracing::error!(error = %e, "an execution's stored input does not parse");
                Value::Null
            })
        })
    }
}

/// Knobs that change how the interpreter computes deadlines.
#[derive(Debug, Clone, Copy)]
pub struct StepConfig {
    /// Multiplies every Wait duration when its deadline is computed; 0 means no waiting.
    pub wait_time_scale: f64,
    /// Most events in one execution's history (0: no cap). The last one may only be the
    /// execution's end; an execution that would write more fails, as on AWS.
    pub max_history_events: i64,
}

impl Default for StepConfig {
    fn default() -> Self {
        Self {
            wait_time_scale: 1.0,
            max_history_events: 25_000,
        }
    }
}

/// What happened to the execution from outside.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The execution was just created.
    Start,
    /// The timer with this sequence number is due.
    TimerFired { seq: i64 },
    /// A Lambda call finished: its output, or the error it maps to.
    TaskResult {
        seq: i64,
        result: Result<InvokeOutput, StatesError>,
    },
    /// SendTaskSuccess or SendTaskFailure with the token of attempt `seq`.
    Callback {
        seq: i64,
        result: Result<Value, StatesError>,
    },
    /// SendTaskHeartbeat with the token of attempt `seq`.
    Heartbeat { seq: i64 },
    /// A worker took the activity task of attempt `seq` (GetActivityTask).
    ActivityStarted { seq: i64, worker: Option<String> },
    /// RedriveExecution: run again from the state the execution ended in.
    Redrive,
    /// StopExecution.
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// Work for the caller once the step's events are committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Persist (in the same commit) and arm a timer.
    ArmTimer { seq: i64, due_ms: i64 },
    /// Remove (in the same commit) and disarm a timer.
    CancelTimer { seq: i64 },
    /// Persist (in the same commit) and make a Lambda call; its result comes back as
    /// [`Event::TaskResult`] with the same `seq`.
    Invoke(Invocation),
    /// Create (in the same commit) a Distributed Map's run; its `Invoke` follows.
    StartMapRun(Box<MapRunStart>),
    /// Make the items of the run named by `seq` that did not succeed pending again (in the
    /// same commit), for a redrive; its `Invoke` follows.
    RedriveMapRun { seq: i64 },
}

/// The result of one [`step`].
#[derive(Debug, Default)]
pub struct Step {
    pub events: Vec<HistoryEvent>,
    pub effects: Vec<Effect>,
    /// The execution's output as text ([`crate::asl::history::to_text`]), when it succeeded
    /// in this step: the text its ExecutionSucceeded event shows.
    pub output_text: Option<String>,
}

//! The values the interpreter passes between its parts: what a state's handler returns
//! ([`Outcome`]), how a frame's run ends for now ([`End`]), and an event on its way to the
//! frame that waits for it ([`Delivery`]).

use serde_json::{Map, Value};

use super::call::InvokeOutput;
use super::cursor::Frame;
use crate::asl::errors::{names, StatesError};

/// What running a state (or resuming it) led to.
#[derive(Debug)]
pub enum Outcome {
    /// Go on to the named state with this input.
    Next(String, Value),
    /// The frame ends successfully with this output.
    Succeed(Value),
    /// The frame fails with this error; the state's Retry and Catch rules do not apply.
    Fail(StatesError),
    /// The state failed with an error its Retry and Catch rules handle (a task's failure or
    /// timeout, a failed branch or iteration). Only [`super::recovery`] resolves it.
    Raise(StatesError),
    /// The frame is blocked (a timer was armed, a call made, or branches are running).
    Blocked,
}

/// A state's output and the variables it assigns, before it exits.
#[derive(Debug)]
pub struct Exit {
    pub output: Value,
    pub assigned: Map<String, Value>,
}

/// How a frame's run ended for now.
#[derive(Debug)]
pub enum End {
    Succeeded(Value),
    Failed(StatesError),
    Blocked,
    /// Only at the root: StopExecution.
    Aborted(Option<String>, Option<String>),
    /// Only at the root: the execution's TimeoutSeconds passed.
    TimedOut,
}

/// An event from outside, on its way to the frame that waits for it.
pub enum Delivery {
    Timer(i64),
    Task(i64, Result<InvokeOutput, StatesError>),
    Callback(i64, Result<Value, StatesError>),
    Heartbeat(i64),
    /// A worker took an activity task: the attempt and the worker's name.
    Started(i64, Option<String>),
}

/// AWS prefixes the cause of a runtime error with where it happened.
pub fn in_state(f: &Frame, mut e: StatesError) -> StatesError {
    const PREFIX: &str = "An error occurred while executing the state";
    let located = matches!(
        e.error.as_str(),
        names::RUNTIME | names::QUERY_EVALUATION_ERROR
    );
    if located {
        let detail = e.cause.take().unwrap_or_default();
        if detail.starts_with(PREFIX) {
            e.cause = Some(detail);
        } else {
            e.cause = Some(format!(
                "{PREFIX} '{}' (entered at the event id #{}). {detail}",
                f.current.as_deref().unwrap_or_default(),
                f.entered_event_id
            ));
        }
    }
    e
}

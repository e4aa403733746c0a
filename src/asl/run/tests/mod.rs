//! The interpreter's tests, by topic. Definitions are JSON literals; most tests are tables
//! with the case name in every assertion.
//!
//! | file | topic |
//! |---|---|
//! | `lifecycle` | start, stop, timeouts, history ids and the history cap |
//! | `wait` | Wait deadlines and their errors |
//! | `data` | data flow in both query languages, variables |
//! | `fanout` | Parallel and Map |
//! | `recovery` | Retry and Catch |
//! | `cursor` | cursors written by earlier code resume identically |
//! | [`driver`] | running an execution to its end, as the engine does (also for `asl::fuzz`) |

use serde_json::Value;

use super::{step, Effect, Event, ExecutionState, Status, StepConfig};
use crate::asl::definition::Definition;
use crate::asl::errors::StatesError;
use crate::asl::history::HistoryEvent;

mod cursor;
mod data;
pub(crate) mod driver;
mod fanout;
mod lifecycle;
mod recovery;
mod wait;

/// A Lambda function ARN for Task states.
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

fn definition(def: &Value) -> Definition {
    Definition::parse(&def.to_string()).unwrap_or_else(|e| panic!("definition: {e}\n{def}"))
}

/// Apply `events` in order; the final state, the history's event types and every effect.
fn run(
    def: &Value,
    input: Value,
    events: &[(Event, i64)],
) -> (ExecutionState, Vec<String>, Vec<Effect>) {
    let def = definition(def);
    let mut state = ExecutionState::new(input);
    let mut types = Vec::new();
    let mut effects = Vec::new();
    for (event, now) in events {
        let s = step(
            &def,
            &mut state,
            &driver::info(),
            event.clone(),
            *now,
            &StepConfig::default(),
        );
        types.extend(s.events.iter().map(|e| e.event_type.as_str().to_owned()));
        effects.extend(s.effects);
    }
    (state, types, effects)
}

/// Drive an execution to its end: echo each call, or fail it when its payload says `"fail"`.
fn drive(def: &Value, input: Value) -> (ExecutionState, Vec<HistoryEvent>) {
    driver::drive(
        &definition(def),
        input,
        &StepConfig::default(),
        10_000,
        |inv| {
            if inv.payload.contains("\"fail\"") {
                Err(StatesError::new("Boom", "asked to fail"))
            } else {
                Ok(driver::echo(inv))
            }
        },
    )
}

/// A case's expected end: the output, or the error and cause.
type Want<'a> = Result<Value, (&'a str, &'a str)>;

/// Drive each `(name, definition, input, want)` to its end and check it, and that the
/// history's ids run 1, 2, 3, ...
fn check_ends(cases: Vec<(&str, Value, Value, Want<'_>)>) {
    for (name, def, input, want) in cases {
        let (state, history) = drive(&def, input);
        let ids: Vec<i64> = history.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            (1..=history.len() as i64).collect::<Vec<_>>(),
            "{name}: ids"
        );
        match want {
            Ok(output) => {
                assert_eq!(state.status, Status::Succeeded, "{name}: {state:?}");
                assert_eq!(state.output, Some(output), "{name}");
            }
            Err((error, cause)) => {
                assert_eq!(state.status, Status::Failed, "{name}");
                assert_eq!(state.error.as_deref(), Some(error), "{name}");
                assert_eq!(state.cause.as_deref(), Some(cause), "{name}");
            }
        }
    }
}

//! One state run on its own, for the TestState API: no execution, no history, no timer.
//!
//! [`prepare`] runs the state up to its work: a state without work (Pass, Choice, Wait,
//! Succeed, Fail) is done there; a Task hands back the call it would make, and a Map or
//! Parallel its input, for the caller to answer (with the call's result, or the mocked one).
//! [`finish`] takes that answer through the rest of the data flow, Retry and Catch. What each
//! stage made is collected as `inspectionData`, under AWS's names.

use serde_json::{json, Map, Value};

use super::fanout::count;
use super::io::Io;
use super::recovery::{error_output, matches};
use super::task::Invocation;
use crate::asl::catalogue;
use crate::asl::definition::{Kind, State, TaskResource, Transition};
use crate::asl::errors::{names, StatesError};
use crate::asl::expr::choice;

/// What the state runs with.
pub struct Probe<'a> {
    pub state: &'a State,
    pub input: Value,
    pub variables: Map<String, Value>,
    pub context: Value,
    pub now_ms: i64,
    /// `stateConfiguration.retrierRetryCount`: retries already made.
    pub retries_made: u32,
    /// `stateConfiguration.mapIterationFailureCount`: iterations of a Map that failed.
    pub failed_iterations: u64,
}

pub use crate::model::TestExecutionStatus as ProbeStatus;

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub status: ProbeStatus,
    pub output: Option<Value>,
    pub error: Option<StatesError>,
    pub next_state: Option<String>,
    pub inspection: Map<String, Value>,
}

/// Where [`prepare`] left the state.
pub enum Prepared {
    Done(Report),
    /// A Task's call (`None` for a Map or a Parallel, whose work the caller mocks, and for a
    /// Task whose resource this server does not call), with the inspection so far.
    Work {
        invocation: Option<Invocation>,
        inspection: Map<String, Value>,
    },
}

fn io<'a>(p: &Probe<'a>) -> Io<'a> {
    Io::new(
        p.state,
        p.input.clone(),
        p.context.clone(),
        p.variables.clone(),
        p.now_ms,
        0,
    )
}

fn next_of(state: &State) -> Option<String> {
    match &state.transition {
        Some(Transition::Next(n)) => Some(n.clone()),
        _ => None,
    }
}

fn succeeded(output: Value, next_state: Option<String>, inspection: Map<String, Value>) -> Report {
    Report {
        status: ProbeStatus::Succeeded,
        output: Some(output),
        error: None,
        next_state,
        inspection,
    }
}

fn failed(error: StatesError, inspection: Map<String, Value>) -> Report {
    Report {
        status: ProbeStatus::Failed,
        output: None,
        error: Some(error),
        next_state: None,
        inspection,
    }
}

/// Run the state up to its work.
pub fn prepare(p: &Probe<'_>) -> Prepared {
    let mut insp = Map::new();
    insp.insert("input".into(), p.input.clone());
    match stages(p, &mut insp) {
        Ok(prepared) => prepared,
        Err(e) => Prepared::Done(recover(p, insp, e)),
    }
}

fn stages(p: &Probe<'_>, insp: &mut Map<String, Value>) -> Result<Prepared, StatesError> {
    let io = io(p);
    let state = p.state;
    let pass_result = matches!(&state.kind, Kind::Pass { result: Some(_) });
    if !state.jsonata && !matches!(state.kind, Kind::Parallel { .. }) && !pass_result {
        insp.insert("afterInputPath".into(), io.input()?.clone());
    }
    let done = |r: Report| Ok(Prepared::Done(r));
    match &state.kind {
        Kind::Pass { result } => {
            if !state.jsonata {
                let r = match result {
                    Some(r) => {
                        insp.insert("result".into(), r.clone());
                        r.clone()
                    }
                    None => {
                        let arguments = io.arguments()?;
                        insp.insert("afterParameters".into(), arguments.clone());
                        arguments
                    }
                };
                insp.extend(io.placed_stages(r)?);
            }
            let exit = io.pass(result.as_ref())?;
            done(succeeded(exit.output, next_of(state), insp.clone()))
        }
        Kind::Succeed => done(succeeded(
            io.output(state.output.as_ref())?,
            None,
            insp.clone(),
        )),
        Kind::Wait(_) => {
            let exit = io.waited()?;
            done(succeeded(exit.output, next_of(state), insp.clone()))
        }
        Kind::Choice { rules, default } => {
            let (next, output) = match io.choose(rules)? {
                Some(r) => (
                    r.next().to_owned(),
                    r.output.as_ref().or(state.output.as_ref()),
                ),
                None => (
                    default.clone().ok_or_else(choice::no_match)?,
                    state.output.as_ref(),
                ),
            };
            done(succeeded(io.output(output)?, Some(next), insp.clone()))
        }
        Kind::Fail {
            error,
            error_path,
            cause,
            cause_path,
        } => {
            let scope = io.scope();
            let error = match error_path {
                Some(path) => Some(super::simple::string_from_path(path, &scope, "ErrorPath")?),
                None => io.text(error.as_ref(), "Error")?,
            };
            let cause = match cause_path {
                Some(path) => Some(super::simple::string_from_path(path, &scope, "CausePath")?),
                None => io.text(cause.as_ref(), "Cause")?,
            };
            done(failed(
                StatesError {
                    error: error.unwrap_or_default(),
                    cause,
                },
                insp.clone(),
            ))
        }
        Kind::Task(spec) => {
            let arguments = io.arguments()?;
            let name = if state.jsonata {
                "afterArguments"
            } else {
                "afterParameters"
            };
            insp.insert(name.into(), arguments.clone());
            // A resource this server does not call (an AWS service of its own) is tested with
            // a mock of its result, as AWS allows; without one, the caller fails it.
            let invocation = match &spec.resource {
                TaskResource::Other(_) => None,
                _ => Some(super::task::invocation_for(spec, &arguments)?),
            };
            Ok(Prepared::Work {
                invocation,
                inspection: insp.clone(),
            })
        }
        Kind::Map(spec) => {
            if !state.jsonata {
                if let crate::asl::definition::PathField::Path(path) = &spec.items_path {
                    match io.items(spec) {
                        Ok(items) => {
                            insp.insert("afterItemsPath".into(), Value::Array(items));
                        }
                        Err(_) => {
                            return Err(catalogue::reference_not_array(
                                path.strip_prefix('$').unwrap_or(path),
                            ))
                        }
                    }
                }
            }
            let concurrency = count(&io, &spec.max_concurrency, "MaxConcurrency")?.unwrap_or(0.0);
            insp.insert("maxConcurrency".into(), json!(concurrency as u64));
            if let Some(n) = count(&io, &spec.tolerated_count, "ToleratedFailureCount")? {
                insp.insert("toleratedFailureCount".into(), json!(n as u64));
            }
            if let Some(n) = count(
                &io,
                &spec.tolerated_percentage,
                "ToleratedFailurePercentage",
            )? {
                insp.insert("toleratedFailurePercentage".into(), json!(n));
            }
            Ok(Prepared::Work {
                invocation: None,
                inspection: insp.clone(),
            })
        }
        Kind::Parallel { .. } => Ok(Prepared::Work {
            invocation: None,
            inspection: insp.clone(),
        }),
        Kind::Unsupported => Err(catalogue::state_type_unsupported(&state.type_name)),
    }
}

/// The work's answer through the rest of the state: its result, or the error it raised.
pub fn finish(
    p: &Probe<'_>,
    mut inspection: Map<String, Value>,
    result: Result<Value, StatesError>,
) -> Report {
    let result = result.and_then(|r| map_failures(p, &inspection, r));
    match result {
        Ok(r) => {
            let io = io(p);
            // A Task's result is shown in either query language (a JSONata Task's as AWS
            // shows it beside its afterArguments).
            if matches!(p.state.kind, Kind::Task(_)) {
                inspection.insert("result".into(), r.clone());
            }
            let staged = if p.state.jsonata {
                Ok(Map::new())
            } else {
                io.selected_stages(r.clone())
            };
            match staged.and_then(|s| {
                inspection.extend(s);
                io.settle(r)
            }) {
                Ok(exit) => succeeded(exit.output, next_of(p.state), inspection),
                Err(e) => recover(p, inspection, e),
            }
        }
        Err(e) => recover(p, inspection, e),
    }
}

/// A Map whose iterations failed more than it tolerates fails.
fn map_failures(
    p: &Probe<'_>,
    inspection: &Map<String, Value>,
    result: Value,
) -> Result<Value, StatesError> {
    if !matches!(p.state.kind, Kind::Map(_)) {
        return Ok(result);
    }
    // Failures count only against a threshold the Map sets.
    let tolerated = inspection
        .get("toleratedFailureCount")
        .and_then(Value::as_u64);
    let percentage = inspection
        .get("toleratedFailurePercentage")
        .and_then(Value::as_f64);
    let items = result.as_array().map_or(0, Vec::len) as f64;
    let over_count = tolerated.is_some_and(|t| p.failed_iterations > t);
    let over_percentage = percentage
        .is_some_and(|pct| items > 0.0 && p.failed_iterations as f64 * 100.0 / items > pct);
    if over_count || over_percentage {
        return Err(catalogue::tolerated_failure_exceeded());
    }
    Ok(result)
}

/// An error the state raised: RETRIABLE when a retrier has attempts left, CAUGHT_ERROR when
/// a catcher takes it, else FAILED.
fn recover(p: &Probe<'_>, mut inspection: Map<String, Value>, e: StatesError) -> Report {
    let state = p.state;
    if e.error != names::RUNTIME {
        if let Some((i, r)) = state
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| matches(&r.error_equals, &e.error))
        {
            let mut details = json!({ "retryIndex": i });
            if p.retries_made < r.max_attempts {
                let backoff = r.delay_ms(p.retries_made, 0.0) as f64 / 1000.0;
                details["retryBackoffIntervalSeconds"] = json!(backoff.round() as u64);
                inspection.insert("errorDetails".into(), details);
                return Report {
                    status: ProbeStatus::Retriable,
                    output: None,
                    error: Some(e),
                    next_state: None,
                    inspection,
                };
            }
            inspection.insert("errorDetails".into(), details);
        }
        if let Some((i, c)) = state
            .catch
            .iter()
            .enumerate()
            .find(|(_, c)| matches(&c.error_equals, &e.error))
        {
            inspection.insert("errorDetails".into(), json!({ "catchIndex": i }));
            let output = io(p).caught(c, &error_output(&e));
            return match output {
                Ok(output) => Report {
                    status: ProbeStatus::CaughtError,
                    output: Some(output),
                    error: Some(e),
                    next_state: Some(c.next.clone()),
                    inspection,
                },
                Err(e) => failed(e, inspection),
            };
        }
    }
    failed(e, inspection)
}

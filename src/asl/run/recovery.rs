//! Retry and Catch, applied in one place. Every state handler's result passes through
//! [`Run::settle`]: an error the handler could not recover from is located (AWS prefixes a
//! runtime error's cause with the state it happened in), and an [`Outcome::Raise`] goes to
//! the state's rules:
//!
//! ```text
//!  Raise(err) ─> first Retry rule whose ErrorEquals matches ─ attempts left? ─ yes ─> back-off
//!      │                                                  └─ no ─┐    timer, or again at once
//!      └─ no rule matches ───────────────────────────────────────┴─> first matching Catch ─> its Next
//!                                                                    none ─> the frame fails
//! ```
//!
//! `States.ALL` matches every error but `States.Runtime`; `States.TaskFailed` every error but
//! `States.Timeout` and `States.Runtime`. Back-off delays are deterministic: full jitter draws
//! from the one seeded generator.

use serde_json::{Map, Value};

use super::cursor::{Frame, RetryProgress, Waiting};
use super::machine::exit_text;
use super::outcome::{in_state, Outcome};
use super::step::Run;
use crate::asl::definition::{Kind, Retrier, State};
use crate::asl::errors::{names, StatesError};
use crate::asl::history;
use crate::asl::rng::SplitMix64;
use crate::model::HistoryEventType;

/// What a matching Retry rule with attempts left asks for.
enum Retry {
    /// No back-off: attempt again now.
    Now,
    /// A back-off timer is armed.
    Later,
}

impl Run<'_> {
    /// Where a state's handler result goes; the returned outcome is never `Raise`.
    pub(super) fn settle(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        mut result: Result<Outcome, StatesError>,
    ) -> Outcome {
        loop {
            result = match result {
                Ok(Outcome::Raise(err)) => self.recover(state, f, outer, err),
                Ok(outcome) => return outcome,
                Err(e) => {
                    let e = in_state(f, e);
                    if e.error == names::QUERY_EVALUATION_ERROR {
                        // Chained where the StateEntered is, but a Wait's time (read once the
                        // state has begun) after its StateEntered, as AWS's histories show.
                        let chain = match state.kind {
                            Kind::Wait(_) => f.entered_event_id,
                            _ => f.chain_id,
                        };
                        self.evaluation_failed(state, chain, &e);
                    }
                    return Outcome::Fail(e);
                }
            };
        }
    }

    /// AWS records an expression that could not be evaluated as EvaluationFailed, naming the
    /// field it was written in, chained to `chain_id`; a Map whose items could not be read
    /// fails as a state too.
    fn evaluation_failed(&mut self, state: &State, chain_id: i64, e: &StatesError) {
        let cause = e.cause.as_deref();
        let location = cause.and_then(|c| {
            let field = c
                .split_once("specified for the field '")
                .and_then(|(_, rest)| rest.split_once('\''))
                .map(|(field, _)| field);
            field.or_else(|| {
                let detail = c.split_once("). ").map_or(c, |(_, d)| d);
                let rest = detail.strip_prefix("The ")?;
                rest.split_once(" field ").map(|(field, _)| field)
            })
        });
        let details = history::evaluation_failed(&e.error, cause, location, &state.name);
        self.journal
            .append_after(chain_id, HistoryEventType::EvaluationFailed, details);
        if matches!(state.kind, Kind::Map(_)) {
            self.journal.append(HistoryEventType::MapStateFailed, None);
        }
    }

    /// Retry the state, or catch `err`, or fail the frame with it.
    fn recover(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        err: StatesError,
    ) -> Result<Outcome, StatesError> {
        match self.retry(state, f, &err) {
            Some(Retry::Now) => return self.reattempt(state, f, outer),
            Some(Retry::Later) => return Ok(Outcome::Blocked),
            None => {}
        }
        // A Parallel or inline Map that failed and is not retried fails as a state (no
        // details: the error shows in the next event, a Catch's exit or ExecutionFailed). A
        // Distributed Map's run wrote its own with MapRunFailed.
        let failed = match &state.kind {
            Kind::Parallel { .. } => Some(HistoryEventType::ParallelStateFailed),
            Kind::Map(m) if m.distributed.is_none() => Some(HistoryEventType::MapStateFailed),
            _ => None,
        };
        if let Some(failed) = failed {
            self.journal.append(failed, None);
        }
        f.task = None;
        f.retry = None;
        self.catch(state, f, outer, err)
    }

    /// Apply the first Retry rule that matches, if it has attempts left.
    fn retry(&mut self, state: &State, f: &mut Frame, err: &StatesError) -> Option<Retry> {
        let (index, retrier) = state
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| matches(&r.error_equals, &err.error))?;
        let failed_seq = self.journal.last_id();
        let scale = self.scale();
        let progress = f.retry.get_or_insert_with(|| RetryProgress {
            attempts: vec![0; state.retry.len()],
            count: 0,
            backoff: None,
        });
        let made = progress.attempts.get(index).copied().unwrap_or(u32::MAX);
        if made >= retrier.max_attempts {
            return None;
        }
        let seed = crate::model::hash::stable_hash(&self.info.arn) ^ failed_seq as u64;
        let delay_ms = (retrier.delay_ms(made, jitter(seed)) as f64 * scale).ceil() as i64;
        if let Some(a) = progress.attempts.get_mut(index) {
            *a += 1;
        }
        progress.count += 1;
        if delay_ms <= 0 {
            return Some(Retry::Now);
        }
        let w = Waiting {
            seq: failed_seq,
            due_ms: self.now_ms.saturating_add(delay_ms),
        };
        progress.backoff = Some(w);
        self.arm(w.seq, w.due_ms);
        Some(Retry::Later)
    }

    /// Run the state again after a retry's back-off.
    pub(super) fn reattempt(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        match &state.kind {
            // A task waiting for a token evaluates its parameters again: each attempt hands
            // out a token of its own.
            Kind::Task(spec) if spec.wait_for_token => {
                let io = self.io(state, f, outer);
                self.task(&io, f, spec)
            }
            Kind::Task(_) => {
                self.schedule(state, f);
                Ok(Outcome::Blocked)
            }
            Kind::Parallel { .. } | Kind::Map(_) => {
                let io = self.io(state, f, outer);
                self.start_fanout(&io, f, outer, None)
            }
            _ => Ok(Outcome::Blocked),
        }
    }

    /// Route `err` through the state's Catch rules, or fail the frame with it.
    fn catch(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        err: StatesError,
    ) -> Result<Outcome, StatesError> {
        let Some(catcher) = state
            .catch
            .iter()
            .find(|c| matches(&c.error_equals, &err.error))
        else {
            return Ok(Outcome::Fail(err));
        };
        let io = self.io(state, f, outer);
        let error_output = error_output(&err);
        let output = io.caught(catcher, &error_output)?;
        // A catcher's output is held to the payload limit like any state's: a Catch that loops
        // back to a state quoting its input in its error would otherwise double it each turn.
        let text = match exit_text(state, &output) {
            Ok(text) => text,
            Err(e) => return Ok(Outcome::Fail(e)),
        };
        let assigned = io.assign(catcher.assign.as_ref(), None, Some(&error_output))?;
        f.variables.extend(assigned);
        self.journal.state_exited_text(f, state, text);
        Ok(Outcome::Next(catcher.next.clone(), output))
    }
}

/// Does an `ErrorEquals` list match `error`? `States.ALL` matches any error but
/// `States.Runtime` (which AWS never lets a Retry or Catch handle); `States.TaskFailed`
/// matches any error but `States.Timeout` and `States.Runtime`.
pub fn matches(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|e| {
        e == error
            || (e == names::ALL && error != names::RUNTIME)
            || (e == names::TASK_FAILED && error != names::TIMEOUT && error != names::RUNTIME)
    })
}

impl Retrier {
    /// The delay before retry number `attempt` (0-based), in milliseconds. `jitter` is a
    /// number in [0, 1) the caller derives deterministically (the interpreter is pure).
    pub fn delay_ms(&self, attempt: u32, jitter: f64) -> i64 {
        let mut secs = self.interval_seconds
            * self
                .backoff_rate
                .powi(i32::try_from(attempt).unwrap_or(i32::MAX));
        if let Some(max) = self.max_delay_seconds {
            secs = secs.min(max);
        }
        if self.full_jitter {
            secs *= jitter;
        }
        if !secs.is_finite() || secs < 0.0 {
            return 0;
        }
        (secs * 1000.0).min(i64::MAX as f64 / 2.0) as i64
    }
}

/// The `{"Error", "Cause"}` object a Catch passes on; AWS writes an empty `Cause` for errors
/// that have none (`States.Timeout`).
pub fn error_output(err: &StatesError) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(err.error.clone()));
    m.insert(
        "Cause".into(),
        Value::String(err.cause.clone().unwrap_or_default()),
    );
    Value::Object(m)
}

/// A deterministic number in [0, 1) from a seed, for full jitter.
pub fn jitter(seed: u64) -> f64 {
    SplitMix64::new(seed).next_f64()
}

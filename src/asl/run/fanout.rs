//! Parallel and Map: run one child frame per branch or iteration, at most `MaxConcurrency` at
//! once, and settle the state when all have finished or one has failed.
//!
//! ```text
//!  MapStateStarted ─┬─ MapIterationStarted 0 ─ <child's states> ─ MapIterationSucceeded 0
//!                   ├─ MapIterationStarted 1 ─ ...                ─ MapIterationFailed 1
//!                   └─ (2 waits for a free slot)
//!  all done ─> MapStateSucceeded, results by index      a failure ─> the others stopped
//!                                                       (MapIterationAborted), MapStateFailed
//! ```
//!
//! A Map that tolerates failures (`ToleratedFailureCount`/`Percentage`) keeps each failed
//! iteration's error object as its result, until more fail than it tolerates. Parallel writes
//! only `ParallelStateStarted` and its end; its branches' events follow one another. A failed
//! Parallel or Map is raised to [`super::recovery`] like a failed Task.

use crate::model::HistoryEventType;
use serde_json::{Map, Value};

use super::context;
use super::cursor::{Child, Fanout, Frame};
use super::io::Io;
use super::journal::InputFrom;
use super::outcome::{End, Outcome};
use super::recovery::error_output;
use super::step::Run;
use crate::asl::catalogue;
use crate::asl::definition::{Count, Definition, Kind, MapSpec, State};
use crate::asl::errors::StatesError;
use crate::asl::history;

impl Run<'_> {
    /// Start a Parallel state's branches or a Map state's iterations. A Map with an
    /// `ItemReader` first asks for its items (a call); `read` are the items it got.
    pub(super) fn start_fanout(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        outer: &Map<String, Value>,
        read: Option<Vec<Value>>,
    ) -> Result<Outcome, StatesError> {
        let state = io.state;
        if let Kind::Map(spec) = &state.kind {
            if let Some(dist) = &spec.distributed {
                return self.start_distributed(io, f, spec, dist, read);
            }
            if let (Some(reader), None) = (&spec.item_reader, &read) {
                return self.read_items(io, f, reader, f.entered_event_id, Value::Null);
            }
        }
        let (inputs, max_concurrency, tolerated) = match &state.kind {
            Kind::Parallel { branches } => (vec![io.arguments()?; branches.len()], 0, None),
            Kind::Map(spec) => {
                let inputs = self.map_inputs(io, spec, f, read)?;
                let (max, tolerated) = limits(io, spec, inputs.len())?;
                (inputs, max, tolerated)
            }
            _ => return Ok(Outcome::Blocked),
        };
        if matches!(state.kind, Kind::Map(_)) {
            let details = history::map_state_started(inputs.len());
            self.journal
                .append(HistoryEventType::MapStateStarted, details);
        } else {
            self.journal
                .append(HistoryEventType::ParallelStateStarted, None);
        }
        let n = inputs.len();
        // After a redrive, what succeeded before is kept and not run again.
        let before = f
            .resume
            .take()
            .filter(|p| p.state == state.name && p.results.len() == n);
        f.last_partial = None;
        let (results, skip) = match before {
            Some(p) => (p.results, p.succeeded),
            None => (vec![Value::Null; n], Default::default()),
        };
        f.fanout = Some(Box::new(Fanout {
            inputs,
            next: 0,
            max_concurrency,
            running: Vec::new(),
            results,
            failures: 0,
            failed: Default::default(),
            skip,
            tolerated,
            error: None,
        }));
        self.pump(state, f, outer)
    }

    /// A Map's iteration inputs (after ItemSelector and ItemBatcher); `read` are the items
    /// its `ItemReader` read.
    pub(super) fn map_inputs(
        &self,
        io: &Io<'_>,
        spec: &MapSpec,
        f: &Frame,
        read: Option<Vec<Value>>,
    ) -> Result<Vec<Value>, StatesError> {
        let items = match read {
            Some(items) => items,
            None => io.items(spec)?,
        };
        let mut inputs: Vec<Value> = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let Some(selector) = &spec.item_selector else {
                inputs.push(item);
                continue;
            };
            let context = context::object(self.info, io.state, f, Some((index, &item)));
            inputs.push(io.select_item(selector, &context)?);
        }
        if let Some(batcher) = &spec.item_batcher {
            inputs = super::batcher::batches(io, batcher, inputs)?;
        }
        Ok(inputs)
    }

    /// Start what may start, and settle the state when all have finished or it has failed.
    pub(super) fn pump(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        let vars = f.visible(outer);
        let is_map = matches!(state.kind, Kind::Map(_));
        loop {
            let Some(fan) = f.fanout.as_mut() else {
                return Ok(Outcome::Blocked);
            };
            if fan.error.is_some() {
                break;
            }
            let room = fan.max_concurrency == 0 || fan.running.len() < fan.max_concurrency;
            if fan.next >= fan.inputs.len() || !room {
                break;
            }
            let index = fan.next;
            fan.next += 1;
            let input = std::mem::take(&mut fan.inputs[index]);
            if fan.skip.contains(&index) {
                continue;
            }
            if is_map {
                let details = history::map_iteration("Started", &state.name, index);
                self.journal
                    .append(HistoryEventType::MapIterationStarted, details);
            }
            let Some(child_def) = child_definition(state, index) else {
                break;
            };
            let mut child = Frame {
                chain_id: self.journal.last_id(),
                ..Frame::default()
            };
            let start = child_def.start_at.clone();
            match self.run_from(
                child_def,
                &mut child,
                &vars,
                start,
                input,
                InputFrom::Elsewhere,
            ) {
                End::Blocked => {
                    if let Some(fan) = f.fanout.as_mut() {
                        fan.running.push(Child {
                            index,
                            frame: child,
                        });
                    }
                }
                other => self.child_ended(state, f, index, &child, other),
            }
        }
        let Some(fan) = f.fanout.as_mut() else {
            return Ok(Outcome::Blocked);
        };
        if let Some(err) = fan.error.clone() {
            // What succeeded is kept for a redrive; stop the ones still running, then fail.
            f.last_partial = Some(Box::new(fan.partial(&state.name)));
            let Some(fan) = f.fanout.as_mut() else {
                return Ok(Outcome::Blocked);
            };
            let running = std::mem::take(&mut fan.running);
            self.children_aborted(state, &running);
            for mut c in running {
                self.abandon(&mut c.frame);
            }
            f.fanout = None;
            // MapStateFailed or ParallelStateFailed is written by the Retry and Catch step, and
            // only when no Retry rule runs the state again (AWS writes none before a retry).
            return Ok(Outcome::Raise(err));
        }
        if fan.next < fan.inputs.len() || !fan.running.is_empty() {
            return Ok(Outcome::Blocked);
        }
        let results = std::mem::take(&mut fan.results);
        f.fanout = None;
        let succeeded = if is_map {
            HistoryEventType::MapStateSucceeded
        } else {
            HistoryEventType::ParallelStateSucceeded
        };
        self.journal.append(succeeded, None);
        self.complete(state, f, outer, Value::Array(results))
    }

    /// Record how a branch or iteration ended (`child` is its frame).
    pub(super) fn child_ended(
        &mut self,
        state: &State,
        f: &mut Frame,
        index: usize,
        child: &Frame,
        end: End,
    ) {
        let is_map = matches!(state.kind, Kind::Map(_));
        if let (false, End::Failed(_)) = (is_map, &end) {
            // A Parallel's branch stops in the Task that failed it: AWS marks that state
            // aborted (a Map writes MapIterationFailed instead).
            let failed_task = child_definition(state, index)
                .zip(child.failed_in.as_deref())
                .and_then(|(def, name)| def.state(name))
                .is_some_and(|s| matches!(s.kind, Kind::Task(_)));
            if failed_task {
                self.journal
                    .append(HistoryEventType::TaskStateAborted, None);
            }
        }
        let Some(fan) = f.fanout.as_mut() else {
            return;
        };
        match end {
            End::Succeeded(output) => {
                if let Some(slot) = fan.results.get_mut(index) {
                    *slot = output;
                }
                if is_map {
                    let details = history::map_iteration("Succeeded", &state.name, index);
                    self.journal
                        .append(HistoryEventType::MapIterationSucceeded, details);
                }
            }
            End::Failed(err) => {
                fan.failures += 1;
                fan.failed.insert(index);
                if is_map {
                    let details = history::map_iteration("Failed", &state.name, index);
                    self.journal
                        .append(HistoryEventType::MapIterationFailed, details);
                }
                match fan.tolerated {
                    None => {
                        if fan.error.is_none() {
                            fan.error = Some(err);
                        }
                    }
                    Some(t) if fan.failures > t => {
                        fan.error = Some(catalogue::tolerated_failure_exceeded());
                    }
                    Some(_) => {
                        if let Some(slot) = fan.results.get_mut(index) {
                            *slot = error_output(&err);
                        }
                    }
                }
            }
            End::Blocked | End::Aborted(..) | End::TimedOut => {}
        }
    }
}

/// An inline Map's concurrency and the failures it tolerates among `n` iterations.
fn limits(io: &Io<'_>, spec: &MapSpec, n: usize) -> Result<(usize, Option<usize>), StatesError> {
    let max = count(io, &spec.max_concurrency, "MaxConcurrency")?.unwrap_or(0.0);
    let tol_count = count(io, &spec.tolerated_count, "ToleratedFailureCount")?;
    let tol_pct = count(io, &spec.tolerated_percentage, "ToleratedFailurePercentage")?;
    let tolerated = match (tol_count, tol_pct) {
        (None, None) => None,
        (c, p) => {
            let by_count = c.map(|c| c as usize);
            let by_pct = p.map(|p| ((p / 100.0) * n as f64).floor() as usize);
            Some(by_count.into_iter().chain(by_pct).max().unwrap_or(0))
        }
    };
    Ok((max as usize, tolerated))
}

/// The definition branch `index` of a Parallel runs, or a Map's processor.
pub(super) fn child_definition(state: &State, index: usize) -> Option<&Definition> {
    match &state.kind {
        Kind::Parallel { branches } => branches.get(index),
        Kind::Map(spec) => Some(&spec.processor),
        _ => None,
    }
}

/// `MaxConcurrency` and the tolerated failures: a number, a path to one (a numeric string
/// counts, as AWS reads it), or a JSONata expression.
pub(super) fn count(
    io: &Io<'_>,
    c: &Option<Count>,
    field: &str,
) -> Result<Option<f64>, StatesError> {
    match c {
        None => Ok(None),
        Some(Count::Fixed(n)) => Ok(Some(*n)),
        Some(Count::Path(p)) => {
            let v = io.query(p, io.input()?)?;
            let n = v.as_f64().or_else(|| {
                v.as_str()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map(|n| n as f64)
            });
            match n {
                Some(n) if n >= 0.0 => {
                    if field == "ToleratedFailurePercentage" && n > 100.0 {
                        return Err(catalogue::tolerated_percentage_range());
                    }
                    Ok(Some(n))
                }
                // A number out of range is refused in AWS's words for the field.
                Some(_) if field == "ToleratedFailureCount" => {
                    Err(catalogue::tolerated_count_negative())
                }
                Some(_) if field == "ToleratedFailurePercentage" => {
                    Err(catalogue::tolerated_percentage_range())
                }
                _ => Err(catalogue::count_path_not_integer(field, &v, p)),
            }
        }
        Some(Count::Expr(e)) => {
            let v = io.jsonata(&Value::String(e.clone()), field, None, None)?;
            v.as_f64()
                .map(Some)
                .ok_or_else(|| catalogue::jsonata_not_number(field, &v))
        }
    }
}

//! Running states in one frame: enter a state, hand it to its handler, leave it and follow its
//! transition, until the frame blocks or ends; and route an event from outside down the frame
//! tree to the frame that waits for it.
//!
//! Every handler's result goes through [`Run::settle`] (Retry and Catch) before the frame
//! moves on. A frame that runs [`MAX_TRANSITIONS_PER_STEP`] states without blocking fails, so
//! a Pass/Choice loop cannot spin forever inside one step.

use serde_json::{Map, Value};

use super::context;
use super::cursor::{Child, Frame};
use super::fanout::child_definition;
use super::io::Io;
use super::journal::InputFrom;
use super::outcome::{Delivery, End, Exit, Outcome};
use super::step::Run;
use super::MAX_PAYLOAD_BYTES;
use crate::asl::catalogue;
use crate::asl::definition::{Definition, Kind, State, Transition};
use crate::asl::errors::StatesError;
use crate::asl::history;
use crate::model::{HistoryEventType, TaskToken};

/// Longest a single step runs states in one frame without blocking.
const MAX_TRANSITIONS_PER_STEP: usize = 10_000;

impl Run<'_> {
    /// Run states from `name` until the frame blocks or ends.
    pub(super) fn run_from(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        mut name: String,
        mut input: Value,
        mut from: InputFrom,
    ) -> End {
        for _ in 0..MAX_TRANSITIONS_PER_STEP {
            match self.enter(def, f, outer, &name, input, from) {
                Outcome::Next(next, next_input) => {
                    name = next;
                    input = next_input;
                    // The state just left showed it as its output.
                    from = InputFrom::LastEvent;
                }
                other => return self.follow(def, f, outer, other),
            }
        }
        End::Failed(catalogue::too_many_transitions(MAX_TRANSITIONS_PER_STEP))
    }

    /// Where a settled outcome leaves the frame.
    fn follow(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        outcome: Outcome,
    ) -> End {
        match outcome {
            Outcome::Next(next, input) => {
                self.run_from(def, f, outer, next, input, InputFrom::LastEvent)
            }
            Outcome::Succeed(output) => {
                f.current = None;
                End::Succeeded(output)
            }
            // `settle` has applied Retry and Catch: a raised error fails the frame.
            Outcome::Fail(e) | Outcome::Raise(e) => {
                f.failed_in = f.current.take();
                End::Failed(e)
            }
            Outcome::Blocked => End::Blocked,
        }
    }

    /// Enter a state and run it as far as it goes now.
    fn enter(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        name: &str,
        input: Value,
        from: InputFrom,
    ) -> Outcome {
        let Some(state) = def.state(name) else {
            return Outcome::Fail(catalogue::state_missing(name));
        };
        f.current = Some(name.to_owned());
        f.entered_ms = self.now_ms;
        f.retry = None;
        f.task = None;
        f.fanout = None;
        self.journal.state_entered(f, state, &input, from);
        f.input = input;
        let result = self.dispatch(state, f, outer);
        self.settle(state, f, outer, result)
    }

    /// Hand a state just entered to the handler of its kind.
    fn dispatch(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        let io = self.io(state, f, outer);
        match &state.kind {
            Kind::Pass { result } => self.pass(&io, f, result.as_ref()),
            Kind::Succeed => self.succeed(&io, f),
            Kind::Fail {
                error,
                error_path,
                cause,
                cause_path,
            } => self.fail(
                &io,
                (error.as_ref(), error_path.as_ref()),
                (cause.as_ref(), cause_path.as_ref()),
            ),
            Kind::Choice { rules, default } => self.choice(&io, f, rules, default.as_ref()),
            Kind::Wait(wait_for) => self.wait(&io, f, wait_for),
            Kind::Task(spec) => self.task(&io, f, spec),
            Kind::Parallel { .. } | Kind::Map(_) => self.start_fanout(&io, f, outer, None),
            Kind::Unsupported => Err(catalogue::state_type_unsupported(&state.type_name)),
        }
    }

    /// What `state` reads while it runs in `f`.
    pub(super) fn io<'s>(&self, state: &'s State, f: &Frame, outer: &Map<String, Value>) -> Io<'s> {
        let mut context = if state.needs_context {
            context::object(self.info, state, f, None)
        } else {
            Value::Null
        };
        if let (Kind::Task(spec), Value::Object(c)) = (&state.kind, &mut context) {
            if spec.wait_for_token {
                // The token of the attempt about to be scheduled: its TaskScheduled event is
                // the next one written.
                let seq = self.journal.last_id() + 1;
                let token = TaskToken::encode(&self.info.arn, seq, &self.token_key);
                c.insert("Task".into(), serde_json::json!({ "Token": token }));
            }
        }
        let seed = crate::model::hash::stable_hash(&self.info.arn) ^ self.journal.last_id() as u64;
        Io::new(
            state,
            f.input.clone(),
            context,
            f.visible(outer),
            self.now_ms,
            seed,
        )
    }

    /// A Task, Parallel or Map state produced `result`: its data flow, then exit.
    pub(super) fn complete(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        result: Value,
    ) -> Result<Outcome, StatesError> {
        f.task = None;
        f.retry = None;
        let exit = self.io(state, f, outer).settle(result)?;
        Ok(self.leave(state, f, exit))
    }

    /// Set the assigned variables, write the StateExited event and follow the state's
    /// transition. An output over AWS's payload limit fails the frame instead.
    pub(super) fn leave(&mut self, state: &State, f: &mut Frame, exit: Exit) -> Outcome {
        let text = match exit_text(state, &exit.output) {
            Ok(text) => text,
            Err(e) => return Outcome::Fail(e),
        };
        f.variables.extend(exit.assigned);
        self.journal.state_exited_text(f, state, text);
        match &state.transition {
            Some(Transition::Next(next)) => Outcome::Next(next.clone(), exit.output),
            Some(Transition::End) | None => Outcome::Succeed(exit.output),
        }
    }

    /// An event from outside: find the frame that waits for it and go on from there.
    /// `None` when no frame in this tree waits for it.
    pub(super) fn deliver(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        ev: &Delivery,
    ) -> Option<End> {
        let state = def.state(f.current.as_deref()?)?;
        let result = match ev {
            Delivery::Timer(seq) if f.waiting.map(|w| w.seq) == Some(*seq) => {
                f.waiting = None;
                let io = self.io(state, f, outer);
                Some(self.wait_over(&io, f))
            }
            Delivery::Timer(seq) if backoff_seq(f) == Some(*seq) => {
                if let Some(r) = f.retry.as_mut() {
                    r.backoff = None;
                }
                Some(self.reattempt(state, f, outer))
            }
            Delivery::Timer(seq) if task_timeout_seq(f) == Some(*seq) => {
                Some(Ok(self.task_timed_out(state, f)))
            }
            Delivery::Timer(seq) if heartbeat_seq(f) == Some(*seq) => {
                Some(Ok(self.heartbeat_due(state, f)))
            }
            Delivery::Task(seq, result)
                if f.task.as_ref().and_then(|t| t.in_flight) == Some(*seq)
                    && matches!(state.kind, Kind::Map(_)) =>
            {
                let io = self.io(state, f, outer);
                Some(self.items_read(&io, f, outer, result.clone()))
            }
            Delivery::Task(seq, result)
                if f.task.as_ref().and_then(|t| t.in_flight) == Some(*seq) =>
            {
                Some(self.task_result(state, f, outer, *seq, result.clone()))
            }
            Delivery::Callback(seq, result)
                if f.task.as_ref().and_then(|t| t.in_flight) == Some(*seq) =>
            {
                Some(self.callback(state, f, outer, *seq, result.clone()))
            }
            Delivery::Heartbeat(seq) if f.task.as_ref().and_then(|t| t.in_flight) == Some(*seq) => {
                Some(Ok(self.heartbeat(f)))
            }
            Delivery::Started(seq, worker)
                if f.task.as_ref().and_then(|t| t.in_flight) == Some(*seq) =>
            {
                Some(Ok(self.activity_started(state, f, worker.as_deref())))
            }
            _ => None,
        };
        if let Some(result) = result {
            let outcome = self.settle(state, f, outer, result);
            return Some(self.follow(def, f, outer, outcome));
        }
        // Not this frame's: one of its branches or iterations, if any.
        let vars = f.visible(outer);
        let fan = f.fanout.as_mut()?;
        let mut ended = None;
        for i in 0..fan.running.len() {
            let index = fan.running[i].index;
            let child_def = child_definition(state, index)?;
            if let Some(end) = self.deliver(child_def, &mut fan.running[i].frame, &vars, ev) {
                match end {
                    End::Blocked => return Some(End::Blocked),
                    other => {
                        let child = fan.running.remove(i);
                        ended = Some((index, child.frame, other));
                        break;
                    }
                }
            }
        }
        let (index, child, end) = ended?;
        self.child_ended(state, f, index, &child, end);
        let result = self.pump(state, f, outer);
        let outcome = self.settle(state, f, outer, result);
        Some(self.follow(def, f, outer, outcome))
    }

    /// Mark the state a stopped branch or iteration was in as aborted, as AWS does: a Task or
    /// Wait, or a Map or Parallel after the states of its own running children.
    pub(super) fn write_aborted(&mut self, def: &Definition, f: &Frame) {
        let Some(state) = f.current.as_deref().and_then(|n| def.state(n)) else {
            return;
        };
        let event = match &state.kind {
            Kind::Task(_) => HistoryEventType::TaskStateAborted,
            Kind::Wait(_) => HistoryEventType::WaitStateAborted,
            Kind::Parallel { .. } | Kind::Map(_) => {
                if let Some(fan) = &f.fanout {
                    self.children_aborted(state, &fan.running);
                }
                if matches!(state.kind, Kind::Map(_)) {
                    HistoryEventType::MapStateAborted
                } else {
                    HistoryEventType::ParallelStateAborted
                }
            }
            _ => return,
        };
        self.journal.append(event, None);
    }

    /// The branches or iterations of `state` stopped while running: the states they were in
    /// marked aborted, and each iteration of a Map with MapIterationAborted.
    pub(super) fn children_aborted(&mut self, state: &State, running: &[Child]) {
        let is_map = matches!(state.kind, Kind::Map(_));
        for c in running {
            if let Some(child_def) = child_definition(state, c.index) {
                self.write_aborted(child_def, &c.frame);
            }
            if is_map {
                let details = history::map_iteration("Aborted", &state.name, c.index);
                self.journal
                    .append(HistoryEventType::MapIterationAborted, details);
            }
        }
    }

    /// Disarm every timer a frame and its branches hold (the frame is being abandoned).
    pub(super) fn abandon(&mut self, f: &mut Frame) {
        if let Some(w) = f.waiting.take() {
            self.disarm(w.seq);
        }
        if let Some(t) = f.task.take() {
            for w in t.timeout.iter().chain(t.heartbeat.iter()) {
                self.disarm(w.seq);
            }
        }
        if let Some(w) = f.retry.take().and_then(|r| r.backoff) {
            self.disarm(w.seq);
        }
        if let Some(mut fan) = f.fanout.take() {
            for c in &mut fan.running {
                self.abandon(&mut c.frame);
            }
        }
    }
}

fn backoff_seq(f: &Frame) -> Option<i64> {
    f.retry.as_ref().and_then(|r| r.backoff).map(|w| w.seq)
}

fn task_timeout_seq(f: &Frame) -> Option<i64> {
    f.task.as_ref().and_then(|t| t.timeout).map(|w| w.seq)
}

fn heartbeat_seq(f: &Frame) -> Option<i64> {
    f.task.as_ref().and_then(|t| t.heartbeat).map(|w| w.seq)
}

/// A state's output as its StateExited event shows it ([`history::to_text`]), or
/// States.DataLimitExceeded when that is over AWS's payload limit.
pub(super) fn exit_text(state: &State, output: &Value) -> Result<String, StatesError> {
    let text = history::to_text(output);
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(catalogue::data_limit_exceeded(&state.name));
    }
    Ok(text)
}

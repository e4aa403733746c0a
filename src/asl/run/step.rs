//! [`step`]: one event in, the execution run to its next blocking point, its events and
//! effects out. Starting (ExecutionStarted, the execution's timeout), stopping, timing out
//! and ending the execution happen here; running states is [`super::machine`]'s.

use crate::model::HistoryEventType;
use serde_json::Map;

use super::cursor::{ExecutionState, Status};
use super::journal::{InputFrom, Journal};
use super::outcome::{Delivery, End};
use super::{Effect, Event, ExecutionInfo, Step, StepConfig, EXECUTION_TIMEOUT_SEQ};
use crate::asl::catalogue;
use crate::asl::definition::Definition;
use crate::asl::errors::names;
use crate::asl::history;

/// One step in progress: what it writes and asks for, and what it runs with.
pub(super) struct Run<'a> {
    pub info: &'a ExecutionInfo,
    /// The step's time: every event's timestamp and the base of every deadline.
    pub now_ms: i64,
    pub cfg: &'a StepConfig,
    pub journal: Journal,
    pub effects: Vec<Effect>,
    /// The execution's token key (empty before the engine set one).
    pub token_key: String,
    /// The test case being run, and its calls so far.
    pub mock: Option<super::cursor::MockRun>,
}

impl Run<'_> {
    pub fn arm(&mut self, seq: i64, due_ms: i64) {
        self.effects.push(Effect::ArmTimer { seq, due_ms });
    }

    pub fn disarm(&mut self, seq: i64) {
        self.effects.push(Effect::CancelTimer { seq });
    }

    /// `WAIT_TIME_SCALE`, or 1 when it is not a usable factor.
    pub fn scale(&self) -> f64 {
        if self.cfg.wait_time_scale.is_finite() && self.cfg.wait_time_scale >= 0.0 {
            self.cfg.wait_time_scale
        } else {
            1.0
        }
    }
}

/// Apply `event` to `exec` and run until the execution blocks or ends.
pub fn step(
    def: &Definition,
    exec: &mut ExecutionState,
    info: &ExecutionInfo,
    event: Event,
    now_ms: i64,
    cfg: &StepConfig,
) -> Step {
    if exec.status.is_terminal() && !(event == Event::Redrive && exec.redrive.is_some()) {
        return Step::default();
    }
    let mut run = Run {
        info,
        now_ms,
        cfg,
        journal: Journal::new(
            exec.last_event_id,
            exec.chain_to,
            now_ms,
            cfg.max_history_events,
        ),
        effects: Vec::new(),
        token_key: exec.token_key.clone().unwrap_or_default(),
        mock: exec.mock.take(),
    };
    let mut root = std::mem::take(&mut exec.root);
    let top = Map::new();
    let end = match event {
        Event::Start => {
            let input = root.input.clone();
            run.journal.execution_started(&input, &info.role_arn);
            root.chain_id = 0;
            let timeout = match (def.timeout_seconds, exec.max_duration_secs) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(secs) = timeout {
                let due_ms = info
                    .start_ms
                    .saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX));
                exec.timeout_due_ms = Some(due_ms);
                run.arm(EXECUTION_TIMEOUT_SEQ, due_ms);
            }
            run.run_from(
                def,
                &mut root,
                &top,
                def.start_at.clone(),
                input,
                InputFrom::LastEvent,
            )
        }
        Event::TimerFired { seq } if seq == EXECUTION_TIMEOUT_SEQ => {
            if exec.timeout_due_ms.take().is_some() {
                End::TimedOut
            } else {
                End::Blocked
            }
        }
        Event::TimerFired { seq } => run
            .deliver(def, &mut root, &top, &Delivery::Timer(seq))
            .unwrap_or(End::Blocked),
        Event::TaskResult { seq, result } => run
            .deliver(def, &mut root, &top, &Delivery::Task(seq, result))
            .unwrap_or(End::Blocked),
        Event::Callback { seq, result } => run
            .deliver(def, &mut root, &top, &Delivery::Callback(seq, result))
            .unwrap_or(End::Blocked),
        Event::Heartbeat { seq } => run
            .deliver(def, &mut root, &top, &Delivery::Heartbeat(seq))
            .unwrap_or(End::Blocked),
        Event::ActivityStarted { seq, worker } => run
            .deliver(def, &mut root, &top, &Delivery::Started(seq, worker))
            .unwrap_or(End::Blocked),
        Event::Stop { error, cause } => End::Aborted(error, cause),
        Event::Redrive => match exec.redrive.take() {
            Some(point) => {
                exec.status = Status::Running;
                exec.error = None;
                exec.cause = None;
                exec.redrive_count += 1;
                exec.redriven_ms = Some(now_ms);
                let details = history::execution_redriven(exec.redrive_count);
                run.journal
                    .append(HistoryEventType::ExecutionRedriven, details);
                root = super::cursor::Frame {
                    input: point.input.clone(),
                    chain_id: run.journal.last_id(),
                    variables: point.variables,
                    resume: point.partial,
                    ..Default::default()
                };
                if let Some(secs) = def.timeout_seconds {
                    let due_ms = now_ms.saturating_add(
                        i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX),
                    );
                    exec.timeout_due_ms = Some(due_ms);
                    run.arm(EXECUTION_TIMEOUT_SEQ, due_ms);
                }
                run.run_from(
                    def,
                    &mut root,
                    &top,
                    point.state,
                    point.input,
                    InputFrom::Elsewhere,
                )
            }
            None => End::Blocked,
        },
    };
    let end = if run.journal.overflowed() {
        // Whatever this step did past the cap is dropped with the execution.
        run.effects.retain(|e| !matches!(e, Effect::Invoke(_)));
        End::Failed(catalogue::history_full(cfg.max_history_events))
    } else {
        end
    };
    let mut output_text = None;
    if let Some(status) = finish(&mut run, exec, end, &mut output_text) {
        // The execution ended: disarm whatever timers it still holds. One that did not
        // succeed keeps where a redrive would resume.
        exec.status = status;
        let ended_in = root.current.clone().or_else(|| root.failed_in.take());
        exec.redrive = match (status, ended_in) {
            (Status::Succeeded, _) | (_, None) => None,
            (_, Some(state)) => Some(Box::new(super::cursor::RedrivePoint {
                partial: partial_of(&mut root, &state),
                state,
                input: root.input.clone(),
                variables: root.variables.clone(),
            })),
        };
        run.abandon(&mut root);
        if exec.timeout_due_ms.take().is_some() {
            run.disarm(EXECUTION_TIMEOUT_SEQ);
        }
        root.current = None;
    }
    exec.root = root;
    exec.mock = run.mock.take();
    exec.last_event_id = run.journal.last_id();
    exec.chain_to = run.journal.chain_to();
    Step {
        events: run.journal.into_events(),
        effects: run.effects,
        output_text,
    }
}

/// What the state `state` the execution ended in had finished of its branches or iterations:
/// those of a failed Parallel or Map, or of one still running at a stop or a timeout.
fn partial_of(root: &mut super::cursor::Frame, state: &str) -> Option<Box<super::cursor::Partial>> {
    if let Some(p) = root.last_partial.take().filter(|p| p.state == state) {
        return Some(p);
    }
    if root.current.as_deref() != Some(state) {
        return None;
    }
    // A Distributed Map's run, stopped or timed out while it ran.
    if let Some(t) = root
        .task
        .as_ref()
        .filter(|t| t.invocation.kind == super::call::CallKind::MapRun)
    {
        return Some(Box::new(super::cursor::Partial {
            state: state.to_owned(),
            map_run: Some(super::cursor::MapRunRef::of(t)),
            ..Default::default()
        }));
    }
    root.fanout.as_ref().map(|fan| Box::new(fan.partial(state)))
}

/// Write the execution's end event and record its result (and in `output_text` its output's
/// text, when it succeeded); the new status, if it ended.
fn finish(
    run: &mut Run<'_>,
    exec: &mut ExecutionState,
    end: End,
    output_text: &mut Option<String>,
) -> Option<Status> {
    let journal = &mut run.journal;
    match end {
        End::Blocked => None,
        End::Succeeded(output) => {
            *output_text = Some(journal.execution_succeeded(&output));
            exec.output = Some(output);
            Some(Status::Succeeded)
        }
        End::Failed(err) => {
            let error = (!err.error.is_empty()).then_some(err.error);
            let details = history::execution_failed(error.as_deref(), err.cause.as_deref());
            journal.append_end(HistoryEventType::ExecutionFailed, details);
            exec.error = error;
            exec.cause = err.cause;
            Some(Status::Failed)
        }
        End::Aborted(error, cause) => {
            let details = history::execution_aborted(error.as_deref(), cause.as_deref());
            journal.append_end(HistoryEventType::ExecutionAborted, details);
            exec.error = error;
            exec.cause = cause;
            Some(Status::Aborted)
        }
        End::TimedOut => {
            let details = history::execution_timed_out(Some(names::TIMEOUT), None);
            journal.append_end(HistoryEventType::ExecutionTimedOut, details);
            exec.error = Some(names::TIMEOUT.to_owned());
            Some(Status::TimedOut)
        }
    }
}

//! A Task waiting for its token (`.waitForTaskToken`) once its call was made: TaskSubmitted
//! when the call answers, then the callback (SendTaskSuccess or SendTaskFailure) that ends
//! the attempt, and the heartbeats that keep it alive. An activity task is the same once a
//! worker took it (ActivityStarted).

use serde_json::{Map, Value};

use super::call::InvokeOutput;
use super::cursor::{Frame, Waiting};
use super::outcome::Outcome;
use super::resource::Family;
use super::step::Run;
use super::task::{secs_ms, task_output};
use crate::asl::definition::{Kind, State, TaskResource, TaskSpec};
use crate::asl::errors::StatesError;
use crate::asl::history;
use crate::model::HistoryEventType;

impl Run<'_> {
    /// The call of a task waiting for its token answered: write TaskSubmitted and go on
    /// waiting for the callback (which may already have come: then this is stale).
    pub(super) fn submitted(
        &mut self,
        spec: &TaskSpec,
        f: &mut Frame,
        output: &InvokeOutput,
    ) -> Outcome {
        if let Some(t) = f.task.as_mut() {
            t.submitted = true;
        }
        let shown = task_output(spec, output).unwrap_or(Value::Null);
        if let Some((event_type, details)) = Family::of(spec).submitted(&shown) {
            self.journal.append(event_type, details);
        }
        Outcome::Blocked
    }

    /// SendTaskSuccess or SendTaskFailure for the attempt `seq` of a task waiting for its
    /// token: complete the state with the output sent, or raise the error sent.
    pub(super) fn callback(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        seq: i64,
        result: Result<Value, StatesError>,
    ) -> Result<Outcome, StatesError> {
        let Kind::Task(spec) = &state.kind else {
            return Ok(Outcome::Blocked);
        };
        if !spec.awaits_callback() {
            return Ok(Outcome::Blocked);
        }
        if let Some(t) = f.task.as_mut().filter(|t| spec.submits() && !t.submitted) {
            // The call's answer is not recorded yet (a worker can read the token from a
            // queue before it is): keep the callback until TaskSubmitted is written.
            t.early = Some(result);
            return Ok(Outcome::Blocked);
        }
        self.end_attempt(f, seq);
        self.attempt_over(state, f, outer, &Family::of(spec), result)
    }

    /// A worker took the activity task of attempt `seq` (GetActivityTask): write
    /// ActivityStarted and start the heartbeat clock, keyed by that event.
    pub(super) fn activity_started(
        &mut self,
        state: &State,
        f: &mut Frame,
        worker: Option<&str>,
    ) -> Outcome {
        let Kind::Task(spec) = &state.kind else {
            return Outcome::Blocked;
        };
        let Some(t) = f.task.as_mut() else {
            return Outcome::Blocked;
        };
        if !matches!(spec.resource, TaskResource::Activity { .. }) || t.submitted {
            return Outcome::Blocked;
        }
        t.submitted = true;
        self.journal.append(
            HistoryEventType::ActivityStarted,
            history::activity_started(worker),
        );
        if let Some(h) = t.heartbeat_secs {
            let w = Waiting {
                seq: self.journal.last_id(),
                due_ms: self.now_ms.saturating_add(secs_ms(h)),
            };
            t.heartbeat = Some(w);
            self.arm(w.seq, w.due_ms);
        }
        Outcome::Blocked
    }

    /// SendTaskHeartbeat: move the heartbeat deadline.
    pub(super) fn heartbeat(&mut self, f: &mut Frame) -> Outcome {
        let Some(t) = f.task.as_mut() else {
            return Outcome::Blocked;
        };
        if let (Some(w), Some(h)) = (t.heartbeat.as_mut(), t.heartbeat_secs) {
            w.due_ms = self.now_ms.saturating_add(secs_ms(h));
            let w = *w;
            self.disarm(w.seq);
            self.arm(w.seq, w.due_ms);
        }
        Outcome::Blocked
    }

    /// The heartbeat timer fired: if no heartbeat moved it since, the task timed out
    /// (`States.Timeout`, as AWS reports a missed heartbeat of a callback task).
    pub(super) fn heartbeat_due(&mut self, state: &State, f: &mut Frame) -> Outcome {
        let Some(w) = f.task.as_ref().and_then(|t| t.heartbeat) else {
            return Outcome::Blocked;
        };
        if self.now_ms < w.due_ms {
            // A heartbeat moved it after this timer was loaded: wait for the new deadline.
            self.arm(w.seq, w.due_ms);
            return Outcome::Blocked;
        }
        if let Some(t) = f.task.as_mut() {
            t.heartbeat = None;
        }
        self.task_timed_out(state, f)
    }
}

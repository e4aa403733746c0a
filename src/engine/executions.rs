//! Starting, stopping and advancing executions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::Value;

use super::locks::Unlocked;
use super::{Engine, Error, Result, Revision, HOT_BUDGET_BYTES, HOT_MAX_BYTES};
use crate::asl::step::Frame;
use crate::asl::{self, Effect, Event, ExecutionInfo, ExecutionState, Status};
use crate::invoke::Outcome;
use crate::metrics;
use crate::model::arn;
use crate::model::{
    EventId, ExecutionId, ExecutionStatus, HistoryEventType, StateMachineStatus, TimerKey,
};
use crate::store::{self, Store, WhenFull};
use crate::store::{
    EventRow, ExecutionRow, ExecutionUpdate, NewEvents, TaskRow, TimerRow, WriteOp,
};
use crate::timer::Fired;

/// A running execution as [`Engine::advance`] needs it: its identity, parsed input and
/// last committed state.
#[derive(Debug, Clone)]
pub(super) struct Running {
    id: i64,
    arn: String,
    name: String,
    state_machine_arn: String,
    revision_id: String,
    start_ms: i64,
    input: Value,
    state: ExecutionState,
}

/// Running executions kept in memory, with what they weigh.
#[derive(Debug, Default)]
pub(super) struct Hot {
    entries: std::collections::HashMap<i64, (Running, usize)>,
    bytes: usize,
}

impl Hot {
    fn remove(&mut self, id: i64) -> Option<Running> {
        let (running, size) = self.entries.remove(&id)?;
        self.bytes -= size;
        Some(running)
    }

    fn insert(&mut self, running: Running, size: usize) {
        self.remove(running.id);
        if self.bytes + size <= HOT_BUDGET_BYTES {
            self.bytes += size;
            self.entries.insert(running.id, (running, size));
        }
    }
}

impl Running {
    /// From a stored row; `None` when it has no cursor (it has ended).
    fn from_row(row: &ExecutionRow) -> Result<Option<Self>> {
        let Some(cursor) = &row.cursor else {
            return Ok(None);
        };
        Ok(Some(Self {
            id: row.id,
            arn: row.arn.clone(),
            name: row.name.clone(),
            state_machine_arn: row.state_machine_arn.clone(),
            revision_id: row.revision_id.clone(),
            start_ms: row.start_ms,
            input: serde_json::from_str(&row.input).map_err(store::Error::from)?,
            state: serde_json::from_str(cursor).map_err(store::Error::from)?,
        }))
    }
}

/// What StartExecution answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedExecution {
    pub execution_arn: String,
    pub start_ms: i64,
}

impl<S: Store> Engine<S> {
    /// Create an execution and run it to its first blocking point. Returns once that is
    /// committed (durability contract, rule 1).
    ///
    /// Same name and same input while the first is RUNNING returns the first; any other reuse
    /// of a name is `ExecutionAlreadyExists`, as on AWS.
    #[tracing::instrument(skip_all, fields(state_machine_arn = %state_machine_arn))]
    pub async fn start_execution(
        &self,
        state_machine_arn: &str,
        name: Option<String>,
        input_text: &str,
        input: Value,
    ) -> Result<StartedExecution> {
        let mut none = Unlocked::at_entry();
        // Held shared until the start is committed: no update or delete of the machine can
        // fall between reading its revision and acknowledging the start.
        let mut machine = self
            .locks
            .machine_shared(state_machine_arn, &mut none)
            .await;
        let sm = self
            .machine(state_machine_arn, &machine)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(state_machine_arn.to_owned()))?;
        if sm.status != StateMachineStatus::Active {
            return Err(Error::StateMachineDeleting(state_machine_arn.to_owned()));
        }
        let cap = self.config.max_open_executions;
        if cap > 0 && u64::try_from(self.running.load(Ordering::Relaxed)).unwrap_or(0) >= cap {
            return Err(Error::ExecutionLimitExceeded(cap));
        }
        let name = name.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let exec_arn = arn::execution_arn(
            &self.config.region,
            &self.config.account_id,
            &sm.name,
            &name,
        );
        let _execution = self.locks.execution(exec_arn.as_str(), &mut machine).await;
        let rev = self.revision(&sm.revision_id).await?;
        let now = self.clock.now_ms();
        let info = ExecutionInfo {
            arn: exec_arn.clone(),
            name: name.clone(),
            role_arn: sm.role_arn.clone(),
            start_ms: now,
            state_machine_arn: sm.arn.clone(),
            state_machine_name: sm.name.clone(),
            input: input.clone(),
            region: self.config.region.clone(),
        };
        let (state, info, step) = self
            .run_step(rev, ExecutionState::new(input), info, Event::Start, now)
            .await?;
        let id = self.allocate_execution_id();
        let update = update_row(id, &state, now)?;
        let state_bytes = update.cursor.as_ref().map_or(0, String::len) + input_text.len();
        let mut ops = vec![WriteOp::InsertExecution(ExecutionRow {
            id,
            arn: exec_arn.clone(),
            partition: arn::partition_of(&exec_arn),
            state_machine_arn: sm.arn.clone(),
            revision_id: sm.revision_id.clone(),
            name,
            status: update.status,
            input: input_text.to_owned(),
            output: update.output,
            error: update.error,
            cause: update.cause,
            start_ms: now,
            stop_ms: update.stop_ms,
            cursor: update.cursor,
            last_event_id: update.last_event_id,
        })];
        effect_ops(id, now, &step.effects, &mut ops);
        ops.push(WriteOp::InsertEvents(event_rows(id, step.events)?));
        match self.commit(ops, WhenFull::Refuse).await {
            Ok(()) => {}
            // The name is taken (the unique index on the ARN said so): same name and input
            // while the first still runs is the same request again.
            Err(store::Error::Duplicate) => {
                return match self.store.execution_by_arn(&exec_arn).await? {
                    Some(existing)
                        if existing.status == ExecutionStatus::Running
                            && existing.input == input_text =>
                    {
                        Ok(StartedExecution {
                            execution_arn: existing.arn,
                            start_ms: existing.start_ms,
                        })
                    }
                    _ => Err(Error::ExecutionAlreadyExists(exec_arn)),
                };
            }
            Err(e) => return Err(e.into()),
        }
        metrics::execution_started();
        if !state.status.is_terminal() {
            self.running_add(1);
        }
        let status = state.status;
        self.keep_hot(
            &step.effects,
            Running {
                id,
                arn: exec_arn.clone(),
                name: info.name,
                state_machine_arn: sm.arn.clone(),
                revision_id: sm.revision_id.clone(),
                start_ms: now,
                input: info.input,
                state,
            },
            state_bytes,
        );
        self.after_commit(id, status, &step.effects, &[], false);
        Ok(StartedExecution {
            execution_arn: exec_arn,
            start_ms: now,
        })
    }

    /// StopExecution: abort a running execution. Returns the stop date; an execution that had
    /// already ended keeps (and returns) its own.
    pub async fn stop_execution(
        &self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64> {
        let mut none = Unlocked::at_entry();
        let id = self
            .store
            .execution_by_arn(execution_arn)
            .await?
            .ok_or_else(|| Error::ExecutionDoesNotExist(execution_arn.to_owned()))?
            .id;
        let now = self.clock.now_ms();
        let ended = {
            let _execution = self.locks.execution(id, &mut none).await;
            let row = self
                .store
                .execution_by_id(id)
                .await?
                .ok_or_else(|| Error::ExecutionDoesNotExist(execution_arn.to_owned()))?;
            if row.status != ExecutionStatus::Running {
                return Ok(row.stop_ms.unwrap_or(row.start_ms));
            }
            self.advance(
                &row,
                Event::Stop { error, cause },
                now,
                None,
                WhenFull::Refuse,
            )
            .await?
        };
        self.after_end(ended, &mut none).await;
        Ok(now)
    }

    /// A timer is due: advance its execution. Failures are logged and the timer is retried a
    /// second later (its row is still on disk, so a crash loses nothing either).
    pub(super) async fn on_timer(&self, fired: Fired) {
        let now = self.clock.now_ms();
        metrics::timer_fired(now - fired.due_ms);
        let mut none = Unlocked::at_entry();
        let (execution_id, seq) = (fired.key.execution.0, fired.key.event.0);
        match self.fire(fired, now, &mut none).await {
            Ok(ended) => self.after_end(ended, &mut none).await,
            Err(e @ Error::Interpreter(_)) => {
                tracing::error!(error = %e, execution_id, seq, "the interpreter failed on a timer; it is left for the next start");
            }
            Err(e) => {
                tracing::error!(error = %e, execution_id, seq, "handling a timer failed; retrying in 1 s");
                self.timers.arm(fired.key, now.saturating_add(1000));
            }
        }
    }

    /// Record a call's result and run on. A result for an execution that has since ended, or
    /// for an attempt it no longer waits for, only removes the call's row.
    pub(super) async fn task_result(
        &self,
        execution_id: i64,
        seq: i64,
        outcome: Outcome,
    ) -> Result<()> {
        let mut none = Unlocked::at_entry();
        let ended = {
            let _execution = self.locks.execution(execution_id, &mut none).await;
            let delete = WriteOp::DeleteTask { execution_id, seq };
            let running = match self.take_hot(execution_id) {
                Some(r) => r,
                None => {
                    let Some(row) = self.store.execution_by_id(execution_id).await? else {
                        return Ok(());
                    };
                    match Running::from_row(&row)? {
                        Some(r) if row.status == ExecutionStatus::Running => r,
                        _ => {
                            self.commit(vec![delete], WhenFull::Wait).await?;
                            return Ok(());
                        }
                    }
                }
            };
            let now = self.clock.now_ms();
            self.advance_running(
                running,
                Event::TaskResult {
                    seq,
                    result: outcome,
                },
                now,
                Some(delete),
                WhenFull::Wait,
            )
            .await?
        };
        self.after_end(ended, &mut none).await;
        Ok(())
    }

    /// Run the interpreter from `event` to the next blocking point, on the blocking pool: a
    /// step may evaluate JSONata for a second or run 10,000 transitions, and must not hold
    /// a worker the API and the timers need meanwhile. At most `steps` run at once.
    async fn run_step(
        &self,
        rev: Arc<Revision>,
        mut state: ExecutionState,
        info: ExecutionInfo,
        event: Event,
        now: i64,
    ) -> Result<(ExecutionState, ExecutionInfo, asl::Step)> {
        let _permit = self
            .steps
            .acquire()
            .await
            .map_err(|e| Error::Interpreter(e.to_string()))?;
        let config = self.config.step;
        tokio::task::spawn_blocking(move || {
            let step = asl::step(&rev.definition, &mut state, &info, event, now, &config);
            (state, info, step)
        })
        .await
        .map_err(|e| Error::Interpreter(e.to_string()))
    }

    /// Keep a running execution in memory when a call of its is in flight (its result comes
    /// back to it); otherwise make sure no older copy stays.
    fn keep_hot(&self, effects: &[Effect], running: Running, state_bytes: usize) {
        let calls = effects.iter().any(|e| matches!(e, Effect::Invoke(_)));
        let Ok(mut hot) = self.hot.lock() else {
            return;
        };
        if !calls || running.state.status.is_terminal() || state_bytes > HOT_MAX_BYTES {
            hot.remove(running.id);
        } else {
            hot.insert(running, state_bytes);
        }
    }

    fn take_hot(&self, id: i64) -> Option<Running> {
        self.hot.lock().ok()?.remove(id)
    }

    async fn fire(&self, fired: Fired, now: i64, none: &mut Unlocked) -> Result<Option<String>> {
        let (execution_id, seq) = (fired.key.execution.0, fired.key.event.0);
        let _execution = self.locks.execution(execution_id, none).await;
        let Some(row) = self.store.execution_by_id(execution_id).await? else {
            return Ok(None);
        };
        let delete = WriteOp::DeleteTimer {
            execution_id: row.id,
            seq,
        };
        if row.status != ExecutionStatus::Running {
            self.commit(vec![delete], WhenFull::Wait).await?;
            return Ok(None);
        }
        self.advance(
            &row,
            Event::TimerFired { seq },
            now,
            Some(delete),
            WhenFull::Wait,
        )
        .await
    }

    /// Apply `event` to a running execution (its lock held), commit, then perform effects.
    /// Returns its state machine's ARN when the execution ended.
    async fn advance(
        &self,
        row: &ExecutionRow,
        event: Event,
        now: i64,
        extra: Option<WriteOp>,
        when_full: WhenFull,
    ) -> Result<Option<String>> {
        // Whatever was kept in memory is replaced by what this step commits.
        drop(self.take_hot(row.id));
        match Running::from_row(row)? {
            Some(running) => {
                self.advance_running(running, event, now, extra, when_full)
                    .await
            }
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(execution_arn = %running.arn))]
    async fn advance_running(
        &self,
        running: Running,
        event: Event,
        now: i64,
        extra: Option<WriteOp>,
        when_full: WhenFull,
    ) -> Result<Option<String>> {
        let Running {
            id,
            arn: exec_arn,
            name,
            state_machine_arn,
            revision_id,
            start_ms,
            input,
            state,
        } = running;
        let rev: Arc<Revision> = self.revision(&revision_id).await?;
        let sm_name = match arn::parse(&state_machine_arn) {
            Ok(arn::Resource::StateMachine { name }) => name,
            _ => String::new(),
        };
        let info = ExecutionInfo {
            arn: exec_arn,
            name,
            role_arn: rev.role_arn.clone(),
            start_ms,
            state_machine_arn,
            state_machine_name: sm_name,
            input,
            region: self.config.region.clone(),
        };
        let answered = match &event {
            Event::TaskResult { seq, .. } => Some(*seq),
            _ => None,
        };
        let before = calls_in_flight(&state);
        let (state, info, step) = self.run_step(rev, state, info, event, now).await?;
        // Calls whose state was left (a timeout, a stop, a failed sibling): their rows go in
        // this commit, and they are cancelled once it is on disk.
        let after = if state.status.is_terminal() {
            Vec::new()
        } else {
            calls_in_flight(&state)
        };
        let abandoned: Vec<i64> = before
            .into_iter()
            .filter(|seq| Some(*seq) != answered && !after.contains(seq))
            .collect();
        let mut ops: Vec<WriteOp> = extra.into_iter().collect();
        let update = update_row(id, &state, now)?;
        let state_bytes = update.cursor.as_ref().map_or(0, String::len);
        ops.push(WriteOp::UpdateExecution(update));
        effect_ops(id, now, &step.effects, &mut ops);
        if state.status.is_terminal() {
            ops.push(WriteOp::DeleteTasksOf { execution_id: id });
        } else {
            ops.extend(abandoned.iter().map(|&seq| WriteOp::DeleteTask {
                execution_id: id,
                seq,
            }));
        }
        ops.push(WriteOp::InsertEvents(event_rows(id, step.events)?));
        self.commit(ops, when_full).await?;
        let status = state.status;
        let state_machine_arn = info.state_machine_arn.clone();
        self.keep_hot(
            &step.effects,
            Running {
                id,
                arn: info.arn,
                name: info.name,
                state_machine_arn: info.state_machine_arn,
                revision_id,
                start_ms,
                input: info.input,
                state,
            },
            state_bytes,
        );
        self.after_commit(id, status, &step.effects, &abandoned, true);
        Ok(status.is_terminal().then_some(state_machine_arn))
    }

    /// Effects, once the step is on disk. None of them waits, so they run under the
    /// execution's lock: a later step of the same execution sees them done.
    fn after_commit(
        &self,
        execution_id: i64,
        status: Status,
        effects: &[Effect],
        abandoned: &[i64],
        was_running: bool,
    ) {
        let key = |seq: i64| TimerKey {
            execution: ExecutionId(execution_id),
            event: EventId(seq),
        };
        for seq in abandoned {
            self.calls.cancel((execution_id, *seq));
        }
        for effect in effects {
            match effect {
                Effect::ArmTimer { seq, due_ms } => self.timers.arm(key(*seq), *due_ms),
                Effect::CancelTimer { seq } => self.timers.cancel(key(*seq)),
                Effect::Invoke(inv) => self.calls.submit((execution_id, inv.seq), inv.clone()),
            }
        }
        if status.is_terminal() {
            metrics::execution_finished(status.as_str());
            // A start that ended at once never counted as running.
            if was_running {
                self.running_add(-1);
            }
        }
    }

    /// After an execution ended (and its lock was released): finish a pending delete of its
    /// state machine.
    async fn after_end(&self, state_machine_arn: Option<String>, none: &mut Unlocked) {
        let Some(sm_arn) = state_machine_arn else {
            return;
        };
        if let Err(e) = self.finish_deleting(&sm_arn, none).await {
            tracing::warn!(error = %e, state_machine_arn = sm_arn, "could not complete a pending delete");
        }
    }
}

/// The calls an execution waits for: the in-flight attempt of every Task in its frame tree.
fn calls_in_flight(state: &ExecutionState) -> Vec<i64> {
    fn walk(frame: &Frame, out: &mut Vec<i64>) {
        if let Some(seq) = frame.task.as_ref().and_then(|t| t.in_flight) {
            out.push(seq);
        }
        if let Some(fanout) = &frame.fanout {
            for child in &fanout.running {
                walk(&child.frame, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&state.root, &mut out);
    out
}

/// The stored status of the interpreter's status.
pub(super) fn stored_status(status: Status) -> ExecutionStatus {
    match status {
        Status::Running => ExecutionStatus::Running,
        Status::Succeeded => ExecutionStatus::Succeeded,
        Status::Failed => ExecutionStatus::Failed,
        Status::TimedOut => ExecutionStatus::TimedOut,
        Status::Aborted => ExecutionStatus::Aborted,
    }
}

/// A step's history events as rows. The interpreter names each event's type; a name that is
/// not one of AWS's would be a bug of the interpreter, refused here rather than stored.
fn event_rows(execution_id: i64, events: Vec<asl::HistoryEvent>) -> Result<NewEvents> {
    let events = events
        .into_iter()
        .map(|e| {
            let event_type = HistoryEventType::parse(&e.event_type).ok_or_else(|| {
                Error::Interpreter(format!("unknown history event type {}", e.event_type))
            })?;
            Ok(EventRow {
                id: e.id,
                previous_id: e.previous_id,
                event_type,
                timestamp_ms: e.timestamp_ms,
                details: e.details,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(NewEvents {
        execution_id,
        events,
    })
}

/// The execution row's changing columns after a step.
fn update_row(id: i64, state: &ExecutionState, now: i64) -> Result<ExecutionUpdate> {
    let terminal = state.status.is_terminal();
    Ok(ExecutionUpdate {
        id,
        status: stored_status(state.status),
        output: state.output.as_ref().map(asl::history::to_text),
        error: state.error.clone(),
        cause: state.cause.clone(),
        stop_ms: terminal.then_some(now),
        cursor: if terminal {
            None
        } else {
            Some(serde_json::to_string(state).map_err(crate::store::Error::from)?)
        },
        last_event_id: state.last_event_id,
    })
}

/// Timer and task rows to write for a step's effects. A timer armed and cancelled in the
/// same step never reaches the disk.
fn effect_ops(execution_id: i64, now: i64, effects: &[Effect], ops: &mut Vec<WriteOp>) {
    for (i, effect) in effects.iter().enumerate() {
        match *effect {
            Effect::Invoke(ref inv) => match serde_json::to_string(inv) {
                Ok(invocation) => ops.push(WriteOp::InsertTask(TaskRow {
                    execution_id,
                    seq: inv.seq,
                    scheduled_ms: now,
                    invocation,
                })),
                Err(e) => tracing::error!(error = %e, "an invocation could not be serialised"),
            },
            Effect::ArmTimer { seq, due_ms } => {
                let cancelled_later = effects[i + 1..].contains(&Effect::CancelTimer { seq });
                if !cancelled_later {
                    ops.push(WriteOp::InsertTimer(TimerRow {
                        due_ms,
                        execution_id,
                        seq,
                    }));
                }
            }
            Effect::CancelTimer { seq } => {
                let armed_here = effects[..i]
                    .iter()
                    .any(|e| matches!(e, Effect::ArmTimer { seq: s, .. } if *s == seq));
                if !armed_here {
                    ops.push(WriteOp::DeleteTimer { execution_id, seq });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(id: i64) -> Running {
        Running {
            id,
            arn: format!("arn:{id}"),
            name: id.to_string(),
            state_machine_arn: "arn:sm".into(),
            revision_id: "r".into(),
            start_ms: 0,
            input: Value::Null,
            state: ExecutionState::new(Value::Null),
        }
    }

    #[test]
    fn hot_executions_stay_within_their_memory_budget() {
        let mut hot = Hot::default();
        hot.insert(running(1), HOT_BUDGET_BYTES / 2);
        hot.insert(running(2), HOT_BUDGET_BYTES / 2);
        // Full: a third is not kept, and is read back from the store instead.
        hot.insert(running(3), 1);
        assert!(hot.remove(3).is_none());
        assert_eq!(hot.bytes, HOT_BUDGET_BYTES);
        // Replacing an entry re-weighs it; taking one frees its share.
        hot.insert(running(1), 10);
        assert_eq!(hot.bytes, HOT_BUDGET_BYTES / 2 + 10);
        assert_eq!(hot.remove(2).map(|r| r.id), Some(2));
        assert_eq!(hot.bytes, 10);
        assert!(hot.remove(2).is_none());
    }
}

//! Advancing an execution by one event: run the interpreter to the next blocking point, commit
//! its events and changes in one write, then perform the effects (arm or cancel timers, submit
//! or cancel calls) while the execution's lock is still held. Running executions with a call in
//! flight are kept in memory ([`Hot`]) so their result needs no read.

use std::sync::Arc;

use super::locks::Unlocked;
use super::rows::{
    calls_in_flight, effect_ops, event_rows, map_item_ended, map_run_ops, map_runs_waited,
    parent_marker, update_row,
};
use super::{Engine, Error, Result, Revision, HOT_BUDGET_BYTES, HOT_MAX_BYTES};
use crate::asl::{self, Effect, Event, ExecutionInfo, ExecutionInput, ExecutionState, Status};
use crate::metrics;
use crate::model::arn;
use crate::model::{EventId, ExecutionId, TimerKey};
use crate::store::{self, Store, WhenFull};
use crate::store::{ExecutionRow, WriteOp};

/// A running execution as [`Engine::advance`] needs it: its identity, input and last
/// committed state.
#[derive(Debug, Clone)]
pub(super) struct Running {
    pub(super) id: i64,
    pub(super) partition: i64,
    pub(super) arn: String,
    pub(super) name: String,
    pub(super) state_machine_arn: String,
    pub(super) revision_id: String,
    pub(super) start_ms: i64,
    /// The input as stored (parsed only when a state reads it from the context object).
    pub(super) input_text: String,
    pub(super) state: ExecutionState,
}

/// Running executions kept in memory as the rows their last step committed, by id, with what
/// they weigh. A copy is kept as text, as the store would give it back, so what it weighs is
/// what it takes: a parsed copy takes several times its text, and more for small values.
#[derive(Debug, Default)]
pub(super) struct Hot {
    entries: crate::model::hash::FastMap<i64, ExecutionRow>,
    bytes: usize,
}

/// What a kept row takes in memory: its place in the map and its texts (allocator overhead
/// aside).
fn weight(row: &ExecutionRow) -> usize {
    let texts = [
        &row.arn,
        &row.state_machine_arn,
        &row.revision_id,
        &row.name,
        &row.input,
    ];
    let optional = [&row.output, &row.error, &row.cause, &row.cursor];
    std::mem::size_of::<(i64, ExecutionRow)>()
        + texts.iter().map(|t| t.capacity()).sum::<usize>()
        + optional
            .iter()
            .map(|t| t.as_ref().map_or(0, String::capacity))
            .sum::<usize>()
}

impl Hot {
    fn remove(&mut self, id: i64) -> Option<ExecutionRow> {
        let row = self.entries.remove(&id)?;
        self.bytes -= weight(&row);
        Some(row)
    }

    fn insert(&mut self, row: ExecutionRow) {
        self.remove(row.id);
        let size = weight(&row);
        if size <= HOT_MAX_BYTES && self.bytes + size <= HOT_BUDGET_BYTES {
            self.bytes += size;
            self.entries.insert(row.id, row);
        }
    }

    /// Drop the copies of executions in `partitions`.
    fn forget_partitions(&mut self, partitions: &[i64]) {
        let mut freed = 0;
        self.entries.retain(|_, row| {
            let forget = partitions.contains(&row.partition);
            if forget {
                freed += weight(row);
            }
            !forget
        });
        self.bytes -= freed;
    }
}

/// Whether a step's execution is kept in memory after its commit: it runs on, and a call of
/// its is in flight.
pub(super) fn keeps_hot(effects: &[Effect], state: &ExecutionState) -> bool {
    !state.status.is_terminal() && effects.iter().any(|e| matches!(e, Effect::Invoke(_)))
}

/// What a step leaves: the state, the execution, the events and effects.
type StepOutcome = (ExecutionState, ExecutionInfo, asl::Step);

/// An interpreter step: run already, or running on the blocking pool.
pub(super) enum Stepped<'a> {
    Done(Box<StepOutcome>),
    Elsewhere(
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<StepOutcome>> + Send + 'a>>,
    ),
}

impl Stepped<'_> {
    pub(super) async fn get(self) -> Result<StepOutcome> {
        match self {
            Stepped::Done(done) => Ok(*done),
            Stepped::Elsewhere(running) => running.await,
        }
    }
}

impl Running {
    /// From a stored row; `None` when it has no cursor (it has ended).
    pub(super) fn from_row(row: &ExecutionRow) -> Result<Option<Self>> {
        let Some(cursor) = &row.cursor else {
            return Ok(None);
        };
        Ok(Some(Self {
            id: row.id,
            partition: row.partition,
            arn: row.arn.clone(),
            name: row.name.clone(),
            state_machine_arn: row.state_machine_arn.clone(),
            revision_id: row.revision_id.clone(),
            start_ms: row.start_ms,
            input_text: row.input.clone(),
            state: serde_json::from_str(cursor).map_err(store::Error::from)?,
        }))
    }
}

impl<S: Store> Engine<S> {
    /// Run the interpreter from `event` to the next blocking point. A step of a machine whose
    /// steps are bounded by its definition runs here, as handing it to another thread would
    /// cost more than running it; one that may evaluate JSONata for a second or run 10,000
    /// transitions goes to the blocking pool, so it does not hold a worker the API and the
    /// timers need meanwhile (at most `steps` run at once). Only that one is a future to wait
    /// for (boxed: it holds the state), so a caller's own future need not make room for it.
    pub(super) fn run_step(
        &self,
        rev: Arc<Revision>,
        mut state: ExecutionState,
        info: ExecutionInfo,
        event: Event,
        now: i64,
    ) -> Stepped<'_> {
        if state.token_key.is_none() && rev.token_tasks {
            state.token_key = Some(crate::model::token::new_key());
        }
        let config = self.config.step;
        if rev.short_steps {
            let step = asl::step(&rev.definition, &mut state, &info, event, now, &config);
            return Stepped::Done(Box::new((state, info, step)));
        }
        Stepped::Elsewhere(Box::pin(async move {
            let _permit = self
                .steps
                .acquire()
                .await
                .map_err(|e| Error::Interpreter(e.to_string()))?;
            tokio::task::spawn_blocking(move || {
                let step = asl::step(&rev.definition, &mut state, &info, event, now, &config);
                (state, info, step)
            })
            .await
            .map_err(|e| Error::Interpreter(e.to_string()))
        }))
    }

    /// Keep the row an execution's step committed in memory (`Some`, when a call of its is in
    /// flight: its result comes back to it); otherwise make sure no older copy stays.
    pub(super) fn keep_hot(&self, id: i64, row: Option<ExecutionRow>) {
        let Ok(mut hot) = self.hot.lock() else {
            return;
        };
        match row {
            Some(row) => hot.insert(row),
            None => drop(hot.remove(id)),
        }
    }

    /// Drop the copy of an execution, if one is kept (its step is about to change it).
    pub(super) fn forget_hot(&self, id: i64) {
        self.keep_hot(id, None);
    }

    pub(super) fn take_hot(&self, id: i64) -> Option<Running> {
        let row = self.hot.lock().ok()?.remove(id)?;
        // What this node serialized parses; should it not, the store is read instead.
        Running::from_row(&row).ok().flatten()
    }

    /// Forget the copies of executions in partitions this node lost or gained. A partition held
    /// again after another node held it may have had its executions changed there, and the
    /// fences, renewed with the lease, would not refuse a step taken from an older copy.
    pub(super) fn forget_hot_partitions(&self, partitions: &[i64]) {
        if let Ok(mut hot) = self.hot.lock() {
            hot.forget_partitions(partitions);
        }
    }

    /// A running execution (its lock held), from memory or the store; `None` when it is gone
    /// or has ended.
    pub(super) async fn running_by_id(&self, id: i64) -> Result<Option<Running>> {
        if let Some(r) = self.take_hot(id) {
            return Ok(Some(r));
        }
        match self.rows.get(id).await? {
            Some(row) if row.status == crate::model::ExecutionStatus::Running => {
                Running::from_row(&row)
            }
            _ => Ok(None),
        }
    }

    /// Apply `event` to a running execution (its lock held), commit, then perform effects.
    /// Returns its state machine's ARN when the execution ended.
    pub(super) async fn advance(
        &self,
        row: &ExecutionRow,
        event: Event,
        now: i64,
        extra: Option<WriteOp>,
        when_full: WhenFull,
    ) -> Result<Option<String>> {
        // Whatever was kept in memory is replaced by what this step commits.
        self.forget_hot(row.id);
        match Running::from_row(row)? {
            Some(running) => {
                self.advance_running(running, event, now, extra, when_full)
                    .await
            }
            None => Ok(None),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(execution_arn = %running.arn))]
    pub(super) async fn advance_running(
        &self,
        running: Running,
        event: Event,
        now: i64,
        extra: Option<WriteOp>,
        when_full: WhenFull,
    ) -> Result<Option<String>> {
        let Running {
            id,
            partition,
            arn: exec_arn,
            name,
            state_machine_arn,
            revision_id,
            start_ms,
            input_text,
            state,
        } = running;
        let fence = match self.ownership.fence(partition) {
            Some(Err(())) => return Err(Error::NotOwner(partition)),
            Some(Ok(fence)) => Some(fence),
            None => None,
        };
        let rev: Arc<Revision> = self.revision(&revision_id).await?;
        let sm_name = match arn::parse(&state_machine_arn) {
            Ok(arn::Resource::StateMachine { name }) => name,
            _ => String::new(),
        };
        let info = ExecutionInfo {
            arn: exec_arn,
            // Only an Express machine's executions have a longest duration of their own.
            express: state.max_duration_secs.is_some(),
            name,
            role_arn: rev.role_arn.clone(),
            start_ms,
            state_machine_arn,
            state_machine_name: sm_name,
            input: ExecutionInput::from_text(input_text.clone()),
            region: self.config.region.clone(),
        };
        let answered = match &event {
            Event::TaskResult { seq, .. } => Some(*seq),
            _ => None,
        };
        let before = calls_in_flight(&state);
        let runs = map_runs_waited(&state);
        let children = self.sync_children(&state, id, partition);
        let (state, info, step) = self.run_step(rev, state, info, event, now).get().await?;
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
        let mut ops: Vec<WriteOp> = fence.into_iter().chain(extra).collect();
        let update = update_row(id, &state, step.output_text, now)?;
        let cursor = match keeps_hot(&step.effects, &state) {
            true => update.cursor.clone(),
            false => None,
        };
        ops.push(WriteOp::UpdateExecution(update));
        effect_ops(id, partition, now, &step.effects, &mut ops);
        ops.extend(map_run_ops(id, partition, &info, now, &step.effects));
        let item_ended = map_item_ended(&state);
        let told_map_run = item_ended.is_some();
        ops.extend(item_ended);
        // A map run whose state was left is aborted in the same commit; its driver stops
        // the children still running once the call is cancelled.
        ops.extend(
            runs.iter()
                .filter(|(seq, _)| abandoned.contains(seq))
                .map(|&(_, run)| WriteOp::EndMapRun {
                    run: (id, run),
                    status: crate::model::MapRunStatus::Aborted,
                    stop_ms: now,
                    error: None,
                    cause: None,
                }),
        );
        if state.status.is_terminal() {
            ops.push(WriteOp::DeleteTasksOf { execution_id: id });
        } else {
            ops.extend(abandoned.iter().map(|&seq| WriteOp::DeleteTask {
                execution_id: id,
                seq,
            }));
        }
        let marker = parent_marker(&state, now);
        ops.extend(marker.map(WriteOp::InsertTimer));
        ops.push(WriteOp::InsertEvents(event_rows(id, step.events)));
        self.commit(ops, when_full).await?;
        if let Some(m) = &marker {
            self.tell_parent(m);
        }
        if told_map_run {
            self.map_wake.notify_waiters();
        }
        let orphans: Vec<String> = children
            .into_iter()
            .filter(|(seq, _)| abandoned.contains(seq))
            .map(|(_, arn)| arn)
            .collect();
        if !orphans.is_empty() {
            if let Ok(mut o) = self.orphans.lock() {
                o.extend(orphans);
            }
        }
        let status = state.status;
        let state_machine_arn = info.state_machine_arn.clone();
        let copy = cursor.map(|cursor| ExecutionRow {
            id,
            arn: info.arn,
            partition,
            state_machine_arn: info.state_machine_arn,
            revision_id,
            name: info.name,
            status: crate::model::ExecutionStatus::Running,
            input: input_text,
            output: None,
            error: None,
            cause: None,
            start_ms,
            stop_ms: None,
            cursor: Some(cursor),
            last_event_id: state.last_event_id,
        });
        self.keep_hot(id, copy);
        self.after_commit(id, partition, status, &step.effects, &abandoned, true);
        Ok(status.is_terminal().then_some(state_machine_arn))
    }

    /// Effects, once the step is on disk. None of them waits, so they run under the
    /// execution's lock: a later step of the same execution sees them done.
    pub(super) fn after_commit(
        &self,
        execution_id: i64,
        partition: i64,
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
                Effect::Invoke(inv) => {
                    self.calls
                        .submit((execution_id, inv.seq), partition, inv.clone())
                }
                Effect::StartMapRun(_) | Effect::RedriveMapRun { .. } => {}
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
    pub(super) async fn after_end(&self, state_machine_arn: Option<String>, none: &mut Unlocked) {
        self.stop_orphans().await;
        let Some(sm_arn) = state_machine_arn else {
            return;
        };
        if let Err(e) = self.finish_deleting(&sm_arn, none).await {
            tracing::warn!(error = %e, state_machine_arn = sm_arn, "could not complete a pending delete");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy of execution `id` (partition `id % 2`) whose input takes `input_bytes`; copies
    /// of ids below 10^8 weigh the same.
    fn copy(id: i64, input_bytes: usize) -> ExecutionRow {
        let mut row = ExecutionRow::running_for_tests(id, &format!("{id:08}"), 0);
        row.partition = id % 2;
        row.input = ["\"", &"x".repeat(input_bytes.saturating_sub(2)), "\""].concat();
        row.cursor = Some(
            serde_json::to_string(&ExecutionState::new(serde_json::Value::Null)).expect("state"),
        );
        row
    }

    #[test]
    fn a_copy_weighs_what_its_texts_take_input_included() {
        let small = weight(&copy(1, 10));
        let large = weight(&copy(1, 10_010));
        assert_eq!(large - small, 10_000);
        assert!(small > std::mem::size_of::<ExecutionRow>());
        // A copy that weighs more than its share is never kept.
        let mut hot = Hot::default();
        hot.insert(copy(1, HOT_MAX_BYTES));
        assert!(hot.remove(1).is_none());
        assert_eq!(hot.bytes, 0);
    }

    #[test]
    fn hot_executions_stay_within_their_memory_budget() {
        let mut hot = Hot::default();
        let each = weight(&copy(1, 50_000));
        let fit = HOT_BUDGET_BYTES / each;
        for id in 1..=fit as i64 + 10 {
            hot.insert(copy(id, 50_000));
        }
        // Full: the rest are not kept, and are read back from the store instead.
        assert_eq!(hot.entries.len(), fit);
        assert!(hot.bytes <= HOT_BUDGET_BYTES);
        assert!(hot.remove(fit as i64 + 1).is_none());
        // Replacing an entry re-weighs it; taking one frees its share.
        hot.insert(copy(1, 10));
        assert_eq!(hot.bytes, (fit - 1) * each + weight(&copy(1, 10)));
        assert_eq!(hot.remove(2).map(|r| r.id), Some(2));
        assert!(hot.remove(2).is_none());
        for id in 1..=fit as i64 {
            hot.remove(id);
        }
        assert_eq!(hot.bytes, 0);
    }

    #[test]
    fn a_partitions_hot_executions_are_forgotten_when_it_changes_hands() {
        let mut hot = Hot::default();
        for id in 1..=6 {
            hot.insert(copy(id, 100));
        }
        // Executions 2, 4 and 6 are in partition 0, the others in partition 1.
        hot.forget_partitions(&[0, 7]);
        assert_eq!(hot.bytes, 3 * weight(&copy(1, 100)));
        for id in [2, 4, 6] {
            assert!(hot.remove(id).is_none(), "{id} forgotten");
        }
        for id in [1, 3, 5] {
            assert_eq!(hot.remove(id).map(|r| r.partition), Some(1));
        }
        assert_eq!(hot.bytes, 0);
    }

    #[test]
    fn a_copy_gives_back_the_execution_it_was_taken_of() {
        let row = copy(3, 40);
        let running = Running::from_row(&row).expect("parses").expect("running");
        assert_eq!(running.input_text, row.input);
        assert_eq!((running.id, running.partition), (3, 1));
        assert_eq!(running.state.last_event_id, 0);
    }
}

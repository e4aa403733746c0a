//! The ports over tables in memory, for the engine's and the timer's tests: the same contract
//! as SQLite (a commit applies all of its changes or none; a taken execution ARN fails it with
//! [`Error::Duplicate`]), no durability.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::ports::{
    CallReads, Commit, ExecutionReads, FreePages, HistoryReads, Ids, MachineReads, MapRunReads,
    TimerReads, VersionReads, WhenFull,
};
use super::{
    ActivityRow, AliasRow, Error, EventRow, ExecutionRow, MapItemRow, MapRunKey, MapRunRow, Result,
    RevisionRow, StateMachineRow, TaskRow, TimerRow, VersionRow, WriteOp,
};
use crate::model::{ExecutionStatus, MapRunStatus, StateMachineStatus, StateMachineType};

/// A state machine as stored: its row without the revision's columns.
#[derive(Debug, Clone)]
struct Machine {
    name: String,
    machine_type: StateMachineType,
    status: StateMachineStatus,
    revision_id: String,
    creation_date_ms: i64,
    update_date_ms: Option<i64>,
    logging_configuration: Option<String>,
    tracing_configuration: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Tables {
    machines: BTreeMap<String, Machine>,
    revisions: BTreeMap<String, RevisionRow>,
    executions: BTreeMap<i64, ExecutionRow>,
    by_arn: BTreeMap<String, i64>,
    history: BTreeMap<(i64, i64), EventRow>,
    timers: BTreeSet<TimerRow>,
    tasks: BTreeMap<(i64, i64), TaskRow>,
    tags: BTreeMap<(String, String), String>,
    activities: BTreeMap<String, ActivityRow>,
    /// Versions by ARN, with whether they were deleted.
    versions: BTreeMap<String, (VersionRow, bool)>,
    aliases: BTreeMap<String, AliasRow>,
    execution_versions: BTreeMap<i64, (String, Option<String>)>,
    map_runs: BTreeMap<MapRunKey, MapRunRow>,
    map_items: BTreeMap<(MapRunKey, i64), MapItemRow>,
    next_id: i64,
}

/// Tables in memory behind the store's ports. Clones share the tables.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryStore {
    fn read<T>(&self, f: impl FnOnce(&Tables) -> T) -> Result<T> {
        Ok(f(&self.tables.lock().unwrap_or_else(|e| e.into_inner())))
    }
}

impl Tables {
    fn machine_row(&self, arn: &str) -> Option<StateMachineRow> {
        let m = self.machines.get(arn)?;
        let r = self.revisions.get(&m.revision_id)?;
        Some(StateMachineRow {
            arn: arn.to_owned(),
            name: m.name.clone(),
            machine_type: m.machine_type,
            status: m.status,
            revision_id: m.revision_id.clone(),
            creation_date_ms: m.creation_date_ms,
            update_date_ms: m.update_date_ms,
            logging_configuration: m.logging_configuration.clone(),
            tracing_configuration: m.tracing_configuration.clone(),
            definition: r.definition.clone(),
            role_arn: r.role_arn.clone(),
            description: r.description.clone(),
        })
    }

    fn apply(&mut self, op: &WriteOp) -> Result<()> {
        match op {
            WriteOp::Fence { .. } | WriteOp::ReleaseFreePages { .. } => {}
            WriteOp::ExpectRevision { arn, revision_id } => {
                let current = self.machines.get(arn).is_some_and(|m| {
                    m.status == StateMachineStatus::Active && m.revision_id == *revision_id
                });
                if !current {
                    return Err(Error::Stale(arn.clone()));
                }
            }
            WriteOp::InsertStateMachine {
                arn,
                name,
                machine_type,
                creation_date_ms,
                logging_configuration,
                tracing_configuration,
                revision,
            } => {
                if self.machines.contains_key(arn) {
                    return Err(Error::Duplicate);
                }
                self.revisions
                    .insert(revision.revision_id.clone(), revision.clone());
                self.machines.insert(
                    arn.clone(),
                    Machine {
                        name: name.clone(),
                        machine_type: *machine_type,
                        status: StateMachineStatus::Active,
                        revision_id: revision.revision_id.clone(),
                        creation_date_ms: *creation_date_ms,
                        update_date_ms: None,
                        logging_configuration: logging_configuration.clone(),
                        tracing_configuration: tracing_configuration.clone(),
                    },
                );
            }
            WriteOp::UpdateStateMachine {
                arn,
                revision,
                update_date_ms,
                logging_configuration,
                tracing_configuration,
            } => {
                if let Some(rev) = revision {
                    self.revisions.insert(rev.revision_id.clone(), rev.clone());
                }
                if let Some(m) = self.machines.get_mut(arn) {
                    if let Some(rev) = revision {
                        m.revision_id = rev.revision_id.clone();
                    }
                    m.update_date_ms = Some(*update_date_ms);
                    if logging_configuration.is_some() {
                        m.logging_configuration = logging_configuration.clone();
                    }
                    if tracing_configuration.is_some() {
                        m.tracing_configuration = tracing_configuration.clone();
                    }
                }
            }
            WriteOp::SetStateMachineStatus { arn, status } => {
                if let Some(m) = self.machines.get_mut(arn) {
                    m.status = *status;
                }
            }
            WriteOp::DeleteStateMachine { arn } => {
                self.machines.remove(arn);
                self.tags.retain(|(r, _), _| r != arn);
                self.versions
                    .retain(|_, (v, _)| v.state_machine_arn != *arn);
                self.aliases.retain(|_, a| a.state_machine_arn != *arn);
            }
            WriteOp::InsertVersion(v) => {
                if self.versions.contains_key(&v.arn) {
                    return Err(Error::Duplicate);
                }
                self.versions.insert(v.arn.clone(), (v.clone(), false));
            }
            WriteOp::DeleteVersion { arn } => {
                if let Some((_, deleted)) = self.versions.get_mut(arn) {
                    *deleted = true;
                }
            }
            WriteOp::PutAlias(a) => {
                let created = self.aliases.get(&a.arn).map(|old| old.creation_date_ms);
                let mut a = a.clone();
                a.creation_date_ms = created.unwrap_or(a.creation_date_ms);
                self.aliases.insert(a.arn.clone(), a);
            }
            WriteOp::DeleteAlias { arn } => {
                self.aliases.remove(arn);
                self.tags.retain(|(r, _), _| r != arn);
            }
            WriteOp::InsertExecutionVersion {
                execution_id,
                version_arn,
                alias_arn,
            } => {
                self.execution_versions
                    .insert(*execution_id, (version_arn.clone(), alias_arn.clone()));
            }
            WriteOp::InsertMapRun {
                run,
                revision,
                items,
            } => {
                let key = (run.execution_id, run.seq);
                if self.map_runs.contains_key(&key) {
                    return Ok(());
                }
                self.revisions
                    .entry(revision.revision_id.clone())
                    .or_insert_with(|| revision.clone());
                self.map_runs.insert(key, (**run).clone());
                for (idx, input) in items.iter().enumerate() {
                    let item = MapItemRow {
                        idx: idx as i64,
                        input: input.clone(),
                        status: None,
                        execution_arn: None,
                        output: None,
                    };
                    self.map_items.insert((key, idx as i64), item);
                }
            }
            WriteOp::MapItemStarted {
                run,
                index,
                execution_arn,
            } => {
                let item = self.map_items.get_mut(&(*run, *index));
                if let Some(item) = item.filter(|i| i.status.is_none()) {
                    item.status = Some(ExecutionStatus::Running);
                    item.execution_arn = Some(execution_arn.clone());
                    if let Some(r) = self.map_runs.get_mut(run) {
                        r.started += 1;
                    }
                }
            }
            WriteOp::MapItemEnded {
                run,
                index,
                status,
                output,
            } => {
                let item = self.map_items.get_mut(&(*run, *index));
                if let Some(item) = item.filter(|i| i.status == Some(ExecutionStatus::Running)) {
                    item.status = Some(*status);
                    item.output = output.clone();
                    if let Some(r) = self.map_runs.get_mut(run) {
                        match status {
                            ExecutionStatus::Succeeded => r.succeeded += 1,
                            ExecutionStatus::TimedOut => r.timed_out += 1,
                            ExecutionStatus::Aborted => r.aborted += 1,
                            _ => r.failed += 1,
                        }
                    }
                }
            }
            WriteOp::UpdateMapRun {
                arn,
                max_concurrency,
                tolerated_count,
                tolerated_percentage,
            } => {
                if let Some(r) = self.map_runs.values_mut().find(|r| r.arn == *arn) {
                    r.max_concurrency = max_concurrency.unwrap_or(r.max_concurrency);
                    r.tolerated_count = tolerated_count.or(r.tolerated_count);
                    r.tolerated_percentage = tolerated_percentage.or(r.tolerated_percentage);
                }
            }
            WriteOp::RedriveMapRun { run } => {
                for ((k, _), item) in self.map_items.iter_mut() {
                    if k == run && item.status != Some(ExecutionStatus::Succeeded) {
                        item.status = None;
                        item.execution_arn = None;
                        item.output = None;
                    }
                }
                if let Some(r) = self.map_runs.get_mut(run) {
                    r.status = MapRunStatus::Running;
                    r.stop_ms = None;
                    r.error = None;
                    r.cause = None;
                    r.started = r.succeeded;
                    r.failed = 0;
                    r.timed_out = 0;
                    r.aborted = 0;
                    r.redrive_count += 1;
                }
            }
            WriteOp::EndMapRun {
                run,
                status,
                stop_ms,
                error,
                cause,
            } => {
                let r = self.map_runs.get_mut(run);
                if let Some(r) = r.filter(|r| r.status == MapRunStatus::Running) {
                    r.status = *status;
                    r.stop_ms = Some(*stop_ms);
                    r.error = error.clone();
                    r.cause = cause.clone();
                }
            }
            WriteOp::InsertExecution(row) => {
                if self.by_arn.contains_key(&row.arn) || self.executions.contains_key(&row.id) {
                    return Err(Error::Duplicate);
                }
                self.by_arn.insert(row.arn.clone(), row.id);
                self.executions.insert(row.id, row.clone());
            }
            WriteOp::UpdateExecution(u) => {
                if let Some(e) = self.executions.get_mut(&u.id) {
                    e.status = u.status;
                    e.output = u.output.clone();
                    e.error = u.error.clone();
                    e.cause = u.cause.clone();
                    e.stop_ms = u.stop_ms;
                    e.cursor = u.cursor.clone();
                    e.last_event_id = u.last_event_id;
                }
            }
            WriteOp::InsertEvents(new) => {
                for e in &new.events {
                    if self.history.contains_key(&(new.execution_id, e.id)) {
                        return Err(Error::Duplicate);
                    }
                    self.history.insert((new.execution_id, e.id), e.clone());
                }
            }
            WriteOp::InsertTimer(t) => {
                self.timers
                    .retain(|x| (x.execution_id, x.seq) != (t.execution_id, t.seq));
                self.timers.insert(*t);
            }
            WriteOp::DeleteTimer { execution_id, seq } => {
                self.timers
                    .retain(|x| (x.execution_id, x.seq) != (*execution_id, *seq));
            }
            WriteOp::InsertTask(t) => {
                self.tasks.insert((t.execution_id, t.seq), t.clone());
            }
            WriteOp::DeleteTask { execution_id, seq } => {
                self.tasks.remove(&(*execution_id, *seq));
            }
            WriteOp::DeleteTasksOf { execution_id } => {
                self.tasks.retain(|(e, _), _| e != execution_id);
            }
            WriteOp::DeleteExecutions { ids } => {
                for id in ids {
                    let closed = self
                        .executions
                        .get(id)
                        .is_some_and(|e| e.status != ExecutionStatus::Running);
                    // A redrive may have made it RUNNING since the sweep chose it: then it
                    // keeps everything.
                    if !closed {
                        continue;
                    }
                    if let Some(e) = self.executions.remove(id) {
                        self.by_arn.remove(&e.arn);
                    }
                    self.history.retain(|(e, _), _| e != id);
                    self.timers.retain(|t| t.execution_id != *id);
                    self.tasks.retain(|(e, _), _| e != id);
                    self.execution_versions.remove(id);
                }
            }
            WriteOp::InsertActivity(a) => {
                self.activities
                    .entry(a.arn.clone())
                    .or_insert_with(|| a.clone());
            }
            WriteOp::DeleteActivity { arn } => {
                self.activities.remove(arn);
                self.tags.retain(|(r, _), _| r != arn);
            }
            WriteOp::PutTags { arn, tags } => {
                for (k, v) in tags {
                    self.tags.insert((arn.clone(), k.clone()), v.clone());
                }
            }
            WriteOp::DeleteTags { arn, keys } => {
                for k in keys {
                    self.tags.remove(&(arn.clone(), k.clone()));
                }
            }
        }
        Ok(())
    }
}

impl MachineReads for MemoryStore {
    async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRow>> {
        self.read(|t| t.machine_row(arn))
    }

    async fn list_state_machines(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StateMachineRow>> {
        let after = after_arn.unwrap_or("").to_owned();
        self.read(|t| {
            t.machines
                .keys()
                .filter(|a| **a > after)
                .filter_map(|a| t.machine_row(a))
                .take(usize::try_from(limit).unwrap_or(0))
                .collect()
        })
    }

    async fn deleting_state_machines(&self) -> Result<Vec<String>> {
        self.read(|t| {
            t.machines
                .iter()
                .filter(|(_, m)| m.status == StateMachineStatus::Deleting)
                .map(|(a, _)| a.clone())
                .collect()
        })
    }

    async fn revision(&self, revision_id: &str) -> Result<Option<RevisionRow>> {
        self.read(|t| t.revisions.get(revision_id).cloned())
    }

    async fn activity(&self, arn: &str) -> Result<Option<ActivityRow>> {
        self.read(|t| t.activities.get(arn).cloned())
    }

    async fn list_activities(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ActivityRow>> {
        let after = after_arn.unwrap_or("").to_owned();
        self.read(|t| {
            t.activities
                .range(after.clone()..)
                .filter(|(a, _)| **a > after)
                .map(|(_, row)| row.clone())
                .take(usize::try_from(limit).unwrap_or(0))
                .collect()
        })
    }

    async fn tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>> {
        self.read(|t| {
            t.tags
                .iter()
                .filter(|((r, _), _)| r == resource_arn)
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect()
        })
    }
}

/// A page of `rows` as ListExecutions reads it: the status filter, newest first, strictly
/// after the `(start_ms, id)` cursor, at most `limit`.
fn newest_first<'a>(
    rows: impl Iterator<Item = &'a ExecutionRow>,
    status: Option<ExecutionStatus>,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Vec<ExecutionRow> {
    let after = after.unwrap_or((i64::MAX, i64::MAX));
    let mut rows: Vec<ExecutionRow> = rows
        .filter(|e| status.is_none_or(|s| e.status == s))
        .filter(|e| (e.start_ms, e.id) < after)
        .cloned()
        .collect();
    rows.sort_by_key(|e| std::cmp::Reverse((e.start_ms, e.id)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    rows
}

impl VersionReads for MemoryStore {
    async fn version(&self, arn: &str) -> Result<Option<VersionRow>> {
        self.read(|t| {
            t.versions
                .get(arn)
                .filter(|(_, deleted)| !deleted)
                .map(|(v, _)| v.clone())
        })
    }

    async fn versions(&self, state_machine_arn: &str) -> Result<Vec<VersionRow>> {
        self.read(|t| {
            let mut rows: Vec<VersionRow> = t
                .versions
                .values()
                .filter(|(v, deleted)| !deleted && v.state_machine_arn == state_machine_arn)
                .map(|(v, _)| v.clone())
                .collect();
            rows.sort_by_key(|v| std::cmp::Reverse(v.version));
            rows
        })
    }

    async fn last_version(&self, state_machine_arn: &str) -> Result<i64> {
        self.read(|t| {
            t.versions
                .values()
                .filter(|(v, _)| v.state_machine_arn == state_machine_arn)
                .map(|(v, _)| v.version)
                .max()
                .unwrap_or(0)
        })
    }

    async fn alias(&self, arn: &str) -> Result<Option<AliasRow>> {
        self.read(|t| t.aliases.get(arn).cloned())
    }

    async fn aliases(&self, state_machine_arn: &str) -> Result<Vec<AliasRow>> {
        self.read(|t| {
            t.aliases
                .values()
                .filter(|a| a.state_machine_arn == state_machine_arn)
                .cloned()
                .collect()
        })
    }

    async fn execution_version(
        &self,
        execution_id: i64,
    ) -> Result<Option<(String, Option<String>)>> {
        self.read(|t| t.execution_versions.get(&execution_id).cloned())
    }

    async fn list_executions_through(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        self.read(|t| {
            let through = t
                .execution_versions
                .iter()
                .filter(|(_, (v, a))| v == arn || a.as_deref() == Some(arn))
                .filter_map(|(id, _)| t.executions.get(id));
            newest_first(through, status, after, limit)
        })
    }
}

impl MapRunReads for MemoryStore {
    async fn map_run(&self, arn: &str) -> Result<Option<MapRunRow>> {
        self.read(|t| t.map_runs.values().find(|r| r.arn == arn).cloned())
    }

    async fn map_runs_of(&self, execution_arn: &str) -> Result<Vec<MapRunRow>> {
        self.read(|t| {
            let mut runs: Vec<MapRunRow> = t
                .map_runs
                .values()
                .filter(|r| r.execution_arn == execution_arn)
                .cloned()
                .collect();
            runs.sort_by_key(|r| (r.start_ms, r.seq));
            runs
        })
    }

    async fn map_items(
        &self,
        run: MapRunKey,
        from: i64,
        limit: i64,
        pending: bool,
    ) -> Result<Vec<MapItemRow>> {
        self.read(|t| {
            t.map_items
                .range((run, from)..=(run, i64::MAX))
                .map(|(_, i)| i)
                .filter(|i| !pending || i.status.is_none())
                .take(usize::try_from(limit).unwrap_or(0))
                .cloned()
                .collect()
        })
    }

    async fn running_map_items(&self, run: MapRunKey) -> Result<Vec<MapItemRow>> {
        self.read(|t| {
            t.map_items
                .range((run, 0)..=(run, i64::MAX))
                .map(|(_, i)| i)
                .filter(|i| i.status == Some(ExecutionStatus::Running))
                .cloned()
                .collect()
        })
    }

    async fn map_run_of_child(&self, execution_arn: &str) -> Result<Option<String>> {
        self.read(|t| {
            let (key, _) = t
                .map_items
                .iter()
                .find(|(_, i)| i.execution_arn.as_deref() == Some(execution_arn))?;
            t.map_runs.get(&key.0).map(|r| r.arn.clone())
        })
    }

    async fn list_map_run_executions(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        self.read(|t| {
            let children = t
                .map_items
                .iter()
                .filter(|((k, _), _)| t.map_runs.get(k).is_some_and(|r| r.arn == arn))
                .filter_map(|(_, i)| i.execution_arn.as_ref())
                .filter_map(|a| t.by_arn.get(a))
                .filter_map(|id| t.executions.get(id));
            newest_first(children, status, after, limit)
        })
    }
}

impl ExecutionReads for MemoryStore {
    async fn execution_by_arn(&self, arn: &str) -> Result<Option<ExecutionRow>> {
        self.read(|t| {
            t.by_arn
                .get(arn)
                .and_then(|id| t.executions.get(id))
                .cloned()
        })
    }

    async fn execution_by_id(&self, id: i64) -> Result<Option<ExecutionRow>> {
        self.read(|t| t.executions.get(&id).cloned())
    }

    async fn executions_by_ids(&self, ids: &[i64]) -> Result<Vec<ExecutionRow>> {
        self.read(|t| {
            ids.iter()
                .filter_map(|id| t.executions.get(id).cloned())
                .collect()
        })
    }

    async fn list_executions(
        &self,
        state_machine_arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        self.read(|t| {
            let of_machine = t
                .executions
                .values()
                .filter(|e| e.state_machine_arn == state_machine_arn);
            newest_first(of_machine, status, after, limit)
        })
    }

    async fn count_running(&self, state_machine_arn: &str) -> Result<i64> {
        self.read(|t| {
            t.executions
                .values()
                .filter(|e| {
                    e.state_machine_arn == state_machine_arn && e.status == ExecutionStatus::Running
                })
                .count() as i64
        })
    }

    async fn count_all_running(&self) -> Result<i64> {
        self.read(|t| {
            t.executions
                .values()
                .filter(|e| e.status == ExecutionStatus::Running)
                .count() as i64
        })
    }

    async fn max_execution_id(&self) -> Result<i64> {
        self.read(|t| t.executions.keys().next_back().copied().unwrap_or(0))
    }

    async fn closed_before(&self, before_ms: i64, limit: i64) -> Result<Vec<i64>> {
        self.read(|t| {
            let mut closed: Vec<(i64, i64)> = t
                .executions
                .values()
                .filter_map(|e| e.stop_ms.filter(|s| *s < before_ms).map(|s| (s, e.id)))
                .collect();
            closed.sort_unstable();
            closed
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(0))
                .map(|(_, id)| id)
                .collect()
        })
    }

    async fn free_pages(&self) -> Result<Option<FreePages>> {
        Ok(None)
    }
}

impl HistoryReads for MemoryStore {
    async fn history(
        &self,
        execution_id: i64,
        after_id: Option<i64>,
        limit: i64,
        reverse: bool,
    ) -> Result<Vec<EventRow>> {
        let limit = usize::try_from(limit).unwrap_or(0);
        self.read(|t| {
            let events = t
                .history
                .range((execution_id, i64::MIN)..=(execution_id, i64::MAX))
                .map(|(_, e)| e);
            if reverse {
                let before = after_id.unwrap_or(i64::MAX);
                events
                    .rev()
                    .filter(|e| e.id < before)
                    .take(limit)
                    .cloned()
                    .collect()
            } else {
                let after = after_id.unwrap_or(0);
                events
                    .filter(|e| e.id > after)
                    .take(limit)
                    .cloned()
                    .collect()
            }
        })
    }
}

impl TimerReads for MemoryStore {
    async fn timers_due(
        &self,
        after: Option<TimerRow>,
        until_ms: i64,
        limit: i64,
        held: Option<&[i64]>,
    ) -> Result<Vec<TimerRow>> {
        self.read(|t| {
            t.timers
                .iter()
                .filter(|r| after.is_none_or(|a| **r > a) && r.due_ms < until_ms)
                .filter(|r| held.is_none_or(|h| h.contains(&r.partition)))
                .take(usize::try_from(limit).unwrap_or(0))
                .copied()
                .collect()
        })
    }

    async fn count_timers(&self) -> Result<i64> {
        self.read(|t| t.timers.len() as i64)
    }
}

impl CallReads for MemoryStore {
    async fn tasks_after(
        &self,
        after: Option<(i64, i64)>,
        limit: i64,
        held: Option<&[i64]>,
    ) -> Result<Vec<TaskRow>> {
        let after = after.unwrap_or((i64::MIN, i64::MIN));
        self.read(|t| {
            t.tasks
                .range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
                .filter(|(_, r)| held.is_none_or(|h| h.contains(&r.partition)))
                .take(usize::try_from(limit).unwrap_or(0))
                .map(|(_, r)| r.clone())
                .collect()
        })
    }
}

impl Ids for MemoryStore {
    async fn next_execution_id(&self) -> Result<i64> {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        t.next_id = t
            .next_id
            .max(t.executions.keys().next_back().copied().unwrap_or(0))
            + 1;
        Ok(t.next_id)
    }
}

impl Commit for MemoryStore {
    async fn commit(&self, ops: Vec<WriteOp>, _when_full: WhenFull) -> Result<()> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        // All or nothing: apply to a copy, keep it only if every change applied.
        let mut next = tables.clone();
        for op in &ops {
            next.apply(op)?;
        }
        *tables = next;
        Ok(())
    }
}

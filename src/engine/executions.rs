//! The entry points of an execution's life: StartExecution, StopExecution, a due timer, a
//! call's result. Each takes the locks it needs (see [`super::locks`]), then hands the event
//! to [`super::advance`].

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::advance::{keeps_hot, Running};
use super::locks::Unlocked;
use super::remote_children::RemoteChild;
use super::rows::{effect_ops, event_rows, map_item_ended, map_run_ops, parent_marker, update_row};
use super::versions::Through;
use super::{Engine, Error, Result};
use crate::asl::run::{MapItemLink, MockRun, ParentLink};
use crate::asl::{Event, ExecutionInfo, ExecutionInput, ExecutionState};
use crate::invoke::Outcome;
use crate::metrics;
use crate::model::{ExecutionArn, ExecutionStatus, Name, StateMachineArn, StateMachineStatus};
use crate::store::{self, Store, WhenFull};
use crate::store::{ExecutionRow, WriteOp};
use crate::timer::Fired;

/// What StartExecution answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedExecution {
    pub execution_arn: String,
    pub start_ms: i64,
    /// An execution of an Express machine: AWS names it with [`crate::model::arn::express_arn`].
    pub express: bool,
}

impl StartedExecution {
    /// The ARN a client is answered with: an Express execution's as AWS names it.
    pub fn shown_arn(&self) -> String {
        if self.express {
            crate::model::arn::express_arn(&self.execution_arn)
        } else {
            self.execution_arn.clone()
        }
    }
}

/// What a start may carry besides its machine, name and input.
#[derive(Debug, Default)]
pub(super) struct StartWith {
    /// The parent waiting for this child's end (`.sync`).
    pub parent: Option<ParentLink>,
    /// The test case of the mock file the execution runs.
    pub mock: Option<MockRun>,
    /// The version (and alias) the start goes through.
    pub through: Option<Through>,
    /// A child of a Distributed Map: its map run's machine (which has no row of its own) and
    /// its item.
    pub map_child: Option<(std::sync::Arc<store::StateMachineRow>, MapItemLink)>,
}

impl<S: Store> Engine<S> {
    /// Create an execution and run it to its first blocking point. Returns once that is
    /// committed (durability contract, rule 1).
    ///
    /// Same name and same input while the first is RUNNING returns the first; any other reuse
    /// of a name is `ExecutionAlreadyExists`, as on AWS.
    #[tracing::instrument(level = "debug", skip_all, fields(state_machine_arn = %machine_arn))]
    pub async fn start_execution(
        &self,
        machine_arn: &StateMachineArn,
        name: Name,
        input_text: &str,
        input: Value,
    ) -> Result<StartedExecution> {
        self.start(machine_arn, name, input_text, input, StartWith::default())
            .await
    }

    /// StartExecution on a version (`MACHINE:N`) or an alias (`MACHINE:NAME`) of a machine.
    pub async fn start_execution_through(
        &self,
        machine_arn: &StateMachineArn,
        qualifier: &str,
        name: Name,
        input_text: &str,
        input: Value,
    ) -> Result<StartedExecution> {
        let through = self.resolve_through(machine_arn, qualifier).await?;
        let with = StartWith {
            through: Some(through),
            ..StartWith::default()
        };
        self.start(machine_arn, name, input_text, input, with).await
    }

    /// StartExecution on `stateMachineArn#TestCase`: the test case of the mock file answers
    /// the Task states it names.
    pub async fn start_test_case(
        &self,
        machine_arn: &StateMachineArn,
        test_case: &str,
        name: Name,
        input_text: &str,
        input: Value,
    ) -> Result<StartedExecution> {
        let known = self
            .config
            .mocks
            .as_ref()
            .is_some_and(|m| m.has_test_case(machine_arn.name(), test_case));
        if !known {
            return Err(Error::NoSuchTestCase(format!(
                "Test case '{test_case}' does not exist for state machine '{}' in the mock file (SFN_MOCK_CONFIG)",
                machine_arn.name()
            )));
        }
        let mock = MockRun {
            test_case: test_case.to_owned(),
            calls: Default::default(),
        };
        let with = StartWith {
            mock: Some(mock),
            ..StartWith::default()
        };
        self.start(machine_arn, name, input_text, input, with).await
    }

    /// StartExecution, or the start of a child whose parent waits for its end.
    pub(super) async fn start(
        &self,
        machine_arn: &StateMachineArn,
        name: Name,
        input_text: &str,
        input: Value,
        with: StartWith,
    ) -> Result<StartedExecution> {
        let StartWith {
            parent,
            mock,
            through,
            map_child,
        } = with;
        let state_machine_arn = machine_arn.as_str();
        let mut none = Unlocked::at_entry();
        // Held shared until the start is committed: no update or delete of the machine can
        // fall between reading its revision and acknowledging the start.
        let mut machine = self
            .locks
            .machine_shared(state_machine_arn, &mut none)
            .await;
        let (sm, map_item) = match map_child {
            Some((sm, link)) => (sm, Some(link)),
            None => (
                self.machine(state_machine_arn, &machine)
                    .await?
                    .ok_or_else(|| Error::StateMachineDoesNotExist(state_machine_arn.to_owned()))?,
                None,
            ),
        };
        if sm.status != StateMachineStatus::Active {
            return Err(Error::StateMachineDeleting(state_machine_arn.to_owned()));
        }
        let cap = self.config.max_open_executions;
        if cap > 0 && u64::try_from(self.running.load(Ordering::Relaxed)).unwrap_or(0) >= cap {
            return Err(Error::ExecutionLimitExceeded(cap));
        }
        let name = name.into_string();
        let exec_arn = machine_arn.execution(&name).into_string();
        let partition = self.ownership.partition_of(&exec_arn);
        let mut ops = match self.ownership.fence(partition) {
            Some(Err(())) => return Err(Error::NotOwner(partition)),
            // Another node may have changed the machine since this one cached it (a version's
            // revision never changes).
            Some(Ok(fence)) if through.is_none() && map_item.is_none() => vec![
                fence,
                WriteOp::ExpectRevision {
                    arn: sm.arn.clone(),
                    revision_id: sm.revision_id.clone(),
                },
            ],
            Some(Ok(fence)) => vec![fence],
            None => Vec::new(),
        };
        let revision_id = through
            .as_ref()
            .map_or(sm.revision_id.as_str(), |t| t.revision_id.as_str());
        let _execution = self.locks.execution(exec_arn.as_str(), &mut machine).await;
        let rev = self.revision(revision_id).await?;
        let now = self.clock.now_ms();
        let express = sm.machine_type == crate::model::StateMachineType::Express;
        let info = ExecutionInfo {
            arn: exec_arn.clone(),
            express,
            name: name.clone(),
            role_arn: sm.role_arn.clone(),
            start_ms: now,
            state_machine_arn: sm.arn.clone(),
            state_machine_name: sm.name.clone(),
            input: ExecutionInput::from_text(input_text.to_owned()),
            region: self.config.region.clone(),
        };
        let mut fresh = ExecutionState::new(input);
        if express {
            fresh.max_duration_secs = Some(self.config.express_max_duration_secs);
        }
        fresh.parent = parent;
        fresh.mock = mock;
        fresh.map_item = map_item.clone();
        let (state, info, step) = self
            .run_step(rev, fresh, info, Event::Start, now)
            .get()
            .await?;
        let id = self.store.next_execution_id().await?;
        let update = update_row(id, &state, step.output_text, now)?;
        let row = ExecutionRow {
            id,
            arn: exec_arn.clone(),
            partition,
            state_machine_arn: sm.arn.clone(),
            revision_id: revision_id.to_owned(),
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
        };
        let copy = keeps_hot(&step.effects, &state).then(|| row.clone());
        ops.push(WriteOp::InsertExecution(row));
        effect_ops(id, partition, now, &step.effects, &mut ops);
        if let Some(t) = through {
            ops.push(WriteOp::InsertExecutionVersion {
                execution_id: id,
                version_arn: t.version_arn,
                alias_arn: t.alias_arn,
            });
        }
        ops.extend(map_run_ops(id, partition, &info, now, &step.effects));
        if let Some(link) = &map_item {
            ops.push(WriteOp::MapItemStarted {
                run: (link.execution_id, link.seq),
                index: link.index,
                execution_arn: exec_arn.clone(),
            });
        }
        let item_ended = map_item_ended(&state);
        let told_map_run = item_ended.is_some();
        ops.extend(item_ended);
        let marker = parent_marker(&state, now);
        ops.extend(marker.map(WriteOp::InsertTimer));
        ops.push(WriteOp::InsertEvents(event_rows(id, step.events)));
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
                            express,
                        })
                    }
                    _ => Err(Error::ExecutionAlreadyExists(exec_arn)),
                };
            }
            Err(store::Error::Stale(arn)) => {
                self.invalidate_machine(&arn);
                return Err(Error::Store(store::Error::Stale(arn)));
            }
            Err(e) => return Err(e.into()),
        }
        metrics::execution_started();
        if let Some(m) = &marker {
            self.tell_parent(m);
        }
        if told_map_run {
            self.map_wake.notify_waiters();
        }
        if !state.status.is_terminal() {
            self.running_add(1);
        }
        let status = state.status;
        self.keep_hot(id, copy);
        self.after_commit(id, partition, status, &step.effects, &[], false);
        Ok(StartedExecution {
            execution_arn: exec_arn,
            start_ms: now,
            express,
        })
    }

    /// StopExecution: abort a running execution. Returns the stop date; an execution that had
    /// already ended keeps (and returns) its own.
    pub async fn stop_execution(
        &self,
        execution_arn: &ExecutionArn,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64> {
        let execution_arn = execution_arn.as_str();
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
        // A child on another server is asked about before the parent's lock is taken.
        let remote = match seq < 0 {
            true => self.remote_child(execution_id, -seq).await,
            false => None,
        };
        match self.fire(fired, now, remote, &mut none).await {
            Ok(ended) => self.after_end(ended, &mut none).await,
            // Another node holds the execution now; its copy of the timer fires there.
            Err(Error::NotOwner(_) | Error::Store(store::Error::Fenced(_))) => {}
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
                    let Some(row) = self.rows.get(execution_id).await? else {
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

    async fn fire(
        &self,
        fired: Fired,
        now: i64,
        remote: Option<RemoteChild>,
        none: &mut Unlocked,
    ) -> Result<Option<String>> {
        let (execution_id, seq) = (fired.key.execution.0, fired.key.event.0);
        let _execution = self.locks.execution(execution_id, none).await;
        let Some(row) = self.rows.get(execution_id).await? else {
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
        if seq < 0 {
            // Not a deadline: a child of attempt -seq ended (or, on another server, may have).
            return match remote {
                Some(RemoteChild::Pending) => {
                    self.poll_again(row.id, -seq, now);
                    Ok(None)
                }
                Some(RemoteChild::Ended(child)) => {
                    self.child_ended(&row, -seq, now, delete, Some(child.map(|c| *c)))
                        .await
                }
                None => self.child_ended(&row, -seq, now, delete, None).await,
            };
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
}

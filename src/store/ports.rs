//! The narrow traits the engine and the timer see: readers by concern, and one commit port.
//!
//! Each method is what one caller needs, no more. Implementations: [`super::sqlite`] (the
//! daemon's), `memory` (tests). The methods return `impl Future + Send`, so the engine
//! is generic over them with no boxing on the hot path.
//!
//! # Contract
//! - A read sees every commit acknowledged before it began.
//! - [`Commit::commit`] applies all of its operations or none, and returns only once they are
//!   durable; a key that exists already fails the whole commit with
//!   [`super::Error::Duplicate`].

use std::future::Future;

use super::rows::{
    ActivityRow, AliasRow, DescribedExecution, EventRow, ExecutionRow, MapItemRow, MapRunKey,
    MapRunRow, RevisionRow, StateMachineRow, TaskRow, TimerRow, VersionRow, WriteOp,
};
use super::Result;
use crate::model::ExecutionStatus;

/// An execution's id, and the version and alias it was started through.
pub type ExecutionVersion = (i64, String, Option<String>);

/// What a commit does when the writer's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Refuse at once with [`super::Error::Busy`]: an API request, answered with
    /// ThrottlingException, so requests cannot pile up.
    Refuse,
    /// Wait for room: work the daemon already owes (a due timer, a call's result), whose
    /// waiters are bounded by the timers and calls in flight.
    Wait,
}

/// State machines, their revisions, activities and tags.
pub trait MachineReads: Send + Sync {
    /// A state machine with its current revision.
    fn state_machine(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<StateMachineRow>>> + Send;
    /// State machines ordered by ARN, strictly after `after_arn`, at most `limit`.
    fn list_state_machines(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<StateMachineRow>>> + Send;
    /// The ARNs of machines marked DELETING.
    fn deleting_state_machines(&self) -> impl Future<Output = Result<Vec<String>>> + Send;
    fn revision(
        &self,
        revision_id: &str,
    ) -> impl Future<Output = Result<Option<RevisionRow>>> + Send;
    fn activity(&self, arn: &str) -> impl Future<Output = Result<Option<ActivityRow>>> + Send;
    /// Activities ordered by ARN, strictly after `after_arn`, at most `limit`.
    fn list_activities(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ActivityRow>>> + Send;
    /// A resource's tags, by key.
    fn tags(
        &self,
        resource_arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;
}

/// Executions.
pub trait ExecutionReads: Send + Sync {
    fn execution_by_arn(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<ExecutionRow>>> + Send;
    fn execution_by_id(&self, id: i64)
        -> impl Future<Output = Result<Option<ExecutionRow>>> + Send;
    /// The executions of `ids` that exist, in no particular order: one read for many (see
    /// [`super::batch::Gathered`]).
    fn executions_by_ids(
        &self,
        ids: &[i64],
    ) -> impl Future<Output = Result<Vec<ExecutionRow>>> + Send;
    /// Executions of a machine, newest first, strictly after the `(start_ms, id)` cursor.
    fn list_executions(
        &self,
        state_machine_arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ExecutionRow>>> + Send;
    /// RUNNING executions of a machine.
    fn count_running(&self, state_machine_arn: &str) -> impl Future<Output = Result<i64>> + Send;
    /// RUNNING executions in all.
    fn count_all_running(&self) -> impl Future<Output = Result<i64>> + Send;
    /// The largest execution id given so far (0 when none).
    fn max_execution_id(&self) -> impl Future<Output = Result<i64>> + Send;
    /// Ids of executions that closed before `before_ms`, oldest first, at most `limit`.
    fn closed_before(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<i64>>> + Send;
    /// The database's free pages and all its pages, where free pages stay in the file until
    /// given back ([`WriteOp::ReleaseFreePages`]); `None` where the database reuses or returns
    /// them itself.
    fn free_pages(&self) -> impl Future<Output = Result<Option<FreePages>>> + Send;
}

/// Pages of a database file that hold nothing, and all of its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreePages {
    pub free: u64,
    pub total: u64,
}

/// Execution ids, unique in the database (several nodes may start executions at once).
pub trait Ids: Send + Sync {
    fn next_execution_id(&self) -> impl Future<Output = Result<i64>> + Send;
}

/// History events.
pub trait HistoryReads: Send + Sync {
    /// Events after `after_id` in ascending order, or before it when `reverse`, at most `limit`.
    fn history(
        &self,
        execution_id: i64,
        after_id: Option<i64>,
        limit: i64,
        reverse: bool,
    ) -> impl Future<Output = Result<Vec<EventRow>>> + Send;
}

/// Pending deadlines, for the timer's loader.
pub trait TimerReads: Send + Sync {
    /// Timers due before `until_ms`, in `(due_ms, execution_id, seq)` order, strictly after
    /// `after`, at most `limit`, of the `held` partitions (all when `None`). Must never return
    /// a timer at or before `after`.
    fn timers_due(
        &self,
        after: Option<TimerRow>,
        until_ms: i64,
        limit: i64,
        held: Option<&[i64]>,
    ) -> impl Future<Output = Result<Vec<TimerRow>>> + Send;
    /// How many timers are stored.
    fn count_timers(&self) -> impl Future<Output = Result<i64>> + Send;
}

/// Calls scheduled and not recorded as finished, for the call dispatcher.
pub trait CallReads: Send + Sync {
    /// In `(execution_id, seq)` order strictly after `after`, at most `limit`, of the `held`
    /// partitions (all when `None`).
    fn tasks_after(
        &self,
        after: Option<(i64, i64)>,
        limit: i64,
        held: Option<&[i64]>,
    ) -> impl Future<Output = Result<Vec<TaskRow>>> + Send;
}

/// The one way to change stored data.
pub trait Commit: Send + Sync {
    /// Apply `ops` in one transaction and wait until it is durable.
    fn commit(
        &self,
        ops: Vec<WriteOp>,
        when_full: WhenFull,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Everything the engine needs of a store.
/// Versions and aliases of state machines, and the executions started through them.
pub trait VersionReads: Send + Sync {
    /// A version that has not been deleted.
    fn version(&self, arn: &str) -> impl Future<Output = Result<Option<VersionRow>>> + Send;
    /// A machine's versions that have not been deleted, newest first.
    fn versions(
        &self,
        state_machine_arn: &str,
    ) -> impl Future<Output = Result<Vec<VersionRow>>> + Send;
    /// The highest version number a machine has given, deleted or not (0 for none).
    fn last_version(&self, state_machine_arn: &str) -> impl Future<Output = Result<i64>> + Send;
    fn alias(&self, arn: &str) -> impl Future<Output = Result<Option<AliasRow>>> + Send;
    /// A machine's aliases, by ARN.
    fn aliases(
        &self,
        state_machine_arn: &str,
    ) -> impl Future<Output = Result<Vec<AliasRow>>> + Send;
    /// The version and alias an execution was started through, if it was.
    fn execution_version(
        &self,
        execution_id: i64,
    ) -> impl Future<Output = Result<Option<(String, Option<String>)>>> + Send;
    /// The executions of `arns` that exist, each with the version it was started through, in
    /// no particular order: one read for many where the store can; by default each execution
    /// and its version read on their own.
    fn described_by_arns(
        &self,
        arns: &[String],
    ) -> impl Future<Output = Result<Vec<DescribedExecution>>> + Send
    where
        Self: ExecutionReads,
    {
        async move {
            let mut found = Vec::with_capacity(arns.len());
            for arn in arns {
                if let Some(row) = self.execution_by_arn(arn).await? {
                    let (version_arn, alias_arn) = self.execution_version(row.id).await?.unzip();
                    found.push(DescribedExecution {
                        row,
                        version_arn,
                        alias_arn: alias_arn.flatten(),
                    });
                }
            }
            Ok(found)
        }
    }
    /// [`Self::execution_version`] of each of `ids` started through one, by id: one read for
    /// many where the store can; by default each read on its own.
    fn execution_versions(
        &self,
        ids: &[i64],
    ) -> impl Future<Output = Result<Vec<ExecutionVersion>>> + Send {
        async move {
            let mut found = Vec::with_capacity(ids.len());
            for &id in ids {
                if let Some((version, alias)) = self.execution_version(id).await? {
                    found.push((id, version, alias));
                }
            }
            Ok(found)
        }
    }
    /// Executions started through a version or an alias (`arn`), newest first, strictly after
    /// the `(start_ms, id)` cursor.
    fn list_executions_through(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ExecutionRow>>> + Send;
}

/// Distributed Map runs and their items.
pub trait MapRunReads: Send + Sync {
    fn map_run(&self, arn: &str) -> impl Future<Output = Result<Option<MapRunRow>>> + Send;
    /// The map runs an execution started, oldest first.
    fn map_runs_of(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<Vec<MapRunRow>>> + Send;
    /// A run's items from index `from` on, at most `limit`; only those not started yet when
    /// `pending`.
    fn map_items(
        &self,
        run: MapRunKey,
        from: i64,
        limit: i64,
        pending: bool,
    ) -> impl Future<Output = Result<Vec<MapItemRow>>> + Send;
    /// A run's items whose children are running.
    fn running_map_items(
        &self,
        run: MapRunKey,
    ) -> impl Future<Output = Result<Vec<MapItemRow>>> + Send;
    /// The map run that started a child execution.
    fn map_run_of_child(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    /// The children of a map run, newest first, strictly after the `(start_ms, id)` cursor.
    fn list_map_run_executions(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ExecutionRow>>> + Send;
}

/// What the console reads beside the API's queries.
pub trait ConsoleReads: Send + Sync {
    /// A machine's executions counted by status (statuses with none are left out).
    fn execution_counts(
        &self,
        state_machine_arn: &str,
    ) -> impl Future<Output = Result<Vec<(ExecutionStatus, i64)>>> + Send;
    /// Executions whose ARN starts with `arn_prefix` (a machine's execution ARN prefix and
    /// the start of a name), in name order, after the ARN `after`, at most `limit`.
    fn executions_named(
        &self,
        arn_prefix: &str,
        status: Option<ExecutionStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ExecutionRow>>> + Send;
    /// An execution's pending deadlines as `(seq, due_ms)`, soonest first.
    fn timers_of(&self, execution_id: i64) -> impl Future<Output = Result<Vec<(i64, i64)>>> + Send;
    /// An execution's whole history, in id order, read at once.
    fn whole_history(
        &self,
        execution_id: i64,
    ) -> impl Future<Output = Result<Vec<EventRow>>> + Send;
}

pub trait Store:
    MachineReads
    + MapRunReads
    + VersionReads
    + ExecutionReads
    + HistoryReads
    + TimerReads
    + CallReads
    + Ids
    + Commit
    + Clone
    + 'static
{
}

impl<T> Store for T where
    T: MachineReads
        + MapRunReads
        + VersionReads
        + ExecutionReads
        + Ids
        + HistoryReads
        + TimerReads
        + CallReads
        + Commit
        + Clone
        + 'static
{
}

/// A node of a cluster, as the others see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub node_id: String,
    /// Where its API answers (`http://host:port`).
    pub address: String,
}

/// Partition leases and the nodes of a cluster, on a database several nodes share. Expiry is
/// judged by the database's clock, so the nodes' clocks need not agree.
pub trait Leases: Send + Sync {
    /// Say this node is alive for `ttl`, answering at its address; returns the nodes alive now.
    fn heartbeat(
        &self,
        node: &Node,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<Vec<Node>>> + Send;
    /// Extend, for `ttl`, the leases this node holds at these epochs; returns those it still
    /// holds, as `(partition, epoch)`.
    fn renew(
        &self,
        node_id: &str,
        held: &[(i64, i64)],
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<Vec<(i64, i64)>>> + Send;
    /// Take, for `ttl`, up to `max` partitions nobody holds (or whose lease expired), each at a
    /// new epoch; returns them as `(partition, epoch)`.
    fn acquire(
        &self,
        node_id: &str,
        max: usize,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<Vec<(i64, i64)>>> + Send;
    /// Give these partitions up, so another node can take them at once.
    fn release(&self, node_id: &str, partitions: &[i64])
        -> impl Future<Output = Result<()>> + Send;
    /// Who holds each partition with an unexpired lease: `(partition, node)`.
    fn owners(&self) -> impl Future<Output = Result<Vec<(i64, Node)>>> + Send;
    /// A secret the nodes share (made when the database was first initialised): a request
    /// one node forwards to another is signed with it.
    fn cluster_secret(&self) -> impl Future<Output = Result<String>> + Send;
}

//! Execution lifecycles: event → [`asl::step`] → commit → effects.
//!
//! Every change follows the same order (write-ahead): run the interpreter on the event, commit
//! the history events and state changes it produced in one write, and only then perform the
//! effects (arm or disarm in-memory timers). A crash between commit and effect loses nothing:
//! the timer rows are on disk and the loader picks them up at start.
//!
//! Work on one execution is serialised by a striped lock keyed by its row id, held from the
//! read of its state to the acknowledgement of its commit. Starts are serialised per ARN (the
//! execution has no row yet), and a second start of the same name is caught by the unique
//! index on `executions.arn` rather than by a read before every start.
//!
//! State machines and parsed revisions are cached in memory; every change to a machine goes
//! through this engine, which drops the cached entry after committing it.

mod executions;
mod state_machines;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::arn;
use crate::asl::{Definition, StepConfig};
use crate::invoke::{Invocation, Invoker};
use crate::store::{self, Store, Writer};
use crate::timer::{Clock, Fired, TimerService};

pub use executions::StartedExecution;
pub use state_machines::{CreateStateMachine, UpdateStateMachine};

/// Number of lock stripes; enough that unrelated executions rarely share one.
const LOCK_STRIPES: usize = 1024;
/// Parsed definitions kept in memory, by revision.
const DEFINITION_CACHE: usize = 4096;
/// Memory for running executions kept while a Lambda call of theirs is in flight (measured
/// by the size of their stored state); past it, results read the execution back.
const HOT_BUDGET_BYTES: usize = 64 << 20;
/// An execution whose state takes more than this is always read back from the store.
const HOT_MAX_BYTES: usize = 64 * 1024;

/// Failures a caller reacts to. The API maps each to an AWS error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("state machine does not exist: {0}")]
    StateMachineDoesNotExist(String),
    #[error("state machine is being deleted: {0}")]
    StateMachineDeleting(String),
    #[error("state machine already exists: {0}")]
    StateMachineAlreadyExists(String),
    #[error("execution does not exist: {0}")]
    ExecutionDoesNotExist(String),
    #[error("execution already exists: {0}")]
    ExecutionAlreadyExists(String),
    #[error("{0} executions are open, the most allowed")]
    ExecutionLimitExceeded(u64),
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Settings the engine needs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub region: String,
    pub account_id: String,
    pub step: StepConfig,
    /// Most executions RUNNING at once; 0 means no cap.
    pub max_open_executions: u64,
}

pub struct Engine {
    store: Store,
    writer: Writer,
    timers: Arc<TimerService>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    /// Next execution row id; ids are assigned here so one write can insert an execution
    /// and its history together.
    next_execution_id: AtomicI64,
    locks: Vec<tokio::sync::Mutex<()>>,
    /// Parsed definitions (and their role) by revision id; revisions never change.
    revisions: Mutex<HashMap<String, Arc<Revision>>>,
    /// State machines by ARN.
    machines: Mutex<HashMap<String, Arc<store::StateMachineRow>>>,
    /// Calls to make, handed to [`Engine::run_tasks`] after their Scheduled event is committed.
    calls: mpsc::Sender<(i64, Invocation)>,
    /// The last committed state of running executions waiting for a call, so its result needs
    /// no read. Written and taken only under the execution's lock, after a commit; anything
    /// missing here is read from the store.
    hot: Mutex<executions::Hot>,
}

/// A revision ready to run.
#[derive(Debug)]
pub struct Revision {
    pub definition: Definition,
    pub role_arn: String,
}

/// A task that was scheduled: the execution it belongs to and the call.
pub type ScheduledCall = (i64, Invocation);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish()
    }
}

impl Engine {
    pub async fn new(
        store: Store,
        writer: Writer,
        timers: Arc<TimerService>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        calls: mpsc::Sender<ScheduledCall>,
    ) -> Result<Self> {
        let max_id = store.max_execution_id().await?;
        Ok(Self {
            calls,
            store,
            writer,
            timers,
            clock,
            config,
            next_execution_id: AtomicI64::new(max_id + 1),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            revisions: Mutex::new(HashMap::new()),
            machines: Mutex::new(HashMap::new()),
            hot: Mutex::new(executions::Hot::default()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The lock for a state machine, or for starting an execution of this ARN.
    fn lock_for(&self, key: &str) -> &tokio::sync::Mutex<()> {
        &self.locks[(arn::stable_hash(key) % LOCK_STRIPES as u64) as usize]
    }

    /// The lock for an existing execution.
    fn lock_execution(&self, id: i64) -> &tokio::sync::Mutex<()> {
        &self.locks[(id.unsigned_abs() % LOCK_STRIPES as u64) as usize]
    }

    /// A state machine, from the cache or the store.
    async fn machine(&self, arn: &str) -> Result<Option<Arc<store::StateMachineRow>>> {
        if let Some(m) = self
            .machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
        {
            return Ok(Some(m.clone()));
        }
        let Some(row) = self.store.state_machine(arn).await? else {
            return Ok(None);
        };
        let row = Arc::new(row);
        let mut cache = self.machines.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= DEFINITION_CACHE {
            cache.clear();
        }
        cache.insert(arn.to_owned(), row.clone());
        Ok(Some(row))
    }

    /// Drop a machine from the cache after changing it.
    fn forget_machine(&self, arn: &str) {
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }

    fn allocate_execution_id(&self) -> i64 {
        self.next_execution_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A revision, parsed, from the cache or the store.
    async fn revision(&self, revision_id: &str) -> Result<Arc<Revision>> {
        if let Some(r) = self
            .revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(revision_id)
        {
            return Ok(r.clone());
        }
        let row = self.store.revision(revision_id).await?.ok_or_else(|| {
            Error::InvalidDefinition(format!("revision {revision_id} is missing"))
        })?;
        let rev = Arc::new(Revision {
            definition: Definition::parse(&row.definition).map_err(Error::InvalidDefinition)?,
            role_arn: row.role_arn,
        });
        let mut cache = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= DEFINITION_CACHE {
            cache.clear();
        }
        cache.insert(revision_id.to_owned(), rev.clone());
        Ok(rev)
    }

    /// Make scheduled Lambda calls until `shutdown`, each on its own task, and feed each result
    /// back into its execution. Calls cut short by shutdown are made again after the next
    /// start (their rows are still on disk).
    pub async fn run_tasks(
        self: Arc<Self>,
        invoker: Arc<dyn Invoker>,
        mut calls: mpsc::Receiver<ScheduledCall>,
        shutdown: CancellationToken,
        grace: Duration,
    ) {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let next = tokio::select! {
                c = calls.recv() => c,
                _ = shutdown.cancelled() => None,
                // Reap finished calls so the set does not grow.
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            let Some((execution_id, invocation)) = next else {
                break;
            };
            let engine = self.clone();
            let invoker = invoker.clone();
            tasks.spawn(async move {
                let seq = invocation.seq;
                let outcome = invoker.invoke(invocation).await;
                // Boxed: handling a result is a deep chain of futures, and an unboxed one
                // would make every spawned call that large (copied on each spawn).
                Box::pin(engine.on_task_result(execution_id, seq, outcome)).await;
            });
        }
        // Shutting down: let calls in flight finish (and their results commit) for a while.
        let drained =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                left = tasks.len(),
                "Lambda calls still running at shutdown; they are made again after the next start"
            );
            tasks.shutdown().await;
        }
    }

    /// Remove closed executions older than `retention` (with their history), in batches
    /// small enough not to stall other writes, every `every`, until `shutdown`.
    pub async fn run_retention(
        self: Arc<Self>,
        retention: Duration,
        every: Duration,
        shutdown: CancellationToken,
    ) {
        const BATCH: i64 = 500;
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => return,
            }
            let cutoff = self.clock.now_ms().saturating_sub(retention_ms);
            loop {
                if shutdown.is_cancelled() {
                    return;
                }
                let ids = match self.store.closed_before(cutoff, BATCH).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(error = %e, "retention sweep failed; trying again later");
                        break;
                    }
                };
                if ids.is_empty() {
                    break;
                }
                let n = ids.len() as u64;
                if let Err(e) = self
                    .writer
                    .write(vec![store::WriteOp::DeleteExecutions { ids }])
                    .await
                {
                    tracing::warn!(error = %e, "retention sweep failed; trying again later");
                    break;
                }
                crate::metrics::retention_removed(n);
                tokio::task::yield_now().await;
            }
        }
    }

    /// After a start: make again every call that was scheduled and never recorded as finished.
    pub async fn recover_tasks(&self) -> Result<usize> {
        let rows = self.store.pending_tasks().await?;
        let n = rows.len();
        for row in rows {
            match serde_json::from_str::<Invocation>(&row.invocation) {
                Ok(inv) => {
                    if self.calls.send((row.execution_id, inv)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, execution_id = row.execution_id, "a stored task is unreadable; skipping it")
                }
            }
        }
        Ok(n)
    }

    /// Handle due timers until `shutdown`: each one runs on its own task, at most
    /// `max_in_flight` at once (the bound on the firing rate after a restart).
    pub async fn run_timers(
        self: Arc<Self>,
        mut fired: mpsc::Receiver<Fired>,
        max_in_flight: usize,
        shutdown: CancellationToken,
    ) {
        let permits = Arc::new(Semaphore::new(max_in_flight.max(1)));
        let tasks = tokio_util::task::TaskTracker::new();
        loop {
            let next = tokio::select! {
                f = fired.recv() => f,
                _ = shutdown.cancelled() => None,
            };
            let Some(f) = next else { break };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let engine = self.clone();
            tasks.spawn(async move {
                engine.on_timer(f).await;
                drop(permit);
            });
        }
        tasks.close();
        tasks.wait().await;
    }
}

#[cfg(test)]
mod tests;

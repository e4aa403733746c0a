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

mod calls;
mod executions;
pub mod locks;
mod queries;
mod state_machines;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::asl::{Definition, StatesError, StepConfig};
use crate::invoke::{Invocation, Invoker, Outcome};
use crate::store::{self, Store, WhenFull};
use crate::timer::{Clock, Fired, TimerService};
use calls::{CallKey, Calls, Next};
use locks::Locks;

pub use executions::StartedExecution;
pub use queries::{MachineForExecution, Page};
pub use state_machines::{CreateStateMachine, UpdateStateMachine, MAX_TAGS};

/// Parsed definitions kept in memory, by revision.
const DEFINITION_CACHE: usize = 4096;
/// Memory for running executions kept while a Lambda call of theirs is in flight (measured
/// by the size of their stored state); past it, results read the execution back.
const HOT_BUDGET_BYTES: usize = 64 << 20;
/// An execution whose state takes more than this is always read back from the store.
const HOT_MAX_BYTES: usize = 64 * 1024;
/// Longest pause between two attempts to record a call's result.
const RESULT_RETRY_MAX: Duration = Duration::from_secs(5);

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
    #[error("resource not found: {0}")]
    ResourceNotFound(String),
    #[error("a resource can have at most {0} tags")]
    TooManyTags(usize),
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    /// The interpreter panicked on this execution (a bug); nothing was written.
    #[error("the interpreter failed: {0}")]
    Interpreter(String),
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
    pub calls: CallLimits,
    /// Interpreter steps run at once (each on a thread of the blocking pool).
    pub max_steps: usize,
}

/// Bounds on the calls the engine makes.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Calls in flight at once, over all functions (each holds its result until committed).
    pub max_in_flight: usize,
    /// Calls queued in memory; past it they wait in the table for a later pass.
    pub max_queued: usize,
    /// Payload bytes queued in memory.
    pub max_queued_bytes: usize,
    /// Rows read from the table per page.
    pub page: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            max_in_flight: 1024,
            max_queued: 16_384,
            max_queued_bytes: 64 << 20,
            page: 1_000,
        }
    }
}

pub struct Engine<S> {
    store: S,
    timers: Arc<TimerService<S>>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    /// Next execution row id; ids are assigned here so one write can insert an execution
    /// and its history together.
    next_execution_id: AtomicI64,
    /// State machine and execution locks (see [`locks`] for their order).
    locks: Locks,
    /// Parsed definitions (and their role) by revision id; revisions never change.
    revisions: Mutex<HashMap<String, Arc<Revision>>>,
    /// State machines by ARN. Filled only under the machine's lock and emptied by every change
    /// to it before that change releases the lock, so an entry is never older than the store.
    machines: Mutex<HashMap<String, Arc<store::StateMachineRow>>>,
    /// Calls to make, submitted after their Scheduled event is committed.
    calls: Calls,
    /// Interpreter steps running at once on the blocking pool.
    steps: Semaphore,
    /// Executions RUNNING now (for `max_open_executions`): counted from the store at the
    /// start, then moved by every start and end this engine commits.
    running: AtomicI64,
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

impl<S> std::fmt::Debug for Engine<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish()
    }
}

impl<S: Store> Engine<S> {
    pub async fn new(
        store: S,
        timers: Arc<TimerService<S>>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Result<Self> {
        let max_id = store.max_execution_id().await?;
        let running = store.count_all_running().await?;
        crate::metrics::executions_running_add(running);
        Ok(Self {
            calls: Calls::new(config.calls.max_queued, config.calls.max_queued_bytes),
            steps: Semaphore::new(config.max_steps.max(1)),
            running: AtomicI64::new(running),
            store,
            timers,
            clock,
            config,
            next_execution_id: AtomicI64::new(max_id + 1),
            locks: Locks::default(),
            revisions: Mutex::new(HashMap::new()),
            machines: Mutex::new(HashMap::new()),
            hot: Mutex::new(executions::Hot::default()),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A state machine, from the cache or the store. The caller holds the machine's lock,
    /// so what it caches is current.
    async fn machine(
        &self,
        arn: &str,
        _held: &impl locks::HoldsMachine,
    ) -> Result<Option<Arc<store::StateMachineRow>>> {
        if let Some(m) = self.cached_machine(arn) {
            return Ok(Some(m));
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

    fn cached_machine(&self, arn: &str) -> Option<Arc<store::StateMachineRow>> {
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
            .cloned()
    }

    /// Drop a machine from the cache after changing it (its exclusive lock held).
    fn forget_machine(&self, arn: &str, _held: &locks::MachineExclusive<'_>) {
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }

    async fn commit(&self, ops: Vec<store::WriteOp>, when_full: WhenFull) -> store::Result<()> {
        self.store.commit(ops, when_full).await
    }

    /// Executions entered (`delta > 0`) or left (`delta < 0`) RUNNING.
    fn running_add(&self, delta: i64) {
        self.running.fetch_add(delta, Ordering::Relaxed);
        crate::metrics::executions_running_add(delta);
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

    /// Make the calls executions are waiting for until `shutdown`, at most
    /// `calls.max_in_flight` at once, each on its own task, and record each result. The first
    /// pass over the `tasks` table makes again the calls left unfinished by the last stop.
    ///
    /// On `shutdown`, calls in flight get `grace` to finish and record their results; the
    /// rest are cut short and made again after the next start (their rows are still there).
    pub async fn run_calls(
        self: Arc<Self>,
        invoker: Arc<dyn Invoker>,
        shutdown: CancellationToken,
        grace: Duration,
    ) {
        let permits = Arc::new(Semaphore::new(self.config.calls.max_in_flight.max(1)));
        let tasks = TaskTracker::new();
        let hard_stop = CancellationToken::new();
        // While a pass over the table runs: the last key it read.
        let mut pass: Option<Option<CallKey>> = None;
        'calls: loop {
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                _ = shutdown.cancelled() => break,
            };
            let next = loop {
                if let Some(next) = self.calls.next() {
                    break next;
                }
                if pass.is_none() && self.calls.take_overflow() {
                    pass = Some(None);
                }
                if let Some(after) = pass {
                    pass = match self.read_calls_page(after, &shutdown).await {
                        Ok(next) => next.map(Some),
                        Err(e) => {
                            tracing::warn!(error = %e, "reading scheduled calls failed; retrying");
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(1)) => Some(after),
                                _ = shutdown.cancelled() => break 'calls,
                            }
                        }
                    };
                    continue;
                }
                tokio::select! {
                    _ = self.calls.submitted() => {}
                    _ = shutdown.cancelled() => break 'calls,
                }
            };
            let engine = self.clone();
            let invoker = invoker.clone();
            let hard_stop = hard_stop.clone();
            tasks.spawn(async move {
                let Next {
                    key,
                    invocation,
                    cancelled,
                } = next;
                let outcome = tokio::select! {
                    biased;
                    _ = cancelled.cancelled() => None,
                    _ = hard_stop.cancelled() => None,
                    o = invoker.invoke(invocation) => Some(o),
                };
                if let Some(outcome) = outcome {
                    // Boxed: recording a result is a deep chain of futures, and an unboxed one
                    // would make every spawned call that large (copied on each spawn).
                    Box::pin(engine.record_result(key, outcome, &hard_stop)).await;
                }
                engine.calls.finish(key);
                drop(permit);
            });
        }
        tasks.close();
        if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
            tracing::warn!(
                left = tasks.len(),
                "calls still running at shutdown; they are made again after the next start"
            );
            hard_stop.cancel();
            tasks.wait().await;
        }
    }

    /// Read one page of the `tasks` table after `after` into the queue. Returns the last key
    /// considered, or `None` when the pass reached the end of the table.
    async fn read_calls_page(
        &self,
        after: Option<CallKey>,
        shutdown: &CancellationToken,
    ) -> Result<Option<CallKey>> {
        let limit = self
            .config
            .calls
            .page
            .clamp(1, self.config.calls.max_queued.max(1));
        self.calls.begin_page();
        let rows = match self.store.tasks_after(after, limit as i64).await {
            Ok(rows) => rows,
            Err(e) => {
                self.calls.end_page(Vec::new());
                return Err(e.into());
            }
        };
        let full = rows.len() >= limit;
        let mut readable = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        let mut last = after;
        for row in &rows {
            let key = (row.execution_id, row.seq);
            match serde_json::from_str::<Invocation>(&row.invocation) {
                Ok(inv) => readable.push((key, inv)),
                Err(e) => unreadable.push((key, e)),
            }
        }
        let considered = self.calls.end_page(readable.clone());
        if let Some((key, _)) = readable.get(considered.wrapping_sub(1)) {
            last = Some(*key);
        }
        for (key, e) in unreadable {
            tracing::error!(error = %e, execution_id = key.0, seq = key.1, "a stored call is unreadable; failing its state");
            let outcome = Err(StatesError::runtime(format!(
                "The scheduled call could not be read back from the database: {e}"
            )));
            self.record_result(key, outcome, shutdown).await;
            last = last.max(Some(key));
        }
        if considered < readable.len() {
            // The queue filled: the pass goes on from the last row taken.
            return Ok(last.or(after).or(Some((i64::MIN, i64::MIN))));
        }
        Ok(if full {
            rows.last().map(|r| (r.execution_id, r.seq))
        } else {
            None
        })
    }

    /// Record a call's result, trying again with back-off until it commits. Gives up only on
    /// `hard_stop` (the row stays, so the call is made again after the next start), or when
    /// the execution's stored state cannot be read (nothing could ever record it).
    async fn record_result(&self, key: CallKey, outcome: Outcome, hard_stop: &CancellationToken) {
        let mut pause = Duration::from_millis(50);
        loop {
            match self.task_result(key.0, key.1, outcome.clone()).await {
                Ok(()) => return,
                Err(e @ (Error::Store(store::Error::Json(_)) | Error::Interpreter(_))) => {
                    tracing::error!(error = %e, execution_id = key.0, seq = key.1, "the execution cannot take this result; it is left for the next start");
                    return;
                }
                Err(Error::Store(store::Error::WriterGone)) => return,
                Err(e) => {
                    tracing::warn!(error = %e, execution_id = key.0, seq = key.1, retry_in_ms = pause.as_millis() as u64, "recording a call's result failed; trying again");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = hard_stop.cancelled() => return,
            }
            pause = (pause * 2).min(RESULT_RETRY_MAX);
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
                    .commit(
                        vec![store::WriteOp::DeleteExecutions { ids }],
                        WhenFull::Wait,
                    )
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

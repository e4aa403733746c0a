//! Execution lifecycles over the store's ports: event → `asl::step` → commit → effects.
//!
//! Every change follows the same order (write-ahead): run the interpreter on the event, commit
//! the history events and state changes it produced in one write, and only then perform the
//! effects (arm or cancel timers, submit or cancel calls). A crash between commit and effect
//! loses nothing: the timer and call rows are on disk and recovery reads them back.
//!
//! | module | owns |
//! |---|---|
//! | `executions` | the entry points: start, stop, a due timer, a call's result |
//! | `activities` | activities, and the tasks their workers take (GetActivityTask) |
//! | `callbacks` | SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat for tasks waiting for a token |
//! | `advance` | one event: interpreter step, commit, effects; executions kept in memory |
//! | `rows` | conversions between the interpreter's state and the store's rows |
//! | `state_machines` | create, update, delete, tags; finishing a pending delete |
//! | `queries` | the read side the API and the console use |
//! | `cache` | machines and parsed revisions in memory |
//! | `children` | nested executions: starting a child, a `.sync` parent told of its end |
//! | `calls` | the bounded queue of calls in front of the `tasks` table |
//! | `runners` | the loops: calls, timers, retention |
//! | [`locks`] | machine and execution locks, and their order |
//!
//! The engine is generic over [`Store`] (static dispatch) and names no database, HTTP client
//! or server crate: its tests run it over the in-memory store with a manual clock.

mod activities;
mod advance;
mod cache;
mod callbacks;
mod calls;
mod children;
mod executions;
pub mod locks;
mod map_runs;
mod queries;
pub mod redrive;
mod remote_children;
mod rows;
mod runners;
mod state_machines;
pub mod test_state;
pub mod versions;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::asl::{Definition, StepConfig};
pub use crate::cluster::Ownership;
use crate::model::hash::FastMap;
use crate::store::{self, Store, WhenFull};
use crate::timer::{Clock, TimerService};
use calls::Calls;
use locks::Locks;

pub use activities::{ActivityTask, MAX_POLLERS, POLL_WAIT};
pub use callbacks::Callback;
pub use executions::StartedExecution;
pub use queries::{MachineForExecution, Page};
pub use state_machines::{CreateStateMachine, Tagged, UpdateStateMachine, MAX_TAGS};

/// Parsed definitions kept in memory, by revision.
const DEFINITION_CACHE: usize = 4096;
/// Memory for running executions kept while a call of theirs is in flight (each kept as the
/// text of its row, weighed by what that takes); past it, results read the execution back.
const HOT_BUDGET_BYTES: usize = 64 << 20;
/// An execution whose row (input and state) takes more than this is always read back.
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
    /// A change that contradicts what is stored (ConflictException).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    ServiceQuotaExceeded(String),
    /// A request this server cannot serve as asked (ValidationException).
    #[error("{0}")]
    Invalid(String),
    /// RedriveExecution of an execution that cannot be redriven: why.
    #[error("{0}")]
    NotRedrivable(String),
    /// Another node holds the execution's partition (or none does right now).
    #[error("partition {0} is not held by this node")]
    NotOwner(i64),
    #[error("a resource can have at most {0} tags")]
    TooManyTags(usize),
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    /// A task token this server did not hand out, or not for that execution.
    #[error("invalid task token")]
    InvalidToken,
    /// The token's attempt is over (or its execution ended).
    #[error("the task does not exist")]
    TaskDoesNotExist,
    /// The token's attempt timed out.
    #[error("the task timed out")]
    TaskTimedOut,
    /// A test case the mock file does not have (or no mock file).
    #[error("{0}")]
    NoSuchTestCase(String),
    #[error("activity does not exist: {0}")]
    ActivityDoesNotExist(String),
    /// As many workers as AWS allows poll this activity already.
    #[error("too many workers poll activity {0}")]
    ActivityWorkerLimitExceeded(String),
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
    /// Step Functions Local's mocked responses, for executions of a test case.
    pub mocks: Option<Arc<crate::invoke::mocks::MockConfig>>,
    /// The Step Functions server `states:startExecution` starts children on, when it is not
    /// this one (`integrations.step_functions_endpoint`).
    pub remote_step_functions: Option<Arc<crate::invoke::services::ServiceInvoker>>,
    /// Longest an Express machine's execution runs (`limits.express_max_duration_secs`).
    pub express_max_duration_secs: u64,
    /// What makes the call of a state run by TestState (the daemon's invoker).
    pub invoker: Option<Arc<dyn crate::invoke::Invoker>>,
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
    /// Reads of executions by id, gathered while a burst of them waits (timers, results).
    rows: store::batch::GatheredExecutions<S>,
    /// Reads of state machines by ARN, gathered the same way (on a cluster, every end asks
    /// whether its machine is being deleted).
    machine_reads: store::batch::GatheredMachines<S>,
    /// Reads of executions by ARN, with the versions they were started through, gathered the
    /// same way (DescribeExecution, which pollers send in streams).
    by_arn: store::batch::GatheredByArn<S>,
    timers: Arc<TimerService<S>>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    /// State machine and execution locks (see [`locks`] for their order).
    locks: Locks,
    /// The partitions this node may change executions of.
    ownership: Arc<Ownership>,
    /// Parsed definitions (and their role) by revision id; revisions never change.
    revisions: Mutex<FastMap<String, Arc<Revision>>>,
    /// State machines by ARN. Filled only under the machine's lock and emptied by every change
    /// to it before that change releases the lock, so an entry is never older than the store.
    machines: Mutex<FastMap<String, Arc<store::StateMachineRow>>>,
    /// Calls to make, submitted after their Scheduled event is committed.
    calls: Calls,
    /// Activity tasks offered to their workers.
    activities: activities::Board,
    /// `.sync` children whose parent left their state, to stop once its lock is released.
    orphans: Mutex<Vec<String>>,
    /// Told when a child of a Distributed Map ends: the drivers of map runs look again.
    map_wake: tokio::sync::Notify,
    /// Interpreter steps running at once on the blocking pool.
    steps: Semaphore,
    /// Executions RUNNING now (for `max_open_executions`): counted from the store at the
    /// start, then moved by every start and end this engine commits.
    running: AtomicI64,
    /// The last committed row of running executions waiting for a call, so its result needs
    /// no read. Written and taken only under the execution's lock, after a commit; anything
    /// missing here is read from the store.
    hot: Mutex<advance::Hot>,
}

/// A revision ready to run.
#[derive(Debug)]
pub struct Revision {
    pub definition: Definition,
    pub role_arn: String,
    /// Whether a step of it is cheap enough to run inline ([`Definition::has_short_steps`]).
    pub short_steps: bool,
    /// Whether its executions need a token key ([`Definition::waits_for_tokens`]).
    pub token_tasks: bool,
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
        ownership: Arc<Ownership>,
    ) -> Result<Self> {
        let running = store.count_all_running().await?;
        crate::metrics::executions_running_add(running);
        Ok(Self {
            calls: Calls::new(config.calls.max_queued, config.calls.max_queued_bytes),
            activities: activities::Board::default(),
            orphans: Mutex::new(Vec::new()),
            map_wake: tokio::sync::Notify::new(),
            steps: Semaphore::new(config.max_steps.max(1)),
            running: AtomicI64::new(running),
            rows: store::batch::Gathered::new(store::batch::ExecutionsById(store.clone())),
            machine_reads: store::batch::Gathered::new(store::batch::MachinesByArn(store.clone())),
            by_arn: store::batch::Gathered::new(store::batch::ExecutionsByArn(store.clone())),
            store,
            timers,
            clock,
            config,
            locks: Locks::default(),
            ownership,
            revisions: Mutex::new(FastMap::default()),
            machines: Mutex::new(FastMap::default()),
            hot: Mutex::new(advance::Hot::default()),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn commit(&self, ops: Vec<store::WriteOp>, when_full: WhenFull) -> store::Result<()> {
        self.store.commit(ops, when_full).await
    }

    /// The partitions this node may change executions of.
    pub fn ownership(&self) -> &Arc<Ownership> {
        &self.ownership
    }

    /// Executions entered (`delta > 0`) or left (`delta < 0`) RUNNING.
    fn running_add(&self, delta: i64) {
        self.running.fetch_add(delta, Ordering::Relaxed);
        crate::metrics::executions_running_add(delta);
    }
}

#[cfg(test)]
mod tests;

impl<S: Store> crate::cluster::OnChange for Engine<S> {
    /// Recover the partitions gained as at a start (their timers and unfinished calls are
    /// read in); the work of those lost is refused by their fences and made by their new owner.
    /// Copies kept in memory of either are dropped: the store says what they are now.
    fn partitions_changed(&self, gained: &[i64], lost: &[i64]) {
        let changed: Vec<i64> = gained.iter().chain(lost).copied().collect();
        self.forget_hot_partitions(&changed);
        if !gained.is_empty() {
            self.timers.reset();
            self.calls.rescan();
        }
    }
}

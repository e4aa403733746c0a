//! The engine's locks: one namespace for state machines, one for executions, one order.
//!
//! | lock | kind | held by |
//! |---|---|---|
//! | state machine (by ARN) | shared | StartExecution, from reading the machine to committing the start |
//! | state machine (by ARN) | exclusive | Create/Update/Delete, and finishing a pending delete |
//! | execution (by id; by ARN while it is being started) | exclusive | every change to one execution |
//!
//! **Order:** a state machine's lock may be held while an execution's is taken, never the
//! other way round, and no task holds two locks of one namespace. The types make any other
//! order fail to compile:
//! - a state machine lock is taken with `&mut Unlocked`, the proof that its caller holds no
//!   lock;
//! - an execution lock is taken with `&mut` of that proof or of a state machine guard, and
//!   borrows it for as long as it is held, so neither can be used to take another lock
//!   meanwhile.
//!
//! ```
//! # use hourglass::engine::locks::{Locks, Unlocked};
//! # async fn f(locks: &Locks, mut none: Unlocked) {
//! let mut machine = locks.machine_exclusive("arn", &mut none).await;
//! let execution = locks.execution(7, &mut machine).await; // the right order
//! # drop(execution); }
//! ```
//!
//! ```compile_fail
//! # use hourglass::engine::locks::{Locks, Unlocked};
//! # async fn f(locks: &Locks, mut none: Unlocked) {
//! let execution = locks.execution(7, &mut none).await;
//! let machine = locks.machine_exclusive("arn", &mut none).await; // the wrong order
//! # drop((execution, machine)); }
//! ```
//!
//! An [`Unlocked`] is made only where no lock can be held: at the top of an engine entry point
//! (an API call, a due timer, a call's result), and the functions below them ask for it.
//! Locks are striped (a fixed array indexed by a hash of the key), so unrelated keys may share a
//! stripe; that is harmless because a task never holds two locks of one namespace.

use tokio::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Stripes per namespace: enough that unrelated keys rarely share one.
const STRIPES: usize = 1024;

/// Proof that its holder holds no engine lock.
#[derive(Debug)]
pub struct Unlocked(());

impl Unlocked {
    /// For an engine entry point, where no lock is held yet.
    pub(crate) fn at_entry() -> Self {
        Unlocked(())
    }
}

/// What an execution lock may be taken under: nothing, or a state machine's lock.
pub trait MayLockExecution {}
impl MayLockExecution for Unlocked {}
impl MayLockExecution for MachineShared<'_> {}
impl MayLockExecution for MachineExclusive<'_> {}

/// Proof that a state machine's lock is held (shared or exclusive).
pub trait HoldsMachine {}
impl HoldsMachine for MachineShared<'_> {}
impl HoldsMachine for MachineExclusive<'_> {}

/// A state machine held shared: it cannot be created, updated or deleted meanwhile.
#[derive(Debug)]
pub struct MachineShared<'a> {
    _guard: RwLockReadGuard<'a, ()>,
}

/// A state machine held exclusively.
#[derive(Debug)]
pub struct MachineExclusive<'a> {
    _guard: RwLockWriteGuard<'a, ()>,
}

/// An execution held exclusively. It borrows what it was taken under, so nothing else can be
/// locked while it lives.
#[derive(Debug)]
pub struct ExecutionGuard<'a> {
    _guard: MutexGuard<'a, ()>,
}

/// The two namespaces of locks.
#[derive(Debug)]
pub struct Locks {
    machines: Vec<RwLock<()>>,
    executions: Vec<Mutex<()>>,
}

impl Default for Locks {
    fn default() -> Self {
        Self {
            machines: (0..STRIPES).map(|_| RwLock::new(())).collect(),
            executions: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// What names an execution's lock: its row id once it exists, its ARN while it is started.
pub trait ExecutionLockKey {
    fn stripe(&self) -> usize;
}

impl ExecutionLockKey for i64 {
    fn stripe(&self) -> usize {
        (self.unsigned_abs() % STRIPES as u64) as usize
    }
}

impl ExecutionLockKey for &str {
    fn stripe(&self) -> usize {
        (crate::model::hash::stable_hash(self) % STRIPES as u64) as usize
    }
}

impl Locks {
    fn machine_stripe(&self, arn: &str) -> &RwLock<()> {
        &self.machines[(crate::model::hash::stable_hash(arn) % STRIPES as u64) as usize]
    }

    /// Hold a state machine shared (starting one of its executions).
    pub async fn machine_shared<'a>(
        &'a self,
        arn: &str,
        _none: &'a mut Unlocked,
    ) -> MachineShared<'a> {
        MachineShared {
            _guard: self.machine_stripe(arn).read().await,
        }
    }

    /// Hold a state machine exclusively (changing or deleting it).
    pub async fn machine_exclusive<'a>(
        &'a self,
        arn: &str,
        _none: &'a mut Unlocked,
    ) -> MachineExclusive<'a> {
        MachineExclusive {
            _guard: self.machine_stripe(arn).write().await,
        }
    }

    /// Hold an execution, under nothing or under its state machine's lock.
    pub async fn execution<'a>(
        &'a self,
        key: impl ExecutionLockKey,
        _under: &'a mut impl MayLockExecution,
    ) -> ExecutionGuard<'a> {
        ExecutionGuard {
            _guard: self.executions[key.stripe()].lock().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The `m948` case: a machine and an execution whose keys fall in the same stripe. With
    /// one shared array the second lock waited on the first; the namespaces are separate now.
    #[tokio::test]
    async fn a_machine_and_an_execution_in_the_same_stripe_do_not_wait_on_each_other() {
        let locks = Locks::default();
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m948";
        let execution_id = (crate::model::hash::stable_hash(machine) % STRIPES as u64) as i64;
        let mut none = Unlocked::at_entry();
        let mut held = locks.machine_exclusive(machine, &mut none).await;
        let taken = tokio::time::timeout(
            Duration::from_secs(1),
            locks.execution(execution_id, &mut held),
        )
        .await;
        assert!(taken.is_ok(), "the execution lock waited on the machine's");
    }

    #[tokio::test]
    async fn starts_of_one_machine_share_it_and_a_change_waits_for_them() {
        let locks = Locks::default();
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        let (mut a, mut b, mut c, mut d) = (
            Unlocked::at_entry(),
            Unlocked::at_entry(),
            Unlocked::at_entry(),
            Unlocked::at_entry(),
        );
        let first = locks.machine_shared(machine, &mut a).await;
        let second = tokio::time::timeout(
            Duration::from_secs(1),
            locks.machine_shared(machine, &mut b),
        )
        .await;
        assert!(
            second.is_ok(),
            "two starts of one machine wait on each other"
        );
        let change = tokio::time::timeout(
            Duration::from_millis(50),
            locks.machine_exclusive(machine, &mut c),
        )
        .await;
        assert!(
            change.is_err(),
            "an update ran while a start held the machine"
        );
        drop((first, second));
        let change = tokio::time::timeout(
            Duration::from_secs(1),
            locks.machine_exclusive(machine, &mut d),
        )
        .await;
        assert!(change.is_ok(), "the update waits after the starts are done");
    }
}

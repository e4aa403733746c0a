//! Deadlines: the in-memory window, the loader that pages it in from disk, the firing loop.
//!
//! Every deadline lives in the `timers` table (written in the same commit as the event that
//! armed it). Only those due before `loaded_until` (about `horizon` ahead of now) are also in
//! the [`wheel::Wheel`]; the loader pages later ones in as the horizon advances, so memory is
//! bounded by the horizon, not by the number of pending executions.
//!
//! The loader stops while the wheel holds a page of timers (`load_batch`) and goes on as they
//! fire, so however many deadlines passed while the daemon was down (a million after a long
//! outage), memory holds one page of them at a time, and they fire oldest first.
//!
//! A deadline committed while a page is being read could be missed by both the page and the
//! wheel; to close that gap the window's new end is published *before* the page is read, and
//! [`TimerService::arm`] inserts anything below it. Inserting a key twice is harmless (the
//! wheel holds each key once), and firing a stale timer is harmless (the engine ignores it).

pub mod clock;
pub mod wheel;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::cluster::Ownership;
use crate::metrics;
use crate::model::TimerKey;
use crate::store::ports::TimerReads;
use crate::store::TimerRow;
pub use clock::{Clock, ManualClock, SystemClock};
use wheel::Wheel;

/// A due timer, handed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub key: TimerKey,
    pub due_ms: i64,
}

struct Window {
    wheel: Wheel<TimerKey>,
    /// Deadlines below this are in the wheel (or being loaded into it).
    loaded_until: i64,
    /// The last row read by the loader; the next page starts after it.
    cursor: Option<TimerRow>,
    /// Bumped by [`TimerService::reset`]: a page read before it must not move the cursor or
    /// the window's end, or the timers of partitions gained meanwhile would be skipped.
    generation: u64,
}

/// The timer window. Shared between the engine (arm/cancel) and its own loop.
pub struct TimerService<R> {
    window: Mutex<Window>,
    wake: Notify,
    clock: Arc<dyn Clock>,
    store: R,
    /// Whose timers to load: the partitions this node holds.
    ownership: Arc<Ownership>,
    horizon_ms: i64,
    load_batch: usize,
}

impl<R> std::fmt::Debug for TimerService<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerService")
            .field("horizon_ms", &self.horizon_ms)
            .finish()
    }
}

impl<R: TimerReads> TimerService<R> {
    pub fn new(
        store: R,
        ownership: Arc<Ownership>,
        clock: Arc<dyn Clock>,
        horizon_secs: u64,
        load_batch: usize,
    ) -> Self {
        let now = clock.now_ms();
        Self {
            window: Mutex::new(Window {
                wheel: Wheel::new(now),
                loaded_until: i64::MIN,
                cursor: None,
                generation: 0,
            }),
            wake: Notify::new(),
            clock,
            store,
            ownership,
            horizon_ms: i64::try_from(horizon_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            load_batch: load_batch.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        // The window holds no invariant a panicking holder could break half-way that matters
        // more than staying up; take the data either way.
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A timer was committed: hold it in memory if it falls inside the window.
    pub fn arm(&self, key: TimerKey, due_ms: i64) {
        let mut w = self.lock();
        if due_ms < w.loaded_until {
            let earliest = w.wheel.next_due();
            w.wheel.insert(key, due_ms);
            metrics::set_timers_in_memory(w.wheel.len());
            drop(w);
            if earliest.is_none_or(|e| due_ms < e) {
                self.wake.notify_one();
            }
        }
    }

    /// Read the window again from the start (this node's partitions changed: the timers of
    /// those it gained must come in). Timers already in the wheel stay; reading one again is
    /// harmless.
    pub fn reset(&self) {
        let mut w = self.lock();
        w.loaded_until = i64::MIN;
        w.cursor = None;
        w.generation += 1;
        drop(w);
        self.wake.notify_one();
    }

    /// A timer's row was deleted: forget it.
    pub fn cancel(&self, key: TimerKey) {
        let mut w = self.lock();
        w.wheel.cancel(&key);
        metrics::set_timers_in_memory(w.wheel.len());
    }

    /// Read the next page of deadlines into the window, up to `now + horizon`, unless the
    /// wheel already holds a page's worth.
    /// Returns whether the window now reaches the horizon (false: a page was full, or the wheel
    /// was; call again once timers have fired).
    pub async fn load(&self) -> crate::store::Result<bool> {
        let now = self.clock.now_ms();
        let target = now.saturating_add(self.horizon_ms);
        let (cursor, generation) = {
            let mut w = self.lock();
            if w.loaded_until >= target {
                return Ok(true);
            }
            if w.wheel.len() >= self.load_batch {
                return Ok(false);
            }
            // Publish the new end first (see the module docs).
            w.loaded_until = w.loaded_until.max(target);
            (w.cursor, w.generation)
        };
        let limit = i64::try_from(self.load_batch).unwrap_or(i64::MAX);
        let held = self.ownership.held();
        let rows = self
            .store
            .timers_due(cursor, target, limit, held.as_deref())
            .await?;
        let full = rows.len() >= self.load_batch;
        let mut w = self.lock();
        for r in &rows {
            w.wheel.insert(r.key(), r.due_ms);
        }
        if w.generation != generation {
            // Reset while this page was read: the next load starts over from the beginning
            // (with the partitions held now); the rows read are timers all the same.
            metrics::set_timers_in_memory(w.wheel.len());
            drop(w);
            self.wake.notify_one();
            return Ok(false);
        }
        if let Some(last) = rows.last() {
            w.cursor = Some(*last);
        }
        if full {
            // Memory stays bounded: stop the window at the last row read.
            if let Some(last) = rows.last() {
                w.loaded_until = last.due_ms + 1;
            }
        }
        metrics::set_timers_in_memory(w.wheel.len());
        drop(w);
        if !rows.is_empty() {
            self.wake.notify_one();
        }
        Ok(!full)
    }

    /// Take every timer due now.
    pub fn take_due(&self) -> Vec<Fired> {
        let now = self.clock.now_ms();
        let mut w = self.lock();
        let fired = w.wheel.advance(now);
        metrics::set_timers_in_memory(w.wheel.len());
        fired
            .into_iter()
            .map(|(due_ms, key)| Fired { key, due_ms })
            .collect()
    }

    /// How long the loop may sleep: until the next deadline or the next page load (no page is
    /// loaded while the wheel is full, so then only the next deadline counts).
    fn sleep_for(&self) -> Duration {
        let now = self.clock.now_ms();
        let mut w = self.lock();
        let reload_at = if w.wheel.len() >= self.load_batch {
            i64::MAX
        } else {
            w.loaded_until.saturating_sub(self.horizon_ms / 2)
        };
        let wake_at = w.wheel.next_due().map_or(reload_at, |d| d.min(reload_at));
        Duration::from_millis(
            u64::try_from(wake_at.saturating_sub(now))
                .unwrap_or(0)
                .min(1_000),
        )
    }

    /// The firing loop: load, fire due timers into `out` (oldest first; a full channel slows
    /// the loop, which bounds the firing rate), sleep. Ends when `shutdown` is cancelled.
    pub async fn run(self: Arc<Self>, out: mpsc::Sender<Fired>, shutdown: CancellationToken) {
        loop {
            match self.load().await {
                Ok(true) => {}
                Ok(false) => tokio::task::yield_now().await,
                Err(e) => {
                    tracing::error!(error = %e, "loading timers failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
            for fired in self.take_due() {
                tokio::select! {
                    r = out.send(fired) => if r.is_err() { return },
                    _ = shutdown.cancelled() => return,
                }
            }
            let pause = self.sleep_for();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventId, ExecutionId};
    use crate::store::memory::MemoryStore;
    use crate::store::ports::Commit;
    use crate::store::{WhenFull, WriteOp};

    async fn service(
        horizon_secs: u64,
        load_batch: usize,
    ) -> (
        Arc<TimerService<MemoryStore>>,
        Arc<ManualClock>,
        MemoryStore,
    ) {
        let store = MemoryStore::default();
        let clock = Arc::new(ManualClock::new(1_000_000));
        let svc = Arc::new(TimerService::new(
            store.clone(),
            Arc::new(Ownership::all(256)),
            clock.clone(),
            horizon_secs,
            load_batch,
        ));
        (svc, clock, store)
    }

    fn key(execution: i64) -> TimerKey {
        TimerKey {
            execution: ExecutionId(execution),
            event: EventId(1),
        }
    }

    async fn store_timers(store: &MemoryStore, dues: &[(i64, i64)]) {
        let ops = dues
            .iter()
            .map(|&(execution_id, due_ms)| {
                WriteOp::InsertTimer(TimerRow {
                    partition: 0,
                    due_ms,
                    execution_id,
                    seq: 1,
                })
            })
            .collect();
        store
            .commit(ops, WhenFull::Wait)
            .await
            .expect("insert timers");
    }

    fn ids(fired: &[Fired]) -> Vec<i64> {
        fired.iter().map(|f| f.key.execution.0).collect()
    }

    #[tokio::test]
    async fn only_the_horizon_is_in_memory_and_nothing_fires_early() {
        let (svc, clock, store) = service(60, 1000).await;
        // Due in 10 s, 30 min and 2 days.
        store_timers(&store, &[(1, 1_010_000), (2, 2_800_000), (3, 173_800_000)]).await;
        assert!(svc.load().await.expect("load"));
        assert_eq!(
            svc.lock().wheel.len(),
            1,
            "only the 10 s timer is within 60 s"
        );
        clock.set(1_009_999);
        assert!(svc.take_due().is_empty(), "never early");
        clock.set(1_010_000);
        assert_eq!(ids(&svc.take_due()), vec![1]);
        clock.set(2_790_000);
        while !svc.load().await.expect("load") {}
        assert!(svc.take_due().is_empty());
        clock.set(2_800_000);
        assert_eq!(ids(&svc.take_due()), vec![2]);
        clock.set(173_800_000);
        while !svc.load().await.expect("load") {}
        assert_eq!(ids(&svc.take_due()), vec![3]);
    }

    #[tokio::test]
    async fn arm_keeps_timers_inside_the_window_and_leaves_later_ones_to_the_loader() {
        let (svc, clock, store) = service(60, 1000).await;
        assert!(svc.load().await.expect("load"));
        svc.arm(key(7), 1_005_000);
        svc.arm(key(8), 5_000_000); // beyond the window: stays on disk only
        store_timers(&store, &[(8, 5_000_000)]).await;
        assert_eq!(svc.lock().wheel.len(), 1);
        clock.set(5_000_000);
        while !svc.load().await.expect("load") {}
        assert_eq!(
            ids(&svc.take_due()),
            vec![7, 8],
            "overdue ones fire oldest first"
        );
        svc.arm(key(9), 5_001_000);
        svc.cancel(key(9));
        clock.set(5_002_000);
        assert!(svc.take_due().is_empty(), "a cancelled timer does not fire");
    }

    /// A store whose reads wait, after reading, until the test lets them answer.
    #[derive(Clone)]
    struct Gated {
        store: MemoryStore,
        gate: Arc<tokio::sync::Semaphore>,
    }

    impl TimerReads for Gated {
        async fn timers_due(
            &self,
            after: Option<TimerRow>,
            until_ms: i64,
            limit: i64,
            held: Option<&[i64]>,
        ) -> crate::store::Result<Vec<TimerRow>> {
            let rows = self.store.timers_due(after, until_ms, limit, held).await;
            self.gate.acquire().await.expect("gate").forget();
            rows
        }

        async fn count_timers(&self) -> crate::store::Result<i64> {
            self.store.count_timers().await
        }
    }

    #[tokio::test]
    async fn a_partition_gained_while_a_page_is_read_has_all_its_timers_loaded() {
        use crate::cluster::ownership::Held;
        use std::collections::BTreeMap;
        let store = MemoryStore::default();
        let ops = [(0, 1, 1_000_600), (1, 2, 1_000_500)]
            .into_iter()
            .map(|(partition, execution_id, due_ms)| {
                WriteOp::InsertTimer(TimerRow {
                    partition,
                    due_ms,
                    execution_id,
                    seq: 1,
                })
            })
            .collect();
        store.commit(ops, WhenFull::Wait).await.expect("insert");
        let ownership = Arc::new(Ownership::leased(2));
        let hold = |ps: &[i64]| {
            let until = std::time::Instant::now() + Duration::from_secs(60);
            ps.iter()
                .map(|&p| (p, Held { epoch: 1, until }))
                .collect::<BTreeMap<_, _>>()
        };
        ownership.set(hold(&[0]));
        let clock = Arc::new(ManualClock::new(1_000_000));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let svc = Arc::new(TimerService::new(
            Gated {
                store,
                gate: gate.clone(),
            },
            ownership.clone(),
            clock.clone(),
            60,
            1000,
        ));
        // A page is read while only partition 0 is held; partition 1 is gained before it
        // answers.
        let page = tokio::spawn({
            let svc = svc.clone();
            async move { svc.load().await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        ownership.set(hold(&[0, 1]));
        svc.reset();
        gate.add_permits(1);
        page.await.expect("page").expect("load");
        gate.add_permits(10);
        while !svc.load().await.expect("load") {}
        clock.set(1_001_000);
        assert_eq!(
            ids(&svc.take_due()),
            vec![2, 1],
            "the gained partition's earlier timer is loaded too"
        );
    }

    #[tokio::test]
    async fn the_loader_pages_so_memory_stays_bounded() {
        let (svc, clock, store) = service(60, 100).await;
        let many: Vec<(i64, i64)> = (0..1_000).map(|i| (i, 1_000_000 + i)).collect();
        store_timers(&store, &many).await;
        assert!(
            !svc.load().await.expect("load"),
            "a full page asks for another"
        );
        assert_eq!(svc.lock().wheel.len(), 100);
        clock.set(1_001_000);
        let mut fired = Vec::new();
        for _ in 0..20 {
            svc.load().await.expect("load");
            fired.extend(svc.take_due());
            assert!(svc.lock().wheel.len() <= 100, "at most one page in memory");
        }
        assert_eq!(fired.len(), 1_000, "all fire, none lost");
        assert!(
            fired.windows(2).all(|w| w[0].due_ms <= w[1].due_ms),
            "in due order"
        );
    }
}

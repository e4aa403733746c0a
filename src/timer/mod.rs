//! Deadlines: the in-memory window, the loader that pages it in from disk, the firing loop.
//!
//! Every deadline lives in the `timers` table (written in the same commit as the event that
//! armed it). Only those due before `loaded_until` (about `horizon` ahead of now) are also in
//! the [`wheel::Wheel`]; the loader pages later ones in as the horizon advances, so memory is
//! bounded by the horizon, not by the number of pending executions.
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

use crate::metrics;
use crate::store::{Store, TimerRow};
pub use clock::{Clock, ManualClock, SystemClock};
use wheel::Wheel;

/// A timer is named by its execution and the sequence number the interpreter gave it.
pub type TimerKey = (i64, i64);

/// A due timer, handed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub execution_id: i64,
    pub seq: i64,
    pub due_ms: i64,
}

struct Window {
    wheel: Wheel<TimerKey>,
    /// Deadlines below this are in the wheel (or being loaded into it).
    loaded_until: i64,
    /// The last row read by the loader; the next page starts after it.
    cursor: Option<TimerRow>,
}

/// The timer window. Shared between the engine (arm/cancel) and its own loop.
pub struct TimerService {
    window: Mutex<Window>,
    wake: Notify,
    clock: Arc<dyn Clock>,
    store: Store,
    horizon_ms: i64,
    load_batch: usize,
}

impl std::fmt::Debug for TimerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerService")
            .field("horizon_ms", &self.horizon_ms)
            .finish()
    }
}

impl TimerService {
    pub fn new(store: Store, clock: Arc<dyn Clock>, horizon_secs: u64, load_batch: usize) -> Self {
        let now = clock.now_ms();
        Self {
            window: Mutex::new(Window {
                wheel: Wheel::new(now),
                loaded_until: i64::MIN,
                cursor: None,
            }),
            wake: Notify::new(),
            clock,
            store,
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
    pub fn arm(&self, execution_id: i64, seq: i64, due_ms: i64) {
        let mut w = self.lock();
        if due_ms < w.loaded_until {
            let earliest = w.wheel.next_due();
            w.wheel.insert((execution_id, seq), due_ms);
            metrics::set_timers_in_memory(w.wheel.len());
            drop(w);
            if earliest.is_none_or(|e| due_ms < e) {
                self.wake.notify_one();
            }
        }
    }

    /// A timer's row was deleted: forget it.
    pub fn cancel(&self, execution_id: i64, seq: i64) {
        let mut w = self.lock();
        w.wheel.cancel(&(execution_id, seq));
        metrics::set_timers_in_memory(w.wheel.len());
    }

    /// Read the next page(s) of deadlines into the window, up to `now + horizon`.
    /// Returns whether the window now reaches the horizon (false: a page was full, call again).
    pub async fn load(&self) -> crate::store::Result<bool> {
        let now = self.clock.now_ms();
        let target = now.saturating_add(self.horizon_ms);
        let cursor = {
            let mut w = self.lock();
            if w.loaded_until >= target {
                return Ok(true);
            }
            // Publish the new end first (see the module docs).
            w.loaded_until = w.loaded_until.max(target);
            w.cursor
        };
        let limit = i64::try_from(self.load_batch).unwrap_or(i64::MAX);
        let rows = self.store.timers_due(cursor, target, limit).await?;
        let full = rows.len() >= self.load_batch;
        let mut w = self.lock();
        for r in &rows {
            w.wheel.insert((r.execution_id, r.seq), r.due_ms);
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
            .map(|(due_ms, (execution_id, seq))| Fired {
                execution_id,
                seq,
                due_ms,
            })
            .collect()
    }

    /// How long the loop may sleep: until the next deadline or the next page load.
    fn sleep_for(&self) -> Duration {
        let now = self.clock.now_ms();
        let w = self.lock();
        let reload_at = w.loaded_until.saturating_sub(self.horizon_ms / 2);
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

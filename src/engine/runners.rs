//! The engine's long-running loops: making calls and recording their results, handling due
//! timers, and sweeping closed executions past their retention. Each ends on its shutdown token.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::activities::Offer;
use super::calls::{CallKey, Next};
use crate::asl::run::CallKind;
use crate::asl::StatesError;
use crate::invoke::{Invocation, Invoker, Outcome};
use crate::store::{self, Store, WhenFull};
use crate::timer::Fired;

use super::{Engine, Error, Result, RESULT_RETRY_MAX};

impl<S: Store> Engine<S> {
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
                    // A partition this node gave up (or lost) is called by its new owner.
                    if self.ownership.epoch(next.partition).is_none() {
                        self.calls.finish(next.key);
                        continue;
                    }
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
            // Only a map run's driver watches for the shutdown itself.
            let stopping = (next.invocation.kind == CallKind::MapRun).then(|| shutdown.clone());
            tasks.spawn(async move {
                let Next {
                    key,
                    invocation,
                    cancelled,
                    partition: next_partition,
                } = next;
                if let Some(outcome) = invoker.mocked(&invocation) {
                    drop(permit);
                    Box::pin(engine.record_result(key, outcome, &hard_stop)).await;
                    engine.calls.finish(key);
                    return;
                }
                if invocation.kind == CallKind::Activity {
                    // Nothing to call: the task waits on the board for a worker, which
                    // finishes it when it takes it.
                    drop(permit);
                    let offer = Offer { key, cancelled };
                    let refused = engine
                        .offer_activity_task(&invocation.function_name, offer)
                        .await;
                    if let Some(outcome) = refused {
                        Box::pin(engine.record_result(key, outcome, &hard_stop)).await;
                        engine.calls.finish(key);
                    }
                    return;
                }
                if let Some(stopping) = stopping {
                    // A map run lasts as long as its children: it holds no call's permit, and
                    // stops at once on shutdown (the next start resumes it).
                    drop(permit);
                    let run =
                        engine.run_map_run(next_partition, &invocation, &cancelled, &stopping);
                    if let Some(outcome) = Box::pin(run).await {
                        Box::pin(engine.record_result(key, outcome, &hard_stop)).await;
                    }
                    engine.calls.finish(key);
                    return;
                }
                let outcome = if invocation.kind == CallKind::StartExecution {
                    let started = match engine.remote().cloned() {
                        Some(remote) => {
                            let start = engine.start_remote_child(
                                &remote,
                                key,
                                next_partition,
                                &invocation,
                            );
                            tokio::select! {
                                biased;
                                _ = cancelled.cancelled() => None,
                                _ = hard_stop.cancelled() => None,
                                o = start => Some(o),
                            }
                        }
                        None => Some(
                            Box::pin(engine.start_child(key, next_partition, &invocation)).await,
                        ),
                    };
                    started
                } else {
                    tokio::select! {
                        biased;
                        _ = cancelled.cancelled() => None,
                        _ = hard_stop.cancelled() => None,
                        o = invoker.invoke(invocation) => Some(o),
                    }
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
        let held = self.ownership.held();
        let rows = match self
            .store
            .tasks_after(after, limit as i64, held.as_deref())
            .await
        {
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
                Ok(inv) => readable.push((key, row.partition, inv)),
                Err(e) => unreadable.push((key, e)),
            }
        }
        let considered = self.calls.end_page(readable.clone());
        if let Some((key, _, _)) = readable.get(considered.wrapping_sub(1)) {
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
                // Another node holds the execution now and makes the call again itself.
                Err(Error::NotOwner(_) | Error::Store(store::Error::Fenced(_))) => return,
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

    /// Remove closed executions older than `retention` (with their history) every `every`,
    /// until `shutdown`. A sweep never has the writer to itself: it removes a small batch,
    /// then pauses as long as that batch took, so other writes wait at most one batch and the
    /// sweep takes at most half of the writer's time. It chooses many executions at once and
    /// removes them in the order of their ids, so that a batch's rows and history sit on
    /// neighbouring pages (in the order they closed, each would dirty pages of its own).
    pub async fn run_retention(
        self: Arc<Self>,
        retention: Duration,
        every: Duration,
        shutdown: CancellationToken,
    ) {
        const CHOSEN: i64 = 10_000;
        const BATCH: usize = 100;
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => return,
            }
            if !self.release_free_pages(&shutdown).await {
                return;
            }
            let cutoff = self.clock.now_ms().saturating_sub(retention_ms);
            'sweep: loop {
                let mut ids = match self.store.closed_before(cutoff, CHOSEN).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(error = %e, "retention sweep failed; trying again later");
                        break;
                    }
                };
                if ids.is_empty() {
                    break;
                }
                ids.sort_unstable();
                for batch in ids.chunks(BATCH) {
                    if shutdown.is_cancelled() {
                        return;
                    }
                    let began = std::time::Instant::now();
                    let op = store::WriteOp::DeleteExecutions {
                        ids: batch.to_vec(),
                    };
                    if let Err(e) = self.commit(vec![op], WhenFull::Wait).await {
                        tracing::warn!(error = %e, "retention sweep failed; trying again later");
                        break 'sweep;
                    }
                    crate::metrics::retention_removed(batch.len() as u64);
                    tokio::select! {
                        _ = tokio::time::sleep(began.elapsed()) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }

    /// Give back to the file system the database pages that stayed free since the last sweep,
    /// beyond a small reserve: between two sweeps new executions reuse the pages a sweep
    /// freed, so pages still free when the next one begins are more than the load needs (the
    /// file grew while a sweep fell behind, say). A few MiB at a time, paced like the sweep.
    /// Returns false when `shutdown` came.
    async fn release_free_pages(&self, shutdown: &CancellationToken) -> bool {
        /// Pages given back by one commit (4 MiB of 4 KiB pages).
        const ROUND: u64 = 1024;
        let surplus = match self.store.free_pages().await {
            // The reserve: 1/64 of the file.
            Ok(Some(pages)) => pages.free.saturating_sub(pages.total / 64),
            Ok(None) => 0,
            Err(e) => {
                tracing::warn!(error = %e, "reading the database's free pages failed");
                0
            }
        };
        let mut left = surplus;
        while left > 0 {
            if shutdown.is_cancelled() {
                return false;
            }
            let pages = left.min(ROUND);
            let began = std::time::Instant::now();
            let op = store::WriteOp::ReleaseFreePages {
                pages: u32::try_from(pages).unwrap_or(u32::MAX),
            };
            if let Err(e) = self.commit(vec![op], WhenFull::Wait).await {
                tracing::warn!(error = %e, "giving free pages back failed; trying again later");
                break;
            }
            crate::metrics::pages_released(pages);
            left -= pages;
            tokio::select! {
                _ = tokio::time::sleep(began.elapsed()) => {}
                _ = shutdown.cancelled() => return false,
            }
        }
        if surplus > 0 {
            tracing::info!(pages = surplus - left, "gave free database pages back");
        }
        true
    }

    /// Handle due timers until `shutdown`: each one runs on its own task, at most
    /// `max_in_flight` at once while timers fire on time, and up to `BEHIND_FACTOR` times as
    /// many while they wait past their deadlines (see `FirePermits`).
    pub async fn run_timers(
        self: Arc<Self>,
        mut fired: mpsc::Receiver<Fired>,
        max_in_flight: usize,
        shutdown: CancellationToken,
    ) {
        let permits = FirePermits::new(max_in_flight);
        let tasks = tokio_util::task::TaskTracker::new();
        loop {
            let next = tokio::select! {
                f = fired.recv() => f,
                _ = shutdown.cancelled() => None,
            };
            let Some(f) = next else { break };
            let late_ms = self.clock.now_ms().saturating_sub(f.due_ms);
            let Some(permit) = permits.acquire(late_ms).await else {
                break;
            };
            // Boxed, so the task spawned holds a pointer to the timer's work, not the work.
            let engine = self.clone();
            let work = Box::pin(async move { engine.on_timer(f).await });
            tasks.spawn(async move {
                work.await;
                drop(permit);
            });
        }
        tasks.close();
        tasks.wait().await;
    }
}

/// How late (ms) a due timer still waiting for a permit must be before it may take one of the
/// extra permits: the engine is then behind its deadlines, not merely busy.
const BEHIND_MS: i64 = 50;
/// The most timers in flight while behind, as a multiple of `timer.max_in_flight`.
pub const BEHIND_FACTOR: usize = 4;

/// The permits of timers in flight. While timers fire on time, `max_in_flight` of them are
/// handled at once, which keeps each commit small and the lateness of a spread of deadlines
/// low. A burst of deadlines (a million due in the same second) leaves the wheel ahead of the
/// engine: once a timer has waited [`BEHIND_MS`] past its deadline it may also take one of the
/// extra permits, up to [`BEHIND_FACTOR`] times as many in flight, so commits grow and each
/// fire costs less. The extra permits go back as the backlog drains.
struct FirePermits {
    base: Arc<Semaphore>,
    extra: Arc<Semaphore>,
}

impl FirePermits {
    fn new(max_in_flight: usize) -> Self {
        let base = max_in_flight.max(1);
        Self {
            base: Arc::new(Semaphore::new(base)),
            extra: Arc::new(Semaphore::new(base * (BEHIND_FACTOR - 1))),
        }
    }

    /// A permit for a timer `late_ms` past its deadline; `None` once the permits are closed.
    async fn acquire(&self, late_ms: i64) -> Option<OwnedSemaphorePermit> {
        if let Ok(p) = self.base.clone().try_acquire_owned() {
            return Some(p);
        }
        let on_time_for = BEHIND_MS.saturating_sub(late_ms.max(0));
        if on_time_for > 0 {
            tokio::select! {
                p = self.base.clone().acquire_owned() => return p.ok(),
                _ = tokio::time::sleep(Duration::from_millis(on_time_for as u64)) => {}
            }
        }
        tokio::select! {
            biased;
            p = self.base.clone().acquire_owned() => p.ok(),
            p = self.extra.clone().acquire_owned() => p.ok(),
        }
    }
}

#[cfg(test)]
mod fire_permit_tests {
    use super::*;
    use std::future::Future;
    use std::time::Instant;

    /// Whether `f` completes within `ms` (with 0: on its first poll). The waits for "not yet"
    /// are safe on a slow machine, as a sleep never ends early; those for "done" are generous.
    async fn within<T>(ms: u64, f: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout(Duration::from_millis(ms), f)
            .await
            .ok()
    }

    #[tokio::test]
    async fn on_time_timers_wait_for_the_base_permits() {
        let permits = FirePermits::new(2);
        let a = within(0, permits.acquire(0)).await.flatten();
        let b = within(0, permits.acquire(0)).await.flatten();
        assert!(
            a.is_some() && b.is_some(),
            "the base permits are taken at once"
        );
        // A third timer on time waits: it may not take an extra permit before it is 50 ms late.
        assert!(within(40, permits.acquire(0)).await.is_none());
        // A released base permit goes to the waiting timer.
        drop(a);
        assert!(within(5_000, permits.acquire(0)).await.flatten().is_some());
    }

    #[tokio::test]
    async fn timers_behind_their_deadlines_take_the_extra_permits() {
        let permits = FirePermits::new(2);
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(permits.acquire(0).await.expect("base permit"));
        }
        // A timer 10 ms late gets an extra permit once it has waited until it is 50 ms late.
        let started = Instant::now();
        let p = within(5_000, permits.acquire(10)).await.flatten();
        held.push(p.expect("extra permit"));
        assert!(started.elapsed() >= Duration::from_millis(40));
        // A timer already late takes one on the first poll, up to four times the base in all.
        for _ in 0..5 {
            let p = within(0, permits.acquire(500)).await.flatten();
            held.push(p.expect("extra permit at once"));
        }
        assert_eq!(held.len(), 2 * BEHIND_FACTOR);
        // With every permit out, even a late timer waits until one comes back.
        assert!(within(100, permits.acquire(500)).await.is_none());
        held.pop();
        assert!(within(5_000, permits.acquire(500))
            .await
            .flatten()
            .is_some());
    }
}

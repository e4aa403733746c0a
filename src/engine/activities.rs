//! Activities: CreateActivity, DescribeActivity, DeleteActivity, ListActivities, and the
//! tasks their workers take with GetActivityTask.
//!
//! An activity Task's attempt is a row of the `tasks` table like a Lambda call, written in
//! the commit of its ActivityScheduled event. The call dispatcher does not call anything for
//! it: it offers the task on the activity's [`Board`], in memory. A poller takes the first
//! offer and commits ActivityStarted for it, deleting the row in the same commit, before
//! the token and input go back to the worker:
//!
//! ```text
//!  ActivityScheduled ──(tasks row)──> dispatcher ──offer──> board ──take──> poller
//!                                                                          │ commit ActivityStarted,
//!                                                                          │ delete the row
//!                                                           worker <── token, input
//! ```
//!
//! So a task is given to one worker at most: offers are taken under the board's lock, and
//! the commit checks under the execution's lock that the attempt is still waiting to start.
//! A task offered but not yet taken when the daemon stops keeps its row and is offered again
//! after the next start; a task taken by a worker that then dies times out by its
//! TimeoutSeconds or HeartbeatSeconds, as on AWS. A waiting poller costs a future and a
//! [`Notify`] registration: no thread, no database connection.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::calls::CallKey;
use super::locks::Unlocked;
use super::{Engine, Error, Result};
use crate::asl::run::{Frame, TaskProgress};
use crate::asl::{catalogue, Event, ExecutionState};
use crate::model::{arn, TaskToken};
use crate::store::{self, ActivityRow, Store, WhenFull, WriteOp};

/// AWS's limit on workers polling one activity at once.
pub const MAX_POLLERS: usize = 1_000;

/// The longest a GetActivityTask waits for a task (AWS: 60 seconds).
pub const POLL_WAIT: Duration = Duration::from_secs(60);

/// A task offered to an activity's workers (its input is read from the execution when a
/// worker takes it, so an offer weighs a few bytes).
#[derive(Debug)]
pub struct Offer {
    pub key: CallKey,
    /// Cancelled when the attempt is over before a worker took it (timeout, stop).
    pub cancelled: CancellationToken,
}

#[derive(Debug, Default)]
struct Queue {
    offers: VecDeque<Offer>,
    pollers: usize,
    wake: Arc<Notify>,
}

/// The tasks offered to each activity's workers, and the workers waiting.
#[derive(Debug, Default)]
pub struct Board {
    queues: Mutex<HashMap<String, Queue>>,
}

/// A poller's place on the board; leaving it passes a wake-up it may have taken on.
struct Polling<'a> {
    board: &'a Board,
    activity: String,
    wake: Arc<Notify>,
}

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let mut queues = self.board.lock();
        if let Some(q) = queues.get_mut(&self.activity) {
            q.pollers -= 1;
            if !q.offers.is_empty() {
                q.wake.notify_one();
            } else if q.pollers == 0 {
                queues.remove(&self.activity);
            }
        }
    }
}

impl Board {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Queue>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offer a task to the workers of `activity`.
    pub fn offer(&self, activity: &str, offer: Offer) {
        let mut queues = self.lock();
        let q = queues.entry(activity.to_owned()).or_default();
        // Offers whose attempts ended while no one polled go now and then.
        if q.offers.len() >= 1024 && q.offers.len().is_power_of_two() {
            q.offers.retain(|o| !o.cancelled.is_cancelled());
        }
        q.offers.push_back(offer);
        q.wake.notify_one();
    }

    /// Join the pollers of `activity`; `None` when it has [`MAX_POLLERS`] already.
    fn join(&self, activity: &str) -> Option<Polling<'_>> {
        let mut queues = self.lock();
        let q = queues.entry(activity.to_owned()).or_default();
        if q.pollers >= MAX_POLLERS {
            return None;
        }
        q.pollers += 1;
        Some(Polling {
            board: self,
            activity: activity.to_owned(),
            wake: q.wake.clone(),
        })
    }

    /// The oldest task still offered, taken off the board.
    fn take(&self, activity: &str) -> Option<Offer> {
        let mut queues = self.lock();
        let q = queues.get_mut(activity)?;
        while let Some(offer) = q.offers.pop_front() {
            if !offer.cancelled.is_cancelled() {
                return Some(offer);
            }
        }
        None
    }

    /// Tasks offered and workers waiting, for an activity.
    #[cfg(test)]
    pub fn counts(&self, activity: &str) -> (usize, usize) {
        self.lock()
            .get(activity)
            .map_or((0, 0), |q| (q.offers.len(), q.pollers))
    }
}

/// A task a worker took: its token and input.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityTask {
    pub token: String,
    pub input: String,
}

impl<S: Store> Engine<S> {
    /// CreateActivity: idempotent by name, as AWS is (tags of a second create are ignored).
    pub async fn create_activity(
        &self,
        name: &str,
        tags: Vec<(String, String)>,
    ) -> Result<ActivityRow> {
        let arn = arn::activity_arn(&self.config.region, &self.config.account_id, name);
        if let Some(existing) = self.store.activity(&arn).await? {
            return Ok(existing);
        }
        let row = ActivityRow {
            arn: arn.clone(),
            name: name.to_owned(),
            creation_date_ms: self.clock.now_ms(),
        };
        let mut ops = vec![WriteOp::InsertActivity(row)];
        if !tags.is_empty() {
            ops.push(WriteOp::PutTags {
                arn: arn.clone(),
                tags,
            });
        }
        self.commit(ops, WhenFull::Refuse).await?;
        // Two creates at once both succeed; the row kept is the first one's.
        self.store
            .activity(&arn)
            .await?
            .ok_or(Error::ActivityDoesNotExist(arn))
    }

    /// DescribeActivity.
    pub async fn activity(&self, arn: &str) -> Result<ActivityRow> {
        self.store
            .activity(arn)
            .await?
            .ok_or_else(|| Error::ActivityDoesNotExist(arn.to_owned()))
    }

    /// DeleteActivity: succeeds whether or not it exists, as AWS does. Tasks already offered
    /// stay offered to no one and time out by their own timeouts.
    pub async fn delete_activity(&self, arn: &str) -> Result<()> {
        let op = WriteOp::DeleteActivity {
            arn: arn.to_owned(),
        };
        Ok(self.commit(vec![op], WhenFull::Refuse).await?)
    }

    /// ListActivities, by ARN.
    pub async fn list_activities(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<super::Page<ActivityRow, String>> {
        let rows = self.store.list_activities(after_arn, limit + 1).await?;
        Ok(super::Page::of(rows, limit, |a| a.arn.clone()))
    }

    /// The dispatcher took an activity's task from the calls queue: offer it to the
    /// activity's workers, or fail the attempt when the activity does not exist.
    pub(super) async fn offer_activity_task(
        &self,
        activity: &str,
        offer: Offer,
    ) -> Option<crate::invoke::Outcome> {
        match self.store.activity(activity).await {
            Ok(None) => Some(Err(catalogue::activity_missing(activity))),
            Ok(Some(_)) => {
                self.activities.offer(activity, offer);
                None
            }
            Err(e) => {
                // Offered anyway: a poller checks the activity again.
                tracing::warn!(error = %e, activity, "could not read an activity; offering its task");
                self.activities.offer(activity, offer);
                None
            }
        }
    }

    /// GetActivityTask: wait up to `wait` for a task of `activity`. `None` when none came.
    pub async fn get_activity_task(
        self: &Arc<Self>,
        activity: &str,
        worker: Option<String>,
        wait: Duration,
    ) -> Result<Option<ActivityTask>> {
        self.activity(activity).await?;
        let polling = self
            .activities
            .join(activity)
            .ok_or_else(|| Error::ActivityWorkerLimitExceeded(activity.to_owned()))?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(offer) = self.activities.take(activity) {
                // On a task of its own: a client that hangs up cannot cut a start short
                // between its commit and handing the task over (it then times out, as a
                // task whose worker died does).
                let engine = self.clone();
                let worker = worker.clone();
                let name = activity.to_owned();
                let claimed =
                    tokio::spawn(
                        async move { engine.start_activity_task(&name, offer, worker).await },
                    )
                    .await
                    .map_err(|e| Error::Interpreter(e.to_string()))?;
                if let Some(task) = claimed? {
                    return Ok(Some(task));
                }
            }
            tokio::select! {
                _ = polling.wake.notified() => {}
                _ = tokio::time::sleep_until(deadline) => return Ok(None),
            }
        }
    }

    /// Commit ActivityStarted for an offered task; `None` when its attempt is over or was
    /// started already (the offer is then dropped, and the poller takes the next).
    async fn start_activity_task(
        &self,
        activity: &str,
        offer: Offer,
        worker: Option<String>,
    ) -> Result<Option<ActivityTask>> {
        let (execution_id, seq) = offer.key;
        let mut none = Unlocked::at_entry();
        let started = {
            let _execution = self.locks.execution(execution_id, &mut none).await;
            match self.running_by_id(execution_id).await? {
                Some(running) if !offer.cancelled.is_cancelled() => {
                    let waiting = attempt(&running.state, seq)
                        .filter(|t| !t.submitted)
                        .map(|t| t.invocation.payload.clone());
                    let token = running
                        .state
                        .token_key
                        .as_deref()
                        .map(|k| TaskToken::encode(&running.arn, seq, k));
                    match (waiting, token) {
                        (Some(input), Some(token)) => {
                            let delete = WriteOp::DeleteTask { execution_id, seq };
                            let event = Event::ActivityStarted { seq, worker };
                            let now = self.clock.now_ms();
                            match self
                                .advance_running(running, event, now, Some(delete), WhenFull::Wait)
                                .await
                            {
                                Ok(_) => Some(ActivityTask { token, input }),
                                Err(
                                    e
                                    @ (Error::NotOwner(_) | Error::Store(store::Error::Fenced(_))),
                                ) => {
                                    tracing::debug!(error = %e, execution_id, seq, "an activity task moved to another node");
                                    None
                                }
                                Err(e) => {
                                    // Nothing was written: offered again, to the next poller.
                                    self.activities.offer(activity, offer);
                                    return Err(e);
                                }
                            }
                        }
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        self.calls.finish((execution_id, seq));
        Ok(started)
    }
}

/// The attempt `seq` in some frame of the execution, while it is in flight.
pub(super) fn attempt(state: &ExecutionState, seq: i64) -> Option<&TaskProgress> {
    fn frame(f: &Frame, seq: i64) -> Option<&TaskProgress> {
        f.task
            .as_deref()
            .filter(|t| t.in_flight == Some(seq))
            .or_else(|| {
                f.fanout
                    .as_ref()
                    .and_then(|fan| fan.running.iter().find_map(|c| frame(&c.frame, seq)))
            })
    }
    if state.status.is_terminal() {
        return None;
    }
    frame(&state.root, seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(seq: i64) -> Offer {
        Offer {
            key: (1, seq),
            cancelled: CancellationToken::new(),
        }
    }

    #[test]
    fn offers_are_taken_oldest_first_and_cancelled_ones_are_skipped() {
        let board = Board::default();
        let first = offer(1);
        first.cancelled.cancel();
        board.offer("a", first);
        board.offer("a", offer(2));
        board.offer("a", offer(3));
        assert_eq!(board.take("a").map(|o| o.key), Some((1, 2)));
        assert_eq!(board.take("a").map(|o| o.key), Some((1, 3)));
        assert!(board.take("a").is_none());
        assert!(board.take("other").is_none());
    }

    #[test]
    fn pollers_are_bounded_and_a_leaving_poller_passes_its_wake_up_on() {
        let board = Board::default();
        let pollers: Vec<_> = (0..MAX_POLLERS)
            .map(|_| board.join("a").expect("room"))
            .collect();
        assert!(board.join("a").is_none(), "one more than AWS allows");
        assert!(board.join("b").is_some(), "the limit is per activity");
        board.offer("a", offer(1));
        drop(pollers);
        // The offer stays for the next poller, who finds a wake-up waiting.
        assert_eq!(board.counts("a"), (1, 0));
        let next = board.join("a").expect("room");
        let woken = futures_now(next.wake.notified());
        assert!(woken, "the wake-up was passed on");
        assert_eq!(board.take("a").map(|o| o.key), Some((1, 1)));
        drop(next);
        assert_eq!(
            board.counts("a"),
            (0, 0),
            "an idle activity leaves the board"
        );
    }

    /// Whether a future is ready at its first poll.
    fn futures_now(f: impl std::future::Future<Output = ()>) -> bool {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        f.as_mut().poll(&mut cx).is_ready()
    }
}

//! Calls to make: a bounded queue in memory in front of the `tasks` table.
//!
//! Every call is a row of the `tasks` table, written in the commit that scheduled it and
//! deleted in the commit that records its result or leaves its state. The queue here only
//! says which rows to make next, so it may drop what does not fit: submitting never waits.
//! A dropped call sets `overflow`, and the dispatcher then reads the table again, page by
//! page, for rows that are neither queued nor in flight. Recovery after a start is the same
//! pass over the whole table, so a million unfinished calls cost one page of memory.
//!
//! ```text
//!  engine commit ──submit──> queue (≤ max_queued calls, ≤ max_queued_bytes) ──next──> in flight
//!        │ (full: overflow)                                          ▲            │
//!        └──── tasks table ───────────── page (rows not known) ──────┘   result / cancel
//! ```
//!
//! A page read can race with a call finishing: the page may still hold the row the finishing
//! commit deleted. While a page is read, every key that finishes or is cancelled is noted, and
//! the page skips those keys, so a finished call is never made again.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::invoke::Invocation;
use crate::model::hash::{FastMap, FastSet};

/// A call is named by its execution and the id of its TaskScheduled event.
pub type CallKey = (i64, i64);

/// A call taken from the queue, to make now.
#[derive(Debug)]
pub struct Next {
    pub key: CallKey,
    /// The execution's partition: a call is made only while this node holds it.
    pub partition: i64,
    pub invocation: Invocation,
    /// Cancelled when the call's state is left (timeout, stop, a failed sibling).
    pub cancelled: CancellationToken,
}

/// A call waiting to be made, with the bytes it weighs in the queue.
#[derive(Debug)]
struct Queued {
    key: CallKey,
    partition: i64,
    invocation: Invocation,
    bytes: usize,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Queued>,
    bytes: usize,
    /// Keys queued (`None`) or in flight (their cancellation token).
    known: FastMap<CallKey, Option<CancellationToken>>,
    /// Some stored calls are not in memory: the table must be read again.
    overflow: bool,
    /// While a page is being read: keys that finished or were cancelled meanwhile.
    paging: Option<FastSet<CallKey>>,
}

/// The queue of calls to make and the set of calls in flight.
#[derive(Debug)]
pub struct Calls {
    state: Mutex<State>,
    wake: Notify,
    max_queued: usize,
    max_queued_bytes: usize,
}

impl Calls {
    /// An empty queue whose table has not been read yet (`overflow` set: the first pass over
    /// the table is the recovery of calls left unfinished by the last stop).
    pub fn new(max_queued: usize, max_queued_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State {
                overflow: true,
                ..State::default()
            }),
            wake: Notify::new(),
            max_queued: max_queued.max(1),
            max_queued_bytes: max_queued_bytes.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A call was committed: make it. Never waits; when the queue is full the call stays in
    /// the table only and a later pass finds it.
    pub fn submit(&self, key: CallKey, partition: i64, invocation: Invocation) {
        let mut s = self.lock();
        if !s.known.contains_key(&key) && !self.push(&mut s, key, partition, invocation) {
            s.overflow = true;
        }
        drop(s);
        self.wake.notify_one();
    }

    /// Queue a call if there is room; false when there is none.
    fn push(&self, s: &mut State, key: CallKey, partition: i64, invocation: Invocation) -> bool {
        let bytes = invocation.payload.len() + 256;
        if s.queue.len() >= self.max_queued || s.bytes + bytes > self.max_queued_bytes {
            return false;
        }
        s.bytes += bytes;
        s.known.insert(key, None);
        s.queue.push_back(Queued {
            key,
            partition,
            invocation,
            bytes,
        });
        true
    }

    /// Read the table again on the next pass (this node's partitions changed).
    pub fn rescan(&self) {
        self.lock().overflow = true;
        self.wake.notify_one();
    }

    /// The state that made this call was left, in a commit that deleted its row: forget it if
    /// queued, cancel it if in flight.
    pub fn cancel(&self, key: CallKey) {
        let mut s = self.lock();
        match s.known.remove(&key) {
            Some(None) => {
                if let Some(i) = s.queue.iter().position(|q| q.key == key) {
                    if let Some(q) = s.queue.remove(i) {
                        s.bytes -= q.bytes;
                    }
                }
            }
            Some(Some(token)) => token.cancel(),
            None => {}
        }
        if let Some(seen) = s.paging.as_mut() {
            seen.insert(key);
        }
    }

    /// A call in flight is over (its result is committed, or it was cancelled).
    pub fn finish(&self, key: CallKey) {
        let mut s = self.lock();
        s.known.remove(&key);
        if let Some(seen) = s.paging.as_mut() {
            seen.insert(key);
        }
    }

    /// The next queued call, now in flight.
    pub fn next(&self) -> Option<Next> {
        let mut s = self.lock();
        let q = s.queue.pop_front()?;
        s.bytes -= q.bytes;
        let cancelled = CancellationToken::new();
        s.known.insert(q.key, Some(cancelled.clone()));
        Some(Next {
            key: q.key,
            partition: q.partition,
            invocation: q.invocation,
            cancelled,
        })
    }

    /// Wait until something was submitted (or a wake-up was left by an earlier submit).
    pub async fn submitted(&self) {
        self.wake.notified().await;
    }

    /// Whether the table must be read (again); clears the flag, so anything dropped from now
    /// on sets it again for another pass.
    pub fn take_overflow(&self) -> bool {
        std::mem::take(&mut self.lock().overflow)
    }

    /// A page of the table is about to be read.
    pub fn begin_page(&self) {
        self.lock().paging = Some(FastSet::default());
    }

    /// Queue the rows of the page just read that are not known and did not finish while it
    /// was read. Returns how many rows were considered: fewer than `rows.len()` when the
    /// queue filled up (the rest wait for a later page).
    pub fn end_page(&self, rows: Vec<(CallKey, i64, Invocation)>) -> usize {
        let mut s = self.lock();
        let seen = s.paging.take().unwrap_or_default();
        let mut considered = 0;
        for (key, partition, invocation) in rows {
            if !s.known.contains_key(&key)
                && !seen.contains(&key)
                && !self.push(&mut s, key, partition, invocation)
            {
                break;
            }
            considered += 1;
        }
        considered
    }

    /// Calls queued and in flight.
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        let s = self.lock();
        (s.queue.len(), s.known.len() - s.queue.len())
    }

    /// Whether nothing is queued or in flight.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.lock().known.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(seq: i64) -> Invocation {
        sized(seq, 0)
    }

    fn sized(seq: i64, payload_bytes: usize) -> Invocation {
        Invocation {
            seq,
            function_name: "f".into(),
            qualifier: None,
            payload: "x".repeat(payload_bytes),
            invocation_type: "RequestResponse".into(),
            client_context: None,
            log_type: None,
            kind: crate::asl::run::CallKind::Lambda,
            mock: None,
        }
    }

    fn keys(calls: &Calls) -> Vec<CallKey> {
        std::iter::from_fn(|| calls.next().map(|n| n.key)).collect()
    }

    #[test]
    fn a_full_queue_drops_the_call_and_asks_for_a_pass_over_the_table() {
        let calls = Calls::new(2, 1 << 20);
        assert!(calls.take_overflow(), "the first pass is recovery");
        calls.submit((1, 1), 0, call(1));
        calls.submit((2, 1), 0, call(1));
        calls.submit((1, 1), 0, call(1)); // again: already queued
        assert!(!calls.take_overflow());
        calls.submit((3, 1), 0, call(1));
        assert!(calls.take_overflow(), "the third did not fit");
        assert_eq!(keys(&calls), vec![(1, 1), (2, 1)]);
    }

    #[test]
    fn a_page_skips_calls_queued_in_flight_or_finished_while_it_was_read() {
        let calls = Calls::new(10, 1 << 20);
        calls.submit((1, 1), 0, call(1));
        calls.submit((2, 1), 0, call(1));
        let in_flight = calls.next().expect("one queued");
        assert_eq!(in_flight.key, (1, 1));
        calls.begin_page();
        // The page was read before these two commits deleted their rows.
        calls.finish((1, 1));
        calls.cancel((2, 1));
        let page = vec![
            ((1, 1), 0, call(1)),
            ((2, 1), 0, call(1)),
            ((3, 1), 0, call(1)),
            ((4, 1), 0, call(1)),
        ];
        assert_eq!(calls.end_page(page), 4);
        assert_eq!(keys(&calls), vec![(3, 1), (4, 1)]);
    }

    #[test]
    fn a_page_stops_where_the_queue_fills() {
        let calls = Calls::new(2, 1 << 20);
        calls.begin_page();
        let page = (1..=5).map(|i| ((i, 1), 0, call(1))).collect();
        assert_eq!(calls.end_page(page), 2);
        assert_eq!(calls.len(), (2, 0));
    }

    #[test]
    fn cancelling_a_queued_call_removes_it_and_an_in_flight_one_is_told() {
        let calls = Calls::new(10, 1 << 20);
        calls.submit((1, 1), 0, call(1));
        calls.submit((1, 2), 0, call(2));
        let first = calls.next().expect("queued");
        calls.cancel((1, 1));
        calls.cancel((1, 2));
        assert!(first.cancelled.is_cancelled());
        assert!(calls.next().is_none(), "the queued one is gone");
        assert!(calls.is_empty());
    }

    #[test]
    fn the_queue_is_bounded_by_bytes_too() {
        let calls = Calls::new(100, 2_000);
        calls.submit((1, 1), 0, sized(1, 1_500));
        calls.submit((2, 1), 0, sized(1, 1_500));
        assert_eq!(calls.len(), (1, 0));
    }
}

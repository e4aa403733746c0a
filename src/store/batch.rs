//! Reads of executions by id, gathered into one query.
//!
//! Under a burst of due timers, hundreds of tasks each hold one execution's lock and read its
//! row. One query per row costs a hand-off to a connection's thread and back, and a statement,
//! for a few hundred bytes. [`RowReads`] queues the ids asked for while a query is running
//! and reads them all with the next one; when nothing is running, the first id goes out at
//! once, alone, so an idle server waits for nothing.
//!
//! A row read this way is as current as one read at the call: the query that answers a
//! request starts after the request was made, so it sees every commit that had returned by
//! then. A caller that holds the execution's lock thus reads what the last change committed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::ports::ExecutionReads;
use super::{ExecutionRow, Result};

/// Most ids one query reads.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Option<ExecutionRow>>>;

#[derive(Default)]
struct Queue {
    waiting: Vec<(i64, Reply)>,
    /// A task is reading (it takes what is queued when its query returns).
    reading: bool,
}

/// Batched reads of executions by id over a store.
pub struct RowReads<S> {
    store: S,
    queue: Arc<Mutex<Queue>>,
}

impl<S> std::fmt::Debug for RowReads<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReads").finish_non_exhaustive()
    }
}

impl<S: ExecutionReads + Clone + 'static> RowReads<S> {
    pub fn new(store: S) -> Self {
        Self {
            store,
            queue: Arc::default(),
        }
    }

    /// The execution `id`, read with whatever other ids are asked for meanwhile.
    pub async fn by_id(&self, id: i64) -> Result<Option<ExecutionRow>> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.waiting.push((id, tx));
            !std::mem::replace(&mut q.reading, true)
        };
        if start {
            // A task of its own, so a caller that gives up waiting strands no one.
            tokio::spawn(drain(self.store.clone(), self.queue.clone()));
        }
        match rx.await {
            Ok(row) => row,
            // The reading task panicked: read alone.
            Err(_) => self.store.execution_by_id(id).await,
        }
    }
}

/// Read what is queued, a batch at a time, until nothing is.
async fn drain<S: ExecutionReads>(store: S, queue: Arc<Mutex<Queue>>) {
    let _unwind = Unwind(queue.clone());
    loop {
        let batch: Vec<(i64, Reply)> = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.waiting.is_empty() {
                q.reading = false;
                return;
            }
            let n = q.waiting.len().min(MAX_BATCH);
            q.waiting.drain(..n).collect()
        };
        if let [(id, _)] = batch[..] {
            let row = store.execution_by_id(id).await;
            if let Some((_, reply)) = batch.into_iter().next() {
                let _ = reply.send(row);
            }
            continue;
        }
        let mut asked: HashMap<i64, usize> = HashMap::with_capacity(batch.len());
        for (id, _) in &batch {
            *asked.entry(*id).or_default() += 1;
        }
        let ids: Vec<i64> = asked.keys().copied().collect();
        match store.executions_by_ids(&ids).await {
            Ok(rows) => {
                let mut rows: HashMap<i64, ExecutionRow> =
                    rows.into_iter().map(|r| (r.id, r)).collect();
                for (id, reply) in batch {
                    // An id asked for twice gets the row twice.
                    let left = asked.get_mut(&id).map_or(0, |n| {
                        *n -= 1;
                        *n
                    });
                    let row = match left {
                        0 => rows.remove(&id),
                        _ => rows.get(&id).cloned(),
                    };
                    let _ = reply.send(Ok(row));
                }
            }
            // Each caller gets its own error (or row) from a read of its own.
            Err(_) => {
                for (id, reply) in batch {
                    let _ = reply.send(store.execution_by_id(id).await);
                }
            }
        }
    }
}

/// Should a read panic, the queue is emptied (its callers read alone) and the next request
/// starts a reading task again.
struct Unwind(Arc<Mutex<Queue>>);

impl Drop for Unwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
            q.waiting.clear();
            q.reading = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;

    use super::*;
    use crate::model::ExecutionStatus;
    use crate::store::memory::MemoryStore;
    use crate::store::ports::Commit;
    use crate::store::{WhenFull, WriteOp};

    /// The in-memory store, counting its reads; the first read by id waits for `gate`, and
    /// batched reads fail while `fail` is set.
    #[derive(Clone)]
    struct Counting {
        inner: MemoryStore,
        singles: Arc<AtomicUsize>,
        batches: Arc<AtomicUsize>,
        gate: Arc<Semaphore>,
        fail: bool,
    }

    impl ExecutionReads for Counting {
        async fn execution_by_arn(&self, arn: &str) -> Result<Option<ExecutionRow>> {
            self.inner.execution_by_arn(arn).await
        }
        async fn execution_by_id(&self, id: i64) -> Result<Option<ExecutionRow>> {
            if self.singles.fetch_add(1, Ordering::SeqCst) == 0 {
                drop(self.gate.acquire().await);
            }
            self.inner.execution_by_id(id).await
        }
        async fn executions_by_ids(&self, ids: &[i64]) -> Result<Vec<ExecutionRow>> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(crate::store::Error::Busy);
            }
            self.inner.executions_by_ids(ids).await
        }
        async fn list_executions(
            &self,
            state_machine_arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64,
        ) -> Result<Vec<ExecutionRow>> {
            self.inner
                .list_executions(state_machine_arn, status, after, limit)
                .await
        }
        async fn count_running(&self, state_machine_arn: &str) -> Result<i64> {
            self.inner.count_running(state_machine_arn).await
        }
        async fn count_all_running(&self) -> Result<i64> {
            self.inner.count_all_running().await
        }
        async fn max_execution_id(&self) -> Result<i64> {
            self.inner.max_execution_id().await
        }
        async fn closed_before(&self, before_ms: i64, limit: i64) -> Result<Vec<i64>> {
            self.inner.closed_before(before_ms, limit).await
        }
    }

    async fn store(n: i64, fail: bool) -> Counting {
        let inner = MemoryStore::default();
        let ops = (1..=n)
            .map(|i| {
                WriteOp::InsertExecution(ExecutionRow::running_for_tests(i, &format!("e{i}"), i))
            })
            .collect();
        inner.commit(ops, WhenFull::Wait).await.expect("insert");
        Counting {
            inner,
            singles: Arc::default(),
            batches: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
            fail,
        }
    }

    /// Ask for `asked` while the first read (of id 1) is held, then let it go: returns what
    /// each got, by the id asked.
    async fn asked_while_a_read_runs(
        store: &Counting,
        asked: &[i64],
    ) -> Vec<(i64, Option<ExecutionRow>)> {
        let reads = Arc::new(RowReads::new(store.clone()));
        let first = tokio::spawn({
            let reads = reads.clone();
            async move { (1, reads.by_id(1).await.expect("read")) }
        });
        while store.singles.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let mut tasks = vec![first];
        for &id in asked {
            let reads = reads.clone();
            tasks.push(tokio::spawn(async move {
                (id, reads.by_id(id).await.expect("read"))
            }));
        }
        while reads.queue.lock().expect("queue").waiting.len() < asked.len() {
            tokio::task::yield_now().await;
        }
        store.gate.add_permits(1);
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.expect("task"));
        }
        got
    }

    fn check(got: &[(i64, Option<ExecutionRow>)]) {
        for (id, row) in got {
            match row {
                Some(row) => assert_eq!(row.id, *id),
                None => assert!(*id > 10, "execution {id} exists but was not found"),
            }
        }
    }

    #[tokio::test]
    async fn ids_asked_for_during_a_read_are_read_together_by_the_next() {
        let store = store(10, false).await;
        let asked = [2, 3, 3, 42, 10, 7];
        let got = asked_while_a_read_runs(&store, &asked).await;
        check(&got);
        assert_eq!(got.len(), 7);
        assert_eq!(got.iter().filter(|(_, r)| r.is_none()).count(), 1);
        assert_eq!(store.singles.load(Ordering::SeqCst), 1, "the first alone");
        assert_eq!(store.batches.load(Ordering::SeqCst), 1, "the rest in one");

        // Idle again: the next one goes out alone, at once.
        let reads = RowReads::new(store.clone());
        let row = reads.by_id(5).await.expect("read").expect("row");
        assert_eq!(row.id, 5);
        assert_eq!(store.singles.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_batch_is_read_again_one_by_one() {
        let store = store(10, true).await;
        let asked = [4, 5, 6];
        let got = asked_while_a_read_runs(&store, &asked).await;
        check(&got);
        assert!(got.iter().all(|(_, r)| r.is_some()));
        assert_eq!(store.batches.load(Ordering::SeqCst), 1);
        assert_eq!(store.singles.load(Ordering::SeqCst), 4);
    }
}

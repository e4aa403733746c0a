//! Reads gathered: executions by id, and by ARN with the versions they were started through;
//! state machines by ARN.
//!
//! Under a burst of due timers, hundreds of tasks each hold one execution's lock and read its
//! row, and each one that ends its execution on a cluster reads the state machine (is it being
//! deleted?). One read per row costs a hand-off to a connection's thread (or a round trip to
//! the server) and back, and a statement, for a few hundred bytes. [`Gathered`] queues the
//! keys asked for while reads run and reads them all with the next one: executions in one
//! query, a state machine once however many ask for it. Up to a few callers at once read their
//! own keys, each at once and alone, so an idle or lightly loaded server waits for nothing.
//!
//! A value read this way is as current as one read at the call: the read that answers a
//! request starts after the request was made, so it sees every commit that had returned by
//! then. A caller that holds an execution's lock thus reads what the last change committed.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::ports::{ExecutionReads, MachineReads, VersionReads};
use super::{DescribedExecution, ExecutionRow, Result, StateMachineRow};

/// Most keys one read takes.
const MAX_BATCH: usize = 256;

/// What can be read by key, one at a time or many at once.
pub trait Source: Send + Sync + 'static {
    type Key: Clone + Eq + Hash + Send + Sync + 'static;
    type Value: Clone + Send + 'static;
    fn one(&self, key: &Self::Key) -> impl Future<Output = Result<Option<Self::Value>>> + Send;
    /// The values of `keys` (each asked once) that exist; by default each read on its own.
    fn many(
        &self,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<Vec<(Self::Key, Self::Value)>>> + Send {
        async move {
            let mut found = Vec::with_capacity(keys.len());
            for key in keys {
                if let Some(value) = self.one(key).await? {
                    found.push((key.clone(), value));
                }
            }
            Ok(found)
        }
    }
}

/// Executions by id, many in one query.
#[derive(Debug, Clone)]
pub struct ExecutionsById<S>(pub S);

impl<S: ExecutionReads + 'static> Source for ExecutionsById<S> {
    type Key = i64;
    type Value = ExecutionRow;
    async fn one(&self, id: &i64) -> Result<Option<ExecutionRow>> {
        self.0.execution_by_id(*id).await
    }
    async fn many(&self, ids: &[i64]) -> Result<Vec<(i64, ExecutionRow)>> {
        let rows = self.0.executions_by_ids(ids).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Executions by ARN (DescribeExecution and the other requests that name one), each with the
/// version it was started through, many in one query.
#[derive(Debug, Clone)]
pub struct ExecutionsByArn<S>(pub S);

impl<S: ExecutionReads + VersionReads + 'static> Source for ExecutionsByArn<S> {
    type Key = String;
    type Value = DescribedExecution;
    async fn one(&self, arn: &String) -> Result<Option<DescribedExecution>> {
        Ok(self
            .0
            .described_by_arns(std::slice::from_ref(arn))
            .await?
            .pop())
    }
    async fn many(&self, arns: &[String]) -> Result<Vec<(String, DescribedExecution)>> {
        let rows = self.0.described_by_arns(arns).await?;
        Ok(rows.into_iter().map(|d| (d.row.arn.clone(), d)).collect())
    }
}

/// State machines by ARN. The ARNs asked for at once are few (a burst is mostly of one
/// machine), so each is read on its own, once (the default `many`).
#[derive(Debug, Clone)]
pub struct MachinesByArn<S>(pub S);

impl<S: MachineReads + 'static> Source for MachinesByArn<S> {
    type Key = Arc<str>;
    type Value = Arc<StateMachineRow>;
    async fn one(&self, arn: &Arc<str>) -> Result<Option<Arc<StateMachineRow>>> {
        Ok(self.0.state_machine(arn).await?.map(Arc::new))
    }
}

type Reply<T> = oneshot::Sender<Result<Option<T>>>;

/// Most callers that read their own keys at once, each with a query of its own, before keys
/// are queued and gathered: at this many a burst pays for gathering and a few callers at a
/// time do not. (Four was measured when these reads had four SQLite connections; on SQLite
/// they now have two, `store::sqlite::direct`, where inline reads past two wait in its queue.)
const MAX_INLINE: usize = 4;

struct Queue<K, V> {
    waiting: Vec<(K, Reply<V>)>,
    /// Callers reading their own keys.
    inline: usize,
    /// A task is reading what is queued (it takes what is queued when its read returns).
    draining: bool,
}

/// Reads of `G` (its keys `K`, its values `V`) by key, gathered while a burst of them waits.
pub struct Gathered<G, K, V> {
    source: Arc<G>,
    queue: Arc<Mutex<Queue<K, V>>>,
    max_inline: usize,
}

/// Executions by id, gathered.
pub type GatheredExecutions<S> = Gathered<ExecutionsById<S>, i64, ExecutionRow>;
/// Executions by ARN, gathered.
pub type GatheredByArn<S> = Gathered<ExecutionsByArn<S>, String, DescribedExecution>;
/// State machines by ARN, gathered.
pub type GatheredMachines<S> = Gathered<MachinesByArn<S>, Arc<str>, Arc<StateMachineRow>>;

impl<G, K, V> std::fmt::Debug for Gathered<G, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gathered").finish_non_exhaustive()
    }
}

impl<G, K, V> Gathered<G, K, V>
where
    G: Source<Key = K, Value = V>,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + 'static,
{
    pub fn new(source: G) -> Self {
        Self::with_inline(source, MAX_INLINE)
    }

    /// At most `max_inline` callers (at least one) read their own keys at once.
    fn with_inline(source: G, max_inline: usize) -> Self {
        Self {
            source: Arc::new(source),
            queue: Arc::new(Mutex::new(Queue {
                waiting: Vec::new(),
                inline: 0,
                draining: false,
            })),
            max_inline: max_inline.max(1),
        }
    }

    /// The value of `key`, read with whatever other keys are asked for meanwhile.
    ///
    /// While fewer than `MAX_INLINE` callers are reading their own keys and no batch is
    /// being read, the caller reads its key itself, at once: no task and no hand-off, as a
    /// read without gathering would. Otherwise the key is queued. The first caller reading its
    /// own key to finish (or give up) hands what is queued to a task, which reads it in
    /// batches until nothing is left, so a caller that gives up strands no one.
    pub async fn get(&self, key: K) -> Result<Option<V>> {
        let rx = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.draining || q.inline >= self.max_inline {
                let (tx, rx) = oneshot::channel();
                q.waiting.push((key.clone(), tx));
                Some(rx)
            } else {
                q.inline += 1;
                None
            }
        };
        match rx {
            Some(rx) => match rx.await {
                Ok(value) => value,
                // The reading task panicked: read alone.
                Err(_) => self.source.one(&key).await,
            },
            None => {
                let _handing_on = HandOn {
                    source: &self.source,
                    queue: &self.queue,
                };
                self.source.one(&key).await
            }
        }
    }
}

/// Held by a caller reading its own key: when its read returns (or the caller gives up, or
/// the read panics), what is queued goes to a reading task unless one is reading already.
/// Whenever keys wait, a task is reading them or a caller holding this will hand them on.
struct HandOn<'a, G: Source> {
    source: &'a Arc<G>,
    queue: &'a Arc<Mutex<Queue<G::Key, G::Value>>>,
}

impl<G: Source> Drop for HandOn<'_, G> {
    fn drop(&mut self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.inline -= 1;
        if q.waiting.is_empty() || q.draining {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                q.draining = true;
                drop(q);
                rt.spawn(drain(self.source.clone(), self.queue.clone()));
            }
            // No runtime to read on (it is shutting down): the waiting callers get an error
            // from their dropped replies and read alone, if they still can.
            Err(_) => q.waiting.clear(),
        }
    }
}

/// Read what is queued, a batch at a time, until nothing is.
async fn drain<G: Source>(source: Arc<G>, queue: Arc<Mutex<Queue<G::Key, G::Value>>>) {
    let _unwind = Unwind(queue.clone());
    loop {
        let batch: Vec<(G::Key, Reply<G::Value>)> = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.waiting.is_empty() {
                q.draining = false;
                return;
            }
            let n = q.waiting.len().min(MAX_BATCH);
            q.waiting.drain(..n).collect()
        };
        if let [(key, _)] = &batch[..] {
            let value = source.one(key).await;
            if let Some((_, reply)) = batch.into_iter().next() {
                let _ = reply.send(value);
            }
            continue;
        }
        let mut asked: HashMap<G::Key, usize> = HashMap::with_capacity(batch.len());
        for (key, _) in &batch {
            *asked.entry(key.clone()).or_default() += 1;
        }
        let keys: Vec<G::Key> = asked.keys().cloned().collect();
        match source.many(&keys).await {
            Ok(found) => {
                let mut found: HashMap<G::Key, G::Value> = found.into_iter().collect();
                for (key, reply) in batch {
                    // A key asked for twice gets the value twice.
                    let left = asked.get_mut(&key).map_or(0, |n| {
                        *n -= 1;
                        *n
                    });
                    let value = match left {
                        0 => found.remove(&key),
                        _ => found.get(&key).cloned(),
                    };
                    let _ = reply.send(Ok(value));
                }
            }
            // Each caller gets its own error (or value) from a read of its own.
            Err(_) => {
                for (key, reply) in batch {
                    let _ = reply.send(source.one(&key).await);
                }
            }
        }
    }
}

/// Should a read panic, the queue is emptied (its callers read alone) and the next request
/// starts a reading task again.
struct Unwind<K, V>(Arc<Mutex<Queue<K, V>>>);

impl<K, V> Drop for Unwind<K, V> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
            q.waiting.clear();
            q.draining = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;

    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::ports::Commit;
    use crate::store::{WhenFull, WriteOp};

    /// Executions by id over the in-memory store, counting the reads; the first read of one
    /// waits for `gate`, and reads of many fail while `fail` is set.
    #[derive(Clone)]
    struct Counting {
        inner: ExecutionsById<MemoryStore>,
        singles: Arc<AtomicUsize>,
        batches: Arc<AtomicUsize>,
        gate: Arc<Semaphore>,
        fail: bool,
    }

    impl Source for Counting {
        type Key = i64;
        type Value = ExecutionRow;
        async fn one(&self, id: &i64) -> Result<Option<ExecutionRow>> {
            if self.singles.fetch_add(1, Ordering::SeqCst) == 0 {
                drop(self.gate.acquire().await);
            }
            self.inner.one(id).await
        }
        async fn many(&self, ids: &[i64]) -> Result<Vec<(i64, ExecutionRow)>> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(crate::store::Error::Busy);
            }
            self.inner.many(ids).await
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
            inner: ExecutionsById(inner),
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
        let reads = Arc::new(Gathered::with_inline(store.clone(), 1));
        let first = tokio::spawn({
            let reads = reads.clone();
            async move { (1, reads.get(1).await.expect("read")) }
        });
        while store.singles.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let mut tasks = vec![first];
        for &id in asked {
            let reads = reads.clone();
            tasks.push(tokio::spawn(async move {
                (id, reads.get(id).await.expect("read"))
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
        let reads = Gathered::new(store.clone());
        let row = reads.get(5).await.expect("read").expect("row");
        assert_eq!(row.id, 5);
        assert_eq!(store.singles.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_on_its_own_read_strands_no_one() {
        let store = store(3, false).await;
        let reads = Arc::new(Gathered::with_inline(store.clone(), 1));
        let first = tokio::spawn({
            let reads = reads.clone();
            async move { reads.get(1).await }
        });
        while store.singles.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let waiting: Vec<_> = [2, 3]
            .into_iter()
            .map(|id| {
                let reads = reads.clone();
                tokio::spawn(async move { reads.get(id).await.expect("read") })
            })
            .collect();
        while reads.queue.lock().expect("queue").waiting.len() < 2 {
            tokio::task::yield_now().await;
        }
        // The first caller's read never returns; it gives up.
        first.abort();
        for (id, t) in (2..).zip(waiting) {
            let row = tokio::time::timeout(std::time::Duration::from_secs(10), t)
                .await
                .expect("answered")
                .expect("task");
            assert_eq!(row.map(|r| r.id), Some(id));
        }
        assert_eq!(store.batches.load(Ordering::SeqCst), 1);
        // The reading task marks the queue idle once it finds nothing more to read.
        let idle = async {
            while reads.queue.lock().expect("queue").draining {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), idle)
            .await
            .expect("idle again");
    }

    /// Executions by id whose reads of one key all wait for `gate`.
    struct Held {
        inner: ExecutionsById<MemoryStore>,
        singles: AtomicUsize,
        batches: AtomicUsize,
        gate: Semaphore,
    }

    impl Source for Held {
        type Key = i64;
        type Value = ExecutionRow;
        async fn one(&self, id: &i64) -> Result<Option<ExecutionRow>> {
            self.singles.fetch_add(1, Ordering::SeqCst);
            drop(self.gate.acquire().await);
            self.inner.one(id).await
        }
        async fn many(&self, ids: &[i64]) -> Result<Vec<(i64, ExecutionRow)>> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            self.inner.many(ids).await
        }
    }

    #[tokio::test]
    async fn a_few_callers_at_once_read_their_own_keys_and_the_rest_are_gathered() {
        let counting = store(6, false).await;
        let reads = Arc::new(Gathered::with_inline(
            Held {
                inner: counting.inner,
                singles: AtomicUsize::new(0),
                batches: AtomicUsize::new(0),
                gate: Semaphore::new(0),
            },
            3,
        ));
        let tasks: Vec<_> = (1..=6)
            .map(|id| {
                let reads = reads.clone();
                tokio::spawn(async move { (id, reads.get(id).await.expect("read")) })
            })
            .collect();
        while reads.source.singles.load(Ordering::SeqCst) < 3
            || reads.queue.lock().expect("queue").waiting.len() < 3
        {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            reads.source.singles.load(Ordering::SeqCst),
            3,
            "three on their own"
        );
        reads.source.gate.add_permits(3);
        for t in tasks {
            let (id, row) = t.await.expect("task");
            assert_eq!(row.map(|r| r.id), Some(id));
        }
        assert_eq!(reads.source.singles.load(Ordering::SeqCst), 3);
        assert_eq!(
            reads.source.batches.load(Ordering::SeqCst),
            1,
            "the other three in one"
        );
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

    /// Keys of a few kinds, counted: each read of one key waits for `gate` the first time.
    struct Kinds {
        reads: AtomicUsize,
        gate: Semaphore,
    }

    impl Source for Kinds {
        type Key = Arc<str>;
        type Value = usize;
        async fn one(&self, key: &Arc<str>) -> Result<Option<usize>> {
            if self.reads.fetch_add(1, Ordering::SeqCst) == 0 {
                drop(self.gate.acquire().await);
            }
            Ok((!key.is_empty()).then_some(key.len()))
        }
    }

    #[tokio::test]
    async fn a_key_many_ask_for_at_once_is_read_once() {
        let reads = Arc::new(Gathered::with_inline(
            Kinds {
                reads: AtomicUsize::new(0),
                gate: Semaphore::new(0),
            },
            1,
        ));
        let ask = |key: &str| {
            let reads = reads.clone();
            let key: Arc<str> = key.into();
            tokio::spawn(async move { reads.get(key).await.expect("read") })
        };
        let first = ask("machine-a");
        while reads.source.reads.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let many: Vec<_> = (0..100)
            .map(|i| ask(if i % 2 == 0 { "machine-a" } else { "b" }))
            .collect();
        while reads.queue.lock().expect("queue").waiting.len() < 100 {
            tokio::task::yield_now().await;
        }
        reads.source.gate.add_permits(1);
        assert_eq!(first.await.expect("task"), Some(9));
        for (i, t) in many.into_iter().enumerate() {
            let want = if i % 2 == 0 { 9 } else { 1 };
            assert_eq!(t.await.expect("task"), Some(want));
        }
        // One read for the first, then one per distinct key for the hundred.
        assert_eq!(reads.source.reads.load(Ordering::SeqCst), 3);
        assert_eq!(reads.get("".into()).await.expect("read"), None);
    }
}

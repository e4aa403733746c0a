//! The read-only connections, handed out and taken back without a round trip to them.
//!
//! sqlx's pool tests every connection it takes back with a ping: a hand-off to the
//! connection's thread and back, from a task spawned for it, after every read. A read on a
//! local SQLite file leaves its connection usable whether it finished, failed or was dropped
//! half-way (the connection's thread finishes or abandons the statement before it takes the
//! next command), so these connections go straight back. Each is still tested with a ping when
//! it is handed out more than [`TEST_AFTER`] after its last test, so a connection whose thread
//! has died is replaced within that time instead of failing every read it is given. A read
//! waits for a connection at most [`WAIT_AT_MOST`], as long as sqlx's pool would have.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::store::{Error, Result};

/// How long a connection is handed out untested after its last test.
const TEST_AFTER: Duration = Duration::from_secs(1);
/// How long a read waits for a connection before it fails (as long as sqlx's pool waits).
const WAIT_AT_MOST: Duration = Duration::from_secs(30);

struct Idle {
    conn: SqliteConnection,
    tested: Instant,
}

/// At most `max` read-only connections, opened as they are first needed. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Readers {
    inner: Arc<Inner>,
}

struct Inner {
    options: SqliteConnectOptions,
    /// How long a read waits for a connection ([`WAIT_AT_MOST`]).
    wait: Duration,
    /// How long a connection is handed out untested ([`TEST_AFTER`]).
    test_after: Duration,
    /// One permit per connection that may be handed out; closed by [`Readers::close`].
    permits: Semaphore,
    /// Connections not handed out, the most recently used last.
    idle: Mutex<Vec<Idle>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("available", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Readers {
    /// Up to `max` connections opened with `options`; the first is opened now, so that a
    /// database that cannot be read fails here.
    pub(crate) async fn open(options: SqliteConnectOptions, max: u32) -> Result<Self> {
        let first = options.connect().await?;
        let readers = Self {
            inner: Arc::new(Inner {
                options,
                wait: WAIT_AT_MOST,
                test_after: TEST_AFTER,
                permits: Semaphore::new(max.max(1) as usize),
                idle: Mutex::new(Vec::new()),
            }),
        };
        readers.put_back(first, Instant::now());
        Ok(readers)
    }

    /// A connection of its own for the caller, waiting while all are handed out (at most
    /// [`WAIT_AT_MOST`]). It comes back when the returned guard is dropped.
    pub(crate) async fn get(&self) -> Result<ReadConn<'_>> {
        let permit = tokio::time::timeout(self.inner.wait, self.inner.permits.acquire())
            .await
            .map_err(|_| {
                Error::Unavailable(format!(
                    "no read connection came free within {:?}",
                    self.inner.wait
                ))
            })?
            .map_err(|_| Error::Unavailable("the database is closed".into()))?;
        let idle = self.take_idle();
        let (conn, tested) = match idle {
            Some(idle) if idle.tested.elapsed() < self.inner.test_after => (idle.conn, idle.tested),
            Some(mut idle) => match idle.conn.ping().await {
                Ok(()) => (idle.conn, Instant::now()),
                Err(error) => {
                    tracing::warn!(%error, "a read connection failed its test; opening another");
                    drop(idle.conn.close_hard().await);
                    (self.inner.options.connect().await?, Instant::now())
                }
            },
            None => (self.inner.options.connect().await?, Instant::now()),
        };
        Ok(ReadConn {
            conn: Some(conn),
            tested,
            readers: self,
            _permit: permit,
        })
    }

    /// Stop handing out connections and close the idle ones; those handed out close as they
    /// come back.
    pub(crate) async fn close(&self) {
        self.inner.permits.close();
        let idle = std::mem::take(&mut *self.lock_idle());
        for idle in idle {
            drop(idle.conn.close().await);
        }
    }

    fn take_idle(&self) -> Option<Idle> {
        self.lock_idle().pop()
    }

    fn put_back(&self, conn: SqliteConnection, tested: Instant) {
        if self.inner.permits.is_closed() {
            return;
        }
        self.lock_idle().push(Idle { conn, tested });
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The list is whole after any panic: pushes and pops do not unwind half-way.
        self.inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A read connection handed out by [`Readers::get`]; `&mut *guard` is an executor.
pub(crate) struct ReadConn<'a> {
    conn: Option<SqliteConnection>,
    tested: Instant,
    readers: &'a Readers,
    // Dropped after the connection is back in the idle list, so that the waiter it wakes finds it.
    _permit: SemaphorePermit<'a>,
}

impl std::ops::Deref for ReadConn<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        // Present until drop.
        self.conn.as_ref().expect("a handed-out read connection")
    }
}

impl std::ops::DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("a handed-out read connection")
    }
}

impl Drop for ReadConn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.put_back(conn, self.tested);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn readers(max: u32) -> (Readers, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("r.db"))
            .create_if_missing(true);
        (Readers::open(options, max).await.expect("readers"), dir)
    }

    /// `readers` with its waits changed: at most `wait` for a connection, a test after
    /// `test_after`.
    fn tuned(readers: Readers, wait: Duration, test_after: Duration) -> Readers {
        let inner = Arc::into_inner(readers.inner).expect("the only handle");
        Readers {
            inner: Arc::new(Inner {
                wait,
                test_after,
                ..inner
            }),
        }
    }

    fn last_tested(readers: &Readers) -> Instant {
        readers
            .lock_idle()
            .last()
            .expect("an idle connection")
            .tested
    }

    #[tokio::test]
    async fn a_connection_is_tested_once_it_was_last_tested_long_enough_ago() {
        let (readers, _dir) = readers(1).await;
        let readers = tuned(readers, WAIT_AT_MOST, Duration::from_millis(30));
        let first = last_tested(&readers);
        drop(readers.get().await.expect("a connection"));
        assert_eq!(last_tested(&readers), first, "tested again too soon");
        tokio::time::sleep(Duration::from_millis(40)).await;
        let mut conn = readers.get().await.expect("a connection");
        assert_eq!(one(&mut conn).await, 1);
        drop(conn);
        assert!(last_tested(&readers) > first, "not tested again");
    }

    async fn one(conn: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("SELECT 1")
            .fetch_one(conn)
            .await
            .expect("a read")
    }

    #[tokio::test]
    async fn a_connection_comes_back_and_is_handed_out_again() {
        let (readers, _dir) = readers(1).await;
        for _ in 0..3 {
            let mut conn = readers.get().await.expect("a connection");
            assert_eq!(one(&mut conn).await, 1);
        }
        assert_eq!(readers.lock_idle().len(), 1);
    }

    #[tokio::test]
    async fn a_caller_that_waits_too_long_for_a_connection_is_refused() {
        let (readers, _dir) = readers(1).await;
        let readers = tuned(readers, Duration::from_millis(20), TEST_AFTER);
        let _held = readers.get().await.expect("a connection");
        let refused = readers.get().await;
        assert!(
            matches!(&refused, Err(Error::Unavailable(m)) if m.contains("came free")),
            "{:?}",
            refused.err()
        );
    }

    #[tokio::test]
    async fn a_caller_waits_while_every_connection_is_handed_out() {
        let (readers, _dir) = readers(1).await;
        let held = readers.get().await.expect("a connection");
        let waiting = tokio::time::timeout(Duration::from_millis(50), readers.get()).await;
        assert!(waiting.is_err(), "a second connection was handed out");
        drop(held);
        let mut conn = tokio::time::timeout(Duration::from_secs(5), readers.get())
            .await
            .expect("the connection given back")
            .expect("a connection");
        assert_eq!(one(&mut conn).await, 1);
    }

    #[tokio::test]
    async fn a_read_dropped_half_way_leaves_its_connection_usable() {
        let (readers, _dir) = readers(1).await;
        {
            let mut conn = readers.get().await.expect("a connection");
            // A statement that runs long enough to be dropped while it runs.
            let slow = sqlx::query_scalar::<_, i64>(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 3000000) \
                 SELECT SUM(i) FROM n",
            )
            .fetch_one(&mut *conn);
            let dropped = tokio::time::timeout(Duration::from_millis(5), slow).await;
            assert!(
                dropped.is_err(),
                "the slow read finished before it was dropped"
            );
        }
        let mut conn = readers.get().await.expect("a connection");
        assert_eq!(one(&mut conn).await, 1);
    }

    #[tokio::test]
    async fn several_callers_get_connections_of_their_own() {
        let (readers, _dir) = readers(3).await;
        let a = readers.get().await.expect("a connection");
        let b = readers.get().await.expect("a connection");
        let c = readers.get().await.expect("a connection");
        drop((a, b, c));
        assert_eq!(readers.lock_idle().len(), 3);
    }

    #[tokio::test]
    async fn after_close_no_connection_is_handed_out_and_none_is_kept() {
        let (readers, _dir) = readers(2).await;
        let held = readers.get().await.expect("a connection");
        readers.close().await;
        assert!(matches!(readers.get().await, Err(Error::Unavailable(_))));
        drop(held);
        assert_eq!(readers.lock_idle().len(), 0);
    }
}

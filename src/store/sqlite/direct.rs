//! Reads on the engine's hot path, run on read-only connections driven directly.
//!
//! A read through sqlx's SQLite driver hands each row from the connection's thread to the
//! caller's task on its own: every column value is copied (`sqlite3_value_dup`) into a row
//! that crosses a channel, wakes the task, and is decoded and freed there. Under a burst of
//! due timers, where every fire reads its execution's row, that hand-off cost as much CPU as
//! the query. These connections run the whole read on their own threads instead, decode the
//! rows where SQLite produced them, and hand the finished rows over once per read.
//!
//! They see the database as the sqlx read connections do (WAL, read-only, each statement on
//! the latest commit), so a read here is as current as one there.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::open::{classify_write, BUSY_TIMEOUT, READER_CACHE_KIB};
use crate::model::ExecutionStatus;
use crate::store::{packed, DescribedExecution, Error, ExecutionRow, Result};

/// Connections, each on a thread of its own. Reads on the hot path come gathered (a few at a
/// time, each of up to hundreds of rows), so two keep both cores busy.
pub(super) const CONNECTIONS: usize = 2;

/// Statements each connection keeps prepared.
const CACHED_STATEMENTS: usize = 16;

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// Who a read is for, and so which goes first when both wait: the engine's reads (every fire
/// and step waits on one) before the API's (DescribeExecution), so a flood of reads from
/// clients cannot hold up the work they read about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum For {
    Engine,
    Api,
}

/// Reads waiting for a connection, by whom they are for.
#[derive(Default)]
struct Waiting {
    engine: VecDeque<Job>,
    api: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
struct Queue {
    waiting: Mutex<Waiting>,
    /// Signalled when a read is queued or the queue closes.
    changed: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

/// The callers' side of the queue: when the last caller lets go, the queue closes.
struct Callers(Arc<Queue>);

impl Drop for Callers {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The threads' queue. Cheap to clone; the threads end when it is closed (or every clone is
/// dropped) and they have run what was queued.
#[derive(Clone)]
pub(crate) struct DirectReads {
    callers: Arc<Callers>,
}

impl std::fmt::Debug for DirectReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectReads").finish_non_exhaustive()
    }
}

impl DirectReads {
    /// [`CONNECTIONS`] read-only connections to the database at `path`, opened now (so a
    /// database that cannot be read fails here), each on a thread of its own.
    pub(super) fn open(path: &std::path::Path) -> Result<Self> {
        let queue = Arc::new(Queue::default());
        for i in 0..CONNECTIONS {
            let conn = open_reader(path)?;
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("hourglass-read-{i}"))
                .spawn(move || serve(&conn, &queue))?;
        }
        Ok(Self {
            callers: Arc::new(Callers(queue)),
        })
    }

    /// Run `read` on one of the connections and return what it returns. Queued reads run in
    /// the order they came, the engine's before the API's.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        read_for: For,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(read(conn));
        });
        let queue = &self.callers.0;
        {
            let mut waiting = queue.lock();
            if waiting.closed {
                return Err(Error::Unavailable("the database is closed".into()));
            }
            match read_for {
                For::Engine => waiting.engine.push_back(job),
                For::Api => waiting.api.push_back(job),
            }
        }
        queue.changed.notify_one();
        match rx.await {
            Ok(result) => result.map_err(classify_write),
            // The read panicked: its thread caught it and goes on.
            Err(_) => Err(Error::Unavailable("a read failed unexpectedly".into())),
        }
    }

    /// Take no more reads; the threads end once they have run those queued.
    pub(super) fn close(&self) {
        self.callers.0.close();
    }
}

/// A read-only connection to the database at `path`, set as the direct reads' are.
pub fn open_reader(path: &std::path::Path) -> Result<Connection> {
    open_one(path).map_err(classify_write)
}

fn open_one(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    conn.pragma_update(None, "cache_size", -i64::from(READER_CACHE_KIB))?;
    conn.pragma_update(None, "temp_store", "memory")?;
    Ok(conn)
}

fn serve(conn: &Connection, queue: &Queue) {
    loop {
        let job = {
            let mut waiting = queue.lock();
            loop {
                if let Some(job) = waiting
                    .engine
                    .pop_front()
                    .or_else(|| waiting.api.pop_front())
                {
                    break job;
                }
                if waiting.closed {
                    return;
                }
                waiting = queue
                    .changed
                    .wait(waiting)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        // A read that panics fails alone (its caller sees its reply dropped); the thread
        // goes on serving the others.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))).is_err() {
            tracing::error!("a read on the database panicked");
        }
    }
}

/// The executions `sql` (selecting [`EXECUTION_COLUMNS`](super::EXECUTION_COLUMNS)) finds
/// with `params`, their cursors unpacked.
pub(super) fn executions(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<ExecutionRow>> {
    Ok(packed::unpack_executions(rows(
        conn,
        sql,
        params,
        execution_row,
    )?))
}

/// The executions `sql` (selecting [`EXECUTION_COLUMNS`](super::EXECUTION_COLUMNS), then the
/// version's and the alias's ARNs) finds with `params`, their cursors unpacked.
pub(super) fn described(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<DescribedExecution>> {
    let described = rows(conn, sql, params, |row| {
        Ok(DescribedExecution {
            row: execution_row(row)?,
            version_arn: row.get(EXECUTION_COLUMN_COUNT)?,
            alias_arn: row.get(EXECUTION_COLUMN_COUNT + 1)?,
        })
    })?;
    Ok(packed::unpack_described(described))
}

/// Every row of `sql` with `params`, each as `map` makes it.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare_cached(sql)?.query_map(params, map)?.collect()
}

/// How many columns [`EXECUTION_COLUMNS`](super::EXECUTION_COLUMNS) names.
const EXECUTION_COLUMN_COUNT: usize = 15;

/// A row of [`EXECUTION_COLUMNS`](super::EXECUTION_COLUMNS).
fn execution_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
    let status = row.get_ref(6)?.as_str()?;
    let status = ExecutionStatus::parse(status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            6,
            rusqlite::types::Type::Text,
            format!("unknown execution status {status:?}").into(),
        )
    })?;
    Ok(ExecutionRow {
        id: row.get(0)?,
        arn: row.get(1)?,
        partition: row.get(2)?,
        state_machine_arn: row.get(3)?,
        revision_id: row.get(4)?,
        name: row.get(5)?,
        status,
        input: row.get(7)?,
        output: row.get(8)?,
        error: row.get(9)?,
        cause: row.get(10)?,
        start_ms: row.get(11)?,
        stop_ms: row.get(12)?,
        cursor: row.get(13)?,
        last_event_id: row.get(14)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::EXECUTION_COLUMNS;

    fn database() -> (tempfile::TempDir, DirectReads) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER);")
            .expect("schema");
        let reads = DirectReads::open(&path).expect("open");
        (dir, reads)
    }

    #[test]
    fn the_column_count_is_that_of_the_columns() {
        assert_eq!(EXECUTION_COLUMNS.split(',').count(), EXECUTION_COLUMN_COUNT);
    }

    #[tokio::test]
    async fn a_read_that_panics_fails_alone_and_every_thread_goes_on() {
        let (_dir, reads) = database();
        for _ in 0..CONNECTIONS * 2 {
            let failed = reads
                .run(For::Engine, |_conn| -> rusqlite::Result<()> {
                    panic!("a bad read")
                })
                .await;
            assert!(matches!(failed, Err(Error::Unavailable(_))), "{failed:?}");
        }
        let n: i64 = reads
            .run(For::Api, |conn| {
                conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            })
            .await
            .expect("a read after the panics");
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn reads_after_close_are_refused() {
        let (_dir, reads) = database();
        reads.close();
        let refused = reads.run(For::Engine, |_conn| Ok(())).await;
        assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn the_connections_read_only() {
        let (_dir, reads) = database();
        let refused = reads
            .run(For::Api, |conn| {
                conn.execute("INSERT INTO t (x) VALUES (1)", [])
            })
            .await;
        assert!(refused.is_err(), "{refused:?}");
    }

    #[tokio::test]
    async fn a_stored_status_that_is_not_one_is_an_error() {
        let (_dir, reads) = database();
        let sql = "SELECT 1, 'arn', 0, 'sm', 'r', 'n', 'SLEEPING', '{}', NULL, NULL, NULL, 0, \
                   NULL, NULL, 1";
        let failed = reads
            .run(For::Engine, move |conn| executions(conn, sql, []))
            .await;
        let message = failed.expect_err("an unknown status").to_string();
        assert!(message.contains("SLEEPING"), "{message}");
        let sql = "SELECT 1, 'arn', 0, 'sm', 'r', 'n', 'RUNNING', '{}', NULL, NULL, NULL, 0, \
                   NULL, NULL, 1";
        let rows = reads
            .run(For::Engine, move |conn| executions(conn, sql, []))
            .await
            .expect("a known status");
        assert_eq!(rows[0].status, ExecutionStatus::Running);
        assert_eq!(rows[0].last_event_id, 1);
    }

    #[tokio::test]
    async fn the_engines_reads_go_before_the_apis_waiting_with_them() {
        let (_dir, reads) = database();
        // Hold both connections, each until its own signal.
        let mut holds = Vec::new();
        let mut releases = Vec::new();
        for _ in 0..CONNECTIONS {
            let (release, wait) = std::sync::mpsc::channel::<()>();
            let (held, is_held) = oneshot::channel::<()>();
            let r = reads.clone();
            holds.push(tokio::spawn(async move {
                r.run(For::Engine, move |_conn| {
                    let _ = held.send(());
                    let _ = wait.recv();
                    Ok(())
                })
                .await
            }));
            is_held.await.expect("a connection held");
            releases.push(release);
        }
        // Queued while both are held: two of the API's reads, then one of the engine's.
        let order = Arc::new(Mutex::new(Vec::new()));
        let queued = |read_for: For, name: &'static str| {
            let r = reads.clone();
            let order = Arc::clone(&order);
            tokio::spawn(async move {
                r.run(read_for, move |_conn| {
                    order.lock().expect("order").push(name);
                    Ok(())
                })
                .await
            })
        };
        let api1 = queued(For::Api, "api 1");
        let api2 = queued(For::Api, "api 2");
        let engine = queued(For::Engine, "engine");
        // Every read is in the queue before one connection is let go.
        while {
            let waiting = reads.callers.0.lock();
            waiting.api.len() + waiting.engine.len() < 3
        } {
            tokio::task::yield_now().await;
        }
        releases.remove(0).send(()).expect("release one");
        for read in [engine, api1, api2] {
            read.await.expect("joined").expect("the read");
        }
        assert_eq!(*order.lock().expect("order"), ["engine", "api 1", "api 2"]);
        releases.remove(0).send(()).expect("release the other");
        for hold in holds {
            hold.await.expect("joined").expect("the hold");
        }
    }

    #[tokio::test]
    async fn the_threads_end_when_the_last_caller_lets_go() {
        let (_dir, reads) = database();
        let queue = Arc::downgrade(&reads.callers.0);
        drop(reads);
        // Each thread holds the queue until it has seen it close.
        for _ in 0..200 {
            if queue.strong_count() == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("{} threads still hold the queue", queue.strong_count());
    }
}

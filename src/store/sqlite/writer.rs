//! The single SQLite writer: every change to the database goes through here.
//!
//! It drains the shared write queue ([`crate::store::queue`]) and commits each batch in **one
//! transaction** (group commit), writing rows of the same kind from every request with one
//! statement (see `bulk` for the fixed-shape statements that carry them). It drives its own
//! SQLite connection on its own thread, so no statement of a commit waits on another thread.
//!
//! If a batch fails (a constraint, a full disk), it is rolled back and each request is retried
//! alone, so one bad request cannot fail its neighbours.

use std::time::Instant;

use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::bulk::{Numbers, Rows};
use super::execute;
use crate::metrics;
use crate::store::queue::{next_batch, Request, Writer};
use crate::store::versions_sql as sql;
use crate::store::{Error, Result, RevisionRow, WriteOp};

/// SQLite allows 32766 bound parameters per statement; stay well under it.
const MAX_PARAMS_PER_STATEMENT: usize = 30_000;

/// The SQLite writer: a thread of its own draining the shared write queue.
pub struct SqliteWriter;

impl SqliteWriter {
    /// Start the writer thread on `conn` (from [`super::open_writer`]). It runs until
    /// `shutdown` is cancelled and the queue is drained, then checkpoints the log into the
    /// database file and closes the connection.
    pub fn spawn(
        conn: Connection,
        queue_capacity: usize,
        max_batch: usize,
        shutdown: CancellationToken,
    ) -> (Writer, tokio::task::JoinHandle<Result<()>>) {
        let (writer, rx) = Writer::channel(queue_capacity);
        // The writer drives SQLite itself, on a thread of its own: every statement runs where
        // the commit is assembled, with no hand-off to another thread and back per statement,
        // and nothing of it queues behind API requests on the shared runtime. The thread's
        // runtime only waits for the queue.
        let (done_tx, done_rx) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("hourglass-writer".into())
            .spawn(move || {
                let result = match tokio::runtime::Builder::new_current_thread().build() {
                    Ok(rt) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run(conn, &rt, rx, max_batch, &shutdown)
                    }))
                    .unwrap_or_else(|_| {
                        // Without its writer the daemon would answer and acknowledge nothing
                        // while looking alive: end it, as a crash would, for its supervisor to
                        // start it again on what was committed.
                        tracing::error!("the store's writer panicked; stopping");
                        std::process::abort()
                    }),
                    Err(e) => Err(Error::Io(e)),
                };
                let _ = done_tx.send(result);
            });
        let handle = tokio::spawn(async move {
            if let Err(e) = spawned {
                return Err(Error::Io(e));
            }
            done_rx.await.unwrap_or(Err(Error::WriterGone))
        });
        (writer, handle)
    }
}

fn run(
    conn: Connection,
    rt: &tokio::runtime::Runtime,
    mut rx: mpsc::Receiver<Request>,
    max_batch: usize,
    shutdown: &CancellationToken,
) -> Result<()> {
    // The gauge of stored timers starts from the database; from here on every commit moves it
    // by exactly what it changed.
    let timers: i64 = conn.query_row("SELECT COUNT(*) FROM timers", [], |r| r.get(0))?;
    metrics::timers_on_disk_add(timers);
    let mut numbers = Numbers::default();
    while let Some(mut batch) = rt.block_on(next_batch(&mut rx, max_batch, shutdown)) {
        commit_batch(&conn, &mut numbers, &mut batch);
    }
    // What the log holds goes into the database file, so that the next start reads one file.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    conn.close().map_err(|(_, e)| Error::Sqlite(e))
}

/// Commit `batch` (emptying it) and acknowledge every request.
fn commit_batch(conn: &Connection, numbers: &mut Numbers, batch: &mut Vec<Request>) {
    let started = Instant::now();
    let size = batch.len();
    let result = commit(conn, numbers, batch.iter().flat_map(|r| r.ops.iter()));
    match result {
        Ok(timers) => {
            metrics::timers_on_disk_add(timers);
            for r in batch.drain(..) {
                let _ = r.ack.send(Ok(()));
            }
        }
        Err(e) if size == 1 => {
            if matches!(e, Error::Duplicate) {
                // A second start of a name: the engine answers it; nothing went wrong here.
                tracing::debug!(error = %e, "write refused");
            } else {
                tracing::warn!(error = %e, "write failed");
            }
            if let Some(r) = batch.pop() {
                let _ = r.ack.send(Err(e));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, size, "batch failed; committing its requests one by one");
            for r in batch.drain(..) {
                let one = commit(conn, numbers, r.ops.iter());
                match &one {
                    Ok(timers) => metrics::timers_on_disk_add(*timers),
                    Err(e) => tracing::warn!(error = %e, "write failed"),
                }
                let _ = r.ack.send(one.map(|_| ()));
            }
        }
    }
    metrics::record_commit(size, started.elapsed());
}

/// Apply `ops` in one transaction. Rolls back on any error. Returns the change in the number
/// of stored timers.
fn commit<'a>(
    conn: &Connection,
    numbers: &mut Numbers,
    ops: impl Iterator<Item = &'a WriteOp>,
) -> Result<i64> {
    let result = apply(conn, numbers, ops).map_err(|e| match e {
        Error::Sqlite(e) => super::classify_write(e),
        other => other,
    });
    if result.is_ok() {
        numbers.committed();
    } else {
        if !conn.is_autocommit() {
            // Whatever ran of the transaction is undone.
            let _ = conn.execute_batch("ROLLBACK");
        }
        numbers.rolled_back();
    }
    result
}

fn apply<'a>(
    conn: &Connection,
    numbers: &mut Numbers,
    ops: impl Iterator<Item = &'a WriteOp>,
) -> Result<i64> {
    // Rows of the same kind from every request go into shared statements.
    let (rows, rare) = Rows::gather(ops);
    if rare.is_empty() && rows.is_empty() {
        return Ok(0);
    }
    execute(conn, "BEGIN IMMEDIATE", [])?;
    // State machine and tag changes are rare: when there are any, they run one by one, in
    // order, first; the rows of the common kinds follow.
    for op in &rare {
        apply_single(conn, op)?;
    }
    let timers = rows.write(conn, numbers)?;
    execute(conn, "COMMIT", [])?;
    if rare
        .iter()
        .any(|op| matches!(op, WriteOp::ReleaseFreePages { .. }))
    {
        // The file is cut to its new end when the log is copied into it: now, rather than
        // when the log next fills. A reader still on an older snapshot keeps some for later.
        if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(error = %e, "checkpoint after giving pages back failed");
        }
    }
    Ok(timers)
}

/// Remove a row of `table` (keyed by `arn`) and the resource's tags.
fn delete_tagged(conn: &Connection, table: &str, arn: &str) -> Result<()> {
    execute(conn, &format!("DELETE FROM {table} WHERE arn = ?"), [arn])?;
    execute(conn, "DELETE FROM tags WHERE resource_arn = ?", [arn])?;
    Ok(())
}

fn apply_single(conn: &Connection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::InsertMapRun { .. }
        | WriteOp::MapItemStarted { .. }
        | WriteOp::MapItemEnded { .. }
        | WriteOp::UpdateMapRun { .. }
        | WriteOp::RedriveMapRun { .. }
        | WriteOp::EndMapRun { .. } => super::map_runs::apply(conn, op)?,
        WriteOp::InsertStateMachine {
            arn,
            name,
            machine_type,
            creation_date_ms,
            logging_configuration,
            tracing_configuration,
            revision,
        } => {
            insert_revision(conn, revision)?;
            execute(
                conn,
                "INSERT INTO state_machines (arn, name, type, status, revision_id, creation_date_ms, \
                 update_date_ms, logging_configuration, tracing_configuration) \
                 VALUES (?, ?, ?, 'ACTIVE', ?, ?, NULL, ?, ?)",
                params![
                    arn,
                    name,
                    machine_type.as_str(),
                    revision.revision_id,
                    creation_date_ms,
                    logging_configuration,
                    tracing_configuration,
                ],
            )?;
        }
        WriteOp::UpdateStateMachine {
            arn,
            revision,
            update_date_ms,
            logging_configuration,
            tracing_configuration,
        } => {
            if let Some(rev) = revision {
                insert_revision(conn, rev)?;
                execute(
                    conn,
                    "UPDATE state_machines SET revision_id = ? WHERE arn = ?",
                    params![rev.revision_id, arn],
                )?;
            }
            execute(
                conn,
                "UPDATE state_machines SET update_date_ms = ?, \
                 logging_configuration = COALESCE(?, logging_configuration), \
                 tracing_configuration = COALESCE(?, tracing_configuration) WHERE arn = ?",
                params![
                    update_date_ms,
                    logging_configuration,
                    tracing_configuration,
                    arn
                ],
            )?;
        }
        WriteOp::SetStateMachineStatus { arn, status } => {
            execute(
                conn,
                "UPDATE state_machines SET status = ? WHERE arn = ?",
                params![status.as_str(), arn],
            )?;
        }
        WriteOp::DeleteStateMachine { arn } => {
            delete_tagged(conn, "state_machines", arn)?;
            for q in sql::DELETE_MACHINE_VERSIONS {
                execute(conn, &sql::sqlite(q), [arn])?;
            }
        }
        WriteOp::InsertVersion(v) => {
            execute(
                conn,
                &sql::sqlite(sql::INSERT_VERSION),
                params![
                    v.arn,
                    v.state_machine_arn,
                    v.version,
                    v.revision_id,
                    v.description,
                    v.creation_date_ms
                ],
            )?;
        }
        WriteOp::DeleteVersion { arn } => {
            execute(conn, &sql::sqlite(sql::DELETE_VERSION), [arn])?;
        }
        WriteOp::PutAlias(a) => {
            execute(
                conn,
                &sql::sqlite(sql::PUT_ALIAS),
                params![
                    a.arn,
                    a.state_machine_arn,
                    a.name,
                    a.description,
                    a.routing,
                    a.creation_date_ms,
                    a.update_date_ms
                ],
            )?;
        }
        WriteOp::DeleteAlias { arn } => delete_tagged(conn, "state_machine_aliases", arn)?,
        WriteOp::InsertExecutionVersion {
            execution_id,
            version_arn,
            alias_arn,
        } => {
            execute(
                conn,
                &sql::sqlite(sql::INSERT_EXECUTION_VERSION),
                params![execution_id, version_arn, alias_arn],
            )?;
        }
        WriteOp::InsertActivity(a) => {
            execute(
                conn,
                "INSERT INTO activities (arn, name, creation_date_ms) VALUES (?, ?, ?) \
                 ON CONFLICT (arn) DO NOTHING",
                params![a.arn, a.name, a.creation_date_ms],
            )?;
        }
        WriteOp::DeleteActivity { arn } => delete_tagged(conn, "activities", arn)?,
        WriteOp::PutTags { arn, tags } => {
            for (k, v) in tags {
                execute(
                    conn,
                    "INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?) \
                     ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
                    params![arn, k, v],
                )?;
            }
        }
        WriteOp::DeleteTags { arn, keys } => {
            for k in keys {
                execute(
                    conn,
                    "DELETE FROM tags WHERE resource_arn = ? AND key = ?",
                    params![arn, k],
                )?;
            }
        }
        WriteOp::DeleteExecutions { ids } => delete_executions(conn, ids)?,
        WriteOp::ReleaseFreePages { pages } => {
            // Moves pages from the end of the file into free ones and cuts the end off (only
            // in a database made with `auto_vacuum = INCREMENTAL`; in others, nothing).
            // Each step of the statement frees one page: it runs to its end.
            let mut stmt = conn.prepare(&format!("PRAGMA incremental_vacuum({pages})"))?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
        }
        // Written together by `apply`.
        WriteOp::Fence { .. }
        | WriteOp::ExpectRevision { .. }
        | WriteOp::InsertTask(_)
        | WriteOp::DeleteTask { .. }
        | WriteOp::DeleteTasksOf { .. }
        | WriteOp::InsertExecution(_)
        | WriteOp::UpdateExecution(_)
        | WriteOp::InsertEvents(_)
        | WriteOp::InsertTimer(_)
        | WriteOp::DeleteTimer { .. } => {}
    }
    Ok(())
}

/// `DELETE FROM {table} WHERE {column} IN (...)` for `ids`, plus `tail`.
fn delete_in(table: &str, column: &str, ids: usize, tail: &str) -> String {
    let marks = vec!["?"; ids].join(", ");
    format!("DELETE FROM {table} WHERE {column} IN ({marks}){tail}")
}

/// Remove closed executions (retention). The rows first, and only of executions still closed
/// (a redrive may have made one RUNNING since the sweep chose it): the children go with the
/// rows removed.
fn delete_executions(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut removed: Vec<i64> = Vec::with_capacity(ids.len());
    let still_closed = format!(" AND status != {} RETURNING id", super::numbers::RUNNING);
    for chunk in ids.chunks(MAX_PARAMS_PER_STATEMENT) {
        let sql = delete_in("execution_rows", "id", chunk.len(), &still_closed);
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(chunk), |r| r.get::<_, i64>(0))?;
        for id in rows {
            removed.push(id?);
        }
    }
    for id in &removed {
        // History rows are keyed by execution and event: one range per execution.
        execute(
            conn,
            "DELETE FROM history_events WHERE key >= ? AND key < ?",
            [super::history_key(*id, 0), super::history_key(id + 1, 0)],
        )?;
    }
    for chunk in removed.chunks(MAX_PARAMS_PER_STATEMENT) {
        for table in [
            "timers",
            "tasks",
            "execution_versions",
            "map_run_items",
            "map_runs",
        ] {
            let sql = delete_in(table, "execution_id", chunk.len(), "");
            conn.prepare(&sql)?
                .execute(rusqlite::params_from_iter(chunk))?;
        }
    }
    Ok(())
}

/// A machine's revision: its id is new.
fn insert_revision(conn: &Connection, r: &RevisionRow) -> Result<()> {
    super::map_runs::insert_revision(
        conn,
        "INSERT INTO state_machine_revisions \
         (revision_id, state_machine_arn, definition, role_arn, description, created_ms) \
         VALUES (?, ?, ?, ?, ?, ?)",
        r,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Synchronous};
    use crate::store::ExecutionRow;

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .expect("pragma")
    }

    /// The writer's connection has the settings the durability contract rests on, as the
    /// configuration gives them.
    #[tokio::test]
    async fn the_writers_connection_is_set_as_configured() {
        for (synchronous, code) in [(Synchronous::Full, "2"), (Synchronous::Normal, "1")] {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut config = Config {
                data_dir: dir.path().to_path_buf(),
                ..Config::default()
            };
            config.sqlite.synchronous = synchronous;
            config.sqlite.max_size_mib = 8;
            config.sqlite.checkpoint_pages = 123;
            let (_reader, conn) = super::super::open_waiting(&config).await.expect("open");
            assert_eq!(pragma(&conn, "journal_mode"), "wal");
            assert_eq!(pragma(&conn, "synchronous"), code, "{synchronous:?}");
            assert_eq!(pragma(&conn, "foreign_keys"), "0");
            assert_eq!(pragma(&conn, "busy_timeout"), "10000");
            assert_eq!(pragma(&conn, "wal_autocheckpoint"), "123");
            let page_size: i64 = pragma(&conn, "page_size").parse().expect("a number");
            assert_eq!(
                pragma(&conn, "max_page_count"),
                (8 * 1024 * 1024 / page_size).to_string()
            );
        }
    }

    /// A taken name fails its commit as a duplicate, leaves nothing of the commit behind, and
    /// the connection goes on committing.
    #[tokio::test]
    async fn a_duplicate_fails_its_commit_whole() {
        let mut numbers = Numbers::default();
        let (store, conn, _dir) = super::super::open_temporary_writer().await;
        let first = WriteOp::InsertExecution(ExecutionRow::running_for_tests(1, "a", 1));
        assert_eq!(
            commit(&conn, &mut numbers, [&first].into_iter()).expect("first"),
            0
        );
        let again = [
            WriteOp::InsertExecution(ExecutionRow::running_for_tests(2, "b", 2)),
            WriteOp::InsertExecution(ExecutionRow::running_for_tests(3, "a", 3)),
        ];
        assert!(matches!(
            commit(&conn, &mut numbers, again.iter()),
            Err(Error::Duplicate)
        ));
        assert!(conn.is_autocommit(), "the failed transaction is closed");
        assert_eq!(store.max_execution_id().await.expect("max"), 1);
        let next = WriteOp::InsertExecution(ExecutionRow::running_for_tests(4, "c", 4));
        commit(&conn, &mut numbers, [&next].into_iter()).expect("a later commit");
        assert_eq!(store.max_execution_id().await.expect("max"), 4);
    }

    /// A new database can give free pages back: after closed executions are removed, their
    /// pages are free, and releasing them makes the file smaller by as many, at most as many
    /// as asked each time.
    #[tokio::test]
    async fn free_pages_are_given_back_to_the_file_system() {
        let mut numbers = Numbers::default();
        use crate::model::ExecutionStatus;
        let (store, conn, dir) = super::super::open_temporary_writer().await;
        assert_eq!(pragma(&conn, "auto_vacuum"), "2", "incremental");
        let rows: Vec<WriteOp> = (1..=300)
            .map(|id| {
                let mut row = ExecutionRow::running_for_tests(id, &format!("e{id}"), id);
                row.status = ExecutionStatus::Succeeded;
                row.stop_ms = Some(id);
                row.input = format!("\"{}\"", "x".repeat(20_000 + id as usize));
                WriteOp::InsertExecution(row)
            })
            .collect();
        commit(&conn, &mut numbers, rows.iter()).expect("insert");
        let before = store.free_pages().await.expect("read").expect("SQLite");
        let delete = WriteOp::DeleteExecutions {
            ids: (1..=300).collect(),
        };
        commit(&conn, &mut numbers, [&delete].into_iter()).expect("delete");
        let freed = store.free_pages().await.expect("read").expect("SQLite");
        assert_eq!(freed.total, before.total, "the file keeps its pages");
        assert!(freed.free > before.free + 1000, "{before:?} then {freed:?}");

        let release = WriteOp::ReleaseFreePages { pages: 500 };
        commit(&conn, &mut numbers, [&release].into_iter()).expect("release");
        let released = store.free_pages().await.expect("read").expect("SQLite");
        assert_eq!(
            released.free,
            freed.free - 500,
            "{freed:?} then {released:?}"
        );
        assert_eq!(released.total, freed.total - 500);

        let release = WriteOp::ReleaseFreePages { pages: u32::MAX };
        commit(&conn, &mut numbers, [&release].into_iter()).expect("release the rest");
        let after = store.free_pages().await.expect("read").expect("SQLite");
        assert_eq!(after.free, 0);
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
        let page_size: u64 = pragma(&conn, "page_size").parse().expect("a number");
        let file = std::fs::metadata(dir.path().join("hourglass.db"))
            .expect("the file")
            .len();
        assert_eq!(
            file,
            after.total * page_size,
            "the file is cut to its pages"
        );
        assert!(after.total < before.total / 4, "{before:?} then {after:?}");
    }

    /// A database made before keeps its free pages: the sweep is told there are none to give.
    #[tokio::test]
    async fn a_database_made_without_incremental_vacuum_reports_no_free_pages() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        Connection::open(config.database_path())
            .and_then(|c| c.execute_batch("CREATE TABLE made_before (a)"))
            .expect("an older database");
        let (store, conn) = super::super::open_waiting(&config).await.expect("open");
        assert_eq!(pragma(&conn, "auto_vacuum"), "0");
        assert_eq!(store.free_pages().await.expect("read"), None);
    }
}

//! The single SQLite writer: every change to the database goes through here.
//!
//! It drains the shared write queue ([`crate::store::queue`]) and commits each batch in **one
//! transaction** (group commit), writing rows of the same kind from every request with one
//! statement (see `bulk` for the fixed-shape scripts that carry them).
//!
//! If a batch fails (a constraint, a full disk), it is rolled back and each request is retried
//! alone, so one bad request cannot fail its neighbours.

use std::time::Instant;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::bulk::Rows;
use crate::metrics;
use crate::store::queue::{next_batch, Request, Writer};
use crate::store::versions_sql as sql;
use crate::store::{Error, Result, RevisionRow, WriteOp};

/// SQLite allows 32766 bound parameters per statement; stay well under it.
const MAX_PARAMS_PER_STATEMENT: usize = 30_000;

/// The SQLite writer: a thread of its own draining the shared write queue.
pub struct SqliteWriter;

impl SqliteWriter {
    /// Start the writer task on `conn`. It runs until `shutdown` is cancelled and the queue is
    /// drained, then returns the connection.
    pub fn spawn(
        conn: SqliteConnection,
        queue_capacity: usize,
        max_batch: usize,
        shutdown: CancellationToken,
    ) -> (Writer, tokio::task::JoinHandle<Result<SqliteConnection>>) {
        let (writer, rx) = Writer::channel(queue_capacity);
        // The writer gets a thread and a runtime of its own: each statement is a round trip to
        // SQLite's worker thread, and on the shared runtime every one of them would queue
        // behind API requests, stretching each commit and with it every caller's latency.
        let (done_tx, done_rx) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("hourglass-writer".into())
            .spawn(move || {
                let result = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        rt.block_on(run(conn, rx, max_batch, shutdown))
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

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Request>,
    max_batch: usize,
    shutdown: CancellationToken,
) -> Result<SqliteConnection> {
    // The gauge of stored timers starts from the database; from here on every commit moves it
    // by exactly what it changed.
    let timers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timers")
        .fetch_one(&mut conn)
        .await?;
    metrics::timers_on_disk_add(timers);
    while let Some(mut batch) = next_batch(&mut rx, max_batch, &shutdown).await {
        commit_batch(&mut conn, &mut batch).await;
    }
    Ok(conn)
}

/// Commit `batch` (emptying it) and acknowledge every request.
async fn commit_batch(conn: &mut SqliteConnection, batch: &mut Vec<Request>) {
    let started = Instant::now();
    let size = batch.len();
    let result = commit(conn, batch.iter().flat_map(|r| r.ops.iter())).await;
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
                let one = commit(conn, r.ops.iter()).await;
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
async fn commit<'a>(
    conn: &mut SqliteConnection,
    ops: impl Iterator<Item = &'a WriteOp>,
) -> Result<i64> {
    let result = apply(conn, ops).await.map_err(|e| match e {
        Error::Sqlx(e) => super::classify(e),
        other => other,
    });
    if result.is_err() {
        // Whatever ran of the transaction is undone; when it never began this is a no-op.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result
}

async fn apply<'a>(
    conn: &mut SqliteConnection,
    ops: impl Iterator<Item = &'a WriteOp>,
) -> Result<i64> {
    // Rows of the same kind from every request go into shared statements.
    let (rows, rare) = Rows::gather(ops);
    // State machine and tag changes are rare: when there are any, they run one by one, in
    // order, first, inside the transaction; the rows of the common kinds follow.
    let in_transaction = !rare.is_empty();
    if in_transaction {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        for op in rare {
            apply_single(conn, op).await?;
        }
    }
    let timers = rows.write(conn, in_transaction).await?;
    if in_transaction {
        sqlx::query("COMMIT").execute(&mut *conn).await?;
    }
    Ok(timers)
}

/// Remove a row of `table` (keyed by `arn`) and the resource's tags.
async fn delete_tagged(conn: &mut SqliteConnection, table: &str, arn: &str) -> Result<()> {
    sqlx::query(&format!("DELETE FROM {table} WHERE arn = ?"))
        .bind(arn)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM tags WHERE resource_arn = ?")
        .bind(arn)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn apply_single(conn: &mut SqliteConnection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::InsertMapRun { .. }
        | WriteOp::MapItemStarted { .. }
        | WriteOp::MapItemEnded { .. }
        | WriteOp::UpdateMapRun { .. }
        | WriteOp::RedriveMapRun { .. }
        | WriteOp::EndMapRun { .. } => super::map_runs::apply(conn, op).await?,
        WriteOp::InsertStateMachine {
            arn,
            name,
            machine_type,
            creation_date_ms,
            logging_configuration,
            tracing_configuration,
            revision,
        } => {
            insert_revision(conn, revision).await?;
            sqlx::query(
                "INSERT INTO state_machines (arn, name, type, status, revision_id, creation_date_ms, \
                 update_date_ms, logging_configuration, tracing_configuration) \
                 VALUES (?, ?, ?, 'ACTIVE', ?, ?, NULL, ?, ?)",
            )
            .bind(arn)
            .bind(name)
            .bind(*machine_type)
            .bind(&revision.revision_id)
            .bind(creation_date_ms)
            .bind(logging_configuration)
            .bind(tracing_configuration)
            .execute(&mut *conn)
            .await?;
        }
        WriteOp::UpdateStateMachine {
            arn,
            revision,
            update_date_ms,
            logging_configuration,
            tracing_configuration,
        } => {
            if let Some(rev) = revision {
                insert_revision(conn, rev).await?;
                sqlx::query("UPDATE state_machines SET revision_id = ? WHERE arn = ?")
                    .bind(&rev.revision_id)
                    .bind(arn)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "UPDATE state_machines SET update_date_ms = ?, \
                 logging_configuration = COALESCE(?, logging_configuration), \
                 tracing_configuration = COALESCE(?, tracing_configuration) WHERE arn = ?",
            )
            .bind(update_date_ms)
            .bind(logging_configuration)
            .bind(tracing_configuration)
            .bind(arn)
            .execute(&mut *conn)
            .await?;
        }
        WriteOp::SetStateMachineStatus { arn, status } => {
            sqlx::query("UPDATE state_machines SET status = ? WHERE arn = ?")
                .bind(*status)
                .bind(arn)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::DeleteStateMachine { arn } => {
            delete_tagged(conn, "state_machines", arn).await?;
            for q in sql::DELETE_MACHINE_VERSIONS {
                sqlx::query(&sql::sqlite(q))
                    .bind(arn)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        WriteOp::InsertVersion(v) => {
            sqlx::query(&sql::sqlite(sql::INSERT_VERSION))
                .bind(&v.arn)
                .bind(&v.state_machine_arn)
                .bind(v.version)
                .bind(&v.revision_id)
                .bind(&v.description)
                .bind(v.creation_date_ms)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::DeleteVersion { arn } => {
            sqlx::query(&sql::sqlite(sql::DELETE_VERSION))
                .bind(arn)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::PutAlias(a) => {
            sqlx::query(&sql::sqlite(sql::PUT_ALIAS))
                .bind(&a.arn)
                .bind(&a.state_machine_arn)
                .bind(&a.name)
                .bind(&a.description)
                .bind(&a.routing)
                .bind(a.creation_date_ms)
                .bind(a.update_date_ms)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::DeleteAlias { arn } => delete_tagged(conn, "state_machine_aliases", arn).await?,
        WriteOp::InsertExecutionVersion {
            execution_id,
            version_arn,
            alias_arn,
        } => {
            sqlx::query(&sql::sqlite(sql::INSERT_EXECUTION_VERSION))
                .bind(execution_id)
                .bind(version_arn)
                .bind(alias_arn)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::InsertActivity(a) => {
            sqlx::query(
                "INSERT INTO activities (arn, name, creation_date_ms) VALUES (?, ?, ?) \
                 ON CONFLICT (arn) DO NOTHING",
            )
            .bind(&a.arn)
            .bind(&a.name)
            .bind(a.creation_date_ms)
            .execute(&mut *conn)
            .await?;
        }
        WriteOp::DeleteActivity { arn } => delete_tagged(conn, "activities", arn).await?,
        WriteOp::PutTags { arn, tags } => {
            for (k, v) in tags {
                sqlx::query(
                    "INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?) \
                     ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
                )
                .bind(arn)
                .bind(k)
                .bind(v)
                .execute(&mut *conn)
                .await?;
            }
        }
        WriteOp::DeleteTags { arn, keys } => {
            for k in keys {
                sqlx::query("DELETE FROM tags WHERE resource_arn = ? AND key = ?")
                    .bind(arn)
                    .bind(k)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        WriteOp::DeleteExecutions { ids } => {
            // The rows first, and only of executions still closed (a redrive may have made one
            // RUNNING since the sweep chose it): the children go with the rows removed.
            let mut removed: Vec<i64> = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(MAX_PARAMS_PER_STATEMENT) {
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                    "DELETE FROM execution_rows WHERE status != {} AND id IN (",
                    super::numbers::RUNNING
                ));
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id);
                }
                qb.push(") RETURNING id");
                removed.extend(qb.build_query_scalar::<i64>().fetch_all(&mut *conn).await?);
            }
            for id in &removed {
                // History rows are keyed by execution and event: one range per execution.
                sqlx::query("DELETE FROM history_events WHERE key >= ? AND key < ?")
                    .bind(super::history_key(*id, 0))
                    .bind(super::history_key(id + 1, 0))
                    .execute(&mut *conn)
                    .await?;
            }
            for chunk in removed.chunks(MAX_PARAMS_PER_STATEMENT) {
                for table in [
                    "timers",
                    "tasks",
                    "execution_versions",
                    "map_run_items",
                    "map_runs",
                ] {
                    let mut qb: QueryBuilder<Sqlite> =
                        QueryBuilder::new(format!("DELETE FROM {table} WHERE execution_id IN ("));
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id);
                    }
                    qb.push(")");
                    qb.build().execute(&mut *conn).await?;
                }
            }
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

async fn insert_revision(conn: &mut SqliteConnection, r: &RevisionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO state_machine_revisions \
         (revision_id, state_machine_arn, definition, role_arn, description, created_ms) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.revision_id)
    .bind(&r.state_machine_arn)
    .bind(&r.definition)
    .bind(&r.role_arn)
    .bind(&r.description)
    .bind(r.created_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

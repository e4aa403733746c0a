//! The single writer: every change to the database goes through here.
//!
//! Callers queue a request (a list of [`WriteOp`]s that must commit together) and await its
//! acknowledgement. The writer task takes whatever has queued — up to `max_batch` requests — and
//! commits it in **one transaction** (group commit), inserting rows of the same kind with
//! multi-row statements. Only after the commit does it acknowledge each request, so a caller
//! that got `Ok` knows its changes are on disk.
//!
//! If a batch fails (a constraint, a full disk), it is rolled back and each request is retried
//! alone, so one bad request cannot fail its neighbours.

use std::time::Instant;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{
    Error, ExecutionRow, ExecutionUpdate, NewEvents, Result, RevisionRow, TaskRow, TimerRow,
};
use crate::metrics;

/// SQLite allows 32766 bound parameters per statement; stay well under it.
const MAX_PARAMS_PER_STATEMENT: usize = 30_000;

/// One change.
#[derive(Debug, Clone)]
pub enum WriteOp {
    InsertStateMachine {
        arn: String,
        name: String,
        machine_type: String,
        creation_date_ms: i64,
        logging_configuration: Option<String>,
        tracing_configuration: Option<String>,
        revision: RevisionRow,
    },
    /// Point a state machine at a new revision and/or change its configuration.
    UpdateStateMachine {
        arn: String,
        revision: Option<RevisionRow>,
        update_date_ms: i64,
        logging_configuration: Option<String>,
        tracing_configuration: Option<String>,
    },
    SetStateMachineStatus {
        arn: String,
        status: String,
    },
    /// Remove a state machine and its tags; its revisions stay for its executions.
    DeleteStateMachine {
        arn: String,
    },
    InsertExecution(ExecutionRow),
    UpdateExecution(ExecutionUpdate),
    InsertEvents(NewEvents),
    InsertTimer(TimerRow),
    DeleteTimer {
        execution_id: i64,
        seq: i64,
    },
    InsertTask(TaskRow),
    DeleteTask {
        execution_id: i64,
        seq: i64,
    },
    /// Forget every task of an execution (it has ended).
    DeleteTasksOf {
        execution_id: i64,
    },
    /// Remove closed executions and their history (retention).
    DeleteExecutions {
        ids: Vec<i64>,
    },
    PutTags {
        arn: String,
        tags: Vec<(String, String)>,
    },
    DeleteTags {
        arn: String,
        keys: Vec<String>,
    },
}

impl WriteOp {
    /// Rows of this kind from every request of a batch go into shared multi-row statements;
    /// the other kinds are rare and applied one by one.
    fn is_bulk(&self) -> bool {
        matches!(
            self,
            WriteOp::InsertTask(_)
                | WriteOp::DeleteTask { .. }
                | WriteOp::DeleteTasksOf { .. }
                | WriteOp::InsertExecution(_)
                | WriteOp::UpdateExecution(_)
                | WriteOp::InsertEvents(_)
                | WriteOp::InsertTimer(_)
                | WriteOp::DeleteTimer { .. }
        )
    }
}

struct Request {
    ops: Vec<WriteOp>,
    ack: oneshot::Sender<Result<()>>,
}

/// The handle callers use to submit writes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl Writer {
    /// Start the writer task on `conn`. It runs until `shutdown` is cancelled and the queue is
    /// drained, then returns the connection.
    pub fn spawn(
        conn: SqliteConnection,
        queue_capacity: usize,
        max_batch: usize,
        shutdown: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<Result<SqliteConnection>>) {
        let (tx, rx) = mpsc::channel(queue_capacity);
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
                    Ok(rt) => rt.block_on(run(conn, rx, max_batch, shutdown)),
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
        (Self { tx }, handle)
    }

    /// Queue `ops` and wait until they are committed. Waits for room when the queue is full.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Request { ops, ack })
            .await
            .map_err(|_| Error::WriterGone)?;
        done.await.map_err(|_| Error::WriterGone)?
    }

    /// Like [`Writer::write`], but answers [`Error::Busy`] at once when the queue is full, so
    /// the API can throttle instead of piling up requests.
    pub async fn try_write(&self, ops: Vec<WriteOp>) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .try_send(Request { ops, ack })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Error::Busy,
                mpsc::error::TrySendError::Closed(_) => Error::WriterGone,
            })?;
        done.await.map_err(|_| Error::WriterGone)?
    }
}

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Request>,
    max_batch: usize,
    shutdown: CancellationToken,
) -> Result<SqliteConnection> {
    // The gauges of stored timers and running executions start from the database; from here
    // on every commit moves them by exactly what it changed.
    let timers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timers")
        .fetch_one(&mut conn)
        .await?;
    let running: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM executions WHERE status = 'RUNNING'")
            .fetch_one(&mut conn)
            .await?;
    metrics::timers_on_disk_add(timers);
    metrics::executions_running_add(running);
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        let first = tokio::select! {
            biased;
            r = rx.recv() => r,
            _ = shutdown.cancelled() => {
                // Stop taking new requests, but commit what is already queued.
                rx.close();
                rx.recv().await
            }
        };
        let Some(first) = first else { break };
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
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
            let duplicate =
                matches!(&e, Error::Sqlx(sqlx::Error::Database(db)) if db.is_unique_violation());
            if duplicate {
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
    ops: impl Iterator<Item = &'a WriteOp> + Clone,
) -> Result<i64> {
    let result = apply(conn, ops).await;
    if result.is_err() {
        // Whatever ran of the transaction is undone; when it never began this is a no-op.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result
}

/// The statements of one commit, sent to SQLite as one multi-statement query: one round trip
/// to SQLite's worker thread instead of one per statement. Each statement binds its own
/// parameters (sqlx binds a multi-statement query's arguments statement by statement).
struct Script<'a> {
    qb: QueryBuilder<'a, Sqlite>,
    /// For each statement, how its changed rows move the count of stored timers.
    timer_sign: Vec<i64>,
}

impl<'a> Script<'a> {
    fn new() -> Self {
        Self {
            qb: QueryBuilder::new(""),
            timer_sign: Vec::new(),
        }
    }

    /// Start a statement; `timer_sign` is +1 for timer inserts, -1 for timer deletes.
    fn statement(&mut self, sql: &str, timer_sign: i64) -> &mut QueryBuilder<'a, Sqlite> {
        if !self.timer_sign.is_empty() {
            self.qb.push("; ");
        }
        self.timer_sign.push(timer_sign);
        self.qb.push(sql);
        &mut self.qb
    }

    /// Run every statement; returns the change in stored timers.
    async fn run(mut self, conn: &mut SqliteConnection) -> Result<i64> {
        use futures_util::StreamExt;
        use sqlx::Executor;

        if self.timer_sign.is_empty() {
            return Ok(0);
        }
        let query = self.qb.build().persistent(false);
        let mut results = conn.fetch_many(query);
        let mut signs = self.timer_sign.iter();
        let mut timers = 0i64;
        while let Some(item) = results.next().await {
            if let sqlx::Either::Left(done) = item? {
                let sign = signs.next().copied().unwrap_or(0);
                timers += sign * i64::try_from(done.rows_affected()).unwrap_or(i64::MAX);
            }
        }
        Ok(timers)
    }
}

async fn apply<'a>(
    conn: &mut SqliteConnection,
    ops: impl Iterator<Item = &'a WriteOp> + Clone,
) -> Result<i64> {
    let mut script = Script::new();
    // State machine and tag changes are rare: when there are any, they run one by one, in
    // order, first, inside the transaction; the bulk statements follow in one round trip.
    let rare = ops.clone().any(|op| !op.is_bulk());
    if rare {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        for op in ops.clone() {
            apply_single(conn, op).await?;
        }
    } else {
        script.statement("BEGIN IMMEDIATE", 0);
    }
    // Rows of the same kind from every request go into multi-row statements. Within one batch
    // no two requests touch the same execution (the engine serialises per execution), so
    // grouping by kind does not reorder anything that matters; inside one request, deletes of
    // timers run before inserts and keys never repeat.
    let inserts: Vec<&ExecutionRow> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::InsertExecution(row) => Some(row),
            _ => None,
        })
        .collect();
    insert_executions(&mut script, &inserts);
    let updates: Vec<&ExecutionUpdate> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::UpdateExecution(u) => Some(u),
            _ => None,
        })
        .collect();
    update_executions(&mut script, &updates);
    let events: Vec<&NewEvents> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::InsertEvents(e) => Some(e),
            _ => None,
        })
        .collect();
    insert_events(&mut script, &events);
    let deletes: Vec<(i64, i64)> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::DeleteTimer { execution_id, seq } => Some((*execution_id, *seq)),
            _ => None,
        })
        .collect();
    delete_timers(&mut script, &deletes);
    let timers: Vec<&TimerRow> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::InsertTimer(t) => Some(t),
            _ => None,
        })
        .collect();
    insert_timers(&mut script, &timers);
    write_tasks(&mut script, ops);
    script.statement("COMMIT", 0);
    script.run(conn).await
}

/// Task rows: deletes (one by key, or all of an execution) then inserts, each kind in one
/// statement per chunk.
fn write_tasks<'a>(script: &mut Script<'a>, ops: impl Iterator<Item = &'a WriteOp> + Clone) {
    let keys: Vec<(i64, i64)> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::DeleteTask { execution_id, seq } => Some((*execution_id, *seq)),
            _ => None,
        })
        .collect();
    for chunk in keys.chunks(MAX_PARAMS_PER_STATEMENT / 2) {
        let qb = script.statement("DELETE FROM tasks WHERE (execution_id, seq) IN (", 0);
        qb.push_values(chunk.iter().copied(), |mut b, (execution_id, seq)| {
            b.push_bind(execution_id).push_bind(seq);
        });
        qb.push(")");
    }
    let ended: Vec<i64> = ops
        .clone()
        .filter_map(|op| match op {
            WriteOp::DeleteTasksOf { execution_id } => Some(*execution_id),
            _ => None,
        })
        .collect();
    for chunk in ended.chunks(MAX_PARAMS_PER_STATEMENT) {
        let qb = script.statement("DELETE FROM tasks WHERE execution_id IN (", 0);
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
    }
    let rows: Vec<&TaskRow> = ops
        .filter_map(|op| match op {
            WriteOp::InsertTask(t) => Some(t),
            _ => None,
        })
        .collect();
    for chunk in rows.chunks(MAX_PARAMS_PER_STATEMENT / 4) {
        let qb = script.statement(
            "INSERT INTO tasks (execution_id, seq, scheduled_ms, invocation) ",
            0,
        );
        qb.push_values(chunk.iter().copied(), |mut b, t| {
            b.push_bind(t.execution_id)
                .push_bind(t.seq)
                .push_bind(t.scheduled_ms)
                .push_bind(t.invocation.as_str());
        });
    }
}

async fn apply_single(conn: &mut SqliteConnection, op: &WriteOp) -> Result<()> {
    match op {
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
            .bind(machine_type)
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
                .bind(status)
                .bind(arn)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::DeleteStateMachine { arn } => {
            sqlx::query("DELETE FROM state_machines WHERE arn = ?")
                .bind(arn)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM tags WHERE resource_arn = ?")
                .bind(arn)
                .execute(&mut *conn)
                .await?;
        }
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
            for chunk in ids.chunks(MAX_PARAMS_PER_STATEMENT) {
                for table in ["history_events", "timers", "tasks"] {
                    let mut qb: QueryBuilder<Sqlite> =
                        QueryBuilder::new(format!("DELETE FROM {table} WHERE execution_id IN ("));
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id);
                    }
                    qb.push(")");
                    qb.build().execute(&mut *conn).await?;
                }
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "DELETE FROM executions WHERE status != 'RUNNING' AND id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id);
                }
                qb.push(")");
                qb.build().execute(&mut *conn).await?;
            }
        }
        WriteOp::InsertTask(_)
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

fn insert_executions<'a>(script: &mut Script<'a>, rows: &[&'a ExecutionRow]) {
    const COLUMNS: usize = 15;
    for chunk in rows.chunks(MAX_PARAMS_PER_STATEMENT / COLUMNS) {
        let qb = script.statement(
            "INSERT INTO executions (id, arn, partition, state_machine_arn, revision_id, name, \
             status, input, output, error, cause, start_ms, stop_ms, cursor, last_event_id) ",
            0,
        );
        qb.push_values(chunk.iter().copied(), |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.arn.as_str())
                .push_bind(r.partition)
                .push_bind(r.state_machine_arn.as_str())
                .push_bind(r.revision_id.as_str())
                .push_bind(r.name.as_str())
                .push_bind(r.status.as_str())
                .push_bind(r.input.as_str())
                .push_bind(r.output.as_deref())
                .push_bind(r.error.as_deref())
                .push_bind(r.cause.as_deref())
                .push_bind(r.start_ms)
                .push_bind(r.stop_ms)
                .push_bind(r.cursor.as_deref())
                .push_bind(r.last_event_id);
        });
    }
}

/// One `UPDATE ... FROM (VALUES ...)` per chunk instead of a statement per execution.
fn update_executions<'a>(script: &mut Script<'a>, rows: &[&'a ExecutionUpdate]) {
    const COLUMNS: usize = 8;
    for chunk in rows.chunks(MAX_PARAMS_PER_STATEMENT / COLUMNS) {
        let qb = script.statement(
            "UPDATE executions SET status = v.column2, output = v.column3, error = v.column4, \
             cause = v.column5, stop_ms = v.column6, cursor = v.column7, \
             last_event_id = v.column8 FROM (",
            0,
        );
        qb.push_values(chunk.iter().copied(), |mut b, u| {
            b.push_bind(u.id)
                .push_bind(u.status.as_str())
                .push_bind(u.output.as_deref())
                .push_bind(u.error.as_deref())
                .push_bind(u.cause.as_deref())
                .push_bind(u.stop_ms)
                .push_bind(u.cursor.as_deref())
                .push_bind(u.last_event_id);
        });
        qb.push(") AS v WHERE executions.id = v.column1");
    }
}

fn delete_timers(script: &mut Script<'_>, keys: &[(i64, i64)]) {
    const COLUMNS: usize = 2;
    for chunk in keys.chunks(MAX_PARAMS_PER_STATEMENT / COLUMNS) {
        let qb = script.statement("DELETE FROM timers WHERE (execution_id, seq) IN (", -1);
        qb.push_values(chunk.iter().copied(), |mut b, (execution_id, seq)| {
            b.push_bind(execution_id).push_bind(seq);
        });
        qb.push(")");
    }
}

fn insert_events<'a>(script: &mut Script<'a>, batches: &[&'a NewEvents]) {
    const COLUMNS: usize = 6;
    let rows: Vec<(i64, &crate::asl::HistoryEvent, Option<String>)> = batches
        .iter()
        .flat_map(|b| {
            b.events.iter().map(move |e| {
                (
                    b.execution_id,
                    e,
                    e.details.as_ref().map(ToString::to_string),
                )
            })
        })
        .collect();
    for chunk in rows.chunks(MAX_PARAMS_PER_STATEMENT / COLUMNS) {
        let qb = script.statement(
            "INSERT INTO history_events (execution_id, id, previous_id, type, timestamp_ms, details) ",
            0,
        );
        qb.push_values(chunk.iter().cloned(), |mut b, (exec_id, e, details)| {
            b.push_bind(exec_id)
                .push_bind(e.id)
                .push_bind(e.previous_id)
                .push_bind(e.event_type.as_str())
                .push_bind(e.timestamp_ms)
                .push_bind(details);
        });
    }
}

fn insert_timers(script: &mut Script<'_>, rows: &[&TimerRow]) {
    const COLUMNS: usize = 3;
    for chunk in rows.chunks(MAX_PARAMS_PER_STATEMENT / COLUMNS) {
        let qb = script.statement("INSERT INTO timers (execution_id, seq, due_ms) ", 1);
        qb.push_values(chunk.iter().copied(), |mut b, t| {
            b.push_bind(t.execution_id)
                .push_bind(t.seq)
                .push_bind(t.due_ms);
        });
    }
}

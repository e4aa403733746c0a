//! The PostgreSQL writer: one task per node draining the shared write queue
//! ([`crate::store::queue`]) into one transaction per batch (group commit).
//!
//! A transaction first checks what its requests were fenced by, holding the rows it checked
//! until it commits (`FOR SHARE`), so nothing can change them in between:
//! - every [`WriteOp::Fence`]: this node still holds the partition at that epoch (a node that
//!   lost it writes nothing of it, and the new owner's lease change waits for this commit);
//! - every [`WriteOp::ExpectRevision`]: the machine is still ACTIVE at that revision.
//!
//! Requests whose checks fail are answered [`Error::Fenced`] or [`Error::Stale`] and left out;
//! the rows of the others go in with one statement per kind of row over arrays (`UNNEST`), so
//! the statements are the same whatever the batch holds and PostgreSQL plans them once. If the
//! batch fails (a taken name, say), it is rolled back and each request is tried alone, so one
//! bad request cannot fail its neighbours.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use super::classify;
use crate::metrics;
use crate::store::packed;
pub use crate::store::queue::Writer;
use crate::store::queue::{next_batch, Request};
use crate::store::versions_sql as sql;
use crate::store::{Error, Result, RevisionRow, RowsByKind, WriteOp};

/// Start the writer on `conn` for the node `node_id`. It runs until `shutdown` is cancelled
/// and the queue is drained.
pub fn spawn(
    conn: PgConnection,
    node_id: String,
    queue_capacity: usize,
    max_batch: usize,
    shutdown: CancellationToken,
    reconnect: sqlx::postgres::PgConnectOptions,
) -> (Writer, tokio::task::JoinHandle<Result<()>>) {
    let (writer, mut rx) = Writer::channel(queue_capacity);
    let handle = tokio::spawn(async move {
        let mut conn = Some(conn);
        while let Some(mut batch) = next_batch(&mut rx, max_batch, &shutdown).await {
            // A lost connection (the server restarted) is made again for the next batch; the
            // requests of this one are answered as the failure was (Unavailable).
            if conn.is_none() {
                conn = PgConnection::connect_with(&reconnect).await.ok();
            }
            match conn.as_mut() {
                Some(c) => {
                    if commit_batch(c, &node_id, &mut batch).await {
                        conn = None;
                    }
                }
                None => {
                    for r in batch.drain(..) {
                        let _ = r.ack.send(Err(Error::Unavailable(
                            "the database cannot be reached".into(),
                        )));
                    }
                }
            }
        }
        if let Some(c) = conn {
            let _ = c.close().await;
        }
        Ok(())
    });
    (writer, handle)
}

/// Commit `batch` (emptying it) and acknowledge every request. Returns whether the connection
/// is broken and must be made again.
async fn commit_batch(conn: &mut PgConnection, node: &str, batch: &mut Vec<Request>) -> bool {
    let started = Instant::now();
    let size = batch.len();
    let broken = match commit(conn, node, batch).await {
        Ok(()) => false,
        Err(e) if batch.len() == 1 => {
            let broken = matches!(e, Error::Unavailable(_));
            if let Some(r) = batch.pop() {
                let _ = r.ack.send(Err(e));
            }
            broken
        }
        Err(Error::Unavailable(m)) => {
            for r in batch.drain(..) {
                let _ = r.ack.send(Err(Error::Unavailable(m.clone())));
            }
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, size, "batch failed; committing its requests one by one");
            let mut broken = false;
            for r in std::mem::take(batch) {
                let mut one = vec![r];
                if let Err(e) = commit(conn, node, &mut one).await {
                    broken |= matches!(e, Error::Unavailable(_));
                    if let Some(r) = one.pop() {
                        let _ = r.ack.send(Err(e));
                    }
                }
            }
            broken
        }
    };
    metrics::record_commit(size, started.elapsed());
    broken
}

/// Requests with their place in the batch.
type Numbered = Vec<(usize, Request)>;

/// One transaction for the requests of `batch`: check their fences, answer those that fail,
/// write the others and answer them once committed. On an error nothing is written, nothing is
/// answered, and the requests stay in `batch`.
async fn commit(conn: &mut PgConnection, node: &str, batch: &mut Vec<Request>) -> Result<()> {
    let mut tx = conn.begin().await.map_err(classify)?;
    let mut reasons = check_fences(&mut tx, node, batch).await?;
    let (kept, refused): (Numbered, Numbered) = std::mem::take(batch)
        .into_iter()
        .enumerate()
        .partition(|(i, _)| !reasons.contains_key(i));
    let rows = write_rows(&mut tx, kept.iter().map(|(_, r)| r.ops.as_slice())).await;
    let rows = match rows {
        Ok(timers) => tx.commit().await.map_err(classify).map(|()| timers),
        Err(e) => Err(e),
    };
    match rows {
        Ok(timers) => {
            metrics::timers_on_disk_add(timers);
            for (_, r) in kept {
                let _ = r.ack.send(Ok(()));
            }
            for (i, r) in refused {
                let e = reasons.remove(&i).unwrap_or(Error::Fenced(-1));
                let _ = r.ack.send(Err(e));
            }
            Ok(())
        }
        Err(e) => {
            // Put the batch back in its order for the caller to retry or answer.
            let mut all: Numbered = kept.into_iter().chain(refused).collect();
            all.sort_by_key(|(i, _)| *i);
            batch.extend(all.into_iter().map(|(_, r)| r));
            Err(e)
        }
    }
}

/// Which requests of `batch` (by index) fail their fences, with the error each gets. Locks the
/// rows it checked until the transaction ends.
async fn check_fences(
    tx: &mut PgConnection,
    node: &str,
    batch: &[Request],
) -> Result<BTreeMap<usize, Error>> {
    let mut partitions: BTreeSet<i64> = BTreeSet::new();
    let mut machines: BTreeSet<&str> = BTreeSet::new();
    for r in batch {
        for op in &r.ops {
            match op {
                WriteOp::Fence { partition, .. } => {
                    partitions.insert(*partition);
                }
                WriteOp::ExpectRevision { arn, .. } => {
                    machines.insert(arn);
                }
                _ => {}
            }
        }
    }
    let mut held: BTreeMap<i64, i64> = BTreeMap::new();
    if !partitions.is_empty() {
        let ps: Vec<i64> = partitions.into_iter().collect();
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT partition, epoch FROM leases WHERE owner = $1 AND partition = ANY($2) \
             ORDER BY partition FOR SHARE",
        )
        .bind(node)
        .bind(&ps)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        held.extend(rows);
    }
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    if !machines.is_empty() {
        let arns: Vec<&str> = machines.into_iter().collect();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT arn, revision_id FROM state_machines \
             WHERE arn = ANY($1) AND status = 'ACTIVE' ORDER BY arn FOR SHARE",
        )
        .bind(&arns)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        current.extend(rows);
    }
    let mut refused = BTreeMap::new();
    for (i, r) in batch.iter().enumerate() {
        for op in &r.ops {
            match op {
                WriteOp::Fence { partition, epoch } if held.get(partition) != Some(epoch) => {
                    refused.insert(i, Error::Fenced(*partition));
                    metrics::fenced_commit();
                }
                WriteOp::ExpectRevision { arn, revision_id }
                    if current.get(arn) != Some(revision_id) =>
                {
                    refused.insert(i, Error::Stale(arn.clone()));
                }
                _ => {}
            }
        }
    }
    Ok(refused)
}

/// Write the rows of these requests; returns the change in the number of stored timers.
async fn write_rows<'a>(
    tx: &mut PgConnection,
    requests: impl Iterator<Item = &'a [WriteOp]>,
) -> Result<i64> {
    let (rows, rare) = RowsByKind::gather(requests.flatten());
    for op in rare {
        apply_single(tx, op).await?;
    }
    let mut timers = 0i64;
    let started = rows.started_inputs();
    if !rows.executions.is_empty() {
        let e = &rows.executions;
        sqlx::query(
            "INSERT INTO executions (id, arn, partition, state_machine_arn, revision_id, name, \
             status, input, output, error, cause, start_ms, stop_ms, cursor, last_event_id) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::bigint[], $13::bigint[], $14::text[], $15::bigint[])",
        )
        .bind(e.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.arn.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.partition).collect::<Vec<_>>())
        .bind(
            e.iter()
                .map(|r| r.state_machine_arn.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(e.iter().map(|r| r.revision_id.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.input.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.output.as_deref()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.error.as_deref()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.cause.as_deref()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.start_ms).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.stop_ms).collect::<Vec<_>>())
        .bind(
            e.iter()
                .map(|r| {
                    r.cursor.as_deref().map(|c| {
                        packed::pack_cursor_with_input(c, packed::started_input(&started, r.id))
                    })
                })
                .collect::<Vec<_>>(),
        )
        .bind(e.iter().map(|r| r.last_event_id).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    if !rows.updates.is_empty() {
        let u = &rows.updates;
        sqlx::query(
            "UPDATE executions e SET status = u.status, output = u.output, error = u.error, \
             cause = u.cause, stop_ms = u.stop_ms, cursor = u.cursor, \
             last_event_id = u.last_event_id \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::bigint[], $7::text[], $8::bigint[]) \
             AS u(id, status, output, error, cause, stop_ms, cursor, last_event_id) \
             WHERE e.id = u.id",
        )
        .bind(u.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(u.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(u.iter().map(|r| r.output.as_deref()).collect::<Vec<_>>())
        .bind(u.iter().map(|r| r.error.as_deref()).collect::<Vec<_>>())
        .bind(u.iter().map(|r| r.cause.as_deref()).collect::<Vec<_>>())
        .bind(u.iter().map(|r| r.stop_ms).collect::<Vec<_>>())
        .bind(
            u.iter()
                .map(|r| r.cursor.as_deref().map(packed::pack_cursor))
                .collect::<Vec<_>>(),
        )
        .bind(u.iter().map(|r| r.last_event_id).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    if !rows.timer_deletes.is_empty() {
        let (ids, seqs): (Vec<i64>, Vec<i64>) = rows.timer_deletes.iter().copied().unzip();
        let done = sqlx::query(
            "DELETE FROM timers t USING UNNEST($1::bigint[], $2::bigint[]) AS d(execution_id, seq) \
             WHERE t.execution_id = d.execution_id AND t.seq = d.seq",
        )
        .bind(ids)
        .bind(seqs)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        timers -= done.rows_affected() as i64;
    }
    if !rows.timers.is_empty() {
        let t = &rows.timers;
        let done = sqlx::query(
            "INSERT INTO timers (execution_id, seq, due_ms, partition) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
             ON CONFLICT (execution_id, seq) DO UPDATE SET due_ms = excluded.due_ms",
        )
        .bind(t.iter().map(|r| r.execution_id).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.seq).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.due_ms).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.partition).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        timers += done.rows_affected() as i64;
    }
    if !rows.task_deletes.is_empty() {
        let (ids, seqs): (Vec<i64>, Vec<i64>) = rows.task_deletes.iter().copied().unzip();
        sqlx::query(
            "DELETE FROM tasks t USING UNNEST($1::bigint[], $2::bigint[]) AS d(execution_id, seq) \
             WHERE t.execution_id = d.execution_id AND t.seq = d.seq",
        )
        .bind(ids)
        .bind(seqs)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    if !rows.tasks_ended.is_empty() {
        sqlx::query("DELETE FROM tasks WHERE execution_id = ANY($1)")
            .bind(&rows.tasks_ended)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
    }
    if !rows.tasks.is_empty() {
        let t = &rows.tasks;
        sqlx::query(
            "INSERT INTO tasks (execution_id, seq, partition, scheduled_ms, invocation) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], \
             $5::text[]) ON CONFLICT (execution_id, seq) DO NOTHING",
        )
        .bind(t.iter().map(|r| r.execution_id).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.seq).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.partition).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.scheduled_ms).collect::<Vec<_>>())
        .bind(t.iter().map(|r| r.invocation.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    if !rows.events.is_empty() {
        let e = &rows.events;
        sqlx::query(
            "INSERT INTO history_events (execution_id, id, previous_id, type, timestamp_ms, \
             details) SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], \
             $5::bigint[], $6::text[])",
        )
        .bind(e.iter().map(|(x, _)| *x).collect::<Vec<_>>())
        .bind(e.iter().map(|(_, r)| r.id).collect::<Vec<_>>())
        .bind(e.iter().map(|(_, r)| r.previous_id).collect::<Vec<_>>())
        .bind(
            e.iter()
                .map(|(_, r)| r.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(e.iter().map(|(_, r)| r.timestamp_ms).collect::<Vec<_>>())
        .bind(
            e.iter()
                .map(|(id, r)| {
                    r.details.as_deref().map(|d| {
                        // The events of an execution started in this commit may leave out its
                        // input.
                        packed::pack_with_input(d, packed::started_input(&started, *id))
                            .into_owned()
                    })
                })
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    }
    Ok(timers)
}

/// Remove a row of `table` (keyed by `arn`) and the resource's tags.
async fn delete_tagged(tx: &mut PgConnection, table: &str, arn: &str) -> Result<()> {
    let sql = format!("DELETE FROM {table} WHERE arn = $1");
    exec(tx, sqlx::query(&sql).bind(arn)).await?;
    exec(
        tx,
        sqlx::query("DELETE FROM tags WHERE resource_arn = $1").bind(arn),
    )
    .await
}

/// A change to state machines, tags or closed executions.
async fn apply_single(tx: &mut PgConnection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::InsertMapRun { .. }
        | WriteOp::MapItemStarted { .. }
        | WriteOp::MapItemEnded { .. }
        | WriteOp::UpdateMapRun { .. }
        | WriteOp::RedriveMapRun { .. }
        | WriteOp::EndMapRun { .. } => super::map_runs::apply(tx, op).await?,
        WriteOp::InsertStateMachine {
            arn,
            name,
            machine_type,
            creation_date_ms,
            logging_configuration,
            tracing_configuration,
            revision,
        } => {
            insert_revision(tx, revision).await?;
            sqlx::query(
                "INSERT INTO state_machines (arn, name, type, status, revision_id, \
                 creation_date_ms, update_date_ms, logging_configuration, tracing_configuration) \
                 VALUES ($1, $2, $3, 'ACTIVE', $4, $5, NULL, $6, $7)",
            )
            .bind(arn)
            .bind(name)
            .bind(machine_type.as_str())
            .bind(&revision.revision_id)
            .bind(creation_date_ms)
            .bind(logging_configuration)
            .bind(tracing_configuration)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        WriteOp::UpdateStateMachine {
            arn,
            revision,
            update_date_ms,
            logging_configuration,
            tracing_configuration,
        } => {
            if let Some(rev) = revision {
                insert_revision(tx, rev).await?;
                sqlx::query("UPDATE state_machines SET revision_id = $1 WHERE arn = $2")
                    .bind(&rev.revision_id)
                    .bind(arn)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
            }
            sqlx::query(
                "UPDATE state_machines SET update_date_ms = $1, \
                 logging_configuration = COALESCE($2, logging_configuration), \
                 tracing_configuration = COALESCE($3, tracing_configuration) WHERE arn = $4",
            )
            .bind(update_date_ms)
            .bind(logging_configuration)
            .bind(tracing_configuration)
            .bind(arn)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        WriteOp::SetStateMachineStatus { arn, status } => {
            exec(
                tx,
                sqlx::query("UPDATE state_machines SET status = $1 WHERE arn = $2")
                    .bind(status.as_str())
                    .bind(arn),
            )
            .await?
        }
        WriteOp::DeleteStateMachine { arn } => {
            delete_tagged(tx, "state_machines", arn).await?;
            for q in sql::DELETE_MACHINE_VERSIONS {
                exec(tx, sqlx::query(q).bind(arn)).await?;
            }
        }
        WriteOp::InsertVersion(v) => {
            exec(
                tx,
                sqlx::query(sql::INSERT_VERSION)
                    .bind(&v.arn)
                    .bind(&v.state_machine_arn)
                    .bind(v.version)
                    .bind(&v.revision_id)
                    .bind(&v.description)
                    .bind(v.creation_date_ms),
            )
            .await?
        }
        WriteOp::DeleteVersion { arn } => {
            exec(tx, sqlx::query(sql::DELETE_VERSION).bind(arn)).await?
        }
        WriteOp::PutAlias(a) => {
            exec(
                tx,
                sqlx::query(sql::PUT_ALIAS)
                    .bind(&a.arn)
                    .bind(&a.state_machine_arn)
                    .bind(&a.name)
                    .bind(&a.description)
                    .bind(&a.routing)
                    .bind(a.creation_date_ms)
                    .bind(a.update_date_ms),
            )
            .await?
        }
        WriteOp::DeleteAlias { arn } => delete_tagged(tx, "state_machine_aliases", arn).await?,
        WriteOp::InsertExecutionVersion {
            execution_id,
            version_arn,
            alias_arn,
        } => {
            exec(
                tx,
                sqlx::query(sql::INSERT_EXECUTION_VERSION)
                    .bind(execution_id)
                    .bind(version_arn)
                    .bind(alias_arn),
            )
            .await?
        }
        WriteOp::InsertActivity(a) => {
            exec(
                tx,
                sqlx::query(
                    "INSERT INTO activities (arn, name, creation_date_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (arn) DO NOTHING",
                )
                .bind(&a.arn)
                .bind(&a.name)
                .bind(a.creation_date_ms),
            )
            .await?
        }
        WriteOp::DeleteActivity { arn } => delete_tagged(tx, "activities", arn).await?,
        WriteOp::PutTags { arn, tags } => {
            let (keys, values): (Vec<&str>, Vec<&str>) =
                tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip();
            exec(
                tx,
                sqlx::query(
                    "INSERT INTO tags (resource_arn, key, value) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[]) \
                 ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
                )
                .bind(arn)
                .bind(keys)
                .bind(values),
            )
            .await?
        }
        WriteOp::DeleteTags { arn, keys } => {
            exec(
                tx,
                sqlx::query("DELETE FROM tags WHERE resource_arn = $1 AND key = ANY($2)")
                    .bind(arn)
                    .bind(keys),
            )
            .await?
        }
        WriteOp::DeleteExecutions { ids } => {
            // The rows first, and only of executions still closed (a redrive may have made one
            // RUNNING since the sweep chose it): the children go with the rows removed.
            let removed: Vec<i64> = sqlx::query_scalar(
                "DELETE FROM executions WHERE status <> 'RUNNING' AND id = ANY($1) RETURNING id",
            )
            .bind(ids)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
            for table in [
                "history_events",
                "timers",
                "tasks",
                "execution_versions",
                "map_run_items",
                "map_runs",
            ] {
                exec(
                    tx,
                    sqlx::query(&format!("DELETE FROM {table} WHERE execution_id = ANY($1)"))
                        .bind(&removed),
                )
                .await?;
            }
        }
        // Written together by `write_rows`; free pages are PostgreSQL's to reuse.
        WriteOp::ReleaseFreePages { .. }
        | WriteOp::Fence { .. }
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

async fn exec(
    tx: &mut PgConnection,
    q: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<()> {
    q.execute(&mut *tx).await.map(|_| ()).map_err(classify)
}

async fn insert_revision(tx: &mut PgConnection, r: &RevisionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO state_machine_revisions \
         (revision_id, state_machine_arn, definition, role_arn, description, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.revision_id)
    .bind(&r.state_machine_arn)
    .bind(&r.definition)
    .bind(&r.role_arn)
    .bind(&r.description)
    .bind(r.created_ms)
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
}

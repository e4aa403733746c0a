//! The cluster's store: PostgreSQL, shared by every node.
//!
//! - this module: connecting (pool sizes for managed servers' connection limits), migrations
//!   (`migrations/postgres`), every read, execution ids in blocks, and the leases of partitions;
//! - [`writer`]: one writer task per node that commits queued changes in groups, one statement
//!   per kind of row over arrays (`UNNEST`), fenced by the leases in the same transaction.
//!
//! Reads see every committed transaction (READ COMMITTED), so any node can serve them.

mod console;
pub mod leases;
mod map_runs;
pub mod writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub use writer::Writer;

use super::console_sql;
use super::map_runs_sql as runs;
use super::packed;
use super::ports::{
    CallReads, Commit, ExecutionReads, ExecutionVersion, FreePages, HistoryReads, Ids,
    MachineReads, MapRunReads, TimerReads, VersionReads, WhenFull,
};
use super::versions_sql as sql;
use super::{
    ActivityRow, AliasRow, DescribedExecution, Error, EventRow, ExecutionRow, MapItemRow,
    MapRunKey, MapRunRow, Result, RevisionRow, StateMachineRow, TaskRow, TimerRow, VersionRow,
    WriteOp,
};
use crate::model::ExecutionStatus;

/// Execution ids a node takes at a time (the sequence's increment).
const ID_BLOCK: i64 = 1000;

const STATE_MACHINE_COLUMNS: &str = "sm.arn, sm.name, sm.type, sm.status, sm.revision_id, \
     sm.creation_date_ms, sm.update_date_ms, sm.logging_configuration, sm.tracing_configuration, \
     r.definition, r.role_arn, r.description";

const EXECUTION_COLUMNS: &str =
    "id, arn, partition, state_machine_arn, revision_id, name, status, \
     input, output, error, cause, start_ms, stop_ms, cursor, last_event_id";

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    /// Connections for reads (and lease rounds); the writer has one of its own.
    pub read_connections: u32,
    pub connect_timeout: Duration,
    /// How long the server keeps a transaction this node opened and left idle (the node
    /// paused or stopped half-way) before it ends the session and frees its locks: a
    /// paused node's commit holds its lease rows `FOR SHARE`, and no other node can take those
    /// partitions over until the lock goes. `None`: the server's setting.
    pub idle_in_transaction: Option<Duration>,
}

/// The ports over PostgreSQL. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    pub writer: Writer,
    /// The block of execution ids this node is handing out: next, end (exclusive).
    ids: Arc<Mutex<(i64, i64)>>,
}

/// What a failed statement means to its caller.
pub(crate) fn classify(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Duplicate,
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => Error::Unavailable(e.to_string()),
        // Class 08 (connection exception), 53 (insufficient resources), 57P (operator
        // intervention: a restart, a shutdown), 25P03 (the session was ended for idling in a
        // transaction: this node was paused).
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") || c == "25P03"
            }) =>
        {
            Error::Unavailable(e.to_string())
        }
        _ => Error::Sqlx(e),
    }
}

/// How every connection of this node is made.
pub fn options(settings: &Settings) -> Result<PgConnectOptions> {
    let opts: PgConnectOptions = settings.url.parse().map_err(classify)?;
    let opts = opts.application_name("hourglass");
    Ok(match settings.idle_in_transaction {
        Some(idle) => opts.options([(
            "idle_in_transaction_session_timeout",
            format!("{}ms", idle.as_millis().max(1)),
        )]),
        None => opts,
    })
}

/// Connect, apply migrations, and fix the number of partitions: the first node to initialise
/// the database stores `partitions`; later ones read what was stored. Returns the store's read
/// side and the connection the writer will own.
pub async fn open(
    settings: &Settings,
    partitions: u64,
) -> Result<(PgPool, sqlx::PgConnection, u64)> {
    use sqlx::Connection;
    let opts = options(settings)?;
    let mut conn = sqlx::PgConnection::connect_with(&opts)
        .await
        .map_err(classify)?;
    sqlx::migrate!("./migrations/postgres")
        .run(&mut conn)
        .await?;
    sqlx::query(
        "INSERT INTO cluster_settings (key, value) VALUES ('partitions', $1) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(partitions.to_string())
    .execute(&mut conn)
    .await
    .map_err(classify)?;
    let stored: String =
        sqlx::query_scalar("SELECT value FROM cluster_settings WHERE key = 'partitions'")
            .fetch_one(&mut conn)
            .await
            .map_err(classify)?;
    let stored: u64 = stored
        .parse()
        .map_err(|_| Error::Unavailable(format!("stored partition count '{stored}'")))?;
    sqlx::query(
        "INSERT INTO leases (partition) SELECT generate_series(0, $1 - 1) \
         ON CONFLICT (partition) DO NOTHING",
    )
    .bind(stored as i64)
    .execute(&mut conn)
    .await
    .map_err(classify)?;
    let pool = tested_when_idle(PgPoolOptions::new())
        .max_connections(settings.read_connections.max(1))
        .min_connections(1)
        .acquire_timeout(settings.connect_timeout)
        .connect_with(opts)
        .await
        .map_err(classify)?;
    Ok((pool, conn, stored))
}

/// How long a connection may sit idle and still be handed out untested.
const TRUSTED_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// A pool tests each connection with a round trip to the server as it hands it out, and again
/// as it takes it back. Under load a connection is handed out again within milliseconds of
/// passing the second test, so the first is left to connections idle for longer than
/// [`TRUSTED_IDLE`]: those the server may have dropped meanwhile.
fn tested_when_idle(options: PgPoolOptions) -> PgPoolOptions {
    options
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > TRUSTED_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// A pool of `connections` of its own, connecting when first used: the lease manager's, so
/// that its rounds never queue behind the API's reads (a round that waited past the lease
/// would lose every partition of a busy node).
pub fn own_pool(settings: &Settings, connections: u32) -> Result<PgPool> {
    Ok(tested_when_idle(PgPoolOptions::new())
        .max_connections(connections.max(1))
        .acquire_timeout(settings.connect_timeout)
        .connect_lazy_with(options(settings)?))
}

impl PgStore {
    pub fn new(pool: PgPool, writer: Writer) -> Self {
        Self {
            pool,
            writer,
            ids: Arc::new(Mutex::new((0, 0))),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Map a read's error, and return its rows.
macro_rules! read {
    ($q:expr) => {
        $q.await.map_err(classify)
    };
}

impl PgStore {
    /// A page of executions newest first: `query` takes the ARN they are listed by, the
    /// status filter, the `(start_ms, id)` cursor and the page size.
    async fn executions_page(
        &self,
        query: &str,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        let (after_start, after_id) = after.unwrap_or((i64::MAX, i64::MAX));
        read!(sqlx::query_as(query)
            .bind(arn)
            .bind(status.map(ExecutionStatus::as_str))
            .bind(after_start)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool))
        .map(packed::unpack_executions)
    }

    /// An execution's input (what its history and cursor may leave out).
    pub async fn input_of(&self, execution_id: i64) -> Result<Option<String>> {
        read!(
            sqlx::query_scalar("SELECT input FROM executions WHERE id = $1")
                .bind(execution_id)
                .fetch_optional(&self.pool)
        )
    }
}

impl MachineReads for PgStore {
    async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRow>> {
        let sql = format!(
            "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines sm \
             JOIN state_machine_revisions r ON r.revision_id = sm.revision_id WHERE sm.arn = $1"
        );
        read!(sqlx::query_as(&sql).bind(arn).fetch_optional(&self.pool))
    }

    async fn list_state_machines(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StateMachineRow>> {
        let sql = format!(
            "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines sm \
             JOIN state_machine_revisions r ON r.revision_id = sm.revision_id \
             WHERE sm.arn > $1 ORDER BY sm.arn LIMIT $2"
        );
        read!(sqlx::query_as(&sql)
            .bind(after_arn.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool))
    }

    async fn deleting_state_machines(&self) -> Result<Vec<String>> {
        read!(
            sqlx::query_scalar("SELECT arn FROM state_machines WHERE status = 'DELETING'")
                .fetch_all(&self.pool)
        )
    }

    async fn revision(&self, revision_id: &str) -> Result<Option<RevisionRow>> {
        read!(sqlx::query_as(
            "SELECT revision_id, state_machine_arn, definition, role_arn, description, created_ms \
             FROM state_machine_revisions WHERE revision_id = $1",
        )
        .bind(revision_id)
        .fetch_optional(&self.pool))
    }

    async fn activity(&self, arn: &str) -> Result<Option<ActivityRow>> {
        read!(
            sqlx::query_as("SELECT arn, name, creation_date_ms FROM activities WHERE arn = $1")
                .bind(arn)
                .fetch_optional(&self.pool)
        )
    }

    async fn list_activities(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ActivityRow>> {
        read!(sqlx::query_as(
            "SELECT arn, name, creation_date_ms FROM activities WHERE arn > $1 ORDER BY arn LIMIT $2"
        )
        .bind(after_arn.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool))
    }

    async fn tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>> {
        read!(
            sqlx::query_as("SELECT key, value FROM tags WHERE resource_arn = $1 ORDER BY key")
                .bind(resource_arn)
                .fetch_all(&self.pool)
        )
    }
}

impl VersionReads for PgStore {
    async fn version(&self, arn: &str) -> Result<Option<VersionRow>> {
        read!(sqlx::query_as(sql::VERSION)
            .bind(arn)
            .fetch_optional(&self.pool))
    }

    async fn versions(&self, state_machine_arn: &str) -> Result<Vec<VersionRow>> {
        read!(sqlx::query_as(sql::VERSIONS)
            .bind(state_machine_arn)
            .fetch_all(&self.pool))
    }

    async fn last_version(&self, state_machine_arn: &str) -> Result<i64> {
        read!(sqlx::query_scalar(sql::LAST_VERSION)
            .bind(state_machine_arn)
            .fetch_one(&self.pool))
    }

    async fn alias(&self, arn: &str) -> Result<Option<AliasRow>> {
        read!(sqlx::query_as(sql::ALIAS)
            .bind(arn)
            .fetch_optional(&self.pool))
    }

    async fn aliases(&self, state_machine_arn: &str) -> Result<Vec<AliasRow>> {
        read!(sqlx::query_as(sql::ALIASES)
            .bind(state_machine_arn)
            .fetch_all(&self.pool))
    }

    async fn execution_version(
        &self,
        execution_id: i64,
    ) -> Result<Option<(String, Option<String>)>> {
        read!(sqlx::query_as(sql::EXECUTION_VERSION)
            .bind(execution_id)
            .fetch_optional(&self.pool))
    }

    async fn described_by_arns(&self, arns: &[String]) -> Result<Vec<DescribedExecution>> {
        let sql = format!(
            "SELECT e.*, v.version_arn, v.alias_arn FROM \
             (SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ANY($1)) AS e \
             LEFT JOIN execution_versions AS v ON v.execution_id = e.id"
        );
        read!(sqlx::query_as(&sql).bind(arns).fetch_all(&self.pool)).map(packed::unpack_described)
    }

    async fn execution_versions(&self, ids: &[i64]) -> Result<Vec<ExecutionVersion>> {
        read!(sqlx::query_as(
            "SELECT execution_id, version_arn, alias_arn FROM execution_versions \
             WHERE execution_id = ANY($1)"
        )
        .bind(ids)
        .fetch_all(&self.pool))
    }

    async fn list_executions_through(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        self.executions_page(
            &sql::executions_through(EXECUTION_COLUMNS),
            arn,
            status,
            after,
            limit,
        )
        .await
    }
}

impl MapRunReads for PgStore {
    async fn map_run(&self, arn: &str) -> Result<Option<MapRunRow>> {
        read!(sqlx::query_as(&runs::map_run())
            .bind(arn)
            .fetch_optional(&self.pool))
    }

    async fn map_runs_of(&self, execution_arn: &str) -> Result<Vec<MapRunRow>> {
        read!(sqlx::query_as(&runs::map_runs_of())
            .bind(execution_arn)
            .fetch_all(&self.pool))
    }

    async fn map_items(
        &self,
        run: MapRunKey,
        from: i64,
        limit: i64,
        pending: bool,
    ) -> Result<Vec<MapItemRow>> {
        let q = if pending {
            runs::PENDING_ITEMS
        } else {
            runs::ITEMS
        };
        read!(sqlx::query_as(q)
            .bind(run.0)
            .bind(run.1)
            .bind(from)
            .bind(limit)
            .fetch_all(&self.pool))
    }

    async fn running_map_items(&self, run: MapRunKey) -> Result<Vec<MapItemRow>> {
        read!(sqlx::query_as(runs::RUNNING_ITEMS)
            .bind(run.0)
            .bind(run.1)
            .fetch_all(&self.pool))
    }

    async fn map_run_of_child(&self, execution_arn: &str) -> Result<Option<String>> {
        read!(sqlx::query_scalar(runs::RUN_OF_CHILD)
            .bind(execution_arn)
            .fetch_optional(&self.pool))
    }

    async fn list_map_run_executions(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        self.executions_page(
            &runs::executions_of(EXECUTION_COLUMNS, runs::CHILD_BY_ARN),
            arn,
            status,
            after,
            limit,
        )
        .await
    }
}

impl ExecutionReads for PgStore {
    async fn execution_by_arn(&self, arn: &str) -> Result<Option<ExecutionRow>> {
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = $1");
        read!(sqlx::query_as(&sql).bind(arn).fetch_optional(&self.pool))
            .map(packed::unpack_execution)
    }

    async fn execution_by_id(&self, id: i64) -> Result<Option<ExecutionRow>> {
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = $1");
        read!(sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool))
            .map(packed::unpack_execution)
    }

    async fn executions_by_ids(&self, ids: &[i64]) -> Result<Vec<ExecutionRow>> {
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = ANY($1)");
        read!(sqlx::query_as(&sql).bind(ids).fetch_all(&self.pool)).map(packed::unpack_executions)
    }

    async fn list_executions(
        &self,
        state_machine_arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        let (after_start, after_id) = after.unwrap_or((i64::MAX, i64::MAX));
        let sql = match status {
            Some(_) => console_sql::executions_with_status(EXECUTION_COLUMNS),
            None => console_sql::executions_any_status(EXECUTION_COLUMNS),
        };
        read!(sqlx::query_as(&sql)
            .bind(state_machine_arn)
            .bind(status.map(ExecutionStatus::as_str))
            .bind(after_start)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool))
        .map(packed::unpack_executions)
    }

    /// From the counts the triggers keep (migration 0005): a row a partition.
    async fn count_running(&self, state_machine_arn: &str) -> Result<i64> {
        read!(sqlx::query_scalar(
            "SELECT COALESCE(SUM(n), 0)::bigint FROM execution_counts \
             WHERE state_machine_arn = $1 AND status = 'RUNNING'",
        )
        .bind(state_machine_arn)
        .fetch_one(&self.pool))
    }

    async fn count_all_running(&self) -> Result<i64> {
        read!(sqlx::query_scalar(
            "SELECT COALESCE(SUM(n), 0)::bigint FROM execution_counts WHERE status = 'RUNNING'"
        )
        .fetch_one(&self.pool))
    }

    async fn max_execution_id(&self) -> Result<i64> {
        let max: Option<i64> =
            read!(sqlx::query_scalar("SELECT MAX(id) FROM executions").fetch_one(&self.pool))?;
        Ok(max.unwrap_or(0))
    }

    async fn closed_before(&self, before_ms: i64, limit: i64) -> Result<Vec<i64>> {
        read!(sqlx::query_scalar(
            "SELECT id FROM executions WHERE stop_ms IS NOT NULL AND stop_ms < $1 \
             ORDER BY stop_ms LIMIT $2",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&self.pool))
    }

    /// PostgreSQL's autovacuum makes dead rows' room reusable; the space is not given back.
    async fn free_pages(&self) -> Result<Option<FreePages>> {
        Ok(None)
    }
}

impl HistoryReads for PgStore {
    async fn history(
        &self,
        execution_id: i64,
        after_id: Option<i64>,
        limit: i64,
        reverse: bool,
    ) -> Result<Vec<EventRow>> {
        let sql = if reverse {
            "SELECT id, previous_id, type, timestamp_ms, details FROM history_events \
             WHERE execution_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        } else {
            "SELECT id, previous_id, type, timestamp_ms, details FROM history_events \
             WHERE execution_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        };
        let bound = after_id.unwrap_or(if reverse { i64::MAX } else { 0 });
        let rows = read!(sqlx::query_as(sql)
            .bind(execution_id)
            .bind(bound)
            .bind(limit)
            .fetch_all(&self.pool))?;
        packed::unpack_history(rows, || self.input_of(execution_id)).await
    }
}

impl TimerReads for PgStore {
    async fn timers_due(
        &self,
        after: Option<TimerRow>,
        until_ms: i64,
        limit: i64,
        held: Option<&[i64]>,
    ) -> Result<Vec<TimerRow>> {
        let a = after.map_or((i64::MIN, i64::MIN, i64::MIN), |a| {
            (a.due_ms, a.execution_id, a.seq)
        });
        read!(sqlx::query_as(
            "SELECT due_ms, execution_id, seq, partition FROM timers \
             WHERE (due_ms, execution_id, seq) > ($1, $2, $3) AND due_ms < $4 \
               AND ($5::bigint[] IS NULL OR partition = ANY($5)) \
             ORDER BY due_ms, execution_id, seq LIMIT $6",
        )
        .bind(a.0)
        .bind(a.1)
        .bind(a.2)
        .bind(until_ms)
        .bind(held)
        .bind(limit)
        .fetch_all(&self.pool))
    }

    async fn count_timers(&self) -> Result<i64> {
        read!(sqlx::query_scalar("SELECT COUNT(*) FROM timers").fetch_one(&self.pool))
    }
}

impl CallReads for PgStore {
    async fn tasks_after(
        &self,
        after: Option<(i64, i64)>,
        limit: i64,
        held: Option<&[i64]>,
    ) -> Result<Vec<TaskRow>> {
        let (execution_id, seq) = after.unwrap_or((i64::MIN, i64::MIN));
        read!(sqlx::query_as(
            "SELECT execution_id, seq, partition, scheduled_ms, invocation FROM tasks \
             WHERE (execution_id, seq) > ($1, $2) \
               AND ($3::bigint[] IS NULL OR partition = ANY($3)) \
             ORDER BY execution_id, seq LIMIT $4",
        )
        .bind(execution_id)
        .bind(seq)
        .bind(held)
        .bind(limit)
        .fetch_all(&self.pool))
    }
}

impl Ids for PgStore {
    async fn next_execution_id(&self) -> Result<i64> {
        {
            let mut block = self.ids.lock().unwrap_or_else(|e| e.into_inner());
            if block.0 < block.1 {
                block.0 += 1;
                return Ok(block.0 - 1);
            }
        }
        let start: i64 =
            read!(sqlx::query_scalar("SELECT nextval('execution_ids')").fetch_one(&self.pool))?;
        let mut block = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        // Another task may have refilled it meanwhile; the newer block wins, the other's ids
        // are skipped (ids need only be unique).
        *block = (start + 1, start + ID_BLOCK);
        Ok(start)
    }
}

impl Commit for PgStore {
    async fn commit(&self, ops: Vec<WriteOp>, when_full: WhenFull) -> Result<()> {
        match when_full {
            WhenFull::Refuse => self.writer.try_write(ops).await,
            WhenFull::Wait => self.writer.write(ops).await,
        }
    }
}

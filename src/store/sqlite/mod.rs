//! The embedded store: SQLite in WAL mode.
//!
//! - this module: opening the database (pragmas, migrations), the read queries ([`Reader`]),
//!   and [`SqliteStore`], the ports over a reader and the writer;
//! - `executions` and `numbers`: reading executions, which are stored by their machine's
//!   number and their name (migration 0009);
//! - [`writer`]: the single writer thread that commits queued changes in groups, on a
//!   connection of its own ([`open_writer`], rusqlite);
//! - `bulk`: the fixed-shape statements a commit's rows are written with;
//! - `direct`: two read-only connections (rusqlite, each on a thread of its own) for the reads
//!   on the engine's hot path: executions by id, and by ARN for DescribeExecution.
//!
//! Other reads go through sqlx's read-only connections (`readers`). In WAL mode no read blocks
//! the writer, and each sees the last committed transaction.

mod bulk;
mod console;
mod direct;
mod event_types;
mod executions;
mod map_runs;
mod numbers;
mod open;
mod readers;
pub mod writer;

pub use super::queue::Writer;
pub use writer::SqliteWriter;

pub use direct::open_reader;
pub(crate) use open::{classify, classify_write};
pub use open::{close_writer, lock_data_dir, open, open_waiting, open_writer};
#[cfg(test)]
pub(crate) use open::{open_temporary, open_temporary_writer};

use super::map_runs_sql as runs;
use super::packed;
use super::ports::{
    CallReads, Commit, ExecutionReads, ExecutionVersion, FreePages, HistoryReads, Ids,
    MachineReads, MapRunReads, TimerReads, VersionReads, WhenFull,
};
use super::versions_sql as sql;
use super::{
    ActivityRow, AliasRow, DescribedExecution, EventRow, ExecutionRow, MapItemRow, MapRunKey,
    MapRunRow, Result, RevisionRow, StateMachineRow, TaskRow, TimerRow, VersionRow, WriteOp,
};
use crate::model::ExecutionStatus;

/// Read access to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Reader {
    pub(crate) readers: readers::Readers,
    /// Reads on the engine's hot path (see `direct`).
    direct: direct::DirectReads,
    /// The data directory's lock, held as long as the database is open.
    _lock: std::sync::Arc<std::fs::File>,
}

/// The store's ports over SQLite: reads from the read connections, changes through the writer.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub reader: Reader,
    pub writer: Writer,
    /// The next execution id: one process owns the database, so ids are counted here from
    /// the largest stored at the start.
    next_id: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl SqliteStore {
    pub async fn new(reader: Reader, writer: Writer) -> Result<Self> {
        let max = reader.max_execution_id().await?;
        Ok(Self {
            reader,
            writer,
            next_id: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(max + 1)),
        })
    }
}

/// Run one statement on the writer's connection, which keeps it prepared; returns the rows it
/// changed.
fn execute(conn: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

const STATE_MACHINE_COLUMNS: &str = "sm.arn, sm.name, sm.type, sm.status, sm.revision_id, \
     sm.creation_date_ms, sm.update_date_ms, sm.logging_configuration, sm.tracing_configuration, \
     r.definition, r.role_arn, r.description";

const EXECUTION_COLUMNS: &str =
    "id, arn, partition, state_machine_arn, revision_id, name, status, \
     input, output, error, cause, start_ms, stop_ms, cursor, last_event_id";

/// Bits of a history row's key that hold the event id: the key is
/// `execution_id << EVENT_ID_BITS | id` (migration 0007), so an execution's rows are one range.
pub const EVENT_ID_BITS: u32 = 24;

/// The key of event `id` of an execution (`id` from 0 to 2^24 - 1).
pub fn history_key(execution_id: i64, id: i64) -> i64 {
    (execution_id << EVENT_ID_BITS) | (id & ((1 << EVENT_ID_BITS) - 1))
}

impl Reader {
    /// Close the read connections.
    pub async fn close(&self) {
        self.direct.close();
        self.readers.close().await;
    }

    pub async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRow>> {
        let sql = format!(
            "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines sm \
             JOIN state_machine_revisions r ON r.revision_id = sm.revision_id WHERE sm.arn = ?"
        );
        Ok(sqlx::query_as(&sql)
            .bind(arn)
            .fetch_optional(&mut *self.readers.get().await?)
            .await?)
    }

    /// State machines ordered by ARN, after `after_arn`, at most `limit`.
    pub async fn list_state_machines(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StateMachineRow>> {
        let sql = format!(
            "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines sm \
             JOIN state_machine_revisions r ON r.revision_id = sm.revision_id \
             WHERE sm.arn > ? ORDER BY sm.arn LIMIT ?"
        );
        Ok(sqlx::query_as(&sql)
            .bind(after_arn.unwrap_or(""))
            .bind(limit)
            .fetch_all(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn revision(&self, revision_id: &str) -> Result<Option<RevisionRow>> {
        Ok(sqlx::query_as(
            "SELECT revision_id, state_machine_arn, definition, role_arn, description, created_ms \
             FROM state_machine_revisions WHERE revision_id = ?",
        )
        .bind(revision_id)
        .fetch_optional(&mut *self.readers.get().await?)
        .await?)
    }

    /// History events after `after_id` (ascending) or before it (`reverse`), at most `limit`.
    pub async fn history(
        &self,
        execution_id: i64,
        after_id: Option<i64>,
        limit: i64,
        reverse: bool,
    ) -> Result<Vec<EventRow>> {
        // The execution's rows are the keys after its id 0 and before the next execution's.
        let (first, past) = (
            history_key(execution_id, 0),
            history_key(execution_id + 1, 0),
        );
        let rows = if reverse {
            let before = match after_id {
                Some(id) if id < 1 << EVENT_ID_BITS => history_key(execution_id, id.max(0)),
                _ => past,
            };
            sqlx::query_as(
                "SELECT h.key & 16777215 AS id, h.previous_id, t.name AS type, h.timestamp_ms, \
                 h.details FROM history_events h JOIN event_types t ON t.code = h.type_code \
                 WHERE h.key > ? AND h.key < ? ORDER BY h.key DESC LIMIT ?",
            )
            .bind(first)
            .bind(before.min(past))
            .bind(limit)
            .fetch_all(&mut *self.readers.get().await?)
            .await?
        } else {
            let last = (1 << EVENT_ID_BITS) - 1;
            let after = history_key(execution_id, after_id.unwrap_or(0).clamp(0, last));
            sqlx::query_as(
                "SELECT h.key & 16777215 AS id, h.previous_id, t.name AS type, h.timestamp_ms, \
                 h.details FROM history_events h JOIN event_types t ON t.code = h.type_code \
                 WHERE h.key > ? AND h.key < ? ORDER BY h.key LIMIT ?",
            )
            .bind(after)
            .bind(past)
            .bind(limit)
            .fetch_all(&mut *self.readers.get().await?)
            .await?
        };
        packed::unpack_history(rows, || self.input_of(execution_id)).await
    }

    pub async fn activity(&self, arn: &str) -> Result<Option<ActivityRow>> {
        Ok(
            sqlx::query_as("SELECT arn, name, creation_date_ms FROM activities WHERE arn = ?")
                .bind(arn)
                .fetch_optional(&mut *self.readers.get().await?)
                .await?,
        )
    }

    /// Activities ordered by ARN, after `after_arn`, at most `limit`.
    pub async fn list_activities(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ActivityRow>> {
        Ok(sqlx::query_as(
            "SELECT arn, name, creation_date_ms FROM activities WHERE arn > ? ORDER BY arn LIMIT ?",
        )
        .bind(after_arn.unwrap_or(""))
        .bind(limit)
        .fetch_all(&mut *self.readers.get().await?)
        .await?)
    }

    pub async fn tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key")
                .bind(resource_arn)
                .fetch_all(&mut *self.readers.get().await?)
                .await?,
        )
    }

    pub async fn version(&self, arn: &str) -> Result<Option<VersionRow>> {
        Ok(sqlx::query_as(&sql::sqlite(sql::VERSION))
            .bind(arn)
            .fetch_optional(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn versions(&self, state_machine_arn: &str) -> Result<Vec<VersionRow>> {
        Ok(sqlx::query_as(&sql::sqlite(sql::VERSIONS))
            .bind(state_machine_arn)
            .fetch_all(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn last_version(&self, state_machine_arn: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(&sql::sqlite(sql::LAST_VERSION))
            .bind(state_machine_arn)
            .fetch_one(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn alias(&self, arn: &str) -> Result<Option<AliasRow>> {
        Ok(sqlx::query_as(&sql::sqlite(sql::ALIAS))
            .bind(arn)
            .fetch_optional(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn aliases(&self, state_machine_arn: &str) -> Result<Vec<AliasRow>> {
        Ok(sqlx::query_as(&sql::sqlite(sql::ALIASES))
            .bind(state_machine_arn)
            .fetch_all(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn execution_version(
        &self,
        execution_id: i64,
    ) -> Result<Option<(String, Option<String>)>> {
        Ok(sqlx::query_as(&sql::sqlite(sql::EXECUTION_VERSION))
            .bind(execution_id)
            .fetch_optional(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn execution_versions(&self, ids: &[i64]) -> Result<Vec<ExecutionVersion>> {
        Ok(sqlx::query_as(
            "SELECT execution_id, version_arn, alias_arn FROM execution_versions \
             WHERE execution_id IN (SELECT value FROM json_each(?))",
        )
        .bind(serde_json::to_string(ids)?)
        .fetch_all(&mut *self.readers.get().await?)
        .await?)
    }

    pub async fn list_executions_through(
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

    pub async fn map_run(&self, arn: &str) -> Result<Option<MapRunRow>> {
        Ok(sqlx::query_as(&sql::sqlite(&runs::map_run()))
            .bind(arn)
            .fetch_optional(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn map_runs_of(&self, execution_arn: &str) -> Result<Vec<MapRunRow>> {
        Ok(sqlx::query_as(&sql::sqlite(&runs::map_runs_of()))
            .bind(execution_arn)
            .fetch_all(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn map_items(
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
        Ok(sqlx::query_as(&sql::sqlite(q))
            .bind(run.0)
            .bind(run.1)
            .bind(from)
            .bind(limit)
            .fetch_all(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn running_map_items(&self, run: MapRunKey) -> Result<Vec<MapItemRow>> {
        Ok(sqlx::query_as(&sql::sqlite(runs::RUNNING_ITEMS))
            .bind(run.0)
            .bind(run.1)
            .fetch_all(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn map_run_of_child(&self, execution_arn: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(&sql::sqlite(runs::RUN_OF_CHILD))
            .bind(execution_arn)
            .fetch_optional(&mut *self.readers.get().await?)
            .await?)
    }

    pub async fn list_map_run_executions(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        self.executions_page(
            &runs::executions_of(EXECUTION_COLUMNS, runs::CHILD_BY_NAME),
            arn,
            status,
            after,
            limit,
        )
        .await
    }

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
        Ok(packed::unpack_executions(
            sqlx::query_as(&sql::sqlite(query))
                .bind(arn)
                .bind(status.map(ExecutionStatus::as_str))
                .bind(after_start)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&mut *self.readers.get().await?)
                .await?,
        ))
    }

    /// State machines marked DELETING.
    pub async fn deleting_state_machines(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT arn FROM state_machines WHERE status = 'DELETING'")
                .fetch_all(&mut *self.readers.get().await?)
                .await?,
        )
    }

    /// Timers due before `until_ms`, in `(due_ms, execution_id, seq)` order, strictly after
    /// `after`, at most `limit`. The loader pages through the table with this.
    /// (One process holds every partition of a SQLite database: `_held` is always all.)
    pub async fn timers_due(
        &self,
        after: Option<TimerRow>,
        until_ms: i64,
        limit: i64,
        _held: Option<&[i64]>,
    ) -> Result<Vec<TimerRow>> {
        let a = after.unwrap_or(TimerRow {
            due_ms: i64::MIN,
            execution_id: i64::MIN,
            seq: i64::MIN,
            partition: 0,
        });
        Ok(sqlx::query_as(
            "SELECT due_ms, execution_id, seq FROM timers \
             WHERE (due_ms, execution_id, seq) > (?1, ?2, ?3) AND due_ms < ?4 \
             ORDER BY due_ms, execution_id, seq LIMIT ?5",
        )
        .bind(a.due_ms)
        .bind(a.execution_id)
        .bind(a.seq)
        .bind(until_ms)
        .bind(limit)
        .fetch_all(&mut *self.readers.get().await?)
        .await?)
    }

    /// Calls scheduled and not recorded as finished, in key order strictly after `after`,
    /// at most `limit`. The dispatcher pages through the table with this (at a start, to make
    /// again the calls a crash interrupted; later, for calls its queue had no room for).
    pub async fn tasks_after(
        &self,
        after: Option<(i64, i64)>,
        limit: i64,
        _held: Option<&[i64]>,
    ) -> Result<Vec<TaskRow>> {
        let (execution_id, seq) = after.unwrap_or((i64::MIN, i64::MIN));
        Ok(sqlx::query_as(
            "SELECT execution_id, seq, scheduled_ms, invocation FROM tasks \
             WHERE (execution_id, seq) > (?1, ?2) ORDER BY execution_id, seq LIMIT ?3",
        )
        .bind(execution_id)
        .bind(seq)
        .bind(limit)
        .fetch_all(&mut *self.readers.get().await?)
        .await?)
    }

    /// How many timers are stored.
    pub async fn count_timers(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM timers")
            .fetch_one(&mut *self.readers.get().await?)
            .await?)
    }
}

/// The ports, forwarded to the reader and the writer.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)+) => {
        $(fn $name(&self, $($arg: $ty),*) -> impl std::future::Future<Output = Result<$out>> + Send {
            self.reader.$name($($arg),*)
        })+
    };
}

impl MachineReads for SqliteStore {
    forward! {
        state_machine(arn: &str) -> Option<StateMachineRow>;
        list_state_machines(after_arn: Option<&str>, limit: i64) -> Vec<StateMachineRow>;
        deleting_state_machines() -> Vec<String>;
        revision(revision_id: &str) -> Option<RevisionRow>;
        activity(arn: &str) -> Option<ActivityRow>;
        list_activities(after_arn: Option<&str>, limit: i64) -> Vec<ActivityRow>;
        tags(resource_arn: &str) -> Vec<(String, String)>;
    }
}

impl VersionReads for SqliteStore {
    forward! {
        version(arn: &str) -> Option<VersionRow>;
        versions(state_machine_arn: &str) -> Vec<VersionRow>;
        last_version(state_machine_arn: &str) -> i64;
        alias(arn: &str) -> Option<AliasRow>;
        aliases(state_machine_arn: &str) -> Vec<AliasRow>;
        execution_version(execution_id: i64) -> Option<(String, Option<String>)>;
        execution_versions(ids: &[i64]) -> Vec<ExecutionVersion>;
        described_by_arns(arns: &[String]) -> Vec<DescribedExecution>;
        list_executions_through(
            arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64
        ) -> Vec<ExecutionRow>;
    }
}

impl MapRunReads for SqliteStore {
    forward! {
        map_run(arn: &str) -> Option<MapRunRow>;
        map_runs_of(execution_arn: &str) -> Vec<MapRunRow>;
        map_items(run: MapRunKey, from: i64, limit: i64, pending: bool) -> Vec<MapItemRow>;
        running_map_items(run: MapRunKey) -> Vec<MapItemRow>;
        map_run_of_child(execution_arn: &str) -> Option<String>;
        list_map_run_executions(
            arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64
        ) -> Vec<ExecutionRow>;
    }
}

impl ExecutionReads for SqliteStore {
    forward! {
        execution_by_arn(arn: &str) -> Option<ExecutionRow>;
        execution_by_id(id: i64) -> Option<ExecutionRow>;
        executions_by_ids(ids: &[i64]) -> Vec<ExecutionRow>;
        list_executions(
            state_machine_arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64
        ) -> Vec<ExecutionRow>;
        count_running(state_machine_arn: &str) -> i64;
        count_all_running() -> i64;
        max_execution_id() -> i64;
        closed_before(before_ms: i64, limit: i64) -> Vec<i64>;
        free_pages() -> Option<FreePages>;
    }
}

impl HistoryReads for SqliteStore {
    forward! {
        history(execution_id: i64, after_id: Option<i64>, limit: i64, reverse: bool) -> Vec<EventRow>;
    }
}

impl TimerReads for SqliteStore {
    forward! {
        timers_due(after: Option<TimerRow>, until_ms: i64, limit: i64, held: Option<&[i64]>) -> Vec<TimerRow>;
        count_timers() -> i64;
    }
}

impl CallReads for SqliteStore {
    forward! {
        tasks_after(after: Option<(i64, i64)>, limit: i64, held: Option<&[i64]>) -> Vec<TaskRow>;
    }
}

impl Ids for SqliteStore {
    async fn next_execution_id(&self) -> Result<i64> {
        Ok(self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl Commit for SqliteStore {
    async fn commit(&self, ops: Vec<WriteOp>, when_full: WhenFull) -> Result<()> {
        match when_full {
            WhenFull::Refuse => self.writer.try_write(ops).await,
            WhenFull::Wait => self.writer.write(ops).await,
        }
    }
}

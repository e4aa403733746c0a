//! Moving from SQLite to PostgreSQL: `hourglass migrate --to postgres://...`.
//!
//! The daemon must be stopped: the data directory's lock is taken first, so a running daemon
//! makes the command fail instead of copying a database that is still changing. The copy reads
//! one SQLite snapshot and writes every table in one PostgreSQL transaction, so the target
//! holds either everything or nothing; a target that holds state machines, executions or tags
//! already is refused. Every row keeps its key and times: pending timers keep their deadlines
//! and unfinished calls stay unfinished, to be recovered by whichever node leases their
//! partition. Partitions are recomputed for the target's number of partitions, and the
//! execution id sequence is moved past the largest id copied.

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Postgres, Row};

use super::postgres::{self as pg, Settings};
use super::sqlite;
use super::{Error, Result};
use crate::config::Config;
use crate::model::arn::partition_in;

/// What was copied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    pub state_machines: u64,
    pub revisions: u64,
    pub executions: u64,
    pub history_events: u64,
    pub timers: u64,
    pub tasks: u64,
    pub tags: u64,
    pub activities: u64,
    /// Versions (deleted ones too: their numbers stay taken), aliases, and the executions
    /// started through them.
    pub versions: u64,
    pub aliases: u64,
    pub execution_versions: u64,
    /// Distributed Map runs and their items.
    pub map_runs: u64,
    pub map_run_items: u64,
    /// The target's number of partitions.
    pub partitions: u64,
}

/// Why a copy was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error(
        "the target database already holds data ({0}); migrate into an empty database, \
         or drop this one first"
    )]
    NotEmpty(String),
    #[error("the copy does not match its source: {0}; nothing was committed")]
    Mismatch(String),
}

/// One column's value, as both databases store it.
#[derive(Debug, Clone)]
enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
}

/// How a column is read from SQLite.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Text,
}

/// One table: the SQLite query reading it (its columns in the order of `columns`) and the
/// PostgreSQL columns written.
struct Table {
    name: &'static str,
    select: &'static str,
    columns: &'static [(&'static str, Kind)],
    /// Whether the select returns the execution's ARN after `columns`, to compute the
    /// column named `partition` from.
    partition: bool,
}

const TABLES: &[Table] = &[
    Table {
        name: "state_machines",
        select: "SELECT arn, name, type, status, revision_id, creation_date_ms, update_date_ms, \
                 logging_configuration, tracing_configuration FROM state_machines ORDER BY arn",
        columns: &[
            ("arn", Kind::Text),
            ("name", Kind::Text),
            ("type", Kind::Text),
            ("status", Kind::Text),
            ("revision_id", Kind::Text),
            ("creation_date_ms", Kind::Int),
            ("update_date_ms", Kind::Int),
            ("logging_configuration", Kind::Text),
            ("tracing_configuration", Kind::Text),
        ],
        partition: false,
    },
    Table {
        name: "state_machine_revisions",
        select: "SELECT revision_id, state_machine_arn, definition, role_arn, description, \
                 created_ms FROM state_machine_revisions ORDER BY revision_id",
        columns: &[
            ("revision_id", Kind::Text),
            ("state_machine_arn", Kind::Text),
            ("definition", Kind::Text),
            ("role_arn", Kind::Text),
            ("description", Kind::Text),
            ("created_ms", Kind::Int),
        ],
        partition: false,
    },
    Table {
        name: "activities",
        select: "SELECT arn, name, creation_date_ms FROM activities ORDER BY arn",
        columns: &[
            ("arn", Kind::Text),
            ("name", Kind::Text),
            ("creation_date_ms", Kind::Int),
        ],
        partition: false,
    },
    Table {
        name: "state_machine_versions",
        select: "SELECT arn, state_machine_arn, version, revision_id, description, \
                 creation_date_ms, deleted FROM state_machine_versions ORDER BY arn",
        columns: &[
            ("arn", Kind::Text),
            ("state_machine_arn", Kind::Text),
            ("version", Kind::Int),
            ("revision_id", Kind::Text),
            ("description", Kind::Text),
            ("creation_date_ms", Kind::Int),
            ("deleted", Kind::Int),
        ],
        partition: false,
    },
    Table {
        name: "state_machine_aliases",
        select: "SELECT arn, state_machine_arn, name, description, routing, creation_date_ms, \
                 update_date_ms FROM state_machine_aliases ORDER BY arn",
        columns: &[
            ("arn", Kind::Text),
            ("state_machine_arn", Kind::Text),
            ("name", Kind::Text),
            ("description", Kind::Text),
            ("routing", Kind::Text),
            ("creation_date_ms", Kind::Int),
            ("update_date_ms", Kind::Int),
        ],
        partition: false,
    },
    Table {
        name: "execution_versions",
        select: "SELECT execution_id, version_arn, alias_arn FROM execution_versions \
                 ORDER BY execution_id",
        columns: &[
            ("execution_id", Kind::Int),
            ("version_arn", Kind::Text),
            ("alias_arn", Kind::Text),
        ],
        partition: false,
    },
    Table {
        name: "tags",
        select: "SELECT resource_arn, key, value FROM tags ORDER BY resource_arn, key",
        columns: &[
            ("resource_arn", Kind::Text),
            ("key", Kind::Text),
            ("value", Kind::Text),
        ],
        partition: false,
    },
    Table {
        name: "executions",
        select: "SELECT id, arn, 0, state_machine_arn, revision_id, name, status, input, output, \
                 error, cause, start_ms, stop_ms, cursor, last_event_id, arn \
                 FROM executions ORDER BY id",
        columns: &[
            ("id", Kind::Int),
            ("arn", Kind::Text),
            ("partition", Kind::Int),
            ("state_machine_arn", Kind::Text),
            ("revision_id", Kind::Text),
            ("name", Kind::Text),
            ("status", Kind::Text),
            ("input", Kind::Text),
            ("output", Kind::Text),
            ("error", Kind::Text),
            ("cause", Kind::Text),
            ("start_ms", Kind::Int),
            ("stop_ms", Kind::Int),
            ("cursor", Kind::Text),
            ("last_event_id", Kind::Int),
        ],
        partition: true,
    },
    Table {
        name: "history_events",
        select: "SELECT h.key >> 24, h.key & 16777215, h.previous_id, t.name, h.timestamp_ms, \
                 h.details FROM history_events h JOIN event_types t ON t.code = h.type_code \
                 ORDER BY h.key",
        columns: &[
            ("execution_id", Kind::Int),
            ("id", Kind::Int),
            ("previous_id", Kind::Int),
            ("type", Kind::Text),
            ("timestamp_ms", Kind::Int),
            ("details", Kind::Text),
        ],
        partition: false,
    },
    Table {
        name: "timers",
        select: "SELECT t.execution_id, t.seq, t.due_ms, 0, e.arn \
                 FROM timers t JOIN executions e ON e.id = t.execution_id \
                 ORDER BY t.execution_id, t.seq",
        columns: &[
            ("execution_id", Kind::Int),
            ("seq", Kind::Int),
            ("due_ms", Kind::Int),
            ("partition", Kind::Int),
        ],
        partition: true,
    },
    Table {
        name: "tasks",
        select: "SELECT t.execution_id, t.seq, 0, t.scheduled_ms, t.invocation, e.arn \
                 FROM tasks t JOIN executions e ON e.id = t.execution_id \
                 ORDER BY t.execution_id, t.seq",
        columns: &[
            ("execution_id", Kind::Int),
            ("seq", Kind::Int),
            ("partition", Kind::Int),
            ("scheduled_ms", Kind::Int),
            ("invocation", Kind::Text),
        ],
        partition: true,
    },
    Table {
        name: "map_runs",
        select: "SELECT execution_id, seq, arn, execution_arn, 0, state_machine_arn, \
                 revision_id, execution_type, status, start_ms, stop_ms, max_concurrency, \
                 tolerated_count, tolerated_percentage, item_count, started, succeeded, failed, \
                 timed_out, aborted, result_writer, error, cause, redrive_count, execution_arn \
                 FROM map_runs ORDER BY execution_id, seq",
        columns: &[
            ("execution_id", Kind::Int),
            ("seq", Kind::Int),
            ("arn", Kind::Text),
            ("execution_arn", Kind::Text),
            ("partition", Kind::Int),
            ("state_machine_arn", Kind::Text),
            ("revision_id", Kind::Text),
            ("execution_type", Kind::Text),
            ("status", Kind::Text),
            ("start_ms", Kind::Int),
            ("stop_ms", Kind::Int),
            ("max_concurrency", Kind::Int),
            ("tolerated_count", Kind::Float),
            ("tolerated_percentage", Kind::Float),
            ("item_count", Kind::Int),
            ("started", Kind::Int),
            ("succeeded", Kind::Int),
            ("failed", Kind::Int),
            ("timed_out", Kind::Int),
            ("aborted", Kind::Int),
            ("result_writer", Kind::Text),
            ("error", Kind::Text),
            ("cause", Kind::Text),
            ("redrive_count", Kind::Int),
        ],
        partition: true,
    },
    Table {
        name: "map_run_items",
        select: "SELECT execution_id, seq, idx, input, status, execution_arn, output \
                 FROM map_run_items ORDER BY execution_id, seq, idx",
        columns: &[
            ("execution_id", Kind::Int),
            ("seq", Kind::Int),
            ("idx", Kind::Int),
            ("input", Kind::Text),
            ("status", Kind::Text),
            ("execution_arn", Kind::Text),
            ("output", Kind::Text),
        ],
        partition: false,
    },
];

/// Rows per INSERT statement (PostgreSQL takes at most 65,535 parameters in one).
const ROWS_PER_INSERT: usize = 1_000;

/// Copy the SQLite database under `config.data_dir` into the PostgreSQL database at `url`.
pub async fn sqlite_to_postgres(
    config: &Config,
    url: &str,
) -> std::result::Result<Copied, CopyError> {
    use futures_util::TryStreamExt;

    if !config.database_path().exists() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no database at {}", config.database_path().display()),
        ))
        .into());
    }
    let (reader, mut source) = sqlite::open(config).await?;
    let settings = Settings {
        url: url.to_owned(),
        read_connections: 1,
        connect_timeout: std::time::Duration::from_secs(config.postgres.connect_timeout_secs),
        // The copy is one long transaction.
        idle_in_transaction: None,
    };
    let (pool, mut target, partitions) = pg::open(&settings, config.cluster.partitions).await?;
    pool.close().await;

    let held = holdings(&mut target).await?;
    if !held.is_empty() {
        return Err(CopyError::NotEmpty(held));
    }

    // One snapshot of the source, one transaction in the target.
    sqlx::query("BEGIN")
        .execute(&mut source)
        .await
        .map_err(sqlite::classify)?;
    let mut tx = target.begin().await.map_err(pg::classify)?;
    let mut copied = Copied {
        partitions,
        ..Copied::default()
    };
    for table in TABLES {
        let mut rows = sqlx::query(table.select).fetch(&mut source);
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(ROWS_PER_INSERT);
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await.map_err(sqlite::classify)? {
            batch.push(read_row(table, &row, partitions)?);
            if batch.len() == ROWS_PER_INSERT {
                n += insert(&mut tx, table, &batch).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            n += insert(&mut tx, table, &batch).await?;
        }
        drop(rows);
        let source_count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.name))
            .fetch_one(&mut source)
            .await
            .map_err(sqlite::classify)?;
        if source_count as u64 != n {
            return Err(CopyError::Mismatch(format!(
                "{}: {source_count} rows in SQLite, {n} copied (rows of executions that do not \
                 exist?)",
                table.name
            )));
        }
        tracing::info!(table = table.name, rows = n, "copied");
        match table.name {
            "state_machines" => copied.state_machines = n,
            "state_machine_revisions" => copied.revisions = n,
            "tags" => copied.tags = n,
            "activities" => copied.activities = n,
            "state_machine_versions" => copied.versions = n,
            "state_machine_aliases" => copied.aliases = n,
            "execution_versions" => copied.execution_versions = n,
            "executions" => copied.executions = n,
            "history_events" => copied.history_events = n,
            "timers" => copied.timers = n,
            "map_runs" => copied.map_runs = n,
            "map_run_items" => copied.map_run_items = n,
            _ => copied.tasks = n,
        }
    }
    // Ids are handed out in blocks from the sequence; the next block starts past every id
    // copied.
    let max_id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM executions")
        .fetch_one(&mut *tx)
        .await
        .map_err(pg::classify)?;
    if let Some(max_id) = max_id {
        sqlx::query("SELECT setval('execution_ids', $1, false)")
            .bind(max_id + 1)
            .execute(&mut *tx)
            .await
            .map_err(pg::classify)?;
    }
    tx.commit().await.map_err(pg::classify)?;
    sqlx::query("ROLLBACK")
        .execute(&mut source)
        .await
        .map_err(sqlite::classify)?;
    sqlite::close_writer(source).await?;
    reader.close().await;
    Ok(copied)
}

/// What the target holds already, as a phrase; empty when it holds nothing.
async fn holdings(conn: &mut sqlx::PgConnection) -> Result<String> {
    let mut held = Vec::new();
    for table in ["state_machines", "executions", "tags"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .map_err(pg::classify)?;
        if n > 0 {
            held.push(format!("{n} rows in {table}"));
        }
    }
    Ok(held.join(", "))
}

fn read_row(table: &Table, row: &SqliteRow, partitions: u64) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, (_, kind)) in table.columns.iter().enumerate() {
        values.push(match kind {
            Kind::Int => Value::Int(row.try_get(i).map_err(sqlite::classify)?),
            Kind::Float => Value::Float(row.try_get(i).map_err(sqlite::classify)?),
            Kind::Text => Value::Text(row.try_get(i).map_err(sqlite::classify)?),
        });
    }
    if table.partition {
        let arn: String = row.try_get(table.columns.len()).map_err(sqlite::classify)?;
        if let Some(i) = table.columns.iter().position(|(c, _)| *c == "partition") {
            values[i] = Value::Int(Some(partition_in(&arn, partitions)));
        }
    }
    Ok(values)
}

/// Insert `rows` into the target's copy of `table`; returns how many were inserted.
async fn insert(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    table: &Table,
    rows: &[Vec<Value>],
) -> Result<u64> {
    let names: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let mut builder = sqlx::QueryBuilder::<Postgres>::new(format!(
        "INSERT INTO {} ({}) ",
        table.name,
        names.join(", ")
    ));
    builder.push_values(rows, |mut b, row| {
        for v in row {
            match v {
                Value::Int(i) => b.push_bind(*i),
                Value::Float(f) => b.push_bind(*f),
                Value::Text(t) => b.push_bind(t.clone()),
            };
        }
    });
    let query: Query<'_, Postgres, PgArguments> = builder.build();
    let done = query.execute(&mut **tx).await.map_err(pg::classify)?;
    Ok(done.rows_affected())
}

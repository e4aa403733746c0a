//! The queries of map runs and their items, written once for both databases (`$N`
//! parameters; SQLite's copy of each reads them as `?N`, see [`super::versions_sql::sqlite`]).

const RUN_COLUMNS: &str = "execution_id, seq, arn, execution_arn, partition, state_machine_arn, \
     revision_id, execution_type, status, start_ms, stop_ms, max_concurrency, tolerated_count, \
     tolerated_percentage, item_count, started, succeeded, failed, timed_out, aborted, \
     result_writer, error, cause, redrive_count";

pub fn map_run() -> String {
    format!("SELECT {RUN_COLUMNS} FROM map_runs WHERE arn = $1")
}

pub fn map_runs_of() -> String {
    format!("SELECT {RUN_COLUMNS} FROM map_runs WHERE execution_arn = $1 ORDER BY start_ms, seq")
}

/// Bind a run's columns, in [`insert_map_run`]'s order (PostgreSQL's writer; SQLite's binds
/// them in `sqlite::map_runs`).
pub fn bind_run<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    run: &'q super::MapRunRow,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    q.bind(run.execution_id)
        .bind(run.seq)
        .bind(run.arn.as_str())
        .bind(run.execution_arn.as_str())
        .bind(run.partition)
        .bind(run.state_machine_arn.as_str())
        .bind(run.revision_id.as_str())
        .bind(run.execution_type.as_str())
        .bind(run.status.as_str())
        .bind(run.start_ms)
        .bind(run.stop_ms)
        .bind(run.max_concurrency)
        .bind(run.tolerated_count)
        .bind(run.tolerated_percentage)
        .bind(run.item_count)
        .bind(run.started)
        .bind(run.succeeded)
        .bind(run.failed)
        .bind(run.timed_out)
        .bind(run.aborted)
        .bind(run.result_writer.as_deref())
        .bind(run.error.as_deref())
        .bind(run.cause.as_deref())
        .bind(run.redrive_count)
}

pub fn insert_map_run() -> String {
    format!(
        "INSERT INTO map_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) \
         ON CONFLICT (execution_id, seq) DO NOTHING"
    )
}

/// A revision of a map run's children: the same run created again keeps the first.
pub const INSERT_REVISION: &str = "INSERT INTO state_machine_revisions (revision_id, \
     state_machine_arn, definition, role_arn, description, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (revision_id) DO NOTHING";

/// Items of run `($1, $2)` from index `$3` on, at most `$4`: pending ones only.
pub const PENDING_ITEMS: &str = "SELECT idx, input, status, execution_arn, output \
     FROM map_run_items WHERE execution_id = $1 AND seq = $2 AND idx >= $3 AND status IS NULL \
     ORDER BY idx LIMIT $4";
/// Items of run `($1, $2)` from index `$3` on, at most `$4`, whatever their status.
pub const ITEMS: &str = "SELECT idx, input, status, execution_arn, output \
     FROM map_run_items WHERE execution_id = $1 AND seq = $2 AND idx >= $3 \
     ORDER BY idx LIMIT $4";
/// The children of run `($1, $2)` still running.
pub const RUNNING_ITEMS: &str = "SELECT idx, input, status, execution_arn, output \
     FROM map_run_items WHERE execution_id = $1 AND seq = $2 AND status = 'RUNNING' ORDER BY idx";

pub const ITEM_STARTED: &str = "UPDATE map_run_items SET status = 'RUNNING', execution_arn = $4 \
     WHERE execution_id = $1 AND seq = $2 AND idx = $3 AND status IS NULL";
pub const COUNT_STARTED: &str =
    "UPDATE map_runs SET started = started + 1 WHERE execution_id = $1 AND seq = $2";
pub const ITEM_ENDED: &str = "UPDATE map_run_items SET status = $4, output = $5 \
     WHERE execution_id = $1 AND seq = $2 AND idx = $3 AND status = 'RUNNING'";

/// The counter of children that ended with `status`.
pub fn count_ended(status: crate::model::ExecutionStatus) -> &'static str {
    use crate::model::ExecutionStatus as S;
    match status {
        S::Succeeded => {
            "UPDATE map_runs SET succeeded = succeeded + 1 WHERE execution_id = $1 AND seq = $2"
        }
        S::TimedOut => {
            "UPDATE map_runs SET timed_out = timed_out + 1 WHERE execution_id = $1 AND seq = $2"
        }
        S::Aborted => {
            "UPDATE map_runs SET aborted = aborted + 1 WHERE execution_id = $1 AND seq = $2"
        }
        _ => "UPDATE map_runs SET failed = failed + 1 WHERE execution_id = $1 AND seq = $2",
    }
}

/// A redrive: the items that did not succeed are pending again, and the run is running.
pub const REDRIVE: [&str; 2] = [
    "UPDATE map_run_items SET status = NULL, execution_arn = NULL, output = NULL \
     WHERE execution_id = $1 AND seq = $2 AND (status IS NULL OR status <> 'SUCCEEDED')",
    "UPDATE map_runs SET status = 'RUNNING', stop_ms = NULL, error = NULL, cause = NULL, \
     started = succeeded, failed = 0, timed_out = 0, aborted = 0, \
     redrive_count = redrive_count + 1 WHERE execution_id = $1 AND seq = $2",
];

pub const UPDATE_MAP_RUN: &str = "UPDATE map_runs SET \
     max_concurrency = COALESCE($2, max_concurrency), \
     tolerated_count = COALESCE($3, tolerated_count), \
     tolerated_percentage = COALESCE($4, tolerated_percentage) WHERE arn = $1";
pub const END_MAP_RUN: &str = "UPDATE map_runs SET status = $3, stop_ms = $4, error = $5, \
     cause = $6 WHERE execution_id = $1 AND seq = $2 AND status = 'RUNNING'";

/// How a run's item `i` finds its child `e` by the child's ARN, on PostgreSQL.
pub const CHILD_BY_ARN: &str = "e.arn = i.execution_arn";

/// The same on SQLite, where a row keeps its machine's number and its name and not its ARN
/// (migration 0009), and a name that is a UUID as its 16 bytes (0010): the children's machine
/// is the run's, and the name is what follows the ARN's last colon (`rtrim` by every other
/// character of the ARN leaves the text up to it), as text or as bytes. The ARN rebuilt must
/// be the item's, which tells a UUID from the same in capitals.
pub const CHILD_BY_NAME: &str = "e.id IN (SELECT x.id FROM execution_rows x \
     WHERE x.machine = (SELECT n FROM numbers WHERE text = r.state_machine_arn) \
       AND x.name IN (substr(i.execution_arn, \
               length(rtrim(i.execution_arn, replace(i.execution_arn, ':', ''))) + 1), \
           unhex(substr(i.execution_arn, \
               length(rtrim(i.execution_arn, replace(i.execution_arn, ':', ''))) + 1), '-'))) \
     AND e.arn = i.execution_arn";

/// The children of map run `$1`, with the status filter `$2`, after the cursor `($3, $4)`, at
/// most `$5`; `columns` are the execution's, prefixed `e.`; `child` joins an item `i` of run
/// `r` to its child `e` ([`CHILD_BY_ARN`] or [`CHILD_BY_NAME`]).
pub fn executions_of(columns: &str, child: &str) -> String {
    let columns = columns
        .split(',')
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM map_runs r \
         JOIN map_run_items i ON i.execution_id = r.execution_id AND i.seq = r.seq \
         JOIN executions e ON {child} \
         WHERE r.arn = $1 AND (CAST($2 AS TEXT) IS NULL OR e.status = $2) \
           AND (e.start_ms < $3 OR (e.start_ms = $3 AND e.id < $4)) \
         ORDER BY e.start_ms DESC, e.id DESC LIMIT $5"
    )
}

/// The ARN of the map run that started the child `$1`.
pub const RUN_OF_CHILD: &str = "SELECT r.arn FROM map_run_items i \
     JOIN map_runs r ON r.execution_id = i.execution_id AND r.seq = i.seq \
     WHERE i.execution_arn = $1";

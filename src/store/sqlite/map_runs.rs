//! The changes to map runs and their items, on SQLite (queries in `map_runs_sql`).

use rusqlite::{params, Connection};

use super::execute;
use crate::store::map_runs_sql as runs;
use crate::store::versions_sql::sqlite;
use crate::store::{Result, RevisionRow, WriteOp};

/// Apply one change to map runs; any other change is left alone.
pub(super) fn apply(conn: &Connection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::InsertMapRun {
            run,
            revision,
            items,
        } => {
            insert_revision(conn, &sqlite(runs::INSERT_REVISION), revision)?;
            // In `insert_map_run`'s order of columns.
            let inserted = execute(
                conn,
                &sqlite(&runs::insert_map_run()),
                params![
                    run.execution_id,
                    run.seq,
                    run.arn,
                    run.execution_arn,
                    run.partition,
                    run.state_machine_arn,
                    run.revision_id,
                    run.execution_type.as_str(),
                    run.status.as_str(),
                    run.start_ms,
                    run.stop_ms,
                    run.max_concurrency,
                    run.tolerated_count,
                    run.tolerated_percentage,
                    run.item_count,
                    run.started,
                    run.succeeded,
                    run.failed,
                    run.timed_out,
                    run.aborted,
                    run.result_writer,
                    run.error,
                    run.cause,
                    run.redrive_count,
                ],
            )?;
            if inserted == 0 {
                return Ok(());
            }
            for (idx, input) in items.iter().enumerate() {
                execute(
                    conn,
                    "INSERT INTO map_run_items (execution_id, seq, idx, input) VALUES (?, ?, ?, ?)",
                    params![run.execution_id, run.seq, idx as i64, input],
                )?;
            }
        }
        WriteOp::MapItemStarted {
            run,
            index,
            execution_arn,
        } => {
            let done = execute(
                conn,
                &sqlite(runs::ITEM_STARTED),
                params![run.0, run.1, index, execution_arn],
            )?;
            if done > 0 {
                execute(conn, &sqlite(runs::COUNT_STARTED), params![run.0, run.1])?;
            }
        }
        WriteOp::MapItemEnded {
            run,
            index,
            status,
            output,
        } => {
            let done = execute(
                conn,
                &sqlite(runs::ITEM_ENDED),
                params![run.0, run.1, index, status.as_str(), output],
            )?;
            if done > 0 {
                execute(
                    conn,
                    &sqlite(runs::count_ended(*status)),
                    params![run.0, run.1],
                )?;
            }
        }
        WriteOp::UpdateMapRun {
            arn,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        } => {
            execute(
                conn,
                &sqlite(runs::UPDATE_MAP_RUN),
                params![arn, max_concurrency, tolerated_count, tolerated_percentage],
            )?;
        }
        WriteOp::RedriveMapRun { run } => {
            for q in runs::REDRIVE {
                execute(conn, &sqlite(q), params![run.0, run.1])?;
            }
        }
        WriteOp::EndMapRun {
            run,
            status,
            stop_ms,
            error,
            cause,
        } => {
            execute(
                conn,
                &sqlite(runs::END_MAP_RUN),
                params![run.0, run.1, status.as_str(), stop_ms, error, cause],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Insert revision `r` with `sql`, an insert of its six columns in order: a map run's
/// children's (the same run created again keeps the first) or a machine's.
pub(super) fn insert_revision(conn: &Connection, sql: &str, r: &RevisionRow) -> Result<()> {
    execute(
        conn,
        sql,
        params![
            r.revision_id,
            r.state_machine_arn,
            r.definition,
            r.role_arn,
            r.description,
            r.created_ms
        ],
    )?;
    Ok(())
}

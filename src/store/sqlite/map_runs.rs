//! The changes to map runs and their items, on SQLite (queries in `map_runs_sql`).

use sqlx::SqliteConnection;

use crate::store::map_runs_sql as runs;
use crate::store::versions_sql::sqlite;
use crate::store::{Result, WriteOp};

/// Apply one change to map runs; any other change is left alone.
pub(super) async fn apply(conn: &mut SqliteConnection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::InsertMapRun {
            run,
            revision,
            items,
        } => {
            let r = &revision;
            sqlx::query(&sqlite(runs::INSERT_REVISION))
                .bind(&r.revision_id)
                .bind(&r.state_machine_arn)
                .bind(&r.definition)
                .bind(&r.role_arn)
                .bind(&r.description)
                .bind(r.created_ms)
                .execute(&mut *conn)
                .await?;
            let insert = sqlite(&runs::insert_map_run());
            let inserted = runs::bind_run(sqlx::query(&insert), run)
                .execute(&mut *conn)
                .await?;
            if inserted.rows_affected() == 0 {
                return Ok(());
            }
            for (idx, input) in items.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO map_run_items (execution_id, seq, idx, input) VALUES (?, ?, ?, ?)",
                )
                .bind(run.execution_id)
                .bind(run.seq)
                .bind(idx as i64)
                .bind(input)
                .execute(&mut *conn)
                .await?;
            }
        }
        WriteOp::MapItemStarted {
            run,
            index,
            execution_arn,
        } => {
            let done = sqlx::query(&sqlite(runs::ITEM_STARTED))
                .bind(run.0)
                .bind(run.1)
                .bind(index)
                .bind(execution_arn)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() > 0 {
                sqlx::query(&sqlite(runs::COUNT_STARTED))
                    .bind(run.0)
                    .bind(run.1)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        WriteOp::MapItemEnded {
            run,
            index,
            status,
            output,
        } => {
            let done = sqlx::query(&sqlite(runs::ITEM_ENDED))
                .bind(run.0)
                .bind(run.1)
                .bind(index)
                .bind(status.as_str())
                .bind(output)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() > 0 {
                sqlx::query(&sqlite(runs::count_ended(*status)))
                    .bind(run.0)
                    .bind(run.1)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        WriteOp::UpdateMapRun {
            arn,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        } => {
            sqlx::query(&sqlite(runs::UPDATE_MAP_RUN))
                .bind(arn)
                .bind(max_concurrency)
                .bind(tolerated_count)
                .bind(tolerated_percentage)
                .execute(&mut *conn)
                .await?;
        }
        WriteOp::RedriveMapRun { run } => {
            for q in runs::REDRIVE {
                sqlx::query(&sqlite(q))
                    .bind(run.0)
                    .bind(run.1)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        WriteOp::EndMapRun {
            run,
            status,
            stop_ms,
            error,
            cause,
        } => {
            sqlx::query(&sqlite(runs::END_MAP_RUN))
                .bind(run.0)
                .bind(run.1)
                .bind(status.as_str())
                .bind(stop_ms)
                .bind(error)
                .bind(cause)
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

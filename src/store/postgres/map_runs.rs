//! The changes to map runs and their items, on PostgreSQL (queries in `map_runs_sql`).

use sqlx::PgConnection;

use super::classify;
use crate::store::map_runs_sql as runs;
use crate::store::{Result, WriteOp};

/// Items written by one statement.
const ITEMS_PER_STATEMENT: usize = 10_000;

/// Run a statement; how many rows it changed.
async fn changed(
    tx: &mut PgConnection,
    q: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<u64> {
    q.execute(&mut *tx)
        .await
        .map(|d| d.rows_affected())
        .map_err(classify)
}

/// Apply one change to map runs; any other change is left alone.
pub(super) async fn apply(tx: &mut PgConnection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::InsertMapRun {
            run,
            revision: r,
            items,
        } => {
            let q = sqlx::query(runs::INSERT_REVISION)
                .bind(&r.revision_id)
                .bind(&r.state_machine_arn)
                .bind(&r.definition)
                .bind(&r.role_arn)
                .bind(&r.description)
                .bind(r.created_ms);
            changed(tx, q).await?;
            let insert = runs::insert_map_run();
            let q = runs::bind_run(sqlx::query(&insert), run);
            if changed(tx, q).await? == 0 {
                return Ok(());
            }
            for (c, chunk) in items.chunks(ITEMS_PER_STATEMENT).enumerate() {
                let first = (c * ITEMS_PER_STATEMENT) as i64;
                let idx: Vec<i64> = (first..first + chunk.len() as i64).collect();
                let q = sqlx::query(
                    "INSERT INTO map_run_items (execution_id, seq, idx, input) \
                     SELECT $1, $2, i, t FROM UNNEST($3::bigint[], $4::text[]) AS u(i, t)",
                )
                .bind(run.execution_id)
                .bind(run.seq)
                .bind(&idx)
                .bind(chunk);
                changed(tx, q).await?;
            }
        }
        WriteOp::MapItemStarted {
            run,
            index,
            execution_arn,
        } => {
            let q = sqlx::query(runs::ITEM_STARTED)
                .bind(run.0)
                .bind(run.1)
                .bind(index)
                .bind(execution_arn);
            if changed(tx, q).await? > 0 {
                let q = sqlx::query(runs::COUNT_STARTED).bind(run.0).bind(run.1);
                changed(tx, q).await?;
            }
        }
        WriteOp::MapItemEnded {
            run,
            index,
            status,
            output,
        } => {
            let q = sqlx::query(runs::ITEM_ENDED)
                .bind(run.0)
                .bind(run.1)
                .bind(index)
                .bind(status.as_str())
                .bind(output);
            if changed(tx, q).await? > 0 {
                let q = sqlx::query(runs::count_ended(*status))
                    .bind(run.0)
                    .bind(run.1);
                changed(tx, q).await?;
            }
        }
        WriteOp::UpdateMapRun {
            arn,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        } => {
            let q = sqlx::query(runs::UPDATE_MAP_RUN)
                .bind(arn)
                .bind(max_concurrency)
                .bind(tolerated_count)
                .bind(tolerated_percentage);
            changed(tx, q).await?;
        }
        WriteOp::RedriveMapRun { run } => {
            for q in runs::REDRIVE {
                changed(tx, sqlx::query(q).bind(run.0).bind(run.1)).await?;
            }
        }
        WriteOp::EndMapRun {
            run,
            status,
            stop_ms,
            error,
            cause,
        } => {
            let q = sqlx::query(runs::END_MAP_RUN)
                .bind(run.0)
                .bind(run.1)
                .bind(status.as_str())
                .bind(stop_ms)
                .bind(error)
                .bind(cause);
            changed(tx, q).await?;
        }
        _ => {}
    }
    Ok(())
}

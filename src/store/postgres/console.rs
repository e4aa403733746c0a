//! The console's reads on PostgreSQL (queries in `console_sql`).

use super::{classify, PgStore, EXECUTION_COLUMNS};
use crate::model::ExecutionStatus;
use crate::store::console_sql as q;
use crate::store::packed;
use crate::store::ports::ConsoleReads;
use crate::store::{EventRow, ExecutionRow, Result};

impl ConsoleReads for PgStore {
    async fn execution_counts(
        &self,
        state_machine_arn: &str,
    ) -> Result<Vec<(ExecutionStatus, i64)>> {
        sqlx::query_as(q::COUNTS)
            .bind(state_machine_arn)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }

    async fn executions_named(
        &self,
        arn_prefix: &str,
        status: Option<ExecutionStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        // Compared byte by byte ("C"), as SQLite compares: the range is a prefix's whatever
        // the database's collation.
        sqlx::query_as(&q::executions_named(EXECUTION_COLUMNS))
            .bind(arn_prefix)
            .bind(format!("{arn_prefix}\u{10FFFF}"))
            .bind(after.unwrap_or(""))
            .bind(status.map(ExecutionStatus::as_str))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map(packed::unpack_executions)
            .map_err(classify)
    }

    async fn timers_of(&self, execution_id: i64) -> Result<Vec<(i64, i64)>> {
        sqlx::query_as(q::TIMERS_OF)
            .bind(execution_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }

    async fn whole_history(&self, execution_id: i64) -> Result<Vec<EventRow>> {
        let sql = q::whole_history(
            "string_agg",
            "E'\\n'",
            " ORDER BY id",
            ["id", "type", "history_events WHERE execution_id = $1"],
        );
        let text: Option<String> = sqlx::query_scalar(&sql)
            .bind(execution_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        let rows = q::parse_history(text.as_deref())?;
        packed::unpack_history(rows, || self.input_of(execution_id)).await
    }
}

//! The console's reads on SQLite (queries in `console_sql`).

use super::{sql, SqliteStore, EXECUTION_COLUMNS};
use crate::model::ExecutionStatus;
use crate::store::console_sql as q;
use crate::store::packed;
use crate::store::ports::ConsoleReads;
use crate::store::{EventRow, ExecutionRow, Result};

impl ConsoleReads for SqliteStore {
    async fn execution_counts(
        &self,
        state_machine_arn: &str,
    ) -> Result<Vec<(ExecutionStatus, i64)>> {
        Ok(sqlx::query_as(&sql::sqlite(q::COUNTS))
            .bind(state_machine_arn)
            .fetch_all(&self.reader.pool)
            .await?)
    }

    async fn executions_named(
        &self,
        arn_prefix: &str,
        status: Option<ExecutionStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        Ok(packed::unpack_executions(
            sqlx::query_as(&sql::sqlite(&q::executions_named(EXECUTION_COLUMNS, "")))
                .bind(arn_prefix)
                .bind(format!("{arn_prefix}\u{10FFFF}"))
                .bind(after.unwrap_or(""))
                .bind(status.map(ExecutionStatus::as_str))
                .bind(limit)
                .fetch_all(&self.reader.pool)
                .await?,
        ))
    }

    async fn timers_of(&self, execution_id: i64) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(&sql::sqlite(q::TIMERS_OF))
            .bind(execution_id)
            .fetch_all(&self.reader.pool)
            .await?)
    }

    async fn whole_history(&self, execution_id: i64) -> Result<Vec<EventRow>> {
        let text: Option<String> = sqlx::query_scalar(&sql::sqlite(&q::whole_history(
            "group_concat",
            "char(10)",
            "",
            [
                "(h.key & 16777215)",
                "t.name",
                "history_events h JOIN event_types t ON t.code = h.type_code \
                 WHERE h.key > $1 AND h.key < $2",
            ],
        )))
        .bind(super::history_key(execution_id, 0))
        .bind(super::history_key(execution_id + 1, 0))
        .fetch_one(&self.reader.pool)
        .await?;
        let rows = q::parse_history(text.as_deref())?;
        packed::unpack_history(rows, || self.reader.input_of(execution_id)).await
    }
}

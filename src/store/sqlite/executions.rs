//! Reads of executions. Rows are stored by number (`execution_rows`, migration 0009) and read
//! through the view `executions`, which gives them back as the table had them. A query that
//! finds rows by an ARN, a machine or a name says so in numbers, so that it reads an index
//! of `execution_rows` rather than every row of the view.

use std::sync::LazyLock;

use super::{direct, numbers, sql, Reader, EXECUTION_COLUMNS};
use crate::model::ExecutionStatus;
use crate::store::{console_sql, packed, DescribedExecution, ExecutionRow, Result};

/// Reads of the engine's hot path and of DescribeExecution, run on the direct connections;
/// their text is built once, as their connections' statement caches key them by it.
static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = ?"));
static BY_IDS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions WHERE id IN (SELECT value FROM json_each(?))"
    )
});
/// Executions by ARN (`?1`, see [`Reader::described_by_arns`]) with their versions.
static DESCRIBED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT e.*, v.version_arn, v.alias_arn FROM \
         (SELECT {EXECUTION_COLUMNS} FROM executions WHERE id IN \
          (SELECT r.id FROM json_each(?1) AS j JOIN execution_rows AS r \
           ON r.machine = (SELECT n FROM numbers WHERE text = j.value ->> 0) \
           AND r.name = iif(j.value ->> 1 = 'u', unhex(j.value ->> 2), j.value ->> 2) \
           UNION ALL SELECT id FROM execution_rows \
           WHERE arn IN (SELECT j.value ->> 3 FROM json_each(?1) AS j))) AS e \
         LEFT JOIN execution_versions AS v ON v.execution_id = e.id"
    )
});

/// The number of the machine's ARN `?N`.
pub(super) fn machine_number(n: u8) -> String {
    format!("(SELECT n FROM numbers WHERE text = ?{n})")
}

impl Reader {
    pub async fn execution_by_arn(&self, arn: &str) -> Result<Option<ExecutionRow>> {
        // By the machine and the name that make the ARN, or by the ARN where the row keeps it.
        let machine = machine_number(1);
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?3 AND id IN \
             (SELECT id FROM execution_rows WHERE machine = {machine} AND name = ?2 \
              UNION ALL SELECT id FROM execution_rows WHERE arn = ?3)"
        );
        let (machine_arn, name) = numbers::machine_and_name(arn).unzip();
        Ok(packed::unpack_execution(
            sqlx::query_as(&sql)
                .bind(machine_arn)
                .bind(name.map(numbers::stored_name))
                .bind(arn)
                .fetch_optional(&mut *self.readers.get().await?)
                .await?,
        ))
    }

    pub async fn execution_by_id(&self, id: i64) -> Result<Option<ExecutionRow>> {
        let sql: &'static str = &BY_ID;
        let mut rows = self
            .direct
            .run(direct::For::Engine, move |conn| {
                direct::executions(conn, sql, [id])
            })
            .await?;
        Ok(rows.pop())
    }

    pub async fn executions_by_ids(&self, ids: &[i64]) -> Result<Vec<ExecutionRow>> {
        let sql: &'static str = &BY_IDS;
        let ids = serde_json::to_string(ids)?;
        self.direct
            .run(direct::For::Engine, move |conn| {
                direct::executions(conn, sql, [ids])
            })
            .await
    }

    /// As [`Self::execution_by_arn`] for each of `arns`, with the version each was started
    /// through, in one query: each ARN is given as its machine's ARN, its name as stored (a
    /// UUID's bytes in hex) and the ARN itself.
    pub async fn described_by_arns(&self, arns: &[String]) -> Result<Vec<DescribedExecution>> {
        let keys: Vec<serde_json::Value> = arns
            .iter()
            .map(|arn| {
                let (machine, name) = numbers::machine_and_name(arn).unzip();
                let (kind, name) = match name.map(numbers::stored_name) {
                    Some(numbers::StoredName::Uuid(b)) => {
                        ("u", Some(uuid::Uuid::from_bytes(b).simple().to_string()))
                    }
                    Some(numbers::StoredName::Text(t)) => ("t", Some(t.to_owned())),
                    None => ("t", None),
                };
                serde_json::json!([machine, kind, name, arn])
            })
            .collect();
        let sql: &'static str = &DESCRIBED;
        let keys = serde_json::to_string(&keys)?;
        let rows = self
            .direct
            .run(direct::For::Api, move |conn| {
                direct::described(conn, sql, [keys])
            })
            .await?;
        // A row found by machine and name whose ARN is not the one asked for (as the query by
        // one ARN checks).
        let asked: std::collections::HashSet<&str> = arns.iter().map(String::as_str).collect();
        Ok(rows
            .into_iter()
            .filter(|d| asked.contains(d.row.arn.as_str()))
            .collect())
    }

    /// Executions of a state machine, newest first, strictly after the `(start_ms, id)` cursor.
    pub async fn list_executions(
        &self,
        state_machine_arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        let (after_start, after_id) = after.unwrap_or((i64::MAX, i64::MAX));
        let sql = match status {
            Some(_) => sql::sqlite(&console_sql::executions_with_status(EXECUTION_COLUMNS)),
            None => sql::sqlite(&console_sql::executions_any_status(EXECUTION_COLUMNS)),
        };
        Ok(packed::unpack_executions(
            sqlx::query_as(&sql)
                .bind(state_machine_arn)
                .bind(status)
                .bind(after_start)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&mut *self.readers.get().await?)
                .await?,
        ))
    }

    /// An execution's input (what its history and cursor may leave out).
    pub async fn input_of(&self, execution_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT input FROM execution_rows WHERE id = ?")
                .bind(execution_id)
                .fetch_optional(&mut *self.readers.get().await?)
                .await?,
        )
    }

    pub async fn count_running(&self, state_machine_arn: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM execution_rows WHERE status = {} AND machine = {}",
            numbers::RUNNING,
            machine_number(1)
        ))
        .bind(state_machine_arn)
        .fetch_one(&mut *self.readers.get().await?)
        .await?)
    }

    /// From the counts the triggers keep (migration 0009): a few rows a machine.
    pub async fn count_all_running(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT COALESCE(SUM(n), 0) FROM execution_counts WHERE status = {}",
            numbers::RUNNING
        ))
        .fetch_one(&mut *self.readers.get().await?)
        .await?)
    }

    pub async fn max_execution_id(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM execution_rows")
                .fetch_one(&mut *self.readers.get().await?)
                .await?
                .unwrap_or(0),
        )
    }

    /// Ids of executions that closed before `before_ms`, oldest first, at most `limit`.
    pub async fn closed_before(&self, before_ms: i64, limit: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM execution_rows WHERE stop_ms IS NOT NULL AND stop_ms < ? \
             ORDER BY stop_ms LIMIT ?",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&mut *self.readers.get().await?)
        .await?)
    }

    /// The file's free pages and all its pages (`PRAGMA freelist_count`, `page_count`); `None`
    /// for a database made without `auto_vacuum = INCREMENTAL`, which cannot give them back.
    pub async fn free_pages(&self) -> Result<Option<super::FreePages>> {
        let mut conn = self.readers.get().await?;
        let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
            .fetch_one(&mut *conn)
            .await?;
        if mode != 2 {
            return Ok(None);
        }
        let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
            .fetch_one(&mut *conn)
            .await?;
        let total: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut *conn)
            .await?;
        Ok(Some(super::FreePages {
            free: u64::try_from(free).unwrap_or(0),
            total: u64::try_from(total).unwrap_or(0),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::open_temporary_writer;
    use super::*;

    /// The lines of SQLite's plan for a listing of a machine's executions with `status`.
    fn plan(conn: &rusqlite::Connection, sql: &str, status: Option<&str>) -> Vec<String> {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("plan");
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        stmt.query_map(
            rusqlite::params![machine, status, i64::MAX, i64::MAX, 100],
            |r| r.get::<_, String>(3),
        )
        .expect("plan rows")
        .collect::<rusqlite::Result<_>>()
        .expect("plan lines")
    }

    /// ListExecutions, newest first, reads a machine's executions of a status from the index by
    /// status (from its end, migration 0011), without sorting them, and so does each status's
    /// part of the listing of all.
    #[tokio::test]
    async fn listings_read_the_index_by_status_without_sorting() {
        let (_reader, conn, _dir) = open_temporary_writer().await;
        // Oldest first: a start's entry goes at the end of its machine's RUNNING ones.
        let keys: Vec<(String, bool)> = conn
            .prepare("SELECT name, desc FROM pragma_index_xinfo('executions_by_status') WHERE key")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("index columns");
        let ascending = ["machine", "status", "start_ms", "id"].map(|c| (c.to_owned(), false));
        assert_eq!(keys, ascending);
        let with_status = plan(
            &conn,
            &sql::sqlite(&console_sql::executions_with_status(EXECUTION_COLUMNS)),
            Some("RUNNING"),
        );
        assert!(
            with_status
                .iter()
                .any(|l| l.contains("USING INDEX executions_by_status")),
            "{with_status:#?}"
        );
        assert!(
            !with_status.iter().any(|l| l.contains("TEMP B-TREE")),
            "{with_status:#?}"
        );
        let any = plan(
            &conn,
            &sql::sqlite(&console_sql::executions_any_status(EXECUTION_COLUMNS)),
            None,
        );
        let by_status = any
            .iter()
            .filter(|l| l.contains("USING INDEX executions_by_status"))
            .count();
        assert_eq!(by_status, ExecutionStatus::ALL.len(), "{any:#?}");
    }
}

//! The console's reads on SQLite (queries in `console_sql`).

use super::executions::machine_number;
use super::{numbers, sql, SqliteStore, EXECUTION_COLUMNS};
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
        // Counted by the machine's number (migration 0009) and the status's (0010).
        Ok(sqlx::query_as(&format!(
            "SELECT s.name, SUM(c.n) FROM execution_counts c \
             JOIN execution_statuses s ON s.code = c.status WHERE c.machine = {} \
             GROUP BY c.status HAVING SUM(c.n) > 0",
            machine_number(1)
        ))
        .bind(state_machine_arn)
        .fetch_all(&mut *self.reader.readers.get().await?)
        .await?)
    }

    async fn executions_named(
        &self,
        arn_prefix: &str,
        status: Option<ExecutionStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>> {
        // The prefix is a machine's execution prefix and the start of a name: read as the
        // machine and ranges of names, along the index by machine and name. An ARN's order
        // among the machine's executions is its name's. Names kept as text and names kept as
        // a UUID's bytes (migration 0010) are two ranges of that index, each in text order:
        // the page is the first of both, merged.
        let Some((machine_arn, name_start)) = arn_prefix
            .rsplit_once(':')
            .map(|(head, start)| (numbers::machine_of(head), start))
        else {
            return Ok(Vec::new());
        };
        let after_name = after.map(|a| a.rsplit_once(':').map_or(a, |(_, name)| name));
        let uuids = numbers::uuid_range(name_start).and_then(|(lo, hi)| {
            let lo = match after_name {
                Some(a) => lo.max(numbers::uuid_after(a)?),
                None => lo,
            };
            Some((lo.to_vec(), hi.to_vec()))
        });
        let (uuids_from, uuids_to) = uuids.unzip();
        let machine = machine_number(1);
        let range = |names: &str| {
            format!(
                "SELECT id FROM (SELECT id FROM execution_rows \
                 WHERE machine = {machine} AND {names} \
                   AND (?5 IS NULL OR status = ?5) ORDER BY name LIMIT ?6)"
            )
        };
        Ok(packed::unpack_executions(
            sqlx::query_as(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM executions WHERE id IN ({} UNION ALL {}) \
                 ORDER BY name LIMIT ?6",
                range("name >= ?2 AND name < ?3 AND name > ?4"),
                range("name >= ?7 AND name <= ?8"),
            ))
            .bind(machine_arn)
            .bind(name_start)
            .bind(format!("{name_start}\u{10FFFF}"))
            .bind(after_name.unwrap_or(""))
            .bind(status.map(numbers::status_code))
            .bind(limit)
            .bind(uuids_from)
            .bind(uuids_to)
            .fetch_all(&mut *self.reader.readers.get().await?)
            .await?,
        ))
    }

    async fn timers_of(&self, execution_id: i64) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(&sql::sqlite(q::TIMERS_OF))
            .bind(execution_id)
            .fetch_all(&mut *self.reader.readers.get().await?)
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
        .fetch_one(&mut *self.reader.readers.get().await?)
        .await?;
        let rows = q::parse_history(text.as_deref())?;
        packed::unpack_history(rows, || self.reader.input_of(execution_id)).await
    }
}

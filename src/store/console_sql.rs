//! The console's queries, and ListExecutions by status, written once for both databases where
//! they can be (`$N` parameters; SQLite's copy of each reads them as `?N`, see
//! [`super::versions_sql::sqlite`]); the counts and the search by name are PostgreSQL's only.

/// Executions of machine `$1` with status `$2`, newest first, after the `($3, $4)` cursor, at
/// most `$5`: a query of its own (not the unfiltered one with `$2 IS NULL OR`) so that the
/// planner reads the `executions_by_status` index, and a rare status among a million
/// executions is found without reading the others. The index runs oldest first and is read
/// from its end; the cursor is a row value, which both databases take as where that read
/// starts, so a later page reads no more than the first.
pub fn executions_with_status(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM executions \
         WHERE state_machine_arn = $1 AND status = $2 \
           AND (start_ms, id) < ($3, $4) \
         ORDER BY start_ms DESC, id DESC LIMIT $5"
    )
}

/// Executions of machine `$1` of any status (`$2` is NULL), newest first, after the `($3, $4)`
/// cursor, at most `$5`: the newest of each status, merged. The one index of a machine's
/// executions is by status (`executions_by_status`), so that a start writes one index entry
/// for both listings; each status is a range of it.
pub fn executions_any_status(columns: &str) -> String {
    let arms: Vec<String> = crate::model::ExecutionStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "SELECT * FROM (SELECT {columns} FROM executions \
                 WHERE state_machine_arn = $1 AND status = '{}' \
                   AND (start_ms, id) < ($3, $4) \
                 ORDER BY start_ms DESC, id DESC LIMIT $5) AS s{i}",
                s.as_str()
            )
        })
        .collect();
    format!(
        "SELECT * FROM ({}) AS e WHERE CAST($2 AS TEXT) IS NULL \
         ORDER BY start_ms DESC, id DESC LIMIT $5",
        arms.join(" UNION ALL ")
    )
}

/// A machine's executions counted by status, from the counts the database's triggers keep
/// (one row a status and partition). PostgreSQL's: SQLite keys its counts by the machine's
/// number (`sqlite/console.rs`).
pub const COUNTS: &str = "SELECT status, CAST(SUM(n) AS BIGINT) FROM execution_counts \
     WHERE state_machine_arn = $1 GROUP BY status HAVING SUM(n) > 0";

/// Executions whose ARN starts with `$1` (a machine's execution prefix and the start of a
/// name): ARNs in `[$1, $2)`, after `$3`, with the optional status `$4`, in name order, at
/// most `$5`. Read along the ARN's unique index alone: the prefix names the machine. The ARNs
/// compare bytewise (`COLLATE "C"`), not by the database's default collation, which may order
/// by language. PostgreSQL's: SQLite reads a range of names of the machine's number
/// (`sqlite/console.rs`).
pub fn executions_named(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM executions \
         WHERE arn COLLATE \"C\" >= $1 AND arn COLLATE \"C\" < $2 AND arn COLLATE \"C\" > $3 \
           AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
         ORDER BY arn COLLATE \"C\" LIMIT $5"
    )
}

/// An execution's pending deadlines, soonest first.
pub const TIMERS_OF: &str =
    "SELECT seq, due_ms FROM timers WHERE execution_id = $1 ORDER BY due_ms, seq";

/// An execution's whole history as one text, an event a line (`id previous type ms details`):
/// one row instead of 25,000, each of which the driver would copy and hand over on its own.
/// `agg` is the database's string aggregate (`group_concat` or `string_agg`), `newline` its
/// way of writing one. Stored details are compact JSON, which holds no raw newline.
/// `order` is ` ORDER BY id` where the rows may come in another order (SQLite reads them by
/// its primary key, in id order; sorting them anyway costs a temporary tree). The lines are
/// sorted again when read.
/// `id` is how a row's event id is read, `ty` its type's name, and `rows` the table and which
/// of its rows are the execution's (the stores key their rows and store types differently).
pub fn whole_history(agg: &str, newline: &str, order: &str, [id, ty, rows]: [&str; 3]) -> String {
    format!(
        "SELECT {agg}({id} || ' ' || previous_id || ' ' || {ty} || ' ' || timestamp_ms || ' ' \
         || COALESCE(details, ''), {newline}{order}) \
         FROM {rows}"
    )
}

/// The events of [`whole_history`]'s text, in id order, their details as stored (packed).
pub fn parse_history(text: Option<&str>) -> super::Result<Vec<super::EventRow>> {
    let corrupt = |line: &str| {
        let shown: String = line.chars().take(80).collect();
        super::Error::Unavailable(format!("a history line could not be read: {shown}"))
    };
    let mut events = Vec::new();
    for line in text
        .unwrap_or_default()
        .split('\n')
        .filter(|l| !l.is_empty())
    {
        let mut parts = line.splitn(5, ' ');
        let mut next = || parts.next().ok_or_else(|| corrupt(line));
        let id = next()?.parse().map_err(|_| corrupt(line))?;
        let previous_id = next()?.parse().map_err(|_| corrupt(line))?;
        let event_type =
            crate::model::HistoryEventType::parse(next()?).ok_or_else(|| corrupt(line))?;
        let timestamp_ms = next()?.parse().map_err(|_| corrupt(line))?;
        let details = next()?;
        events.push(super::EventRow {
            id,
            previous_id,
            event_type,
            timestamp_ms,
            details: (!details.is_empty()).then(|| details.to_owned()),
        });
    }
    events.sort_by_key(|e| e.id);
    Ok(events)
}

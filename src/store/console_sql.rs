//! The console's queries, and ListExecutions by status, written once for both databases (`$N`
//! parameters; SQLite's copy of each reads them as `?N`, see [`super::versions_sql::sqlite`]).

/// Executions of machine `$1` with status `$2`, newest first, after the `($3, $4)` cursor, at
/// most `$5`: a query of its own (not the unfiltered one with `$2 IS NULL OR`) so that the
/// planner reads the `executions_by_status` index, and a rare status among a million
/// executions is found without reading the others.
pub fn executions_with_status(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM executions \
         WHERE state_machine_arn = $1 AND status = $2 \
           AND (start_ms < $3 OR (start_ms = $3 AND id < $4)) \
         ORDER BY start_ms DESC, id DESC LIMIT $5"
    )
}

/// A machine's executions counted by status (read from the `executions_by_status` index).
pub const COUNTS: &str =
    "SELECT status, COUNT(*) FROM executions WHERE state_machine_arn = $1 GROUP BY status";

/// Executions of machine `$1` whose ARN starts with `$2` (the machine's execution prefix and
/// the start of a name): ARNs in `[$2, $3)`, after `$4`, with the optional status `$5`, in
/// name order, at most `$6`. `collate` names the byte order on PostgreSQL (whose default
/// collation may order by language), and is empty on SQLite (bytewise already).
pub fn executions_named(columns: &str, collate: &str) -> String {
    format!(
        "SELECT {columns} FROM executions \
         WHERE arn{collate} >= $2 AND arn{collate} < $3 AND arn{collate} > $4 \
           AND state_machine_arn = $1 AND (CAST($5 AS TEXT) IS NULL OR status = $5) \
         ORDER BY arn{collate} LIMIT $6"
    )
}

/// An execution's pending deadlines, soonest first.
pub const TIMERS_OF: &str =
    "SELECT seq, due_ms FROM timers WHERE execution_id = $1 ORDER BY due_ms, seq";

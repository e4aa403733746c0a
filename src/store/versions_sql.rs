//! The queries of versions and aliases, written once for both databases (`$N` parameters;
//! SQLite's copy of each reads them as `?N`).

pub const VERSION: &str = "SELECT arn, state_machine_arn, version, revision_id, description, \
     creation_date_ms FROM state_machine_versions WHERE arn = $1 AND deleted = 0";
pub const VERSIONS: &str = "SELECT arn, state_machine_arn, version, revision_id, description, \
     creation_date_ms FROM state_machine_versions WHERE state_machine_arn = $1 AND deleted = 0 \
     ORDER BY version DESC";
pub const LAST_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM state_machine_versions WHERE state_machine_arn = $1";
pub const ALIAS: &str = "SELECT arn, state_machine_arn, name, description, routing, \
     creation_date_ms, update_date_ms FROM state_machine_aliases WHERE arn = $1";
pub const ALIASES: &str = "SELECT arn, state_machine_arn, name, description, routing, \
     creation_date_ms, update_date_ms FROM state_machine_aliases WHERE state_machine_arn = $1 \
     ORDER BY arn";
pub const EXECUTION_VERSION: &str =
    "SELECT version_arn, alias_arn FROM execution_versions WHERE execution_id = $1";

/// Executions started through a version or alias `$1`, with the status filter `$2`, after the
/// cursor `($3, $4)`, at most `$5`; `columns` are the execution's, prefixed `e.`.
pub fn executions_through(columns: &str) -> String {
    let columns = columns
        .split(',')
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM executions e JOIN execution_versions v ON v.execution_id = e.id \
         WHERE (v.version_arn = $1 OR v.alias_arn = $1) AND (CAST($2 AS TEXT) IS NULL OR e.status = $2) \
           AND (e.start_ms < $3 OR (e.start_ms = $3 AND e.id < $4)) \
         ORDER BY e.start_ms DESC, e.id DESC LIMIT $5"
    )
}

/// A query in SQLite's parameter style.
pub fn sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

pub const INSERT_VERSION: &str = "INSERT INTO state_machine_versions (arn, state_machine_arn, \
     version, revision_id, description, creation_date_ms) VALUES ($1, $2, $3, $4, $5, $6)";
pub const DELETE_VERSION: &str = "UPDATE state_machine_versions SET deleted = 1 WHERE arn = $1";
pub const PUT_ALIAS: &str = "INSERT INTO state_machine_aliases (arn, state_machine_arn, name, \
     description, routing, creation_date_ms, update_date_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (arn) DO UPDATE SET description = excluded.description, \
     routing = excluded.routing, update_date_ms = excluded.update_date_ms";
pub const INSERT_EXECUTION_VERSION: &str =
    "INSERT INTO execution_versions (execution_id, version_arn, alias_arn) VALUES ($1, $2, $3)";
/// With a machine: its versions and aliases (`$1` is its ARN).
pub const DELETE_MACHINE_VERSIONS: [&str; 2] = [
    "DELETE FROM state_machine_versions WHERE state_machine_arn = $1",
    "DELETE FROM state_machine_aliases WHERE state_machine_arn = $1",
];

//! Reading the daemon's database directly (read-only), for figures the API does not give:
//! its size, how many executions have a status, when waits ended.

use std::path::Path;

use anyhow::Result;

pub fn db_size_mib(data_dir: &Path) -> f64 {
    ["hourglass.db", "hourglass.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(data_dir.join(f)).ok())
        .map(|m| m.len() as f64)
        .sum::<f64>()
        / (1024.0 * 1024.0)
}

async fn open_db(data_dir: &Path) -> Result<sqlx::SqliteConnection> {
    use sqlx::ConnectOptions;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data_dir.join("hourglass.db"))
        .read_only(true);
    Ok(opts.connect().await?)
}

pub async fn count_fired(data_dir: &Path) -> Result<u64> {
    let mut db = open_db(data_dir).await?;
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM history_events WHERE type = 'WaitStateExited'")
            .fetch_one(&mut db)
            .await?;
    Ok(n as u64)
}

pub async fn count_status(data_dir: &Path, status: &str) -> Result<u64> {
    let mut db = open_db(data_dir).await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM executions WHERE status = ?")
        .bind(status)
        .fetch_one(&mut db)
        .await?;
    Ok(n as u64)
}

/// (execution name, WaitStateExited time) for every fired wait.
pub async fn exited_times(data_dir: &Path) -> Result<Vec<(String, i64)>> {
    let mut db = open_db(data_dir).await?;
    Ok(sqlx::query_as(
        "SELECT e.name, h.timestamp_ms FROM history_events h \
         JOIN executions e ON e.id = h.execution_id WHERE h.type = 'WaitStateExited'",
    )
    .fetch_all(&mut db)
    .await?)
}

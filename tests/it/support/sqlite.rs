//! The daemon's database opened from the test, while the daemon is stopped (to damage it on
//! purpose) or running (to hold it locked, as another program could).

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

fn options(data_dir: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        data_dir.join("hourglass.db").display()
    ))
    .expect("database url")
}

/// Run one statement on the database in `data_dir`.
pub async fn execute(data_dir: &Path, sql: &str) {
    let mut conn = options(data_dir)
        .connect()
        .await
        .expect("open the database");
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.expect("close the database");
}

/// A connection that holds the database locked against every other connection until dropped
/// (`locking_mode = EXCLUSIVE` after a write), as a backup tool or a shell could.
pub async fn lock(data_dir: &Path) -> SqliteConnection {
    let mut conn = options(data_dir)
        .pragma("locking_mode", "EXCLUSIVE")
        .connect()
        .await
        .expect("open the database");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .expect("begin");
    sqlx::query("CREATE TABLE IF NOT EXISTS held_by_test (x INTEGER)")
        .execute(&mut conn)
        .await
        .expect("write");
    sqlx::query("COMMIT")
        .execute(&mut conn)
        .await
        .expect("commit");
    conn
}

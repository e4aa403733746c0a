//! The daemon's database opened from the test, while the daemon is stopped (to damage it on
//! purpose) or running (to hold it locked, as another program could).
//!
//! SQLite's page cache is one for the whole test process, bounded by the sum of its open
//! connections' `cache_size`: a connection opened here while `page_cache` measures would raise
//! that bound under it. Each connection opened here holds [`IN_PROCESS`] while it is open, and
//! `page_cache` holds it while it measures.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{Mutex, MutexGuard};

/// Held while the test process has a SQLite connection of a test's own open.
pub static IN_PROCESS: Mutex<()> = Mutex::const_new(());

fn options(data_dir: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        data_dir.join("hourglass.db").display()
    ))
    .expect("database url")
}

/// Run one statement on the database in `data_dir`.
pub async fn execute(data_dir: &Path, sql: &str) {
    let _open = IN_PROCESS.lock().await;
    let mut conn = options(data_dir)
        .connect()
        .await
        .expect("open the database");
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.expect("close the database");
}

/// A connection that holds the database locked against every other connection until dropped
/// (`locking_mode = EXCLUSIVE` after a write), as a backup tool or a shell could.
pub async fn lock(data_dir: &Path) -> Held {
    let open = IN_PROCESS.lock().await;
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
    Held {
        _conn: conn,
        _open: open,
    }
}

/// The locking connection and [`IN_PROCESS`], released together when dropped.
pub struct Held {
    _conn: SqliteConnection,
    _open: MutexGuard<'static, ()>,
}

//! Opening the database: its pragmas and migrations, the read side, the writer's connection,
//! the data directory's lock, and what a failed statement means.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::{bulk, direct, event_types, readers, Reader};
use crate::config::{Config, Synchronous};
use crate::store::{Error, Result};

/// How long a statement waits for a lock another process holds before failing.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a failed statement means to its caller: a taken key, a full or failing disk, a lock
/// another program holds, or something else.
pub(crate) fn classify(e: sqlx::Error) -> Error {
    let code = match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => return Error::Duplicate,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .unwrap_or_default(),
        sqlx::Error::Io(_) => return Error::Unavailable(e.to_string()),
        _ => return Error::Sqlx(e),
    };
    // Primary result codes are the low byte of extended ones.
    match code & 0xff {
        5 | 6 => Error::Locked(e.to_string()),
        10 | 13 => Error::Unavailable(e.to_string()),
        _ => Error::Sqlx(e),
    }
}

/// [`classify`], for the writer's connection.
pub(crate) fn classify_write(e: rusqlite::Error) -> Error {
    use rusqlite::ffi;
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
        _ => return Error::Sqlite(e),
    };
    if matches!(
        code,
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    ) {
        return Error::Duplicate;
    }
    match code & 0xff {
        ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => Error::Locked(e.to_string()),
        ffi::SQLITE_IOERR | ffi::SQLITE_FULL => Error::Unavailable(e.to_string()),
        _ => Error::Sqlite(e),
    }
}

/// The writer's connection to the database [`open`] prepared: the same settings as the other
/// connections, and the writer's own.
pub fn open_writer(config: &Config) -> Result<rusqlite::Connection> {
    open_writer_inner(config).map_err(|e| match e {
        Error::Sqlite(e) => classify_write(e),
        other => other,
    })
}

fn open_writer_inner(config: &Config) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(config.database_path())?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(bulk::CACHED_STATEMENTS);
    let synchronous = match config.sqlite.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Unavailable(format!(
            "the database stays in journal mode {mode}, not WAL"
        )));
    }
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.pragma_update(None, "temp_store", "memory")?;
    // The writer's page cache stays small: SQLite walks the whole cache at the end of every
    // write transaction (see BENCHMARKS.md for what that cost at 16 MB). The pages a commit
    // touches are mostly the tails of the tables and indexes, which stay cached anyway.
    conn.pragma_update(None, "cache_size", -i64::from(WRITER_CACHE_KIB))?;
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        i64::from(config.sqlite.checkpoint_pages.max(1)),
    )?;
    if config.sqlite.max_size_mib > 0 {
        // Writes past the cap fail with SQLITE_FULL, as on a full disk: the request is
        // refused whole and the daemon goes on serving what it holds.
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let pages = (config.sqlite.max_size_mib as i64 * 1024 * 1024) / page_size.max(512);
        let _: i64 = conn.pragma_update_and_check(None, "max_page_count", pages, |r| r.get(0))?;
    }
    Ok(conn)
}

/// Page cache of the writer's connection, in KiB (SQLite's default).
///
/// The SQLite built into this program keeps one page cache for all of its connections
/// (`SQLITE_ENABLE_MEMORY_MANAGEMENT`), bounded by the sum of their `cache_size`: any one
/// connection may hold nearly all of it, taking over the least recently used pages of the
/// others. The readers' shares are small for that reason, so that the writer's cache (which
/// SQLite walks at the end of every write transaction) and SQLite's memory stay near 2 MB.
const WRITER_CACHE_KIB: u32 = 2_000;
/// Page cache of each reading connection, in KiB: its share of the cache all connections
/// share (see [`WRITER_CACHE_KIB`]). A reader's pages last one read transaction while
/// anything is written.
pub(super) const READER_CACHE_KIB: u32 = 256;

fn connect_options(config: &Config) -> Result<SqliteConnectOptions> {
    let path = config.database_path();
    let url = format!("sqlite://{}", path.display());
    Ok(SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match config.sqlite.synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        })
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(false)
        .pragma("temp_store", "memory")
        .disable_statement_logging())
}

/// [`open`] and [`open_writer`], waiting while another process holds the database locked
/// (SQLite answers `SQLITE_BUSY` past its busy timeout): the daemon serves `/health` meanwhile
/// and starts when the lock is released. Any other failure is returned.
pub async fn open_waiting(config: &Config) -> Result<(Reader, rusqlite::Connection)> {
    loop {
        let opened = match open(config).await {
            Ok((reader, conn)) => match conn.close().await {
                Ok(()) => {
                    let config = config.clone();
                    match tokio::task::spawn_blocking(move || open_writer(&config)).await {
                        Ok(writer) => writer.map(|w| (reader, w)),
                        Err(e) => Err(Error::Io(std::io::Error::other(e))),
                    }
                }
                Err(e) => Err(classify(e)),
            },
            Err(e) => Err(e),
        };
        match opened {
            Err(e @ Error::Locked(_)) => {
                tracing::warn!(error = %e, "the database is locked by another process; waiting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            other => return other,
        }
    }
}

/// Create the data directory and database if needed, apply migrations, and return the read
/// side plus the connection that applied them (the writer opens its own: [`open_writer`]).
pub async fn open(config: &Config) -> Result<(Reader, SqliteConnection)> {
    open_inner(config).await.map_err(|e| match e {
        Error::Sqlx(e) => classify(e),
        other => other,
    })
}

async fn open_inner(config: &Config) -> Result<(Reader, SqliteConnection)> {
    std::fs::create_dir_all(&config.data_dir)?;
    let lock = lock_data_dir(&config.data_dir)?;
    let opts = connect_options(config)?;
    // A new database keeps a map of its pages, so that pages left free (after a backlog of
    // closed executions is swept, say) can be given back to the file system a few at a time
    // (`WriteOp::ReleaseFreePages`). This takes effect only before the first table is made: a
    // database made without it keeps its free pages for reuse.
    let mut write_conn = opts
        .clone()
        .auto_vacuum(SqliteAutoVacuum::Incremental)
        .connect()
        .await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut write_conn)
        .await?;
    event_types::name_event_types(&mut write_conn).await?;
    let readers = readers::Readers::open(
        opts.read_only(true)
            .pragma("cache_size", format!("-{READER_CACHE_KIB}")),
        config.sqlite.read_connections,
    )
    .await?;
    let direct = direct::DirectReads::open(&config.database_path())?;
    Ok((
        Reader {
            readers,
            direct,
            _lock: std::sync::Arc::new(lock),
        },
        write_conn,
    ))
}

/// Take the data directory's lock (`hourglass.lock`), so that one process at a time uses the
/// database: a second daemon waits, and `hourglass migrate` refuses a database in use. The
/// operating system releases it when the process ends, however it ends.
pub fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("hourglass.lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(format!(
            "{} is held by another hourglass process",
            dir.join("hourglass.lock").display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// For tests: a new database in a temporary directory, its read side and a connection to it
/// from sqlx.
#[cfg(test)]
pub(crate) async fn open_temporary() -> (Reader, SqliteConnection, tempfile::TempDir) {
    let (dir, config) = temporary_config();
    let (reader, conn) = open(&config).await.expect("open");
    (reader, conn, dir)
}

/// For tests: a new database in a temporary directory, its read side and the writer's
/// connection to it.
#[cfg(test)]
pub(crate) async fn open_temporary_writer() -> (Reader, rusqlite::Connection, tempfile::TempDir) {
    let (dir, config) = temporary_config();
    let (reader, conn) = open_waiting(&config).await.expect("open");
    (reader, conn, dir)
}

#[cfg(test)]
fn temporary_config() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    (dir, config)
}

/// Checkpoint the WAL into the main file and close a connection [`open`] gave.
pub async fn close_writer(conn: SqliteConnection) -> Result<()> {
    let mut conn = conn;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

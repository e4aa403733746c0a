//! Persistence: the only code that knows SQL.
//!
//! | module | owns |
//! |---|---|
//! | [`rows`] | the storage shapes: rows read back and the changes a commit applies |
//! | [`ports`] | the narrow traits the engine and the timer use (readers and the commit port) |
//! | [`sqlite`] | the embedded implementation: open, read, the group-committing writer |
//! | `memory` | an in-memory implementation, for the engine's and the timer's tests |
//!
//! The store never imports the engine, the interpreter or the API: what it stores is text and
//! numbers in the shapes of [`rows`], with the vocabulary of [`crate::model`].

pub mod batch;
mod console_sql;
pub mod copy;
pub mod db;
mod map_runs_sql;
#[cfg(test)]
pub mod memory;
pub mod packed;
pub mod ports;
pub mod postgres;
pub mod queue;
pub mod rows;
pub mod sqlite;
mod versions_sql;

pub use db::Db;
pub use ports::{Commit, ConsoleReads, FreePages, MapRunReads, Store, VersionReads, WhenFull};
pub use rows::*;

/// A storage failure. The API answers `Busy` with ThrottlingException, `Unavailable` with
/// ServiceUnavailableException, and the rest with a 500.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row with this key exists already (an execution name taken).
    #[error("the row exists already")]
    Duplicate,
    /// This node no longer holds the partition at the epoch a commit was fenced by: nothing
    /// of it was written.
    #[error("partition {0} is no longer held by this node")]
    Fenced(i64),
    /// The state machine changed (or went) since it was read: nothing was written.
    #[error("the state machine changed: {0}")]
    Stale(String),
    /// The disk is full or failing: nothing was written, and a later write may succeed.
    #[error("the database cannot write: {0}")]
    Unavailable(String),
    /// Another program holds the database locked.
    #[error("the database is locked by another connection: {0}")]
    Locked(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A failure of the SQLite writer's connection.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    /// The write queue is full.
    #[error("the write queue is full")]
    Busy,
    /// The writer has stopped (shutdown or a fatal error).
    #[error("the writer has stopped")]
    WriterGone,
    #[error("could not prepare the data directory: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A write that may succeed later: the disk was full or failing.
    pub fn is_storage_fault(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

#[cfg(test)]
mod console_tests;
#[cfg(test)]
mod tests;

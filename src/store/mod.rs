//! Persistence: the only code that writes SQL.
//!
//! - [`sqlite`]: opening the database (pragmas, migrations) and every read query.
//! - [`writer`]: the single writer task that commits queued [`WriteOp`]s in groups.
//!
//! Rows here are storage shapes; the API and the engine convert them to their own types.

mod bulk;
pub mod sqlite;
pub mod writer;

pub use sqlite::Store;
pub use writer::{WriteOp, Writer};

use crate::asl::HistoryEvent;

/// A storage failure. The API turns these into HTTP 500 (or ThrottlingException for `Busy`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
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
    /// Another connection holds the database locked (SQLITE_BUSY, SQLITE_LOCKED).
    pub fn is_busy(&self) -> bool {
        let Error::Sqlx(sqlx::Error::Database(db)) = self else {
            return false;
        };
        let code = db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .unwrap_or_default();
        matches!(code & 0xff, 5 | 6)
    }

    /// The disk is full or failing (SQLITE_FULL, SQLITE_IOERR and their extended codes):
    /// the request was not written and may succeed later.
    pub fn is_storage_fault(&self) -> bool {
        let Error::Sqlx(sqlx::Error::Database(db)) = self else {
            return matches!(self, Error::Sqlx(sqlx::Error::Io(_)));
        };
        let code = db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .unwrap_or_default();
        // Primary result codes are the low byte of extended ones.
        matches!(code & 0xff, 10 | 13)
    }
}

/// A state machine with its current revision.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StateMachineRow {
    pub arn: String,
    pub name: String,
    #[sqlx(rename = "type")]
    pub machine_type: String,
    pub status: String,
    pub revision_id: String,
    pub creation_date_ms: i64,
    pub update_date_ms: Option<i64>,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    /// From the current revision.
    pub definition: String,
    /// From the current revision.
    pub role_arn: String,
    /// From the current revision.
    pub description: Option<String>,
}

/// One definition a state machine has had.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RevisionRow {
    pub revision_id: String,
    pub state_machine_arn: String,
    pub definition: String,
    pub role_arn: String,
    pub description: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExecutionRow {
    pub id: i64,
    pub arn: String,
    pub partition: i64,
    pub state_machine_arn: String,
    pub revision_id: String,
    pub name: String,
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub cursor: Option<String>,
    pub last_event_id: i64,
}

/// The columns of an execution that change as it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionUpdate {
    pub id: i64,
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_ms: Option<i64>,
    pub cursor: Option<String>,
    pub last_event_id: i64,
}

/// A pending deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::FromRow)]
pub struct TimerRow {
    pub due_ms: i64,
    pub execution_id: i64,
    pub seq: i64,
}

/// A Lambda call scheduled and not yet recorded as finished.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    pub execution_id: i64,
    pub seq: i64,
    pub scheduled_ms: i64,
    /// `asl::task::Invocation` as JSON.
    pub invocation: String,
}

/// History events of one execution, to be inserted.
#[derive(Debug, Clone)]
pub struct NewEvents {
    pub execution_id: i64,
    pub events: Vec<EventRow>,
}

impl NewEvents {
    /// The rows of `events` (their details are already JSON text, rendered by the step that
    /// made them rather than by the single writer every commit waits for).
    pub fn new(execution_id: i64, events: Vec<HistoryEvent>) -> Self {
        Self {
            execution_id,
            events: events
                .into_iter()
                .map(|e| EventRow {
                    id: e.id,
                    previous_id: e.previous_id,
                    event_type: e.event_type,
                    timestamp_ms: e.timestamp_ms,
                    details: e.details,
                })
                .collect(),
        }
    }
}

/// A stored history event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub previous_id: i64,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub timestamp_ms: i64,
    pub details: Option<String>,
}

#[cfg(test)]
mod tests;

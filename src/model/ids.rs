//! Ids: an execution's row id, a history event's id, and the keys that name a timer and a call
//! by the execution and the event that armed or scheduled it.

use serde::{Deserialize, Serialize};

/// An execution's row id, assigned by the engine when it starts the execution.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ExecutionId(pub i64);

/// A history event's id: 1 for ExecutionStarted, then one more for each event. The interpreter
/// also names timers and calls by the id of the event that armed or scheduled them, so a
/// stale firing or answer is recognised without any other bookkeeping.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct EventId(pub i64);

impl EventId {
    /// The execution's own timeout timer (history ids start at 1, so 0 is free).
    pub const EXECUTION_TIMEOUT: EventId = EventId(0);
}

/// A pending deadline: the execution and the event that armed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerKey {
    pub execution: ExecutionId,
    pub event: EventId,
}

/// A call in flight: the execution and its Scheduled event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallKey {
    pub execution: ExecutionId,
    pub event: EventId,
}

impl std::fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

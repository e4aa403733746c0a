//! The vocabulary every room shares, parsed once and never re-checked: ARNs, names, ids, the
//! keys of timers and calls, statuses, history event types, one stable hash and one seeded
//! random generator.
//!
//! This module imports nothing of the crate: every other module may import it, and it may not
//! import them.

#[macro_use]
mod named;

pub mod arn;
pub mod event_type;
pub mod hash;
pub mod ids;
pub mod name;
pub mod rng;
pub mod services;
pub mod status;
pub mod token;

pub use arn::{ExecutionArn, StateMachineArn};
pub use event_type::HistoryEventType;
pub use ids::{CallKey, EventId, ExecutionId, TimerKey};
pub use name::Name;
pub use rng::SplitMix64;
pub use status::{
    ExecutionStatus, MapRunStatus, ResultFile, StateMachineStatus, StateMachineType,
    TestExecutionStatus,
};
pub use token::TaskToken;

//! The Amazon States Language: parse, validate and run state machines. Pure code.
//!
//! Nothing here performs I/O or reads a clock: time, identities and the context object come in
//! as arguments, and the interpreter ([`step`]) returns the history events it wrote and the
//! effects its caller performs after committing them (arm or cancel a timer, call a function).
//!
//! | module | owns |
//! |---|---|
//! | [`definition`] | one pass over a definition: the typed [`Definition`] and AWS's diagnostics |
//! | [`expr`] | JSONPath, payload templates, intrinsic functions, JSONata, Choice rules |
//! | [`run`] | the interpreter: one event in, the next blocking point out |
//! | [`history`] | history event types and their detail shapes |
//! | [`errors`] | the ASL errors states raise ([`StatesError`]) |
//! | [`catalogue`] | every error an execution can fail with, worded as AWS words it |
//! | [`timestamp`] | RFC 3339 text and UTC milliseconds |
//! | [`rng`] | the one seeded random generator |
//!
//! [`validate`] and [`task`] keep the paths the API and the invoker use.

pub mod catalogue;
pub mod definition;
pub mod errors;
pub mod expr;
#[cfg(test)]
mod fuzz;
pub mod history;
pub mod jackson;
pub mod rng;
pub mod run;
pub mod timestamp;

pub use definition::Definition;
pub use errors::StatesError;
pub use expr::Scope;
pub use history::HistoryEvent;
pub use run::task;
pub use run::{
    step, Effect, Event, ExecutionInfo, ExecutionInput, ExecutionState, Status, Step, StepConfig,
    MAX_PAYLOAD_BYTES,
};

/// Definition checks as the API calls them (`ValidateStateMachineDefinition`,
/// CreateStateMachine's `InvalidDefinition`).
pub mod validate {
    pub use super::definition::{
        express_diagnostics, invalid_definition_message, validate_definition, Diagnostic, Severity,
    };
}

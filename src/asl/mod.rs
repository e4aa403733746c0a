//! The Amazon States Language: parse, validate and run state machines. Pure code.
//!
//! Nothing here performs I/O or reads a clock: time, identities and the context object come in
//! as arguments, and the interpreter ([`step::step`]) returns the history events it wrote and
//! the effects its caller must perform after committing them (arm a timer, finish).
//!
//! | module | owns |
//! |---|---|
//! | [`validate`] | definition checks with AWS's diagnostic codes and messages |
//! | [`definition`] | the parsed, typed form of a validated definition |
//! | [`path`] | JSONPath as Step Functions applies it; payload templates |
//! | [`choice`] | Choice rules |
//! | [`intrinsics`] | `States.*` intrinsic functions |
//! | [`jsonata`] | JSONata expressions, `$states` and AWS's added functions |
//! | [`step`] | the interpreter: one event in, the next blocking point out |
//! | [`task`] | Task resources (Lambda), Retry and Catch |
//! | [`history`] | history event types and their detail shapes |

#[cfg(test)]
mod cursor_tests;
pub mod definition;
#[cfg(test)]
mod driver;
pub mod errors;
pub mod expr;
#[cfg(test)]
mod fuzz;
pub mod history;
pub mod rng;
pub mod step;
pub mod task;
pub mod timestamp;

pub use definition::Definition;

/// Definition checks as the API calls them (`ValidateStateMachineDefinition`,
/// CreateStateMachine's `InvalidDefinition`).
pub mod validate {
    pub use super::definition::{
        invalid_definition_message, validate_definition, Diagnostic, Severity,
    };
}
pub use errors::StatesError;
pub use expr::Scope;
pub use history::HistoryEvent;
pub use step::{step, Effect, Event, ExecutionInfo, ExecutionState, Status, Step, StepConfig};

//! Expressions: what a state's fields compute from its input, the context object and the
//! variables in scope. Pure functions of a [`Scope`] (or, for JSONata, of its bindings);
//! nothing here knows about frames, history or effects.
//!
//! | module | owns |
//! |---|---|
//! | [`path`] | JSONPath as Step Functions applies it; `ResultPath` placement |
//! | [`template`] | payload templates (`key.$` entries) |
//! | [`intrinsics`] | `States.*` intrinsic functions: the one parser, and evaluation |
//! | [`jsonata`] | JSONata expressions, `$states` and AWS's added functions |
//! | [`choice`] | Choice rules |
//!
//! Dependencies run one way: `intrinsics` reads `path`; `template` and `jsonata` call
//! `intrinsics`; `choice` reads `path` and evaluates `jsonata`.

use serde_json::{Map, Value};

pub mod choice;
pub mod intrinsics;
pub mod jsonata;
pub mod path;
pub mod template;

/// The data a JSONPath, template, intrinsic or Choice rule is evaluated against.
///
/// `$` and `$.x` read `input`; `$$` and `$$.x` read `context` (the context object:
/// `{"Execution": {...}, "State": {...}, "StateMachine": {...}, "Task"?: {...}, "Map"?: {...}}`);
/// `$name` and `$name.x` read the variable `name`.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
}

//! What a path, template, intrinsic or Choice rule is evaluated against.

use serde_json::{Map, Value};

/// The data visible to an expression while a state runs.
///
/// `$` and `$.x` read `input`; `$$` and `$$.x` read `context` (the context object:
/// `{"Execution": {...}, "State": {...}, "StateMachine": {...}, "Task"?: {...}, "Map"?: {...}}`);
/// `$name` (a variable, once variables exist) reads `variables`.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
}

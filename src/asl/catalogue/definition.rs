//! The messages of a definition's diagnostics (ValidateStateMachineDefinition's
//! `diagnostics`, CreateStateMachine's `InvalidDefinition`), worded as AWS words them.
//!
//! Each function gives one message; the code (`SCHEMA_VALIDATION_FAILED`,
//! `MISSING_TRANSITION_TARGET`, ...) and the location are the diagnostics' own
//! (`definition::diagnostics`). The tests hold each message with where its wording comes from,
//! as for the runtime errors.

// ---- SCHEMA_VALIDATION_FAILED: the shape -------------------------------------------------

/// The required fields an object lacks, in the order the schema lists them.
pub fn fields_required(missing: &[&str]) -> String {
    format!("These fields are required: [{}]", missing.join(", "))
}

/// `kind` is `a string`, `an object`, `an array`, `a non-empty array`, `a positive integer`,
/// `a non-negative integer`.
pub fn expected(kind: &str) -> String {
    format!("Expected {kind}")
}

pub fn query_language_value() -> String {
    "Value is not one of [JSONPath, JSONata]".to_owned()
}

pub fn state_name_too_long(limit: usize) -> String {
    format!("State name cannot be longer than {limit} characters")
}

/// AWS lists the types in this order.
pub fn state_type_unknown() -> String {
    "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]".to_owned()
}

pub fn next_and_end() -> String {
    "Only one of Next or End may be set".to_owned()
}

pub fn next_or_end_required() -> String {
    fields_required(&["Next or End"])
}

/// A pair of fields of which one at most may be given (`Error` and `ErrorPath`).
pub fn only_one_of(a: &str, b: &str) -> String {
    format!("Only one of {a} or {b} may be set")
}

pub fn credentials_role_required() -> String {
    "The field 'RoleArn' is required but was missing".to_owned()
}

pub fn wait_exactly_one() -> String {
    "Exactly one of [Seconds, SecondsPath, Timestamp, TimestampPath] is required".to_owned()
}

pub fn timestamp_not_rfc3339() -> String {
    "String does not match RFC3339 timestamp".to_owned()
}

pub fn value_empty() -> String {
    "Value cannot be empty".to_owned()
}

pub fn states_all_alone() -> String {
    "States.ALL must appear alone in ErrorEquals".to_owned()
}

/// `field` is `Retry` or `Catch`.
pub fn states_all_last(field: &str) -> String {
    format!("States.ALL must be the last {field} rule")
}

/// A payload template's `key.$` that holds neither a JSONPath nor an intrinsic call.
pub fn template_value(field: &str) -> String {
    format!(
        "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
    )
}

// ---- SCHEMA_VALIDATION_FAILED: the query language ----------------------------------------

/// At the state.
pub fn jsonpath_state_in_jsonata_machine() -> String {
    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine".to_owned()
}

/// At the state; `language` is the state's, `JSONPath` or `JSONata`.
pub fn field_of_other_language(field: &str, language: &str) -> String {
    let other = if language == "JSONata" {
        "JSONPath"
    } else {
        "JSONata"
    };
    format!(
        "The QueryLanguage is set to '{language}', but field '{field}' is only supported for the '{other}' QueryLanguage"
    )
}

/// At the `ItemProcessor` (or `Iterator`): its states take the machine's language.
pub fn processor_query_language() -> String {
    "Field 'QueryLanguage' is not supported".to_owned()
}

pub fn jsonata_invalid(expr: &str, reason: &str) -> String {
    format!("The JSONata expression '{expr}' is invalid: {reason}")
}

// ---- SCHEMA_VALIDATION_FAILED: Express machines ------------------------------------------

pub fn express_activity() -> String {
    "Express state machine does not support Activity ARN".to_owned()
}

/// `pattern` is `.sync` or `.waitForTaskToken`. AWS's wording ends with a space, which the
/// `InvalidDefinition` message trims.
pub fn express_pattern(pattern: &str) -> String {
    format!("Express state machine does not support '{pattern}' service integration ")
}

// ---- The graph ---------------------------------------------------------------------------

/// `MISSING_TRANSITION_TARGET` for a `StartAt`, `Next`, `Default` or Catch naming no state.
pub fn missing_target(target: &str) -> String {
    format!("Missing 'Next' target: {target}")
}

/// `MISSING_TRANSITION_TARGET` for a state no path reaches.
pub fn unreachable(state: &str) -> String {
    format!("State \"{state}\" is not reachable.")
}

/// `MISSING_END_STATE`.
pub fn no_terminal_state() -> String {
    "Workflow has no terminal state".to_owned()
}

/// `MISSING_DESCRIPTION`.
pub fn blank() -> String {
    "The definition is blank.".to_owned()
}

// ---- A distributed Map's Label (its own error form) --------------------------------------

/// `c` is the character as Python's `repr` writes it (`'['`, `'\\x01'`).
pub fn label_invalid_character(c: &str) -> String {
    format!("Label contains invalid character: {c}")
}

pub fn label_too_long(limit: usize) -> String {
    format!("Label cannot exceed {limit} characters")
}

// ---- Shapes the interpreter cannot use ---------------------------------------------------
//
// Reported as SCHEMA_VALIDATION_FAILED at `/` only when nothing above explains the problem.

pub fn not_an_object(what: &str) -> String {
    format!("{what} is not an object")
}

pub fn not_an_array(what: &str) -> String {
    format!("{what} is not an array")
}

pub fn missing(what: &str) -> String {
    format!("{what} is missing")
}

pub fn start_at_names_no_state(start_at: &str) -> String {
    format!("StartAt '{start_at}' names no state")
}

pub fn parallel_without_branches() -> String {
    "Parallel needs Branches".to_owned()
}

pub fn map_without_processor() -> String {
    "Map needs an ItemProcessor".to_owned()
}

/// `found` is the JSON text of what was given.
pub fn not_a_string(field: &str, found: &str) -> String {
    format!("{field} must be a string, found {found}")
}

pub fn not_a_path(found: &str) -> String {
    format!("expected a path string, found {found}")
}

pub fn not_a_number(field: &str) -> String {
    format!("{field} must be a number")
}

pub fn not_positive(field: &str) -> String {
    format!("{field} must be a positive integer")
}

pub fn not_natural(field: &str) -> String {
    format!("{field} must be a non-negative integer")
}

pub fn timestamp_unreadable() -> String {
    "Timestamp is not RFC 3339".to_owned()
}

pub fn wait_without_time() -> String {
    "Wait needs Seconds, SecondsPath, Timestamp or TimestampPath".to_owned()
}

pub fn error_equals_not_strings() -> String {
    "ErrorEquals holds a non-string".to_owned()
}

pub fn result_path_type() -> String {
    "ResultPath must be a string or null".to_owned()
}

pub fn unusable() -> String {
    "The definition is not usable".to_owned()
}

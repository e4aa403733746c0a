//! Diagnostics with the codes, wording, locations and order AWS uses.
//!
//! | code | when | location |
//! |---|---|---|
//! | `MISSING_DESCRIPTION` | the text is empty or blanks | none |
//! | `INVALID_JSON_DESCRIPTION` | the text is not JSON | where parsing stopped |
//! | `SCHEMA_VALIDATION_FAILED` | a required field is missing, a field has the wrong type or form | the object or field |
//! | `MISSING_TRANSITION_TARGET` | `StartAt`, `Next`, `Default` or a Catch names no state; a state is not reachable | the field, or the state |
//! | `MISSING_END_STATE` | no state can end the workflow | none |
//!
//! The pass files each finding under the check that made it, and [`Findings::into_diagnostics`]
//! reports them as AWS does: schema errors alone (the graph is not checked until the shape is
//! right), then query-language errors, then the first shape the interpreter cannot use that
//! the schema checks let through, and only then the graph: missing targets first, then
//! `MISSING_END_STATE`, which suppresses the reachability check. [`invalid_definition_message`]
//! joins them as CreateStateMachine's `InvalidDefinition` message does:
//! `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: x at /States/a/Next, ...'`.

use crate::asl::catalogue::definition as msg;

/// One finding, shaped like ValidateStateMachineDefinition's `diagnostics` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    /// Empty when AWS gives none (`MISSING_END_STATE`).
    pub location: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

pub const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
pub const TARGET: &str = "MISSING_TRANSITION_TARGET";
pub const NO_END: &str = "MISSING_END_STATE";
const INVALID_JSON: &str = "INVALID_JSON_DESCRIPTION";
const MISSING_DESCRIPTION: &str = "MISSING_DESCRIPTION";

/// A definition that is empty or only blanks: AWS has nothing to parse.
pub fn missing_description() -> Diagnostic {
    diag(MISSING_DESCRIPTION, msg::blank(), String::new())
}

pub fn diag(code: &str, message: impl Into<String>, location: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: code.to_owned(),
        message: message.into(),
        location: location.into(),
    }
}

/// What the pass found, by the check that found it.
#[derive(Debug, Default)]
pub struct Findings {
    /// AWS's schema checks, in document order.
    schema: Vec<Diagnostic>,
    /// Fields of the other query language; JSONata expressions that do not parse.
    language: Vec<Diagnostic>,
    /// The first shape the interpreter cannot use (it stops the typed build).
    unusable: Option<String>,
    /// Transition targets, terminal states and reachability.
    graph: Vec<Diagnostic>,
}

impl Findings {
    pub fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.schema.push(diag(SCHEMA, message, location));
    }

    /// `These fields are required: [..]` for those of `fields` that `m` lacks, if any.
    pub fn require(
        &mut self,
        m: &serde_json::Map<String, serde_json::Value>,
        fields: &[&str],
        location: &str,
    ) {
        let missing: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !m.contains_key(*f))
            .collect();
        if !missing.is_empty() {
            self.schema(msg::fields_required(&missing), location);
        }
    }

    pub fn language(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.language.push(diag(SCHEMA, message, location));
    }

    /// Record why the interpreter cannot use the definition; only the first reason is kept.
    pub fn unusable(&mut self, reason: impl Into<String>) {
        self.unusable.get_or_insert_with(|| reason.into());
    }

    /// Keep a typed value, or record why it cannot be built.
    pub fn built<T>(&mut self, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| self.unusable(e)).ok()
    }

    pub fn is_usable(&self) -> bool {
        self.unusable.is_none()
    }

    /// Why the typed build stopped, if it did.
    pub fn unusable_reason(&self) -> Option<&str> {
        self.unusable.as_deref()
    }

    pub fn graph(&mut self, d: Diagnostic) {
        self.graph.push(d);
    }

    /// The diagnostics to report, in AWS's order (see the module docs).
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        if !self.schema.is_empty() {
            return self.schema;
        }
        if !self.language.is_empty() {
            return self.language;
        }
        // A shape the interpreter cannot use is reported only when the graph has nothing to
        // say: a StartAt naming no state is the graph's missing target, as AWS reports it.
        match self.unusable {
            Some(reason) if self.graph.is_empty() => vec![diag(SCHEMA, reason, "/")],
            _ => self.graph,
        }
    }
}

/// AWS parses definitions with Jackson and quotes its message and position; reproduce them
/// for the common case of a bare word where a value should be, and keep serde's message
/// otherwise.
pub fn invalid_json(text: &str, e: &serde_json::Error) -> Diagnostic {
    let shown: String = text.chars().take(500).collect();
    if let Some(s) = crate::asl::jackson::first_error(text) {
        let location = format!(
            "[Source: (String)\"{shown}\"; line: {}, column: {}]",
            s.line, s.column
        );
        return diag(
            INVALID_JSON,
            format!("{}\n at {location}", s.message),
            location,
        );
    }
    let line_text = text
        .lines()
        .nth(e.line().saturating_sub(1))
        .unwrap_or_default();
    // serde points inside the bad token; Jackson reports the column just after it.
    let upto: String = line_text
        .chars()
        .take(e.column().saturating_sub(1))
        .collect();
    let start = upto
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let token: String = line_text[start..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let (message, column) = if token.is_empty() {
        (e.to_string(), e.column())
    } else {
        let column = line_text[..start].chars().count() + token.chars().count() + 1;
        (crate::asl::jackson::unrecognized_token(&token), column)
    };
    let location = format!(
        "[Source: (String)\"{shown}\"; line: {}, column: {column}]",
        e.line()
    );
    diag(INVALID_JSON, format!("{message}\n at {location}"), location)
}

/// The message of the `InvalidDefinition` error for these diagnostics.
pub fn invalid_definition_message(diags: &[Diagnostic]) -> String {
    let parts: Vec<String> = diags
        .iter()
        .map(|d| {
            if d.location.is_empty() {
                format!("{}: {}", d.code, d.message)
            } else {
                format!("{}: {} at {}", d.code, d.message.trim_end(), d.location)
            }
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

//! Definition checks, with the diagnostic codes and wording AWS uses.
//!
//! | code | when | location |
//! |---|---|---|
//! | `INVALID_JSON_DESCRIPTION` | the text is not JSON | where parsing stopped |
//! | `SCHEMA_VALIDATION_FAILED` | a required field is missing, a field has the wrong type or form | the object or field |
//! | `MISSING_TRANSITION_TARGET` | `StartAt`, `Next`, `Default` or a Catch names no state; a state is not reachable | the field, or the state |
//! | `MISSING_END_STATE` | no state can end the workflow | none |
//!
//! Schema errors are reported alone (the graph is not checked until the shape is right);
//! graph errors list missing targets first, then `MISSING_END_STATE`, which suppresses the
//! reachability check. [`invalid_definition_message`] joins them as CreateStateMachine's
//! `InvalidDefinition` message does:
//! `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: x at /States/a/Next, ...'`.

use std::collections::{BTreeSet, HashSet, VecDeque};

use serde_json::{Map, Value};

use super::timestamp;

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

const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
const TARGET: &str = "MISSING_TRANSITION_TARGET";
const NO_END: &str = "MISSING_END_STATE";
/// AWS's limit on state names.
const MAX_STATE_NAME: usize = 80;

const STATE_TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

fn diag(code: &str, message: impl Into<String>, location: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: code.to_owned(),
        message: message.into(),
        location: location.into(),
    }
}

/// Validate a definition given as the text the API received; empty means valid.
pub fn validate_definition(text: &str) -> Vec<Diagnostic> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![invalid_json(text, &e)],
    };
    let mut schema = Vec::new();
    let Some(top) = value.as_object() else {
        return vec![diag(SCHEMA, "Expected an object", "/")];
    };
    check_machine(top, "", &mut schema);
    if schema.is_empty() {
        check_query_language(top, "", false, &mut schema);
    }
    if schema.is_empty() {
        // Whatever passes validation must build; a shape the checks above do not know
        // (a field of the wrong type, say) is reported with the builder's words.
        if let Err(e) = super::definition::Definition::from_json(&value) {
            schema.push(diag(SCHEMA, e, "/"));
        }
    }
    if !schema.is_empty() {
        return schema;
    }
    let mut graph = Vec::new();
    check_graph(top, "", &mut graph);
    graph
}

/// Fields that belong to one query language only.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
];
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

/// Each state uses the fields of its query language (its own `QueryLanguage`, else its
/// machine's), and every `{% %}` expression in a JSONata state parses.
fn check_query_language(
    m: &Map<String, Value>,
    at: &str,
    inherited: bool,
    out: &mut Vec<Diagnostic>,
) {
    let machine_jsonata = match m.get("QueryLanguage").and_then(Value::as_str) {
        Some(q) => q == "JSONata",
        None => inherited,
    };
    let Some(states) = m.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, state) in states {
        let Some(s) = state.as_object() else { continue };
        let loc = format!("{at}/States/{name}");
        let jsonata = match s.get("QueryLanguage").and_then(Value::as_str) {
            Some(q) => q == "JSONata",
            None => machine_jsonata,
        };
        // Only a machine that declares JSONata at its top forbids JSONPath states; a
        // JSONata Map may run JSONPath states in its processor.
        if at.is_empty() && machine_jsonata && !jsonata {
            out.push(diag(
                SCHEMA,
                "A state cannot use JSONPath when its state machine uses JSONata",
                format!("{loc}/QueryLanguage"),
            ));
        }
        let (wrong, language) = if jsonata {
            (JSONPATH_ONLY, "JSONata")
        } else {
            (JSONATA_ONLY, "JSONPath")
        };
        for field in wrong {
            if s.contains_key(*field) {
                out.push(diag(
                    SCHEMA,
                    format!("The field '{field}' is not supported when the query language is {language}"),
                    format!("{loc}/{field}"),
                ));
            }
        }
        if jsonata {
            check_expressions(state, &loc, out);
        }
        if let Some(branches) = s.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                if let Some(b) = b.as_object() {
                    check_query_language(b, &format!("{loc}/Branches[{i}]"), jsonata, out);
                }
            }
        }
        for field in ["ItemProcessor", "Iterator"] {
            if let Some(p) = s.get(field).and_then(Value::as_object) {
                check_query_language(p, &format!("{loc}/{field}"), jsonata, out);
            }
        }
    }
}

/// Every `{% %}` string in a JSONata state (outside nested machines) must parse.
fn check_expressions(v: &Value, loc: &str, out: &mut Vec<Diagnostic>) {
    match v {
        Value::String(text) => {
            if let Some(expr) = super::expr::jsonata::expression(text) {
                if let Err(e) = seuil::parser::parse(expr) {
                    out.push(diag(
                        SCHEMA,
                        format!("The JSONata expression '{expr}' is invalid: {e}"),
                        loc,
                    ));
                }
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if !matches!(k.as_str(), "Branches" | "ItemProcessor" | "Iterator") {
                    check_expressions(x, &format!("{loc}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_expressions(x, &format!("{loc}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// AWS parses definitions with Jackson and quotes its message and position; reproduce them
/// for the common case of a bare word where a value should be, and keep serde's message
/// otherwise.
fn invalid_json(text: &str, e: &serde_json::Error) -> Diagnostic {
    let shown: String = text.chars().take(500).collect();
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
        (
            format!(
                "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
            ),
            column,
        )
    };
    let location = format!(
        "[Source: (String)\"{shown}\"; line: {}, column: {column}]",
        e.line()
    );
    diag(
        "INVALID_JSON_DESCRIPTION",
        format!("{message}\n at {location}"),
        location,
    )
}

/// The message of the `InvalidDefinition` error for these diagnostics.
pub fn invalid_definition_message(diags: &[Diagnostic]) -> String {
    let parts: Vec<String> = diags
        .iter()
        .map(|d| {
            if d.location.is_empty() {
                format!("{}: {}", d.code, d.message)
            } else {
                format!("{}: {} at {}", d.code, d.message, d.location)
            }
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

/// `{"StartAt", "States", ...}` at the top or inside a Parallel branch or Map processor.
fn check_machine(m: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    let root = if at.is_empty() { "/" } else { at };
    let missing: Vec<&str> = ["StartAt", "States"]
        .into_iter()
        .filter(|k| !m.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        out.push(diag(
            SCHEMA,
            format!("These fields are required: [{}]", missing.join(", ")),
            root,
        ));
        return;
    }
    if !m.get("StartAt").is_some_and(Value::is_string) {
        out.push(diag(SCHEMA, "Expected a string", format!("{at}/StartAt")));
    }
    if let Some(t) = m.get("TimeoutSeconds") {
        if !t.is_u64() {
            out.push(diag(
                SCHEMA,
                "Expected a positive integer",
                format!("{at}/TimeoutSeconds"),
            ));
        }
    }
    if let Some(q) = m.get("QueryLanguage") {
        if !matches!(q.as_str(), Some("JSONPath" | "JSONata")) {
            out.push(diag(
                SCHEMA,
                "Value is not one of [JSONPath, JSONata]",
                format!("{at}/QueryLanguage"),
            ));
        }
    }
    let Some(states) = m.get("States").and_then(Value::as_object) else {
        out.push(diag(SCHEMA, "Expected an object", format!("{at}/States")));
        return;
    };
    for (name, state) in states {
        let loc = format!("{at}/States/{name}");
        if name.chars().count() > MAX_STATE_NAME {
            out.push(diag(
                SCHEMA,
                format!("State name cannot be longer than {MAX_STATE_NAME} characters"),
                loc.clone(),
            ));
        }
        match state.as_object() {
            Some(s) => check_state(s, &loc, out),
            None => out.push(diag(SCHEMA, "Expected an object", loc)),
        }
    }
}

fn require(s: &Map<String, Value>, fields: &[&str], loc: &str, out: &mut Vec<Diagnostic>) {
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !s.contains_key(*f))
        .collect();
    if !missing.is_empty() {
        out.push(diag(
            SCHEMA,
            format!("These fields are required: [{}]", missing.join(", ")),
            loc,
        ));
    }
}

fn expect_string(s: &Map<String, Value>, field: &str, loc: &str, out: &mut Vec<Diagnostic>) {
    if let Some(v) = s.get(field) {
        if !v.is_string() {
            out.push(diag(SCHEMA, "Expected a string", format!("{loc}/{field}")));
        }
    }
}

fn check_state(s: &Map<String, Value>, loc: &str, out: &mut Vec<Diagnostic>) {
    let Some(kind) = s.get("Type") else {
        require(s, &["Type"], loc, out);
        return;
    };
    let Some(kind) = kind.as_str().filter(|k| STATE_TYPES.contains(k)) else {
        out.push(diag(
            SCHEMA,
            format!("Value is not one of [{}]", STATE_TYPES.join(", ")),
            format!("{loc}/Type"),
        ));
        return;
    };
    for f in ["Next", "Comment", "InputPath", "OutputPath", "ResultPath"] {
        if f.ends_with("Path") && s.get(f).is_some_and(Value::is_null) {
            continue;
        }
        expect_string(s, f, loc, out);
    }
    // Next/End: states that move on need exactly one of them.
    if matches!(kind, "Pass" | "Task" | "Wait" | "Parallel" | "Map") {
        let next = s.contains_key("Next");
        let end = s.get("End").and_then(Value::as_bool) == Some(true);
        if next && end {
            out.push(diag(SCHEMA, "Only one of Next or End may be set", loc));
        } else if !next && !end {
            out.push(diag(
                SCHEMA,
                "These fields are required: [Next or End]",
                loc,
            ));
        }
    }
    for field in ["Parameters", "ResultSelector", "ItemSelector"] {
        if let Some(t) = s.get(field) {
            check_template(t, &format!("{loc}/{field}"), out);
        }
    }
    match kind {
        "Task" => {
            require(s, &["Resource"], loc, out);
            expect_string(s, "Resource", loc, out);
            if let Some(c) = s.get("Credentials") {
                let has_role = c
                    .as_object()
                    .is_some_and(|c| c.contains_key("RoleArn") || c.contains_key("RoleArn.$"));
                if !has_role {
                    out.push(diag(
                        SCHEMA,
                        "The field 'RoleArn' is required but was missing",
                        format!("{loc}/Credentials"),
                    ));
                }
            }
            for f in ["TimeoutSeconds", "HeartbeatSeconds"] {
                if let Some(v) = s.get(f) {
                    if v.as_u64().is_none_or(|n| n == 0) && !v.is_string() {
                        out.push(diag(
                            SCHEMA,
                            "Expected a positive integer",
                            format!("{loc}/{f}"),
                        ));
                    }
                }
            }
        }
        "Choice" => match s.get("Choices") {
            None => require(s, &["Choices"], loc, out),
            Some(Value::Array(rules)) if !rules.is_empty() => {
                for (i, r) in rules.iter().enumerate() {
                    let rl = format!("{loc}/Choices[{i}]");
                    match r.as_object() {
                        Some(obj) => {
                            require(obj, &["Next"], &rl, out);
                            if obj.contains_key("Next") {
                                // The rule must be one the interpreter can evaluate.
                                if let Err(e) =
                                    super::expr::choice::parse_choices(&Value::Array(vec![
                                        r.clone()
                                    ]))
                                {
                                    out.push(diag(SCHEMA, e, rl));
                                }
                            }
                        }
                        None => out.push(diag(SCHEMA, "Expected an object", rl)),
                    }
                }
            }
            Some(_) => out.push(diag(
                SCHEMA,
                "Expected a non-empty array",
                format!("{loc}/Choices"),
            )),
        },
        "Wait" => {
            let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                .into_iter()
                .filter(|f| s.contains_key(*f))
                .collect();
            if given.len() != 1 {
                out.push(diag(
                    SCHEMA,
                    "Exactly one of [Seconds, SecondsPath, Timestamp, TimestampPath] is required",
                    loc,
                ));
            }
            if let Some(t) = s.get("Timestamp") {
                let ok = match t.as_str() {
                    Some(text) if text.starts_with("{%") => true,
                    Some(text) => timestamp::parse_rfc3339_ms(text).is_some(),
                    None => false,
                };
                if !ok {
                    out.push(diag(
                        SCHEMA,
                        "String does not match RFC3339 timestamp",
                        format!("{loc}/Timestamp"),
                    ));
                }
            }
            if let Some(n) = s.get("Seconds") {
                if !(n.is_u64() || n.as_str().is_some_and(|t| t.starts_with("{%"))) {
                    out.push(diag(
                        SCHEMA,
                        "Expected a non-negative integer",
                        format!("{loc}/Seconds"),
                    ));
                }
            }
        }
        "Fail" => {
            for f in ["Error", "ErrorPath", "Cause", "CausePath"] {
                expect_string(s, f, loc, out);
            }
            for (a, b) in [("Error", "ErrorPath"), ("Cause", "CausePath")] {
                if s.contains_key(a) && s.contains_key(b) {
                    out.push(diag(
                        SCHEMA,
                        format!("Only one of {a} or {b} may be set"),
                        loc,
                    ));
                }
            }
        }
        "Parallel" => match s.get("Branches").and_then(Value::as_array) {
            None => require(s, &["Branches"], loc, out),
            Some(branches) => {
                for (i, b) in branches.iter().enumerate() {
                    let bl = format!("{loc}/Branches[{i}]");
                    match b.as_object() {
                        Some(b) => check_machine(b, &bl, out),
                        None => out.push(diag(SCHEMA, "Expected an object", bl)),
                    }
                }
            }
        },
        "Map" => {
            let processor = s
                .get("ItemProcessor")
                .map(|p| ("ItemProcessor", p))
                .or_else(|| s.get("Iterator").map(|p| ("Iterator", p)));
            match processor {
                None => require(s, &["ItemProcessor"], loc, out),
                Some((field, p)) => match p.as_object() {
                    Some(p) => check_machine(p, &format!("{loc}/{field}"), out),
                    None => out.push(diag(SCHEMA, "Expected an object", format!("{loc}/{field}"))),
                },
            }
        }
        _ => {}
    }
    for (field, need_next) in [("Retry", false), ("Catch", true)] {
        let Some(list) = s.get(field) else { continue };
        let Some(list) = list.as_array() else {
            out.push(diag(SCHEMA, "Expected an array", format!("{loc}/{field}")));
            continue;
        };
        for (i, r) in list.iter().enumerate() {
            let rl = format!("{loc}/{field}[{i}]");
            let Some(r) = r.as_object() else {
                out.push(diag(SCHEMA, "Expected an object", rl));
                continue;
            };
            let fields: &[&str] = if need_next {
                &["ErrorEquals", "Next"]
            } else {
                &["ErrorEquals"]
            };
            require(r, fields, &rl, out);
            if let Some(errors) = r.get("ErrorEquals").and_then(Value::as_array) {
                let all = errors.iter().position(|e| e.as_str() == Some("States.ALL"));
                if all.is_some() && errors.len() > 1 {
                    out.push(diag(
                        SCHEMA,
                        "States.ALL must appear alone in ErrorEquals",
                        format!("{rl}/ErrorEquals"),
                    ));
                }
                if all.is_some() && i + 1 != list.len() {
                    out.push(diag(
                        SCHEMA,
                        format!("States.ALL must be the last {field} rule"),
                        rl.clone(),
                    ));
                }
            }
        }
    }
}

/// `key.$` entries of a payload template must hold a JSONPath or an intrinsic function call.
fn check_template(t: &Value, loc: &str, out: &mut Vec<Diagnostic>) {
    match t {
        Value::Object(m) => {
            for (k, v) in m {
                if k.ends_with(".$") {
                    let ok = v
                        .as_str()
                        .is_some_and(|s| is_valid_jsonpath(s) || is_intrinsic_call(s));
                    if !ok {
                        out.push(diag(
                            SCHEMA,
                            format!(
                                "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                            ),
                            loc,
                        ));
                    }
                } else {
                    check_template(v, &format!("{loc}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_template(v, &format!("{loc}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// A path Step Functions accepts: `$`, `$.…`, `$[…]`, `$$…`, or a variable `$name…`.
pub fn is_valid_jsonpath(s: &str) -> bool {
    s.starts_with('$')
}

/// `States.Name(args)` with balanced parentheses and string literals whose escapes are the
/// ones intrinsic functions allow (`\'`, `\{`, `\}`, `\\`).
pub fn is_intrinsic_call(s: &str) -> bool {
    let Some(rest) = s.trim().strip_prefix("States.") else {
        return false;
    };
    let Some(open) = rest.find('(') else {
        return false;
    };
    if !rest[..open].chars().all(|c| c.is_ascii_alphanumeric()) || !rest.trim_end().ends_with(')') {
        return false;
    }
    let mut depth = 0i32;
    let mut in_string = false;
    let mut chars = rest[open..].chars();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => match chars.next() {
                    Some('\'' | '{' | '}' | '\\') => {}
                    _ => return false,
                },
                '\'' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && !in_string
}

/// Transition targets, reachability and terminal states, for one machine and its nested ones.
fn check_graph(m: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    let Some(states) = m.get("States").and_then(Value::as_object) else {
        return;
    };
    let names: HashSet<&str> = states.keys().map(String::as_str).collect();
    let start = m.get("StartAt").and_then(Value::as_str).unwrap_or_default();
    let mut missing = Vec::new();
    if !names.contains(start) {
        missing.push(diag(
            TARGET,
            format!("Missing 'Next' target: {start}"),
            format!("{at}/StartAt"),
        ));
    }
    let mut edges: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut terminal = false;
    for (name, state) in states {
        let loc = format!("{at}/States/{name}");
        let Some(s) = state.as_object() else { continue };
        let mut targets: Vec<(&str, String)> = Vec::new();
        if let Some(n) = s.get("Next").and_then(Value::as_str) {
            targets.push((n, format!("{loc}/Next")));
        }
        if let Some(d) = s.get("Default").and_then(Value::as_str) {
            targets.push((d, format!("{loc}/Default")));
        }
        for (field, list) in [("Choices", s.get("Choices")), ("Catch", s.get("Catch"))] {
            for (i, r) in list
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(n) = r.get("Next").and_then(Value::as_str) {
                    targets.push((n, format!("{loc}/{field}[{i}]/Next")));
                }
            }
        }
        for (t, tl) in &targets {
            if !names.contains(t) {
                missing.push(diag(
                    TARGET,
                    format!("Missing 'Next' target: {t}"),
                    tl.clone(),
                ));
            }
        }
        let kind = s.get("Type").and_then(Value::as_str).unwrap_or_default();
        if matches!(kind, "Succeed" | "Fail") || s.get("End").and_then(Value::as_bool) == Some(true)
        {
            terminal = true;
        }
        edges.push((name.as_str(), targets.into_iter().map(|(t, _)| t).collect()));
        // Nested machines are checked on their own.
        for (field, nested) in [("Branches", s.get("Branches"))] {
            for (i, b) in nested
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(b) = b.as_object() {
                    check_graph(b, &format!("{loc}/{field}[{i}]"), out);
                }
            }
        }
        for field in ["ItemProcessor", "Iterator"] {
            if let Some(p) = s.get(field).and_then(Value::as_object) {
                check_graph(p, &format!("{loc}/{field}"), out);
            }
        }
    }
    out.append(&mut missing);
    if !terminal {
        out.push(diag(NO_END, "Workflow has no terminal state", ""));
        return;
    }
    // Breadth-first from StartAt; states never reached are reported in definition order.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    if names.contains(start) {
        queue.push_back(start);
        seen.insert(start);
    }
    while let Some(n) = queue.pop_front() {
        if let Some((_, targets)) = edges.iter().find(|(name, _)| *name == n) {
            for t in targets {
                if names.contains(t) && seen.insert(t) {
                    queue.push_back(t);
                }
            }
        }
    }
    for name in states.keys() {
        if !seen.contains(name.as_str()) {
            out.push(diag(
                TARGET,
                format!("State \"{name}\" is not reachable."),
                format!("{at}/States/{name}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(def: &str) -> Option<String> {
        let d = validate_definition(def);
        (!d.is_empty()).then(|| invalid_definition_message(&d))
    }

    #[test]
    fn definitions() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("valid pass", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#, None),
            (
                "no States",
                r#"{"Comment": "BASE_INVALID_DER", "StartAt": "State_1"}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"),
            ),
            (
                "no StartAt",
                r#"{"States":{"P":{"Type":"Pass","End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /'"),
            ),
            (
                "missing target and unreachable state",
                r#"{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}"#,
                Some("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"),
            ),
            (
                "loop without end",
                r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}"#,
                Some("Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state'"),
            ),
            (
                "timestamp without offset",
                r#"{"StartAt":"WaitUntil","States":{"WaitUntil":{"Type":"Wait","Timestamp":"2016-12-05T21:29:29","End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/WaitUntil/Timestamp'"),
            ),
            (
                "bad intrinsic escape",
                r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"parsed.$":"States.StringToJson('{\"text\":\"An \\\"escaped\\\" here\"}')"},"End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at /States/I/Parameters'"),
            ),
            (
                "credentials without role",
                r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{},"End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/T/Credentials'"),
            ),
            (
                "choice rule without next",
                r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","StringMatches":"x"}],"Default":"S"},"S":{"Type":"Succeed"}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/C/Choices[0]'"),
            ),
            ("valid intrinsic", r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"x.$":"States.Format('a\\'b {}', $.n)"},"End":true}}}"#, None),
            (
                "parallel branch checked",
                r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}],"End":true}}}"#,
                Some("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Y at /States/P/Branches[0]/States/X/Next, MISSING_END_STATE: Workflow has no terminal state'"),
            ),
            (
                "jsonata state with a jsonpath field",
                r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a","End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'InputPath' is not supported when the query language is JSONata at /States/P/InputPath'"),
            ),
            (
                "jsonpath state with a jsonata field",
                r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Output":{"a":1},"End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Output' is not supported when the query language is JSONPath at /States/P/Output'"),
            ),
            (
                "jsonpath state in a jsonata machine",
                r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: A state cannot use JSONPath when its state machine uses JSONata at /States/P/QueryLanguage'"),
            ),
            (
                "jsonata expression that does not parse",
                r#"{"StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"x":"{% 1 + %}"},"End":true}}}"#,
                Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The JSONata expression '1 +' is invalid"),
            ),
            (
                "jsonata fields inside a jsonata map processor",
                r#"{"StartAt":"M","States":{"M":{"Type":"Map","QueryLanguage":"JSONata","Items":"{% [1] %}","End":true,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}}}}"#,
                None,
            ),
        ];
        for (name, def, want) in cases {
            let got = message(def);
            match want {
                // A parser's message is checked up to where it starts.
                Some(w) if w.ends_with("is invalid") => assert!(
                    got.as_deref().is_some_and(|g| g.starts_with(w)),
                    "{name}: {got:?}"
                ),
                _ => assert_eq!(got.as_deref(), *want, "{name}"),
            }
        }
    }

    #[test]
    fn not_json() {
        let d = validate_definition("not a definition");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "INVALID_JSON_DESCRIPTION");
        assert_eq!(
            d[0].location,
            "[Source: (String)\"not a definition\"; line: 1, column: 4]"
        );
        assert_eq!(
            d[0].message,
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
        );
    }

    /// Every definition that ran on AWS in the conformance cases is accepted.
    #[test]
    fn every_recorded_definition_validates() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/cases");
        let Ok(entries) = std::fs::read_dir(dir) else {
            eprintln!("no conformance cases at {dir}; skipping");
            return;
        };
        let mut checked = 0;
        let mut refused = Vec::new();
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let Ok(case) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if case["kind"] != "execution" || case["definition"].is_null() {
                continue;
            }
            checked += 1;
            let diags = validate_definition(&case["definition"].to_string());
            if !diags.is_empty() {
                refused.push(format!(
                    "{}: {}",
                    case["name"],
                    invalid_definition_message(&diags)
                ));
            }
        }
        assert!(checked > 500, "only {checked} cases found");
        assert!(
            refused.is_empty(),
            "{} of {checked} refused:\n{}",
            refused.len(),
            refused.join("\n")
        );
    }
}

//! AWS's schema checks (`SCHEMA_VALIDATION_FAILED`): required fields, field types and forms, a
//! machine's and a state's own fields. Nested machines are walked by the pass, not here.

use serde_json::{Map, Value};

use super::diagnostics::Findings;
use crate::asl::catalogue::definition as msg;
use crate::asl::expr::choice::ChoiceRule;
use crate::asl::expr::intrinsics;
use crate::asl::timestamp;

/// AWS's limit on state names.
const MAX_STATE_NAME: usize = 80;

const STATE_TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// The fields of `{"StartAt", "States", ...}`; `false` when the states are not to be checked
/// (a required field is missing, or `States` is not an object).
pub fn machine(found: &mut Findings, m: &Map<String, Value>, at: &str) -> bool {
    let root = if at.is_empty() { "/" } else { at };
    if !(m.contains_key("StartAt") && m.contains_key("States")) {
        found.require(m, &["StartAt", "States"], root);
        return false;
    }
    if !m.get("StartAt").is_some_and(Value::is_string) {
        found.schema(msg::expected("a string"), format!("{at}/StartAt"));
    }
    if m.get("TimeoutSeconds").is_some_and(|t| !t.is_u64()) {
        found.schema(
            msg::expected("a positive integer"),
            format!("{at}/TimeoutSeconds"),
        );
    }
    if let Some(q) = m.get("QueryLanguage") {
        if !matches!(q.as_str(), Some("JSONPath" | "JSONata")) {
            found.schema(msg::query_language_value(), format!("{at}/QueryLanguage"));
        }
    }
    if !m.get("States").is_some_and(Value::is_object) {
        found.schema(msg::expected("an object"), format!("{at}/States"));
        return false;
    }
    true
}

pub fn state_name(found: &mut Findings, name: &str, loc: &str) {
    if name.chars().count() > MAX_STATE_NAME {
        found.schema(msg::state_name_too_long(MAX_STATE_NAME), loc);
    }
}

/// A state's own fields, up to its nested machines; `false` when its `Type` is missing or
/// unknown, after which nothing else of the state is checked. `rules` are the state's Choice
/// rules, parsed once by the pass.
pub fn state(
    found: &mut Findings,
    s: &Map<String, Value>,
    loc: &str,
    rules: &[Result<ChoiceRule, String>],
) -> bool {
    let Some(kind) = s.get("Type") else {
        found.require(s, &["Type"], loc);
        return false;
    };
    let Some(kind) = kind.as_str().filter(|k| STATE_TYPES.contains(k)) else {
        found.schema(msg::state_type_unknown(), format!("{loc}/Type"));
        return false;
    };
    for f in ["Next", "Comment", "InputPath", "OutputPath", "ResultPath"] {
        if f.ends_with("Path") && s.get(f).is_some_and(Value::is_null) {
            continue;
        }
        expect_string(found, s, f, loc);
    }
    // States that move on need exactly one of Next and End.
    if matches!(kind, "Pass" | "Task" | "Wait" | "Parallel" | "Map") {
        let next = s.contains_key("Next");
        let end = s.get("End").and_then(Value::as_bool) == Some(true);
        if next && end {
            found.schema(msg::next_and_end(), loc);
        } else if !next && !end {
            found.schema(msg::next_or_end_required(), loc);
        }
    }
    for field in ["Parameters", "ResultSelector", "ItemSelector"] {
        if let Some(t) = s.get(field) {
            template(found, t, &format!("{loc}/{field}"));
        }
    }
    match kind {
        "Task" => task(found, s, loc),
        "Choice" => choices(found, s, loc, rules),
        "Wait" => wait(found, s, loc),
        "Fail" => fail(found, s, loc),
        _ => {}
    }
    true
}

fn expect_string(found: &mut Findings, s: &Map<String, Value>, field: &str, loc: &str) {
    if s.get(field).is_some_and(|v| !v.is_string()) {
        found.schema(msg::expected("a string"), format!("{loc}/{field}"));
    }
}

fn task(found: &mut Findings, s: &Map<String, Value>, loc: &str) {
    found.require(s, &["Resource"], loc);
    expect_string(found, s, "Resource", loc);
    if let Some(c) = s.get("Credentials") {
        let has_role = c
            .as_object()
            .is_some_and(|c| c.contains_key("RoleArn") || c.contains_key("RoleArn.$"));
        if !has_role {
            found.schema(
                msg::credentials_role_required(),
                format!("{loc}/Credentials"),
            );
        }
    }
    for f in ["TimeoutSeconds", "HeartbeatSeconds"] {
        if let Some(v) = s.get(f) {
            if v.as_u64().is_none_or(|n| n == 0) && !v.is_string() {
                found.schema(msg::expected("a positive integer"), format!("{loc}/{f}"));
            }
        }
    }
}

fn choices(
    found: &mut Findings,
    s: &Map<String, Value>,
    loc: &str,
    rules: &[Result<ChoiceRule, String>],
) {
    match s.get("Choices") {
        None => found.require(s, &["Choices"], loc),
        Some(Value::Array(list)) if !list.is_empty() => {
            for (i, (r, parsed)) in list.iter().zip(rules).enumerate() {
                let rl = format!("{loc}/Choices[{i}]");
                let Some(obj) = r.as_object() else {
                    found.schema(msg::expected("an object"), rl);
                    continue;
                };
                found.require(obj, &["Next"], &rl);
                // With a Next, the rule must be one the interpreter can evaluate.
                if let (true, Err(e)) = (obj.contains_key("Next"), parsed) {
                    found.schema(e.clone(), rl);
                }
            }
        }
        Some(_) => found.schema(msg::expected("a non-empty array"), format!("{loc}/Choices")),
    }
}

fn wait(found: &mut Findings, s: &Map<String, Value>, loc: &str) {
    let given = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        .into_iter()
        .filter(|f| s.contains_key(*f))
        .count();
    if given != 1 {
        found.schema(msg::wait_exactly_one(), loc);
    }
    if let Some(t) = s.get("Timestamp") {
        let ok = match t.as_str() {
            Some(text) if text.starts_with("{%") => true,
            Some(text) => timestamp::parse_rfc3339_ms(text).is_some(),
            None => false,
        };
        if !ok {
            found.schema(msg::timestamp_not_rfc3339(), format!("{loc}/Timestamp"));
        }
    }
    if let Some(n) = s.get("Seconds") {
        if !(n.is_u64() || n.as_str().is_some_and(|t| t.starts_with("{%"))) {
            found.schema(
                msg::expected("a non-negative integer"),
                format!("{loc}/Seconds"),
            );
        }
    }
}

fn fail(found: &mut Findings, s: &Map<String, Value>, loc: &str) {
    for f in ["Error", "ErrorPath", "Cause", "CausePath"] {
        expect_string(found, s, f, loc);
    }
    for (a, b) in [("Error", "ErrorPath"), ("Cause", "CausePath")] {
        if s.contains_key(a) && s.contains_key(b) {
            found.schema(msg::only_one_of(a, b), loc);
        }
    }
}

/// A `Retry` (`need_next` false) or `Catch` entry at `rl`; `last` when it ends its list.
pub fn handler(
    found: &mut Findings,
    r: &Value,
    rl: &str,
    field: &str,
    last: bool,
    need_next: bool,
) {
    let Some(r) = r.as_object() else {
        found.schema(msg::expected("an object"), rl);
        return;
    };
    let fields: &[&str] = if need_next {
        &["ErrorEquals", "Next"]
    } else {
        &["ErrorEquals"]
    };
    found.require(r, fields, rl);
    if let Some(errors) = r.get("ErrorEquals").and_then(Value::as_array) {
        let all = errors.iter().any(|e| e.as_str() == Some("States.ALL"));
        if all && errors.len() > 1 {
            found.schema(msg::states_all_alone(), format!("{rl}/ErrorEquals"));
        }
        if all && !last {
            found.schema(msg::states_all_last(field), rl);
        }
    }
}

/// `key.$` entries of a payload template must hold a path or an intrinsic function call the
/// interpreter can run (the one intrinsic parser decides).
fn template(found: &mut Findings, t: &Value, loc: &str) {
    match t {
        Value::Object(m) => {
            for (k, v) in m {
                if k.ends_with(".$") {
                    let ok = v
                        .as_str()
                        .is_some_and(|s| s.starts_with('$') || intrinsics::is_valid_call(s));
                    if !ok {
                        found.schema(msg::template_value(k), loc);
                    }
                } else {
                    template(found, v, &format!("{loc}/{k}"));
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                template(found, v, &format!("{loc}[{i}]"));
            }
        }
        _ => {}
    }
}

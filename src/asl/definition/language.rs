//! Query-language checks: each state uses the fields of its language (its own
//! `QueryLanguage`, else its machine's), and every `{% %}` expression in a JSONata state
//! parses. A state's branches and processor take the language of the machine the state is
//! in, not the state's own (a JSONata Map in a JSONPath machine runs JSONPath states unless
//! they say otherwise), and a processor cannot declare one; a JSONata machine forbids
//! JSONPath states at any depth. Wordings and locations as AWS reports them.

use serde_json::{Map, Value};

use super::diagnostics::Findings;
use crate::asl::catalogue::definition as msg;
use crate::asl::expr::jsonata;

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

/// `QueryLanguage` of a machine or state, else `inherited`. As AWS reads it, only the exact
/// text `JSONPath` is JSONPath; any other value given is JSONata (and a schema error).
pub fn is_jsonata(m: &Map<String, Value>, inherited: bool) -> bool {
    match m.get("QueryLanguage") {
        Some(q) => q.as_str() != Some("JSONPath"),
        None => inherited,
    }
}

/// One state's own fields; `machine_jsonata` when its machine uses JSONata (a branch or a
/// processor takes the language of the machine its state is in). Nested machines are checked
/// by the pass.
pub fn state(
    found: &mut Findings,
    s: &Map<String, Value>,
    body: &Value,
    loc: &str,
    jsonata: bool,
    machine_jsonata: bool,
) {
    if machine_jsonata && !jsonata {
        found.language(msg::jsonpath_state_in_jsonata_machine(), loc);
    }
    let (wrong, language) = if jsonata {
        (JSONPATH_ONLY, "JSONata")
    } else {
        (JSONATA_ONLY, "JSONPath")
    };
    for field in wrong {
        if s.contains_key(*field) {
            found.language(msg::field_of_other_language(field, language), loc);
        }
    }
    if jsonata {
        expressions(found, body, loc);
    }
}

/// Every `{% %}` string in a JSONata state (outside nested machines) must parse.
fn expressions(found: &mut Findings, v: &Value, loc: &str) {
    match v {
        Value::String(text) => {
            if let Some(expr) = jsonata::expression(text) {
                if let Err(e) = jsonata::check(expr) {
                    found.language(msg::jsonata_invalid(expr, &e.to_string()), loc);
                }
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if !matches!(k.as_str(), "Branches" | "ItemProcessor" | "Iterator") {
                    expressions(found, x, &format!("{loc}/{k}"));
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                expressions(found, x, &format!("{loc}[{i}]"));
            }
        }
        _ => {}
    }
}

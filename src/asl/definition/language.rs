//! Query-language checks: each state uses the fields of its language (its own
//! `QueryLanguage`, else its machine's), and every `{% %}` expression in a JSONata state
//! parses. A machine that declares JSONata at its top forbids JSONPath states; a JSONata Map
//! may still run JSONPath states in its processor.

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

/// `QueryLanguage` of a machine or state, else `inherited`.
pub fn is_jsonata(m: &Map<String, Value>, inherited: bool) -> bool {
    match m.get("QueryLanguage").and_then(Value::as_str) {
        Some(q) => q == "JSONata",
        None => inherited,
    }
}

/// One state's own fields; `top_jsonata` when its machine is the top level and declares
/// JSONata. Nested machines are checked by the pass.
pub fn state(
    found: &mut Findings,
    s: &Map<String, Value>,
    body: &Value,
    loc: &str,
    jsonata: bool,
    top_jsonata: bool,
) {
    if top_jsonata && !jsonata {
        found.language(
            msg::jsonpath_state_in_jsonata_machine(),
            format!("{loc}/QueryLanguage"),
        );
    }
    let (wrong, language) = if jsonata {
        (JSONPATH_ONLY, "JSONata")
    } else {
        (JSONATA_ONLY, "JSONPath")
    };
    for field in wrong {
        if s.contains_key(*field) {
            found.language(
                msg::field_of_other_language(field, language),
                format!("{loc}/{field}"),
            );
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

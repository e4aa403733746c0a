//! Reading one field of a state into its typed form. An `Err` is a shape the interpreter cannot
//! use, worded for [`super::diagnostics`]'s `SCHEMA_VALIDATION_FAILED` at `/`; these readers
//! never panic on any JSON.

use serde_json::{Map, Value};

use super::{Catcher, Count, PathField, Retrier, Seconds, WaitFor};
use crate::asl::catalogue::definition as msg;
use crate::asl::expr::jsonata;
use crate::asl::timestamp;

pub fn str_field(m: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(msg::not_a_string(key, &other.to_string())),
    }
}

pub fn path_field(m: &Map<String, Value>, key: &str) -> Result<PathField, String> {
    match m.get(key) {
        None => Ok(PathField::Absent),
        Some(Value::Null) => Ok(PathField::Null),
        Some(Value::String(s)) => Ok(PathField::Path(s.clone())),
        Some(other) => Err(msg::not_a_path(&other.to_string())),
    }
}

/// A Wait state's `Seconds`, `SecondsPath`, `Timestamp` or `TimestampPath`; under JSONata,
/// `Seconds` and `Timestamp` may be expressions.
pub fn wait_for(m: &Map<String, Value>, jsonata: bool) -> Result<WaitFor, String> {
    if jsonata {
        if let Some(Value::String(e)) = m.get("Seconds") {
            return Ok(WaitFor::SecondsExpr(e.clone()));
        }
        if let Some(Value::String(e)) = m.get("Timestamp") {
            if jsonata::expression(e).is_some() {
                return Ok(WaitFor::TimestampExpr(e.clone()));
            }
        }
    }
    if let Some(s) = m.get("Seconds") {
        return s
            .as_u64()
            .map(WaitFor::Seconds)
            .ok_or_else(|| msg::not_natural("Seconds"));
    }
    if let Some(p) = str_field(m, "SecondsPath")? {
        return Ok(WaitFor::SecondsPath(p));
    }
    if let Some(t) = str_field(m, "Timestamp")? {
        return timestamp::parse_rfc3339_ms(&t)
            .map(WaitFor::Timestamp)
            .ok_or_else(msg::timestamp_unreadable);
    }
    if let Some(p) = str_field(m, "TimestampPath")? {
        return Ok(WaitFor::TimestampPath(p));
    }
    Err(msg::wait_without_time())
}

/// `key` as a number or an expression, else `keyPath`.
pub fn count(m: &Map<String, Value>, key: &str) -> Result<Option<Count>, String> {
    if let Some(v) = m.get(key) {
        return match v {
            Value::Number(n) => Ok(Some(Count::Fixed(n.as_f64().unwrap_or(0.0)))),
            Value::String(e) => Ok(Some(Count::Expr(e.clone()))),
            _ => Err(msg::not_a_number(key)),
        };
    }
    Ok(str_field(m, &format!("{key}Path"))?.map(Count::Path))
}

/// `TimeoutSeconds` / `TimeoutSecondsPath`, or the heartbeat pair.
pub fn seconds(m: &Map<String, Value>, fixed: &str, path: &str) -> Result<Option<Seconds>, String> {
    if let Some(Value::String(e)) = m.get(fixed) {
        return Ok(Some(Seconds::Expr(e.clone())));
    }
    if let Some(v) = m.get(fixed) {
        return v
            .as_u64()
            .map(|n| Some(Seconds::Fixed(n)))
            .ok_or_else(|| msg::not_positive(fixed));
    }
    Ok(str_field(m, path)?.map(Seconds::Path))
}

fn error_list(m: &Map<String, Value>) -> Result<Vec<String>, String> {
    m.get("ErrorEquals")
        .and_then(Value::as_array)
        .ok_or_else(|| msg::missing("ErrorEquals"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(msg::error_equals_not_strings)
        })
        .collect()
}

/// One entry of `Retry`, with AWS's defaults (1 s interval, 3 attempts, back-off rate 2).
pub fn retrier(v: &Value) -> Result<Retrier, String> {
    let m = v
        .as_object()
        .ok_or_else(|| msg::not_an_object("a Retry entry"))?;
    Ok(Retrier {
        error_equals: error_list(m)?,
        interval_seconds: m
            .get("IntervalSeconds")
            .and_then(Value::as_f64)
            .unwrap_or(1.0),
        max_attempts: m
            .get("MaxAttempts")
            .and_then(Value::as_u64)
            .map_or(3, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        backoff_rate: m.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0),
        max_delay_seconds: m.get("MaxDelaySeconds").and_then(Value::as_f64),
        full_jitter: m.get("JitterStrategy").and_then(Value::as_str) == Some("FULL"),
    })
}

/// One entry of `Catch`.
pub fn catcher(v: &Value) -> Result<Catcher, String> {
    let m = v
        .as_object()
        .ok_or_else(|| msg::not_an_object("a Catch entry"))?;
    Ok(Catcher {
        error_equals: error_list(m)?,
        next: m
            .get("Next")
            .and_then(Value::as_str)
            .ok_or_else(|| msg::missing("The Next of a Catch entry"))?
            .to_owned(),
        result_path: match m.get("ResultPath") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => return Err(msg::result_path_type()),
        },
        output: m.get("Output").cloned(),
        assign: m.get("Assign").cloned(),
    })
}

/// Conservative: true when a state's text could read the context object.
pub fn reads_context(text: &str) -> bool {
    if text.contains("$$") || text.contains("States.UUID") || text.contains("States.MathRandom") {
        return true;
    }
    // JSONata reads it through `$states.context`, or through `$states` as a whole.
    text.match_indices("$states").any(|(i, m)| {
        let rest = &text[i + m.len()..];
        !(rest.starts_with(".input")
            || rest.starts_with(".result")
            || rest.starts_with(".errorOutput"))
    })
}

//! History events with AWS's type names and detail shapes.
//!
//! An event is stored as `(id, previous_id, timestamp, type, details)` where `details` is the
//! object holding the one `<kind>EventDetails` member AWS sends beside `id`/`type`, e.g.
//! `{"stateEnteredEventDetails": {"name": "P", "input": "{}", "inputDetails": {"truncated": false}}}`.
//! Inputs and outputs inside details are JSON *text*, as the API returns them.

use serde_json::{json, Value};

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: i64,
    pub previous_id: i64,
    pub timestamp_ms: i64,
    /// AWS's event type, e.g. `ExecutionStarted`, `PassStateEntered`.
    pub event_type: String,
    /// `{"<kind>EventDetails": {...}}`, or `None` for events without details.
    pub details: Option<Value>,
}

/// Compact JSON text of a value, as AWS shows inputs and outputs in history and API answers.
pub fn to_text(v: &Value) -> String {
    v.to_string()
}

fn wrap(key: &str, inner: Value) -> Option<Value> {
    let mut m = serde_json::Map::with_capacity(1);
    m.insert(key.to_owned(), inner);
    Some(Value::Object(m))
}

pub fn execution_started(input: &Value, role_arn: &str) -> Option<Value> {
    wrap(
        "executionStartedEventDetails",
        json!({"input": to_text(input), "inputDetails": {"truncated": false}, "roleArn": role_arn}),
    )
}

pub fn state_entered(name: &str, input: &Value) -> Option<Value> {
    wrap(
        "stateEnteredEventDetails",
        json!({"name": name, "input": to_text(input), "inputDetails": {"truncated": false}}),
    )
}

pub fn state_exited(name: &str, output: &Value) -> Option<Value> {
    wrap(
        "stateExitedEventDetails",
        json!({"name": name, "output": to_text(output), "outputDetails": {"truncated": false}}),
    )
}

pub fn execution_succeeded(output: &Value) -> Option<Value> {
    wrap(
        "executionSucceededEventDetails",
        json!({"output": to_text(output), "outputDetails": {"truncated": false}}),
    )
}

fn error_cause(error: Option<&str>, cause: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(e) = error {
        m.insert("error".into(), Value::String(e.into()));
    }
    if let Some(c) = cause {
        m.insert("cause".into(), Value::String(c.into()));
    }
    Value::Object(m)
}

pub fn execution_failed(error: Option<&str>, cause: Option<&str>) -> Option<Value> {
    wrap("executionFailedEventDetails", error_cause(error, cause))
}

pub fn execution_aborted(error: Option<&str>, cause: Option<&str>) -> Option<Value> {
    wrap("executionAbortedEventDetails", error_cause(error, cause))
}

pub fn execution_timed_out(error: Option<&str>, cause: Option<&str>) -> Option<Value> {
    wrap("executionTimedOutEventDetails", error_cause(error, cause))
}

/// Drop `input`/`output` text from details, for `includeExecutionData: false`.
pub fn strip_execution_data(details: &mut Value) {
    if let Value::Object(outer) = details {
        for inner in outer.values_mut() {
            if let Value::Object(fields) = inner {
                for key in ["input", "output", "inputDetails", "outputDetails"] {
                    fields.remove(key);
                }
            }
        }
    }
}

fn task_fields(resource_type: &str, resource: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("resourceType".into(), Value::String(resource_type.into()));
    m.insert("resource".into(), Value::String(resource.into()));
    m
}

pub fn task_scheduled(
    resource_type: &str,
    resource: &str,
    region: &str,
    parameters: &Value,
    timeout_secs: Option<u64>,
    heartbeat_secs: Option<u64>,
) -> Option<Value> {
    let mut m = task_fields(resource_type, resource);
    m.insert("region".into(), Value::String(region.into()));
    m.insert("parameters".into(), Value::String(to_text(parameters)));
    if let Some(t) = timeout_secs {
        m.insert("timeoutInSeconds".into(), json!(t));
    }
    if let Some(h) = heartbeat_secs {
        m.insert("heartbeatInSeconds".into(), json!(h));
    }
    wrap("taskScheduledEventDetails", Value::Object(m))
}

pub fn task_started(resource_type: &str, resource: &str) -> Option<Value> {
    wrap(
        "taskStartedEventDetails",
        Value::Object(task_fields(resource_type, resource)),
    )
}

pub fn task_succeeded(resource_type: &str, resource: &str, output: &Value) -> Option<Value> {
    let mut m = task_fields(resource_type, resource);
    m.insert("output".into(), Value::String(to_text(output)));
    m.insert("outputDetails".into(), json!({"truncated": false}));
    wrap("taskSucceededEventDetails", Value::Object(m))
}

fn task_error(
    key: &str,
    resource_type: &str,
    resource: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> Option<Value> {
    let mut m = task_fields(resource_type, resource);
    if let Value::Object(ec) = error_cause(error, cause) {
        m.extend(ec);
    }
    wrap(key, Value::Object(m))
}

pub fn task_failed(
    resource_type: &str,
    resource: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> Option<Value> {
    task_error(
        "taskFailedEventDetails",
        resource_type,
        resource,
        error,
        cause,
    )
}

pub fn task_timed_out(
    resource_type: &str,
    resource: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> Option<Value> {
    task_error(
        "taskTimedOutEventDetails",
        resource_type,
        resource,
        error,
        cause,
    )
}

pub fn lambda_scheduled(resource: &str, input: &Value, timeout_secs: Option<u64>) -> Option<Value> {
    let mut m = serde_json::Map::new();
    m.insert("resource".into(), Value::String(resource.into()));
    m.insert("input".into(), Value::String(to_text(input)));
    m.insert("inputDetails".into(), json!({"truncated": false}));
    if let Some(t) = timeout_secs {
        m.insert("timeoutInSeconds".into(), json!(t));
    }
    wrap("lambdaFunctionScheduledEventDetails", Value::Object(m))
}

pub fn lambda_succeeded(output: &Value) -> Option<Value> {
    wrap(
        "lambdaFunctionSucceededEventDetails",
        json!({"output": to_text(output), "outputDetails": {"truncated": false}}),
    )
}

pub fn lambda_failed(error: Option<&str>, cause: Option<&str>) -> Option<Value> {
    wrap(
        "lambdaFunctionFailedEventDetails",
        error_cause(error, cause),
    )
}

pub fn lambda_timed_out(error: Option<&str>, cause: Option<&str>) -> Option<Value> {
    wrap(
        "lambdaFunctionTimedOutEventDetails",
        error_cause(error, cause),
    )
}

/// `MapStateStarted`: how many iterations the Map runs.
pub fn map_state_started(length: usize) -> Option<Value> {
    wrap("mapStateStartedEventDetails", json!({ "length": length }))
}

/// `MapIterationStarted`, `...Succeeded`, `...Failed`, `...Aborted`: `event` is the part
/// after `MapIteration` (`Started`, ...).
pub fn map_iteration(event: &str, name: &str, index: usize) -> Option<Value> {
    wrap(
        &format!("mapIteration{event}EventDetails"),
        json!({ "name": name, "index": index }),
    )
}

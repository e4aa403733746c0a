//! History events with AWS's type names and detail shapes.
//!
//! An event is stored as `(id, previous_id, timestamp, type, details)` where `details` is the
//! object holding the one `<kind>EventDetails` member AWS sends beside `id`/`type`, e.g.
//! `{"stateEnteredEventDetails": {"name": "P", "input": "{}", "inputDetails": {"truncated": false}}}`.
//! Inputs and outputs inside details are JSON *text*, as the API returns them.
//!
//! Details are written straight to JSON text from borrowed fields: every step writes several
//! events, and building each as a `serde_json::Value` tree only to print it was a tenth of the
//! worker threads' time under load.

use crate::model::HistoryEventType;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: i64,
    pub previous_id: i64,
    pub timestamp_ms: i64,
    pub event_type: HistoryEventType,
    /// `{"<kind>EventDetails": {...}}` as JSON text, or `None` for events without details.
    pub details: Option<String>,
}

/// Compact JSON text of a value, as AWS shows inputs and outputs in history and API answers.
pub fn to_text(v: &Value) -> String {
    // The same text as `v.to_string()`, written into a buffer with room for a small value
    // instead of through a formatter into a string grown from empty.
    serde_json::to_string(v).unwrap_or_else(|_| v.to_string())
}

/// `{"truncated": false}`: this server never truncates an input or output.
#[derive(Serialize)]
struct Truncated {
    truncated: bool,
}

const NOT_TRUNCATED: Truncated = Truncated { truncated: false };

/// `{"<key>": inner}` as JSON text.
fn wrap(key: &str, inner: &impl Serialize) -> Option<String> {
    struct One<'a, T>(&'a str, &'a T);
    impl<T: Serialize> Serialize for One<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(self.0, self.1)?;
            m.end()
        }
    }
    // Plain structs of strings, numbers and booleans always serialise.
    serde_json::to_string(&One(key, inner)).ok()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Input<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    input: &'a str,
    input_details: Truncated,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    output: &'a str,
    output_details: Truncated,
}

#[derive(Serialize)]
struct ErrorCause<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
}

/// ExecutionStarted's details; `input` is the input's [`to_text`].
pub fn execution_started(input: &str, role_arn: &str) -> Option<String> {
    wrap(
        "executionStartedEventDetails",
        &Input {
            name: None,
            input,
            input_details: NOT_TRUNCATED,
            role_arn: Some(role_arn),
        },
    )
}

/// StateEntered's details; `input` is the input's [`to_text`].
pub fn state_entered(name: &str, input: &str) -> Option<String> {
    wrap(
        "stateEnteredEventDetails",
        &Input {
            name: Some(name),
            input,
            input_details: NOT_TRUNCATED,
            role_arn: None,
        },
    )
}

/// StateExited's details; `output` is the output's [`to_text`].
pub fn state_exited(name: &str, output: &str) -> Option<String> {
    wrap(
        "stateExitedEventDetails",
        &Output {
            name: Some(name),
            output,
            output_details: NOT_TRUNCATED,
        },
    )
}

/// ExecutionSucceeded's details; `output` is the output's [`to_text`].
pub fn execution_succeeded(output: &str) -> Option<String> {
    wrap(
        "executionSucceededEventDetails",
        &Output {
            name: None,
            output,
            output_details: NOT_TRUNCATED,
        },
    )
}

pub fn execution_failed(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap("executionFailedEventDetails", &ErrorCause { error, cause })
}

/// EvaluationFailed: a state's expression could not be evaluated (`States.QueryEvaluationError`);
/// `location` is the field it was written in (`Arguments`, `Output/result`, `Items`), when known.
pub fn evaluation_failed(
    error: &str,
    cause: Option<&str>,
    location: Option<&str>,
    state: &str,
) -> Option<String> {
    #[derive(Serialize)]
    struct Details<'a> {
        error: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cause: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<&'a str>,
        state: &'a str,
    }
    let details = Details {
        error,
        cause,
        location,
        state,
    };
    wrap("evaluationFailedEventDetails", &details)
}

pub fn execution_aborted(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap("executionAbortedEventDetails", &ErrorCause { error, cause })
}

pub fn execution_redriven(redrive_count: u32) -> Option<String> {
    wrap(
        "executionRedrivenEventDetails",
        &serde_json::json!({ "redriveCount": redrive_count }),
    )
}

pub fn execution_timed_out(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap(
        "executionTimedOutEventDetails",
        &ErrorCause { error, cause },
    )
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

/// The fields every task event starts with, then the event's own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Task<'a, T: Serialize> {
    resource_type: &'a str,
    resource: &'a str,
    #[serde(flatten)]
    rest: T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Scheduled<'a> {
    region: &'a str,
    parameters: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_in_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    heartbeat_in_seconds: Option<u64>,
}

#[derive(Serialize)]
struct Nothing {}

pub fn task_scheduled(
    resource_type: &str,
    resource: &str,
    region: &str,
    parameters: &Value,
    timeout_secs: Option<u64>,
    heartbeat_secs: Option<u64>,
) -> Option<String> {
    wrap(
        "taskScheduledEventDetails",
        &Task {
            resource_type,
            resource,
            rest: Scheduled {
                region,
                parameters: to_text(parameters),
                timeout_in_seconds: timeout_secs,
                heartbeat_in_seconds: heartbeat_secs,
            },
        },
    )
}

pub fn task_started(resource_type: &str, resource: &str) -> Option<String> {
    wrap(
        "taskStartedEventDetails",
        &Task {
            resource_type,
            resource,
            rest: Nothing {},
        },
    )
}

/// The call of a task waiting for its token was made; `output` is what the service answered.
pub fn task_submitted(resource_type: &str, resource: &str, output: &Value) -> Option<String> {
    task_output_event("taskSubmittedEventDetails", resource_type, resource, output)
}

pub fn task_succeeded(resource_type: &str, resource: &str, output: &Value) -> Option<String> {
    task_output_event("taskSucceededEventDetails", resource_type, resource, output)
}

fn task_output_event(
    key: &str,
    resource_type: &str,
    resource: &str,
    output: &Value,
) -> Option<String> {
    wrap(
        key,
        &Task {
            resource_type,
            resource,
            rest: Output {
                name: None,
                output: &to_text(output),
                output_details: NOT_TRUNCATED,
            },
        },
    )
}

fn task_error(
    key: &str,
    resource_type: &str,
    resource: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> Option<String> {
    wrap(
        key,
        &Task {
            resource_type,
            resource,
            rest: ErrorCause { error, cause },
        },
    )
}

pub fn task_failed(
    resource_type: &str,
    resource: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> Option<String> {
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
) -> Option<String> {
    task_error(
        "taskTimedOutEventDetails",
        resource_type,
        resource,
        error,
        cause,
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LambdaScheduled<'a> {
    resource: &'a str,
    input: String,
    input_details: Truncated,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_in_seconds: Option<u64>,
}

pub fn lambda_scheduled(
    resource: &str,
    input: &Value,
    timeout_secs: Option<u64>,
) -> Option<String> {
    wrap(
        "lambdaFunctionScheduledEventDetails",
        &LambdaScheduled {
            resource,
            input: to_text(input),
            input_details: NOT_TRUNCATED,
            timeout_in_seconds: timeout_secs,
        },
    )
}

pub fn lambda_succeeded(output: &Value) -> Option<String> {
    output_event("lambdaFunctionSucceededEventDetails", output)
}

pub fn lambda_failed(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap(
        "lambdaFunctionFailedEventDetails",
        &ErrorCause { error, cause },
    )
}

pub fn lambda_timed_out(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap(
        "lambdaFunctionTimedOutEventDetails",
        &ErrorCause { error, cause },
    )
}

/// An event whose details are an output (`lambdaFunctionSucceeded`, `activitySucceeded`).
fn output_event(key: &str, output: &Value) -> Option<String> {
    wrap(
        key,
        &Output {
            name: None,
            output: &to_text(output),
            output_details: NOT_TRUNCATED,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityScheduled<'a> {
    resource: &'a str,
    input: String,
    input_details: Truncated,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_in_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    heartbeat_in_seconds: Option<u64>,
}

pub fn activity_scheduled(
    resource: &str,
    input: &Value,
    timeout_secs: Option<u64>,
    heartbeat_secs: Option<u64>,
) -> Option<String> {
    wrap(
        "activityScheduledEventDetails",
        &ActivityScheduled {
            resource,
            input: to_text(input),
            input_details: NOT_TRUNCATED,
            timeout_in_seconds: timeout_secs,
            heartbeat_in_seconds: heartbeat_secs,
        },
    )
}

/// A worker took the task; `worker` is the `workerName` it gave, if any.
pub fn activity_started(worker: Option<&str>) -> Option<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Started<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        worker_name: Option<&'a str>,
    }
    wrap(
        "activityStartedEventDetails",
        &Started {
            worker_name: worker,
        },
    )
}

pub fn activity_succeeded(output: &Value) -> Option<String> {
    output_event("activitySucceededEventDetails", output)
}

pub fn activity_failed(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap("activityFailedEventDetails", &ErrorCause { error, cause })
}

pub fn activity_timed_out(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap("activityTimedOutEventDetails", &ErrorCause { error, cause })
}

pub fn activity_schedule_failed(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap(
        "activityScheduleFailedEventDetails",
        &ErrorCause { error, cause },
    )
}

/// `MapStateStarted`: how many iterations the Map runs.
pub fn map_state_started(length: usize) -> Option<String> {
    #[derive(Serialize)]
    struct Length {
        length: usize,
    }
    wrap("mapStateStartedEventDetails", &Length { length })
}

pub fn map_run_started(map_run_arn: &str) -> Option<String> {
    wrap(
        "mapRunStartedEventDetails",
        &serde_json::json!({ "mapRunArn": map_run_arn }),
    )
}

pub fn map_run_redriven(map_run_arn: &str, redrive_count: u32) -> Option<String> {
    wrap(
        "mapRunRedrivenEventDetails",
        &serde_json::json!({ "mapRunArn": map_run_arn, "redriveCount": redrive_count }),
    )
}

pub fn map_run_failed(error: Option<&str>, cause: Option<&str>) -> Option<String> {
    wrap("mapRunFailedEventDetails", &ErrorCause { error, cause })
}

/// `MapIterationStarted`, `...Succeeded`, `...Failed`, `...Aborted`: `event` is the part
/// after `MapIteration` (`Started`, ...).
pub fn map_iteration(event: &str, name: &str, index: usize) -> Option<String> {
    #[derive(Serialize)]
    struct Iteration<'a> {
        name: &'a str,
        index: usize,
    }
    wrap(
        &format!("mapIteration{event}EventDetails"),
        &Iteration { name, index },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The exact text stored for each kind of details: AWS's member names, in AWS's order,
    /// inputs and outputs as escaped JSON text, optional members left out when absent.
    #[test]
    fn details_text() {
        let input = json!({"a": [1, "x"]});
        let cases: Vec<(&str, Option<String>, &str)> = vec![
            (
                "execution started",
                execution_started(&to_text(&input), "arn:role"),
                r#"{"executionStartedEventDetails":{"input":"{\"a\":[1,\"x\"]}","inputDetails":{"truncated":false},"roleArn":"arn:role"}}"#,
            ),
            (
                "state entered",
                state_entered("P", &to_text(&json!({}))),
                r#"{"stateEnteredEventDetails":{"name":"P","input":"{}","inputDetails":{"truncated":false}}}"#,
            ),
            (
                "state exited",
                state_exited("P \"q\"", &to_text(&json!("s"))),
                r#"{"stateExitedEventDetails":{"name":"P \"q\"","output":"\"s\"","outputDetails":{"truncated":false}}}"#,
            ),
            (
                "execution succeeded",
                execution_succeeded(&to_text(&json!(null))),
                r#"{"executionSucceededEventDetails":{"output":"null","outputDetails":{"truncated":false}}}"#,
            ),
            (
                "execution failed, error only",
                execution_failed(Some("E"), None),
                r#"{"executionFailedEventDetails":{"error":"E"}}"#,
            ),
            (
                "execution aborted, nothing",
                execution_aborted(None, None),
                r#"{"executionAbortedEventDetails":{}}"#,
            ),
            (
                "execution timed out",
                execution_timed_out(Some("States.Timeout"), Some("c")),
                r#"{"executionTimedOutEventDetails":{"error":"States.Timeout","cause":"c"}}"#,
            ),
            (
                "task scheduled",
                task_scheduled(
                    "lambda",
                    "invoke",
                    "us-east-1",
                    &json!({"x": 1}),
                    Some(5),
                    None,
                ),
                r#"{"taskScheduledEventDetails":{"resourceType":"lambda","resource":"invoke","region":"us-east-1","parameters":"{\"x\":1}","timeoutInSeconds":5}}"#,
            ),
            (
                "task scheduled with heartbeat",
                task_scheduled("lambda", "invoke", "r", &json!(1), None, Some(9)),
                r#"{"taskScheduledEventDetails":{"resourceType":"lambda","resource":"invoke","region":"r","parameters":"1","heartbeatInSeconds":9}}"#,
            ),
            (
                "task started",
                task_started("lambda", "invoke"),
                r#"{"taskStartedEventDetails":{"resourceType":"lambda","resource":"invoke"}}"#,
            ),
            (
                "task succeeded",
                task_succeeded("lambda", "invoke", &json!({"Payload": 1})),
                r#"{"taskSucceededEventDetails":{"resourceType":"lambda","resource":"invoke","output":"{\"Payload\":1}","outputDetails":{"truncated":false}}}"#,
            ),
            (
                "task failed",
                task_failed("lambda", "invoke", Some("Lambda.Unknown"), Some("boom")),
                r#"{"taskFailedEventDetails":{"resourceType":"lambda","resource":"invoke","error":"Lambda.Unknown","cause":"boom"}}"#,
            ),
            (
                "task timed out",
                task_timed_out("lambda", "invoke", Some("States.Timeout"), None),
                r#"{"taskTimedOutEventDetails":{"resourceType":"lambda","resource":"invoke","error":"States.Timeout"}}"#,
            ),
            (
                "lambda scheduled",
                lambda_scheduled("arn:f", &json!([]), Some(3)),
                r#"{"lambdaFunctionScheduledEventDetails":{"resource":"arn:f","input":"[]","inputDetails":{"truncated":false},"timeoutInSeconds":3}}"#,
            ),
            (
                "lambda succeeded",
                lambda_succeeded(&json!(2)),
                r#"{"lambdaFunctionSucceededEventDetails":{"output":"2","outputDetails":{"truncated":false}}}"#,
            ),
            (
                "lambda failed",
                lambda_failed(Some("E"), Some("C")),
                r#"{"lambdaFunctionFailedEventDetails":{"error":"E","cause":"C"}}"#,
            ),
            (
                "lambda timed out",
                lambda_timed_out(Some("States.Timeout"), None),
                r#"{"lambdaFunctionTimedOutEventDetails":{"error":"States.Timeout"}}"#,
            ),
            (
                "map state started",
                map_state_started(3),
                r#"{"mapStateStartedEventDetails":{"length":3}}"#,
            ),
            (
                "map iteration",
                map_iteration("Succeeded", "M", 2),
                r#"{"mapIterationSucceededEventDetails":{"name":"M","index":2}}"#,
            ),
        ];
        for (case, got, want) in cases {
            assert_eq!(got.as_deref(), Some(want), "{case}");
        }
    }
}

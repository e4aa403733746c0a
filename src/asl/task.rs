//! Task states that call Lambda: the resource forms, `Retry` and `Catch` rules, back-off.
//!
//! Two resource forms reach a Lambda function:
//!
//! | form | `Resource` | payload sent | result | history events |
//! |---|---|---|---|---|
//! | integration | `arn:aws:states:::lambda:invoke` | `Parameters.Payload` | `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}` | `TaskScheduled` … `TaskSucceeded` |
//! | function ARN | `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` | the state's effective input | the function's output | `LambdaFunctionScheduled` … `LambdaFunctionSucceeded` |

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::errors::{names, StatesError};
use super::rng::SplitMix64;

/// What a Task state's `Resource` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskResource {
    /// `arn:aws:states:::lambda:invoke`: the function and payload come from Parameters.
    LambdaInvoke,
    /// A function ARN; `function` is the whole resource string as written.
    LambdaFunction { function: String },
    /// Anything else (other AWS services, activities): not runnable here.
    Other(String),
}

impl TaskResource {
    pub fn parse(resource: &str) -> Self {
        if resource == "arn:aws:states:::lambda:invoke" {
            TaskResource::LambdaInvoke
        } else if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
            TaskResource::LambdaFunction {
                function: resource.to_owned(),
            }
        } else {
            TaskResource::Other(resource.to_owned())
        }
    }
}

/// A Lambda call the interpreter asks for; persisted until its result is committed, so a
/// call in flight at a crash is made again (at-least-once, as Lambda itself is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// The id of the Scheduled event; the result must name it to be accepted.
    pub seq: i64,
    /// Name, `name:qualifier`, partial ARN or full ARN, as the state gave it.
    pub function_name: String,
    pub qualifier: Option<String>,
    /// The request body (JSON text).
    pub payload: String,
    /// `RequestResponse` (default), `Event` or `DryRun`.
    pub invocation_type: String,
    /// Base64 `ClientContext`, passed through.
    pub client_context: Option<String>,
}

/// What came back from a successful call (HTTP 2xx without a function error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvokeOutput {
    pub status_code: u16,
    /// The response body, as sent (may be empty for `Event` invocations).
    pub payload: String,
    pub executed_version: Option<String>,
    pub request_id: String,
    /// Response headers, for the integration's `SdkHttpMetadata`.
    pub headers: Vec<(String, String)>,
}

/// One `Retry` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

/// One `Catch` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    /// `None`: absent ($, the error object replaces the input); `Some(None)`: null.
    pub result_path: Option<Option<String>>,
    /// JSONata `Output` of the catcher.
    pub output: Option<Value>,
    /// `Assign` of the catcher.
    pub assign: Option<Value>,
}

fn error_list(m: &Map<String, Value>) -> Result<Vec<String>, String> {
    m.get("ErrorEquals")
        .and_then(Value::as_array)
        .ok_or("ErrorEquals is missing")?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "ErrorEquals holds a non-string".to_owned())
        })
        .collect()
}

pub fn parse_retry(v: Option<&Value>) -> Result<Vec<Retrier>, String> {
    let Some(list) = v else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or("Retry is not an array")?;
    list.iter()
        .map(|r| {
            let m = r.as_object().ok_or("a Retry entry is not an object")?;
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
        })
        .collect()
}

pub fn parse_catch(v: Option<&Value>) -> Result<Vec<Catcher>, String> {
    let Some(list) = v else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or("Catch is not an array")?;
    list.iter()
        .map(|c| {
            let m = c.as_object().ok_or("a Catch entry is not an object")?;
            Ok(Catcher {
                error_equals: error_list(m)?,
                next: m
                    .get("Next")
                    .and_then(Value::as_str)
                    .ok_or("a Catch entry has no Next")?
                    .to_owned(),
                result_path: match m.get("ResultPath") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(Value::String(s)) => Some(Some(s.clone())),
                    Some(_) => return Err("ResultPath must be a string or null".to_owned()),
                },
                output: m.get("Output").cloned(),
                assign: m.get("Assign").cloned(),
            })
        })
        .collect()
}

/// Does an `ErrorEquals` list match `error`? `States.ALL` matches any error but
/// `States.Runtime` (which AWS never lets a Retry or Catch handle); `States.TaskFailed`
/// matches any error but `States.Timeout` and `States.Runtime`.
pub fn matches(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|e| {
        e == error
            || (e == names::ALL && error != names::RUNTIME)
            || (e == names::TASK_FAILED && error != names::TIMEOUT && error != names::RUNTIME)
    })
}

impl Retrier {
    /// The delay before retry number `attempt` (0-based), in milliseconds. `jitter` is a
    /// number in [0, 1) the caller derives deterministically (the interpreter is pure).
    pub fn delay_ms(&self, attempt: u32, jitter: f64) -> i64 {
        let mut secs = self.interval_seconds
            * self
                .backoff_rate
                .powi(i32::try_from(attempt).unwrap_or(i32::MAX));
        if let Some(max) = self.max_delay_seconds {
            secs = secs.min(max);
        }
        if self.full_jitter {
            secs *= jitter;
        }
        if !secs.is_finite() || secs < 0.0 {
            return 0;
        }
        (secs * 1000.0).min(i64::MAX as f64 / 2.0) as i64
    }
}

/// The `{"Error", "Cause"}` object a Catch passes on; AWS writes an empty `Cause` for errors
/// that have none (`States.Timeout`).
pub fn error_output(err: &StatesError) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(err.error.clone()));
    m.insert(
        "Cause".into(),
        Value::String(err.cause.clone().unwrap_or_default()),
    );
    Value::Object(m)
}

/// A deterministic number in [0, 1) from a seed, for full jitter.
pub fn jitter(seed: u64) -> f64 {
    SplitMix64::new(seed).next_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_matching() {
        let cases = [
            ("exact", vec!["Lambda.Unknown"], "Lambda.Unknown", true),
            ("other", vec!["Lambda.Unknown"], "Exception", false),
            ("all", vec!["States.ALL"], "Exception", true),
            (
                "all not runtime",
                vec!["States.ALL"],
                "States.Runtime",
                false,
            ),
            (
                "all takes data limit",
                vec!["States.ALL"],
                "States.DataLimitExceeded",
                true,
            ),
            ("task failed", vec!["States.TaskFailed"], "Exception", true),
            (
                "task failed not timeout",
                vec!["States.TaskFailed"],
                "States.Timeout",
                false,
            ),
        ];
        for (name, list, error, want) in cases {
            let list: Vec<String> = list.into_iter().map(str::to_owned).collect();
            assert_eq!(matches(&list, error), want, "{name}");
        }
    }

    #[test]
    fn backoff() {
        let r = parse_retry(Some(&json!([{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxDelaySeconds": 10}])))
            .expect("retry");
        let delays: Vec<i64> = (0..4).map(|a| r[0].delay_ms(a, 0.5)).collect();
        assert_eq!(delays, vec![2_000, 6_000, 10_000, 10_000]);
        let d = parse_retry(Some(&json!([{"ErrorEquals": ["X"]}]))).expect("defaults");
        assert_eq!(
            (
                d[0].max_attempts,
                d[0].delay_ms(0, 0.0),
                d[0].delay_ms(1, 0.0)
            ),
            (3, 1_000, 2_000)
        );
        let j = parse_retry(Some(
            &json!([{"ErrorEquals": ["X"], "JitterStrategy": "FULL", "IntervalSeconds": 4}]),
        ))
        .expect("jitter");
        assert_eq!(j[0].delay_ms(0, 0.25), 1_000);
        for seed in 0..100 {
            let x = jitter(seed);
            assert!((0.0..1.0).contains(&x), "jitter {x}");
        }
    }

    #[test]
    fn resources() {
        assert_eq!(
            TaskResource::parse("arn:aws:states:::lambda:invoke"),
            TaskResource::LambdaInvoke
        );
        assert_eq!(
            TaskResource::parse("arn:aws:lambda:us-east-1:function:HelloWorldFunction:$LATEST"),
            TaskResource::LambdaFunction {
                function: "arn:aws:lambda:us-east-1:function:HelloWorldFunction:$LATEST".into()
            }
        );
        assert!(matches!(
            TaskResource::parse("arn:aws:states:::sqs:sendMessage"),
            TaskResource::Other(_)
        ));
    }
}

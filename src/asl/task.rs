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

use super::definition::Retrier;

use super::errors::{names, StatesError};
use super::rng::SplitMix64;

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
        let rule = |interval: f64, rate: f64, max: Option<f64>, full_jitter: bool| Retrier {
            error_equals: vec!["States.ALL".into()],
            interval_seconds: interval,
            max_attempts: 3,
            backoff_rate: rate,
            max_delay_seconds: max,
            full_jitter,
        };
        let cases = [
            (
                "capped",
                rule(2.0, 3.0, Some(10.0), false),
                0.5,
                vec![2_000, 6_000, 10_000, 10_000],
            ),
            (
                "defaults",
                rule(1.0, 2.0, None, false),
                0.0,
                vec![1_000, 2_000, 4_000, 8_000],
            ),
            (
                "full jitter",
                rule(4.0, 1.0, None, true),
                0.25,
                vec![1_000, 1_000, 1_000, 1_000],
            ),
        ];
        for (name, r, jitter_value, want) in cases {
            let delays: Vec<i64> = (0..4).map(|a| r.delay_ms(a, jitter_value)).collect();
            assert_eq!(delays, want, "{name}");
        }
        for seed in 0..100 {
            let x = jitter(seed);
            assert!((0.0..1.0).contains(&x), "jitter {x}");
        }
    }
}

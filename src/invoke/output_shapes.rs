//! The output shapes of the AWS operations Task states call, for TestState's
//! `mock.fieldValidationMode`: a mocked result is checked against the shape of the answer the
//! call would give. `output-shapes.json` is derived from botocore's service models (Apache
//! License 2.0, Amazon.com, Inc.; see `third_party/botocore/`) by `scripts/output-shapes.py`;
//! members are capitalised, as Step Functions shows them.
//!
//! | mode | checks |
//! |---|---|
//! | `STRICT` (the default) | required members present; each member present has its type and range |
//! | `PRESENT` | each member present has its type and range |
//! | `NONE` | nothing |

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::asl::definition::{StartMode, TaskResource};

#[derive(Deserialize)]
struct Model {
    operations: HashMap<String, HashMap<String, String>>,
    shapes: HashMap<String, Shape>,
}

#[derive(Deserialize)]
struct Shape {
    t: String,
    #[serde(default)]
    m: BTreeMap<String, String>,
    #[serde(default)]
    r: Vec<String>,
    e: Option<String>,
    v: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
}

fn model() -> Option<&'static Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| serde_json::from_str(include_str!("output-shapes.json")).ok())
        .as_ref()
}

/// How much of a mocked result is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Present,
    None,
}

impl Mode {
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s {
            None | Some("STRICT") => Some(Mode::Strict),
            Some("PRESENT") => Some(Mode::Present),
            Some("NONE") => Some(Mode::None),
            Some(_) => None,
        }
    }
}

/// The service (its SDK id) and action whose answer a Task's resource gives.
fn operation(resource: &TaskResource, text: &str) -> Option<(String, String)> {
    let pair = |s: &str, a: &str| Some((s.to_owned(), a.to_owned()));
    match resource {
        TaskResource::LambdaInvoke => pair("lambda", "invoke"),
        TaskResource::StartExecution(StartMode::Start | StartMode::Token) => {
            pair("sfn", "startExecution")
        }
        TaskResource::StartExecution(_) => pair("sfn", "describeExecution"),
        TaskResource::Service { call, .. } => pair(call.service.sdk_id, &call.action),
        _ => {
            let rest = text.strip_prefix("arn:aws:states:::aws-sdk:")?;
            let rest = rest.split('.').next()?;
            let (service, action) = rest.split_once(':')?;
            pair(service, action)
        }
    }
}

/// Check `value`, the mocked result of a Task on `resource`, in `mode`. An operation the
/// model does not know is not checked.
pub fn check(resource: &TaskResource, text: &str, value: &Value, mode: Mode) -> Result<(), String> {
    if mode == Mode::None {
        return Ok(());
    }
    let Some(model) = model() else { return Ok(()) };
    let Some((service, action)) = operation(resource, text) else {
        return Ok(());
    };
    let Some(shape) = model
        .operations
        .get(&service)
        .and_then(|ops| ops.get(&action))
    else {
        return Ok(());
    };
    check_shape(model, shape, "", value, mode)
        .map_err(|e| format!("Mock result schema validation error: {e}"))
}

fn check_shape(model: &Model, key: &str, field: &str, v: &Value, mode: Mode) -> Result<(), String> {
    let Some(shape) = model.shapes.get(key) else {
        return Ok(());
    };
    let wrong = |what: &str| Err(format!("Field '{field}' must be {what}"));
    match shape.t.as_str() {
        "structure" => {
            let Some(obj) = v.as_object() else {
                return wrong("an object");
            };
            if mode == Mode::Strict {
                if let Some(missing) = shape.r.iter().find(|r| !obj.contains_key(*r)) {
                    return Err(format!("Required field '{missing}' is missing"));
                }
            }
            for (name, member) in obj {
                if let Some(inner) = shape.m.get(name) {
                    check_shape(model, inner, name, member, mode)?;
                }
            }
            Ok(())
        }
        "list" => {
            let Some(items) = v.as_array() else {
                return wrong("an array");
            };
            match &shape.e {
                Some(e) => items
                    .iter()
                    .try_for_each(|item| check_shape(model, e, field, item, mode)),
                None => Ok(()),
            }
        }
        "map" => {
            let Some(obj) = v.as_object() else {
                return wrong("an object");
            };
            match &shape.v {
                Some(inner) => obj
                    .values()
                    .try_for_each(|item| check_shape(model, inner, field, item, mode)),
                None => Ok(()),
            }
        }
        "integer" | "long" | "double" | "float" => {
            let Some(n) = v.as_f64() else {
                return wrong("a number");
            };
            if matches!(shape.t.as_str(), "integer" | "long") && n.fract() != 0.0 {
                return wrong("an integer");
            }
            if shape.max.is_some_and(|max| n > max) {
                return Err(format!("Field '{field}' exceeds the maximum value"));
            }
            if shape.min.is_some_and(|min| n < min) {
                return Err(format!("Field '{field}' is below the minimum value"));
            }
            Ok(())
        }
        "boolean" if !v.is_boolean() => wrong("a boolean"),
        "string" if !v.is_string() => wrong("a string"),
        "timestamp" if !(v.is_string() || v.is_number()) => wrong("a string"),
        // A blob is text, or (an optimized integration's Payload) JSON.
        "blob" if !(v.is_string() || v.is_object() || v.is_array()) => wrong("a string"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check_on(resource: &str, v: Value, mode: Mode) -> Result<(), String> {
        check(&TaskResource::parse(resource), resource, &v, mode)
    }

    #[test]
    fn mocked_results_are_checked_against_the_operations_output() {
        let start = "arn:aws:states:::states:startExecution";
        assert_eq!(
            check_on(start, json!({}), Mode::Strict),
            Err(
                "Mock result schema validation error: Required field 'ExecutionArn' is missing"
                    .into()
            )
        );
        assert!(check_on(start, json!({}), Mode::Present).is_ok());
        assert_eq!(
            check_on(start, json!({"StartDate": true}), Mode::Present),
            Err("Mock result schema validation error: Field 'StartDate' must be a string".into())
        );
        assert!(check_on(start, json!({"StartDate": true}), Mode::None).is_ok());
        let events = "arn:aws:states:::events:putEvents";
        assert_eq!(
            check_on(
                events,
                json!({"Entries": [{"EventId": "a"}, {"EventId": [1]}]}),
                Mode::Strict
            ),
            Err("Mock result schema validation error: Field 'EventId' must be a string".into())
        );
        assert!(check_on(
            "arn:aws:states:::lambda:invoke",
            json!({"Payload": {"ok": true}, "StatusCode": 200}),
            Mode::Strict
        )
        .is_ok());
        assert_eq!(
            check_on(
                "arn:aws:states:::aws-sdk:s3:getObject",
                json!({"ContentLength": "9"}),
                Mode::Strict
            ),
            Err(
                "Mock result schema validation error: Field 'ContentLength' must be a number"
                    .into()
            )
        );
        assert_eq!(Mode::parse(Some("LOOSE")), None);
    }
}

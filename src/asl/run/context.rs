//! The context object a state reads as `$$` (JSONPath) or `$states.context` (JSONata), and
//! JSONata's `$states`.
//!
//! ```text
//! {"Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount": 0},
//!  "State": {"EnteredTime", "Name", "RetryCount"?},
//!  "StateMachine": {"Id", "Name"},
//!  "Map"?: {"Item": {"Index", "Value"}}}
//! ```
//!
//! Built from the execution's fixed facts and the frame; nothing here reads a clock.

use serde_json::{json, Map, Value};

use super::cursor::Frame;
use super::ExecutionInfo;
use crate::asl::definition::{Kind, State};
use crate::asl::timestamp;

/// The context object while `state` runs in `f`; `item` adds `$$.Map.Item` for a Map's
/// ItemSelector.
pub fn object(
    info: &ExecutionInfo,
    state: &State,
    f: &Frame,
    item: Option<(usize, &Value)>,
) -> Value {
    let mut state_part = json!({
        "EnteredTime": timestamp::format_ms(f.entered_ms),
        "Name": state.name,
    });
    // AWS shows RetryCount only in the states that can retry.
    if matches!(
        state.kind,
        Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_)
    ) {
        state_part["RetryCount"] = json!(f.retry.as_ref().map_or(0, |r| r.count));
    }
    let mut context = json!({
        "Execution": {
            "Id": if info.express { crate::model::arn::express_arn(&info.arn) } else { info.arn.clone() },
            "Input": info.input.value(),
            "Name": info.name,
            "RoleArn": info.role_arn,
            "StartTime": timestamp::format_ms(info.start_ms),
            "RedriveCount": 0,
        },
        "State": state_part,
        "StateMachine": {
            "Id": info.state_machine_arn,
            "Name": info.state_machine_name,
        },
    });
    if let Some((index, value)) = item {
        context["Map"] = json!({"Item": {"Index": index, "Value": value}});
    }
    context
}

/// `$states` for a JSONata expression: `input` and `context`, and `result` or `errorOutput`
/// where the field being evaluated sees one.
pub fn states(
    input: &Value,
    context: &Value,
    result: Option<&Value>,
    error_output: Option<&Value>,
) -> Value {
    let mut m = Map::new();
    m.insert("input".into(), input.clone());
    m.insert("context".into(), context.clone());
    if let Some(r) = result {
        m.insert("result".into(), r.clone());
    }
    if let Some(e) = error_output {
        m.insert("errorOutput".into(), e.clone());
    }
    Value::Object(m)
}

//! Wait: deadlines, `WAIT_TIME_SCALE`, and the errors a bad deadline raises.

use serde_json::json;

use super::{definition, driver, run};
use crate::asl::run::{step, Effect, Event, ExecutionState, Status, StepConfig};

#[test]
fn wait_time_scale_shrinks_deadlines() {
    let def = definition(&json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "S"},
        "S": {"Type": "Succeed"}}}));
    let cases = [
        ("unscaled", 1.0, Some(11_000)),
        ("a thousandth", 0.001, Some(1_010)),
        ("half", 0.5, Some(6_000)),
        ("zero does not wait", 0.0, None),
        ("not a number counts as unscaled", f64::NAN, Some(11_000)),
    ];
    for (name, scale, want_due) in cases {
        let mut state = ExecutionState::new(json!({}));
        let cfg = StepConfig {
            wait_time_scale: scale,
            ..StepConfig::default()
        };
        let s = step(&def, &mut state, &driver::info(), Event::Start, 1_000, &cfg);
        let want: Vec<Effect> = want_due
            .map(|due_ms| Effect::ArmTimer { seq: 2, due_ms })
            .into_iter()
            .collect();
        assert_eq!(s.effects, want, "{name}");
        let want_status = if want_due.is_some() {
            Status::Running
        } else {
            Status::Succeeded
        };
        assert_eq!(state.status, want_status, "{name}");
    }
}

#[test]
fn deadlines_from_paths_timestamps_and_expressions() {
    let cases = [
        (
            "seconds path",
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            1_005_000,
        ),
        (
            "timestamp",
            json!({"Type": "Wait", "Timestamp": "1970-01-01T00:20:00Z", "End": true}),
            1_200_000,
        ),
        (
            "timestamp path",
            json!({"Type": "Wait", "TimestampPath": "$.t", "End": true}),
            1_100_000,
        ),
        (
            "input path first",
            json!({"Type": "Wait", "InputPath": "$.inner", "SecondsPath": "$.s", "End": true}),
            1_009_000,
        ),
        (
            "jsonata seconds",
            json!({"Type": "Wait", "QueryLanguage": "JSONata", "Seconds": "{% $states.input.s * 2 %}", "End": true}),
            1_010_000,
        ),
        (
            "jsonata timestamp",
            json!({"Type": "Wait", "QueryLanguage": "JSONata", "Timestamp": "{% $states.input.t %}", "End": true}),
            1_100_000,
        ),
    ];
    let input = json!({"s": 5, "t": "1970-01-01T00:18:20Z", "inner": {"s": 9}});
    for (name, state, want_due) in cases {
        let def = json!({"StartAt": "W", "States": {"W": state}});
        let (_, _, effects) = run(&def, input.clone(), &[(Event::Start, 1_000_000)]);
        let due = effects.iter().find_map(|e| match e {
            Effect::ArmTimer { due_ms, .. } => Some(*due_ms),
            _ => None,
        });
        assert_eq!(due, Some(want_due), "{name}");
    }
}

#[test]
fn wait_runtime_errors_name_the_state() {
    let cases = [
        (
            "seconds path missing",
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            json!({}),
            "States.Runtime",
            "An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter does not reference an input value: $.s",
        ),
        (
            "negative seconds",
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            json!({"s": -1}),
            "States.Runtime",
            "An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter references a negative value: $.s == -1",
        ),
        (
            "fractional seconds",
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            json!({"s": 1.5}),
            "States.Runtime",
            "An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5",
        ),
        (
            "seconds as a word",
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            json!({"s": "soon"}),
            "States.Runtime",
            "An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter cannot be parsed as a long value: $.s == soon",
        ),
        (
            "timestamp without offset",
            json!({"Type": "Wait", "TimestampPath": "$.t", "End": true}),
            json!({"t": "2016-12-05T21:29:29"}),
            "States.Runtime",
            "An error occurred while executing the state 'W' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == 2016-12-05T21:29:29",
        ),
        (
            "too far ahead",
            json!({"Type": "Wait", "TimestampPath": "$.t", "End": true}),
            json!({"t": "2094-12-14T01:11:51.000Z"}),
            "States.Runtime",
            "An error occurred while executing the state 'W' (entered at the event id #2). Wait state delay is too long.",
        ),
        (
            "jsonata seconds not an integer",
            json!({"Type": "Wait", "QueryLanguage": "JSONata", "Seconds": "{% 'soon' %}", "End": true}),
            json!({}),
            "States.QueryEvaluationError",
            "An error occurred while executing the state 'W' (entered at the event id #2). The Seconds field must be a non-negative integer but was: \"soon\"",
        ),
        (
            "jsonata timestamp not a timestamp",
            json!({"Type": "Wait", "QueryLanguage": "JSONata", "Timestamp": "{% 'later' %}", "End": true}),
            json!({}),
            "States.QueryEvaluationError",
            "An error occurred while executing the state 'W' (entered at the event id #2). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: later",
        ),
    ];
    for (name, state, input, error, cause) in cases {
        let def = json!({"StartAt": "W", "States": {"W": state}});
        let (state, _, _) = run(&def, input, &[(Event::Start, 1_700_000_000_000)]);
        assert_eq!(state.status, Status::Failed, "{name}");
        assert_eq!(state.error.as_deref(), Some(error), "{name}");
        assert_eq!(state.cause.as_deref(), Some(cause), "{name}");
    }
}

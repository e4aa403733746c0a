//! Parallel and Map: inputs, results, concurrency, tolerated failures, stopping.

use serde_json::{json, Value};

use super::{check_ends, definition, drive, driver, FUNCTION};
use crate::asl::run::{step, Effect, Event, ExecutionState, Status, StepConfig};

#[test]
fn parallel_and_map_give_aws_outputs() {
    let cases = vec![
        (
            "parallel branches see one input and give an array",
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
                {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 5, "End": true}}}]}}}),
            json!({"x": 1}),
            Ok(json!([1, {"x": 1}])),
        ),
        (
            "a failing branch fails the execution with its error",
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}},
                {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}]}}}),
            json!({}),
            Err(("E", "C")),
        ),
        (
            "map with item selector, concurrency 1 and a wait in each iteration",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "MaxConcurrency": 1,
                "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}}}}),
            json!(["a", "b", "c"]),
            Ok(json!([{"v": "a", "i": 0}, {"v": "b", "i": 1}, {"v": "c", "i": 2}])),
        ),
        (
            "map iterations call a function; results keep item order",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs", "End": true,
                "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": true}}}}}}),
            json!({"xs": [{"n": 1}, {"n": 2}]}),
            Ok(json!([{"n": 1}, {"n": 2}])),
        ),
        (
            "a tolerated failure keeps the map going",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ToleratedFailureCount": 1,
                "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": true}}}}}}),
            json!(["ok", "fail"]),
            Ok(json!(["ok", {"Error": "Boom", "Cause": "asked to fail"}])),
        ),
        (
            "failures past the tolerance fail the map",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ToleratedFailurePercentage": 40,
                "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": true}}}}}}),
            json!(["fail", "fail", "ok"]),
            Err((
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            )),
        ),
        (
            "an empty map succeeds at once",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
            json!([]),
            Ok(json!([])),
        ),
        (
            "a map over a non-array fails",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
            json!({"a": 1}),
            Err((
                "States.Runtime",
                "An error occurred while executing the state 'M' (entered at the event id #2). Map state input must be an array but was: {\"a\":1}",
            )),
        ),
        (
            "jsonata map items and parallel arguments",
            json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
                "M": {"Type": "Map", "Items": "{% $states.input.xs %}", "Next": "P",
                  "ItemSelector": {"i": "{% $states.context.Map.Item.Index %}", "v": "{% $states.context.Map.Item.Value %}"},
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Output": "{% $states.input.v * 10 + $states.input.i %}", "End": true}}}},
                "P": {"Type": "Parallel", "Arguments": {"sum": "{% $sum($states.input) %}"}, "End": true,
                  "Output": "{% $states.result[0] %}",
                  "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]}}}),
            json!({"xs": [1, 2]}),
            Ok(json!({"sum": 31})),
        ),
        (
            "jsonata items that are not an array",
            json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "Items": "{% $states.input.n %}",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
            json!({"n": 3}),
            Err((
                "States.QueryEvaluationError",
                "An error occurred while executing the state 'M' (entered at the event id #2). The JSONata expression '$states.input.n' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'number' for value: 3",
            )),
        ),
        (
            "max concurrency from a path",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemsPath": "$.xs",
                "MaxConcurrencyPath": "$.c",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
            json!({"xs": [1, 2], "c": "x"}),
            Err((
                "States.Runtime",
                "An error occurred while executing the state 'M' (entered at the event id #2). The MaxConcurrencyPath field refers to value \"x\" which is not a valid integer: $.c",
            )),
        ),
    ];
    check_ends(cases);
}

#[test]
fn map_concurrency_bounds_the_timers_armed_at_once_and_stop_cancels_them() {
    let def = definition(
        &json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9, "End": true}}}}}}),
    );
    let mut state = ExecutionState::new(json!([1, 2, 3, 4, 5]));
    let cfg = StepConfig::default();
    let armed = |effects: &[Effect]| -> Vec<i64> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::ArmTimer { seq, .. } => Some(*seq),
                _ => None,
            })
            .collect()
    };
    let out = step(&def, &mut state, &driver::info(), Event::Start, 1_000, &cfg);
    let first = armed(&out.effects);
    assert_eq!(first.len(), 2, "{:?}", out.effects);
    let fired = Event::TimerFired { seq: first[0] };
    let out = step(&def, &mut state, &driver::info(), fired, 10_000, &cfg);
    // One iteration finished and the next one started: one new timer.
    let newly = armed(&out.effects);
    assert_eq!(newly.len(), 1);
    let stop = Event::Stop {
        error: None,
        cause: None,
    };
    let out = step(&def, &mut state, &driver::info(), stop, 11_000, &cfg);
    let mut cancelled: Vec<i64> = out
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CancelTimer { seq } => Some(*seq),
            _ => None,
        })
        .collect();
    cancelled.sort_unstable();
    let mut want = vec![first[1], newly[0]];
    want.sort_unstable();
    assert_eq!(cancelled, want);
    assert_eq!(state.status, Status::Aborted);
}

/// A Parallel that fails marks aborted the state its failing branch stopped in (a Task) and
/// the states its other branches were in, nested Map and Parallel states after their own
/// children; the failed Parallel itself writes ParallelStateFailed.
#[test]
fn a_failing_parallel_marks_the_states_it_stops_aborted() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": true}}},
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 50, "End": true}}},
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "MW", "States": {"MW": {"Type": "Wait", "Seconds": 50, "End": true}}}}}},
        {"StartAt": "Q", "States": {"Q": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "QW", "States": {"QW": {"Type": "Wait", "Seconds": 50, "End": true}}}]}}}
    ]}}});
    let (state, history) = super::drive(&def, json!({"items": [1], "fail": true}));
    assert_eq!(state.status, Status::Failed);
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    let tail: Vec<&str> = types
        .iter()
        .skip_while(|t| **t != "LambdaFunctionFailed")
        .copied()
        .collect();
    assert_eq!(
        tail,
        [
            "LambdaFunctionFailed",
            "TaskStateAborted",
            "WaitStateAborted",
            "WaitStateAborted",
            "MapIterationAborted",
            "MapStateAborted",
            "WaitStateAborted",
            "ParallelStateAborted",
            "ParallelStateFailed",
            "ExecutionFailed",
        ],
        "{types:?}"
    );
}

/// A Map's failing iteration is MapIterationFailed: the Task it failed in is not also marked
/// aborted.
#[test]
fn a_failing_map_iteration_is_not_also_an_aborted_task() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": true}}}}}});
    let (state, history) = super::drive(&def, json!(["fail"]));
    assert_eq!(state.status, Status::Failed);
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        types.ends_with(&[
            "LambdaFunctionFailed",
            "MapIterationFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]),
        "{types:?}"
    );
}

/// Each state's input and output in the history are its own, where a value is written as
/// text once for the events that show it again: a Parallel's second branch starts chained to
/// the first branch's exit but is entered with the Parallel's input, not that exit's output.
#[test]
fn events_show_each_states_own_input_and_output() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "After", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]},
        "After": {"Type": "Pass", "End": true}}});
    let (state, history) = drive(&def, json!({"x": 1}));
    let shown: Vec<(String, Option<String>, Value)> = history
        .iter()
        .filter_map(|e| {
            let details: Value = serde_json::from_str(e.details.as_deref()?).ok()?;
            let (_, inner) = details.as_object()?.iter().next()?;
            let text = inner
                .get("input")
                .or_else(|| inner.get("output"))?
                .as_str()?;
            Some((
                e.event_type.as_str().to_owned(),
                inner.get("name").and_then(Value::as_str).map(str::to_owned),
                serde_json::from_str(text).ok()?,
            ))
        })
        .collect();
    let name = |n: &str| Some(n.to_owned());
    let both = json!([1, {"x": 1}]);
    let want = vec![
        ("ExecutionStarted".to_owned(), None, json!({"x": 1})),
        (
            "ParallelStateEntered".to_owned(),
            name("P"),
            json!({"x": 1}),
        ),
        ("PassStateEntered".to_owned(), name("A"), json!({"x": 1})),
        ("PassStateExited".to_owned(), name("A"), json!(1)),
        ("PassStateEntered".to_owned(), name("B"), json!({"x": 1})),
        ("PassStateExited".to_owned(), name("B"), json!({"x": 1})),
        ("ParallelStateExited".to_owned(), name("P"), both.clone()),
        ("PassStateEntered".to_owned(), name("After"), both.clone()),
        ("PassStateExited".to_owned(), name("After"), both.clone()),
        ("ExecutionSucceeded".to_owned(), None, both.clone()),
    ];
    assert_eq!(shown, want);
    assert_eq!(state.output, Some(both));
}

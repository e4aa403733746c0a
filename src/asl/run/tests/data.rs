//! Data flow in both query languages, and variables.

use serde_json::json;

use super::{check_ends, FUNCTION};

#[test]
fn jsonpath_data_flow() {
    let cases = vec![
        (
            "input path, parameters, result path, output path",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.in",
                "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)", "fixed": 1},
                "ResultPath": "$.out", "OutputPath": "$.out", "End": true}}}),
            json!({"in": {"n": 4}}),
            Ok(json!({"doubled": 8, "fixed": 1})),
        ),
        (
            "a result replaces the input; a null result path keeps the input",
            json!({"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Result": {"r": 1}, "Next": "B"},
                "B": {"Type": "Pass", "Result": "ignored", "ResultPath": null, "End": true}}}),
            json!({"x": 0}),
            Ok(json!({"r": 1})),
        ),
        (
            "result selector shapes a task result before result path",
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                "ResultSelector": {"p.$": "$.Payload.v", "code.$": "$.StatusCode"},
                "ResultPath": "$.r", "End": true}}}),
            json!({"v": 7}),
            Ok(json!({"v": 7, "r": {"p": 7, "code": 200}})),
        ),
        (
            "a null Payload is sent as no payload: the function sees {}",
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$.p"},
                "ResultSelector": {"p.$": "$.Payload"}, "End": true}}}),
            json!({"p": null}),
            Ok(json!({"p": {}})),
        ),
        (
            "the context object",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"name.$": "$$.State.Name", "exec.$": "$$.Execution.Name"}, "End": true}}}),
            json!({}),
            Ok(json!({"name": "P", "exec": "e"})),
        ),
        (
            "a path that selects nothing fails the state",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "$.nope"}, "End": true}}}),
            json!({"a": 1}),
            Err((
                "States.Runtime",
                "An error occurred while executing the state 'P' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'x.$' could not be found in the input '{\"a\":1}'",
            )),
        ),
        (
            "fail state reads error and cause from paths",
            json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e",
                "CausePath": "States.Format('cause {}', $.n)"}}}),
            json!({"e": "Custom", "n": 3}),
            Err(("Custom", "cause 3")),
        ),
    ];
    check_ends(cases);
}

#[test]
fn jsonata_data_flow() {
    let cases = vec![
        (
            "output, arguments, assign and condition",
            json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": FUNCTION, "Arguments": {"n": "{% $states.input.n * 2 %}"},
                    "Assign": {"got": "{% $states.result.n %}"}, "Output": "{% $states.result %}", "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Condition": "{% $got > 5 %}", "Next": "Big"}], "Default": "Small"},
                "Big": {"Type": "Pass", "Output": {"big": "{% $got %}"}, "End": true},
                "Small": {"Type": "Pass", "Output": {"small": "{% $got %}"}, "End": true}}}),
            json!({"n": 4}),
            Ok(json!({"big": 8})),
        ),
        (
            "a choice rule's output and assign apply when it matches",
            json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
                "C": {"Type": "Choice", "Output": "state", "Choices": [
                    {"Condition": "{% $states.input.n = 1 %}", "Next": "S", "Output": "{% 'rule' %}", "Assign": {"v": 1}}]},
                "S": {"Type": "Pass", "Output": {"out": "{% $states.input %}", "v": "{% $v %}"}, "End": true}}}),
            json!({"n": 1}),
            Ok(json!({"out": "rule", "v": 1})),
        ),
        (
            "fail state computes error and cause",
            json!({"QueryLanguage": "JSONata", "StartAt": "F", "States": {"F": {"Type": "Fail",
                "Error": "{% 'E' & $string($states.input.n) %}", "Cause": "{% {'n': $states.input.n} %}"}}}),
            json!({"n": 2}),
            Err(("E2", "{\"n\":2}")),
        ),
        (
            "an undefined jsonata result is a query evaluation error",
            json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass",
                "Output": {"r": "{% $nope %}"}, "End": true}}}),
            json!({}),
            Err((
                "States.QueryEvaluationError",
                "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$nope' specified for the field 'Output/r' returned nothing (undefined).",
            )),
        ),
        (
            "a task's timeout from an expression must be a positive integer",
            json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": {"Type": "Task",
                "Resource": FUNCTION, "TimeoutSeconds": "{% 0 %}", "End": true}}}),
            json!({}),
            Err((
                "States.QueryEvaluationError",
                "An error occurred while executing the state 'T' (entered at the event id #2). The TimeoutSeconds field must be a positive integer but was: 0",
            )),
        ),
    ];
    check_ends(cases);
}

#[test]
fn variables() {
    let cases = vec![
        (
            "variables flow into branches and do not leak out of them",
            json!({"StartAt": "S", "States": {
                "S": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
                "M": {"Type": "Map", "Next": "R",
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Assign": {"x": 99, "y": 2},
                    "Parameters": {"outer.$": "$x"}, "End": true}}}},
                "R": {"Type": "Pass", "Parameters": {"x.$": "$x", "seen.$": "$"}, "End": true}}}),
            json!([0]),
            Ok(json!({"x": 1, "seen": [{"outer": 1}]})),
        ),
        (
            "assign sees the result as $; every value is computed before any is set",
            json!({"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "B"},
                "B": {"Type": "Pass", "Result": {"r": 5}, "Assign": {"a.$": "$b", "b.$": "$.r"}, "Next": "C"},
                "C": {"Type": "Pass", "Parameters": {"a.$": "$a", "b.$": "$b"}, "End": true}}}),
            json!({}),
            Ok(json!({"a": 2, "b": 5})),
        ),
    ];
    check_ends(cases);
}

/// `LogType: Tail` is passed to Lambda, and the log's end it answers with comes back as the
/// result's `LogResult`.
#[test]
fn lambda_invoke_with_log_type_tail_gives_log_result() {
    let def = super::definition(&json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "LogType": "Tail"},
        "ResultSelector": {"log.$": "$.LogResult", "header.$": "$.SdkHttpMetadata.HttpHeaders.X-Amz-Log-Result"},
        "End": true}}}));
    let (state, _) = super::driver::drive(
        &def,
        json!({}),
        &crate::asl::run::StepConfig::default(),
        100,
        |inv| {
            let mut out = super::driver::echo(inv);
            if inv.log_type.as_deref() == Some("Tail") {
                out.headers
                    .push(("X-Amz-Log-Result".into(), "U1RBUlQK".into()));
            }
            Ok(out)
        },
    );
    assert_eq!(
        state.output,
        Some(json!({"log": "U1RBUlQK", "header": "U1RBUlQK"}))
    );
}

//! Retry and Catch: which errors they match, back-off, and what a Catch passes on.

use serde_json::{json, Value};

use super::{check_ends, definition, driver, FUNCTION};
use crate::asl::definition::Retrier;
use crate::asl::errors::StatesError;
use crate::asl::run::recovery::{jitter, matches};
use crate::asl::run::{step, Effect, Event, ExecutionState, Status, StepConfig};

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
            [2_000, 6_000, 10_000, 10_000],
        ),
        (
            "defaults",
            rule(1.0, 2.0, None, false),
            0.0,
            [1_000, 2_000, 4_000, 8_000],
        ),
        (
            "full jitter",
            rule(4.0, 1.0, None, true),
            0.25,
            [1_000, 1_000, 1_000, 1_000],
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

/// A Task that fails twice, backing off 2 s then 4 s, and succeeds the third time. Every
/// attempt sends the parameters computed when the state was entered.
#[test]
fn a_task_retries_the_same_call_after_each_back_off() {
    let def = definition(&json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": FUNCTION, "Parameters": {"retries.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 2}], "End": true}}}));
    let cfg = StepConfig::default();
    let mut state = ExecutionState::new(json!({}));
    let mut now = 1_000;
    let mut out = step(&def, &mut state, &driver::info(), Event::Start, now, &cfg);
    let mut backoffs = Vec::new();
    let mut payloads = Vec::new();
    for attempt in 0..3 {
        let Some(Effect::Invoke(inv)) = out.effects.last().cloned() else {
            panic!("attempt {attempt}: no call in {:?}", out.effects);
        };
        payloads.push(inv.payload.clone());
        let result = if attempt < 2 {
            Err(StatesError::new("Boom", "again"))
        } else {
            Ok(driver::echo(&inv))
        };
        now += 100;
        let answered = Event::TaskResult {
            seq: inv.seq,
            result,
        };
        out = step(&def, &mut state, &driver::info(), answered, now, &cfg);
        if let Some(Effect::ArmTimer { seq, due_ms }) = out.effects.first().cloned() {
            backoffs.push(due_ms - now);
            now = due_ms;
            let fired = Event::TimerFired { seq };
            out = step(&def, &mut state, &driver::info(), fired, now, &cfg);
        }
    }
    assert_eq!(backoffs, vec![2_000, 4_000]);
    assert_eq!(payloads, vec![json!({"retries": 0}).to_string(); 3]);
    assert_eq!(state.status, Status::Succeeded);
}

#[test]
fn catch_passes_the_error_on() {
    let failing_branch =
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}});
    let parallel = |extra: Value| {
        let mut p = json!({"Type": "Parallel", "Next": "X", "Branches": [failing_branch.clone()]});
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        json!({"StartAt": "P", "States": {"P": p, "X": {"Type": "Succeed"}, "C": {"Type": "Succeed"}}})
    };
    let cases = vec![
        (
            "the error object replaces the input",
            parallel(json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]})),
            json!({"k": 1}),
            Ok(json!({"Error": "Bad", "Cause": "why"})),
        ),
        (
            "result path places it in the input",
            parallel(json!({"Catch": [{"ErrorEquals": ["Bad"], "Next": "C", "ResultPath": "$.err"}]})),
            json!({"k": 1}),
            Ok(json!({"k": 1, "err": {"Error": "Bad", "Cause": "why"}})),
        ),
        (
            "a null result path keeps the input",
            parallel(json!({"Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "C", "ResultPath": null}]})),
            json!({"k": 1}),
            Ok(json!({"k": 1})),
        ),
        (
            "no catcher matches",
            parallel(json!({"Catch": [{"ErrorEquals": ["Other"], "Next": "C"}]})),
            json!({}),
            Err(("Bad", "why")),
        ),
        (
            "a map that retries runs every iteration again",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["E"], "Next": "C"}],
                "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}},
                "C": {"Type": "Pass", "End": true}}}),
            json!([1]),
            Ok(json!({"Error": "E", "Cause": ""})),
        ),
        (
            "jsonata catch output sees the error",
            json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
                "P": {"Type": "Parallel", "Next": "X", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C",
                    "Output": {"e": "{% $states.errorOutput.Error %}", "in": "{% $states.input %}"}}],
                  "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad"}}}]},
                "X": {"Type": "Succeed"}, "C": {"Type": "Succeed"}}}),
            json!({"k": 1}),
            Ok(json!({"e": "Bad", "in": {"k": 1}})),
        ),
        (
            "a runtime error is never caught",
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::s3:putObject",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
                "C": {"Type": "Succeed"}}}),
            json!({}),
            Err((
                "States.Runtime",
                "An error occurred while executing the state 'T' (entered at the event id #2). The resource 'arn:aws:states:::s3:putObject' is not supported by this server (see README: Calling AWS services).",
            )),
        ),
    ];
    check_ends(cases);
}

#[test]
fn a_catchers_output_is_held_to_the_payload_limit() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Parameters": {"fail": true},
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
              "End": true},
        "Done": {"Type": "Succeed"}}});
    // The input alone fits; with the error added it does not.
    let input = json!({"big": "x".repeat(262_100)});
    let (state, _) = super::drive(&def, input);
    assert_eq!(state.error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        state.cause.as_deref(),
        Some("The state/task 'T' returned a result with a size exceeding the maximum number of bytes service limit."),
        "the catcher's state is named, not the next one"
    );
}

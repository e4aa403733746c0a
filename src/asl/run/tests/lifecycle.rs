//! An execution's life: start, block, resume, stop, time out, and the history it writes.

use serde_json::{json, Value};

use super::{definition, driver, run};
use crate::asl::run::EXECUTION_TIMEOUT_SEQ;
use crate::asl::run::{step, Effect, Event, ExecutionState, Status, StepConfig};

fn wait_then_succeed() -> Value {
    json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "S"},
        "S": {"Type": "Succeed"}}})
}

#[test]
fn lifecycles() {
    type Case<'a> = (&'a str, Value, Vec<(Event, i64)>, Status, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "wait blocks, then fires",
            wait_then_succeed(),
            vec![
                (Event::Start, 1_000),
                (Event::TimerFired { seq: 2 }, 11_000),
            ],
            Status::Succeeded,
            vec![
                "ExecutionStarted",
                "WaitStateEntered",
                "WaitStateExited",
                "SucceedStateEntered",
                "SucceedStateExited",
                "ExecutionSucceeded",
            ],
        ),
        (
            "a stale timer changes nothing",
            wait_then_succeed(),
            vec![
                (Event::Start, 1_000),
                (Event::TimerFired { seq: 7 }, 11_000),
            ],
            Status::Running,
            vec!["ExecutionStarted", "WaitStateEntered"],
        ),
        (
            "stop while waiting",
            wait_then_succeed(),
            vec![
                (Event::Start, 1_000),
                (
                    Event::Stop {
                        error: Some("E".into()),
                        cause: None,
                    },
                    2_000,
                ),
                (Event::TimerFired { seq: 2 }, 11_000),
            ],
            Status::Aborted,
            vec!["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"],
        ),
        (
            "execution timeout during a wait",
            json!({"StartAt": "W", "TimeoutSeconds": 5, "States": {
                "W": {"Type": "Wait", "Seconds": 10, "End": true}}}),
            vec![
                (Event::Start, 1_000),
                (
                    Event::TimerFired {
                        seq: EXECUTION_TIMEOUT_SEQ,
                    },
                    6_000,
                ),
            ],
            Status::TimedOut,
            vec!["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"],
        ),
        (
            "fail state",
            json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}),
            vec![(Event::Start, 1_000)],
            Status::Failed,
            vec!["ExecutionStarted", "FailStateEntered", "ExecutionFailed"],
        ),
        (
            "zero-second wait does not block",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": true}}}),
            vec![(Event::Start, 1_000)],
            Status::Succeeded,
            vec![
                "ExecutionStarted",
                "WaitStateEntered",
                "WaitStateExited",
                "ExecutionSucceeded",
            ],
        ),
    ];
    for (name, def, events, want_status, want_types) in cases {
        let (state, types, _) = run(&def, json!({"a": 1}), &events);
        assert_eq!(state.status, want_status, "{name}");
        assert_eq!(types, want_types, "{name}");
    }
}

#[test]
fn timers_are_armed_and_cancelled() {
    let def = json!({"StartAt": "W", "TimeoutSeconds": 100, "States": {
        "W": {"Type": "Wait", "Seconds": 10, "End": true}}});
    let (_, _, effects) = run(&def, json!({}), &[(Event::Start, 1_000)]);
    assert_eq!(
        effects,
        vec![
            Effect::ArmTimer {
                seq: 0,
                due_ms: 101_000
            },
            Effect::ArmTimer {
                seq: 2,
                due_ms: 11_000
            }
        ]
    );
    let (_, _, effects) = run(
        &def,
        json!({}),
        &[
            (Event::Start, 1_000),
            (Event::TimerFired { seq: 2 }, 11_000),
        ],
    );
    assert_eq!(effects.last(), Some(&Effect::CancelTimer { seq: 0 }));
}

#[test]
fn history_ids_chain_like_aws() {
    let def = definition(&wait_then_succeed());
    let mut state = ExecutionState::new(json!({}));
    let cfg = StepConfig::default();
    let mut all = step(&def, &mut state, &driver::info(), Event::Start, 1_000, &cfg).events;
    let fired = Event::TimerFired { seq: 2 };
    all.extend(step(&def, &mut state, &driver::info(), fired, 11_000, &cfg).events);
    let ids: Vec<(i64, i64)> = all.iter().map(|e| (e.id, e.previous_id)).collect();
    assert_eq!(ids, vec![(1, 0), (2, 0), (3, 2), (4, 3), (5, 4), (6, 5)]);
}

#[test]
fn an_execution_that_would_pass_the_history_cap_fails_with_the_last_event() {
    // A Pass loop that waits 1 s per turn writes 4 events a turn forever.
    let def = definition(&json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "P"}}}));
    let cfg = StepConfig {
        max_history_events: 20,
        ..StepConfig::default()
    };
    let mut state = ExecutionState::new(json!({}));
    let mut all = Vec::new();
    let mut now = 1_000;
    let mut out = step(&def, &mut state, &driver::info(), Event::Start, now, &cfg);
    loop {
        all.extend(out.events);
        let armed = out.effects.iter().find_map(|e| match e {
            Effect::ArmTimer { seq, .. } => Some(*seq),
            _ => None,
        });
        let Some(seq) = armed else { break };
        now += 1_000;
        let fired = Event::TimerFired { seq };
        out = step(&def, &mut state, &driver::info(), fired, now, &cfg);
    }
    assert_eq!(state.status, Status::Failed);
    assert_eq!(state.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        state.cause.as_deref(),
        Some("The execution reached the maximum number of history events (20).")
    );
    assert_eq!(all.len(), 20);
    assert_eq!(
        all.last().map(|e| e.event_type.as_str()),
        Some("ExecutionFailed")
    );
    let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
}

#[test]
fn a_loop_that_never_blocks_fails_the_execution() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "A"}]}}});
    let (state, _, _) = run(&def, json!({"a": 1}), &[(Event::Start, 1_000)]);
    assert_eq!(state.status, Status::Failed);
    assert_eq!(
        state.cause.as_deref(),
        Some("The execution made more than 10000 transitions without waiting.")
    );
}

/// A worker can read a task token (from a queue, say) and answer it before the call that sent
/// it is recorded as answered. The callback is kept, and applied right after TaskSubmitted, so
/// the history reads as AWS's always does; a call that fails instead drops it.
#[test]
fn a_callback_before_its_submission_is_applied_after_task_submitted() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": true}}});
    let answered = |result| Event::TaskResult { seq: 3, result };
    let sent = crate::asl::run::InvokeOutput {
        status_code: 200,
        payload: r#"{"MessageId":"m"}"#.into(),
        executed_version: None,
        request_id: "r".into(),
        headers: Vec::new(),
        mocked: false,
    };
    let early = Event::Callback {
        seq: 3,
        result: Ok(json!({"ok": true})),
    };
    let (state, types, _) = run(
        &def,
        json!({}),
        &[
            (Event::Start, 1_000),
            (early.clone(), 1_100),
            (answered(Ok(sent)), 1_200),
        ],
    );
    assert_eq!(state.status, Status::Succeeded);
    assert_eq!(state.output, Some(json!({"ok": true})));
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );

    let failed = Err(crate::asl::StatesError::new("SQS.X", "no queue"));
    let (state, types, _) = run(
        &def,
        json!({}),
        &[
            (Event::Start, 1_000),
            (early, 1_100),
            (answered(failed), 1_200),
        ],
    );
    assert_eq!(state.status, Status::Failed);
    assert_eq!(state.error.as_deref(), Some("SQS.X"));
    assert!(!types.contains(&"TaskSucceeded".to_owned()), "{types:?}");
}

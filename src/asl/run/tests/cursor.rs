//! The persisted cursor is a contract: an execution written by one release resumes in the
//! next. Each fixture below is a cursor as this code serialises it at a blocking point (a
//! Wait, a Task in flight, a Map part-way, a Retry back-off, a Parallel, a Task waiting for
//! its token); the test checks that running the definition to that point writes exactly that
//! JSON, that the JSON reads back and writes out unchanged, and that delivering the next event
//! to the cursor read back writes exactly the recorded history events, effects and next
//! cursor.

use serde_json::{json, Value};

use super::driver::info;
use crate::asl::definition::Definition;
use crate::asl::errors::StatesError;
use crate::asl::run::{
    step, CallKind, Effect, Event, ExecutionState, Invocation, InvokeOutput, StepConfig,
};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

struct Fixture {
    name: &'static str,
    definition: Value,
    /// The events that bring a new execution to `cursor`.
    before: Vec<(Event, i64)>,
    cursor: &'static str,
    next: (Event, i64),
    /// `id previous_id type details` of each event `next` writes.
    events: &'static [&'static str],
    effects: Vec<Effect>,
    after: &'static str,
}

fn answered(seq: i64, payload: &str) -> Event {
    Event::TaskResult {
        seq,
        result: Ok(InvokeOutput {
            status_code: 200,
            payload: payload.into(),
            executed_version: None,
            request_id: "r".into(),
            headers: Vec::new(),
            mocked: false,
        }),
    }
}

fn failed(seq: i64, error: &str, cause: &str) -> Event {
    Event::TaskResult {
        seq,
        result: Err(StatesError::new(error, cause)),
    }
}

/// The JSON text as the cursor column holds it (the literals below are laid out to be read).
fn compact(literal: &str) -> String {
    serde_json::from_str::<Value>(literal)
        .map(|v| v.to_string())
        .unwrap_or_else(|e| panic!("fixture JSON: {e}"))
}

#[test]
fn cursors_written_by_earlier_code_resume_identically() {
    let cfg = StepConfig::default();
    for f in fixtures() {
        let name = f.name;
        let def = Definition::parse(&f.definition.to_string()).expect(name);
        let mut fresh = ExecutionState::new(json!({"items": [1, 2, 3], "n": 5}));
        for (event, now) in f.before {
            step(&def, &mut fresh, &info(), event, now, &cfg);
        }
        // Today's code writes what it reads back as the same state the fixture holds, and
        // the fixture's text (as earlier code wrote it) reads as that state too.
        let written = serde_json::to_string(&fresh).expect(name);
        let rewritten: ExecutionState = serde_json::from_str(&written).expect(name);
        assert_eq!(rewritten, fresh, "{name}: cursor written and read back");
        let mut state: ExecutionState = serde_json::from_str(f.cursor).expect(name);
        assert_eq!(state, fresh, "{name}: cursor of earlier code read back");
        assert!(
            written.len() <= compact(f.cursor).len(),
            "{name}: the cursor grew"
        );
        let (event, now) = f.next;
        let out = step(&def, &mut state, &info(), event, now, &cfg);
        let events: Vec<String> = out
            .events
            .iter()
            .map(|e| {
                assert_eq!(e.timestamp_ms, now, "{name}: timestamp of event {}", e.id);
                let head = format!("{} {} {}", e.id, e.previous_id, e.event_type);
                match &e.details {
                    Some(d) => format!("{head} {d}"),
                    None => head,
                }
            })
            .collect();
        assert_eq!(events, f.events, "{name}: events");
        assert_eq!(out.effects, f.effects, "{name}: effects");
        let after: ExecutionState = serde_json::from_str(f.after).expect(name);
        assert_eq!(state, after, "{name}: next cursor");
    }
}

fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            name: "a Wait pending, with a variable set and the execution timeout armed",
            definition: json!({"StartAt": "A", "TimeoutSeconds": 3600, "States": {
                "A": {"Type": "Pass", "Assign": {"v": 1}, "Next": "W"},
                "W": {"Type": "Wait", "Seconds": 10, "Next": "S"},
                "S": {"Type": "Succeed"}}}),
            before: vec![(Event::Start, 1_000)],
            cursor: r#"{
              "status":"RUNNING", "current":"W", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":{"seq":4,"due_ms":11000}, "chain_id":3,
              "entered_event_id":4, "task":null, "variables":{"v":1}, "timeout_due_ms":3601000,
              "last_event_id":4, "output":null, "error":null, "cause":null
            }"#,
            next: (Event::TimerFired { seq: 4 }, 11_000),
            events: &[
                r#"5 4 WaitStateExited {"stateExitedEventDetails":{"name":"W","output":"{\"items\":[1,2,3],\"n\":5}","outputDetails":{"truncated":false}}}"#,
                r#"6 5 SucceedStateEntered {"stateEnteredEventDetails":{"name":"S","input":"{\"items\":[1,2,3],\"n\":5}","inputDetails":{"truncated":false}}}"#,
                r#"7 6 SucceedStateExited {"stateExitedEventDetails":{"name":"S","output":"{\"items\":[1,2,3],\"n\":5}","outputDetails":{"truncated":false}}}"#,
                r#"8 7 ExecutionSucceeded {"executionSucceededEventDetails":{"output":"{\"items\":[1,2,3],\"n\":5}","outputDetails":{"truncated":false}}}"#,
            ],
            effects: vec![Effect::CancelTimer { seq: 0 }],
            after: r#"{
              "status":"SUCCEEDED", "current":null, "input":{"items":[1,2,3],"n":5},
              "entered_ms":11000, "waiting":null, "chain_id":7, "entered_event_id":6,
              "task":null, "variables":{"v":1}, "timeout_due_ms":null, "last_event_id":8,
              "output":{"items":[1,2,3],"n":5}, "error":null, "cause":null
            }"#,
        },
        Fixture {
            name: "a lambda:invoke Task in flight, its timeout armed",
            definition: json!({"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 30,
                "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                "ResultSelector": {"p.$": "$.Payload"}, "End": true}}}),
            before: vec![(Event::Start, 1_000)],
            cursor: r#"{
              "status":"RUNNING", "current":"T", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2,
              "task":{
                "invocation":{
                  "seq":3, "function_name":"f", "qualifier":null,
                  "payload":"{\"items\":[1,2,3],\"n\":5}", "invocation_type":"RequestResponse",
                  "client_context":null
                },
                "parameters":{"FunctionName":"f","Payload":{"items":[1,2,3],"n":5}},
                "in_flight":3, "timeout":{"seq":3,"due_ms":31000}, "timeout_secs":30,
                "heartbeat_secs":null
              },
              "timeout_due_ms":null, "last_event_id":4, "output":null, "error":null,
              "cause":null
            }"#,
            next: (answered(3, r#"{"r":1}"#), 2_000),
            events: &[
                r#"5 4 TaskSucceeded {"taskSucceededEventDetails":{"resourceType":"lambda","resource":"invoke","output":"{\"ExecutedVersion\":\"$LATEST\",\"Payload\":{\"r\":1},\"SdkHttpMetadata\":{\"AllHttpHeaders\":{},\"HttpHeaders\":{},\"HttpStatusCode\":200},\"SdkResponseMetadata\":{\"RequestId\":\"r\"},\"StatusCode\":200}","outputDetails":{"truncated":false}}}"#,
                r#"6 5 TaskStateExited {"stateExitedEventDetails":{"name":"T","output":"{\"p\":{\"r\":1}}","outputDetails":{"truncated":false}}}"#,
                r#"7 6 ExecutionSucceeded {"executionSucceededEventDetails":{"output":"{\"p\":{\"r\":1}}","outputDetails":{"truncated":false}}}"#,
            ],
            effects: vec![Effect::CancelTimer { seq: 3 }],
            after: r#"{
              "status":"SUCCEEDED", "current":null, "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":6, "entered_event_id":2, "task":null,
              "timeout_due_ms":null, "last_event_id":7, "output":{"p":{"r":1}}, "error":null,
              "cause":null
            }"#,
        },
        Fixture {
            name: "a Map part-way: one iteration done, two running with their own variables",
            definition: json!({"StartAt": "M", "States": {"M": {
                "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {
                    "P": {"Type": "Pass", "Assign": {"x.$": "$"}, "Next": "W"},
                    "W": {"Type": "Wait", "Seconds": 5, "End": true}}}}}}),
            before: vec![(Event::Start, 1_000), (Event::TimerFired { seq: 7 }, 6_000)],
            cursor: r#"{
              "status":"RUNNING", "current":"M", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2, "task":null,
              "fanout":{
                "inputs":[null,null,null], "next":3, "max_concurrency":2,
                "running":[
                  {
                    "index":1,
                    "frame":{
                      "current":"W", "input":2, "entered_ms":1000,
                      "waiting":{"seq":11,"due_ms":6000}, "chain_id":10, "entered_event_id":11,
                      "task":null, "variables":{"x":2}
                    }
                  },
                  {
                    "index":2,
                    "frame":{
                      "current":"W", "input":3, "entered_ms":6000,
                      "waiting":{"seq":17,"due_ms":11000}, "chain_id":16, "entered_event_id":17,
                      "task":null, "variables":{"x":3}
                    }
                  }
                ],
                "results":[1,null,null], "failures":0, "tolerated":null, "error":null
              },
              "timeout_due_ms":null, "last_event_id":17, "output":null, "error":null,
              "cause":null
            }"#,
            next: (Event::TimerFired { seq: 11 }, 6_001),
            events: &[
                r#"18 17 WaitStateExited {"stateExitedEventDetails":{"name":"W","output":"2","outputDetails":{"truncated":false}}}"#,
                r#"19 18 MapIterationSucceeded {"mapIterationSucceededEventDetails":{"name":"M","index":1}}"#,
            ],
            effects: vec![],
            after: r#"{
              "status":"RUNNING", "current":"M", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2, "task":null,
              "fanout":{
                "inputs":[null,null,null], "next":3, "max_concurrency":2,
                "running":[
                  {
                    "index":2,
                    "frame":{
                      "current":"W", "input":3, "entered_ms":6000,
                      "waiting":{"seq":17,"due_ms":11000}, "chain_id":16, "entered_event_id":17,
                      "task":null, "variables":{"x":3}
                    }
                  }
                ],
                "results":[1,2,null], "failures":0, "tolerated":null, "error":null
              },
              "timeout_due_ms":null, "last_event_id":19, "chain_to":18, "output":null,
              "error":null,
              "cause":null
            }"#,
        },
        Fixture {
            name: "a Task backing off before its second attempt",
            definition: json!({"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": FUNCTION, "End": true,
                "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]}}}),
            before: vec![(Event::Start, 1_000), (failed(3, "Boom", "bad"), 2_000)],
            cursor: r#"{
              "status":"RUNNING", "current":"T", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2,
              "task":{
                "invocation":{
                  "seq":3, "function_name":"arn:aws:lambda:us-east-1:123456789012:function:f",
                  "qualifier":null, "payload":"{\"items\":[1,2,3],\"n\":5}",
                  "invocation_type":"RequestResponse", "client_context":null
                },
                "parameters":{"items":[1,2,3],"n":5}, "in_flight":null, "timeout":null,
                "timeout_secs":null, "heartbeat_secs":null
              },
              "retry":{"attempts":[1],"count":1,"backoff":{"seq":5,"due_ms":4000}},
              "timeout_due_ms":null, "last_event_id":5, "output":null, "error":null,
              "cause":null
            }"#,
            next: (Event::TimerFired { seq: 5 }, 4_000),
            events: &[
                r#"6 5 LambdaFunctionScheduled {"lambdaFunctionScheduledEventDetails":{"resource":"arn:aws:lambda:us-east-1:123456789012:function:f","input":"{\"items\":[1,2,3],\"n\":5}","inputDetails":{"truncated":false}}}"#,
                r#"7 6 LambdaFunctionStarted"#,
            ],
            effects: vec![Effect::Invoke(Invocation {
                seq: 6,
                function_name: FUNCTION.into(),
                qualifier: None,
                payload: r#"{"items":[1,2,3],"n":5}"#.into(),
                invocation_type: "RequestResponse".into(),
                client_context: None,
                log_type: None,
                kind: CallKind::Lambda,
                mock: None,
            })],
            after: r#"{
              "status":"RUNNING", "current":"T", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2,
              "task":{
                "invocation":{
                  "seq":6, "function_name":"arn:aws:lambda:us-east-1:123456789012:function:f",
                  "qualifier":null, "payload":"{\"items\":[1,2,3],\"n\":5}",
                  "invocation_type":"RequestResponse", "client_context":null
                },
                "parameters":{"items":[1,2,3],"n":5}, "in_flight":6, "timeout":null,
                "timeout_secs":null, "heartbeat_secs":null
              },
              "retry":{"attempts":[1],"count":1,"backoff":null}, "timeout_due_ms":null,
              "last_event_id":7, "output":null, "error":null, "cause":null
            }"#,
        },
        Fixture {
            name: "a JSONata Parallel: one branch waiting, one with a call in flight",
            definition: json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
                "Type": "Parallel", "End": true, "Arguments": {"n": "{% $states.input.n %}"},
                "Branches": [
                    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}},
                    {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION,
                        "Assign": {"got": "{% $states.result %}"}, "End": true}}}]}}}),
            before: vec![(Event::Start, 1_000)],
            cursor: r#"{
              "status":"RUNNING", "current":"P", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2, "task":null,
              "fanout":{
                "inputs":[null,null], "next":2, "max_concurrency":0,
                "running":[
                  {
                    "index":0,
                    "frame":{
                      "current":"W", "input":{"n":5}, "entered_ms":1000,
                      "waiting":{"seq":4,"due_ms":61000}, "chain_id":3, "entered_event_id":4,
                      "task":null
                    }
                  },
                  {
                    "index":1,
                    "frame":{
                      "current":"T", "input":{"n":5}, "entered_ms":1000, "waiting":null,
                      "chain_id":4, "entered_event_id":5,
                      "task":{
                        "invocation":{
                          "seq":6,
                          "function_name":"arn:aws:lambda:us-east-1:123456789012:function:f",
                          "qualifier":null, "payload":"{\"n\":5}",
                          "invocation_type":"RequestResponse", "client_context":null
                        },
                        "parameters":{"n":5}, "in_flight":6, "timeout":null, "timeout_secs":null,
                        "heartbeat_secs":null
                      }
                    }
                  }
                ],
                "results":[null,null], "failures":0, "tolerated":null, "error":null
              },
              "timeout_due_ms":null, "last_event_id":7, "output":null, "error":null,
              "cause":null
            }"#,
            next: (answered(6, r#"{"ok":true}"#), 2_000),
            events: &[
                r#"8 7 LambdaFunctionSucceeded {"lambdaFunctionSucceededEventDetails":{"output":"{\"ok\":true}","outputDetails":{"truncated":false}}}"#,
                r#"9 8 TaskStateExited {"stateExitedEventDetails":{"name":"T","output":"{\"ok\":true}","outputDetails":{"truncated":false}}}"#,
            ],
            effects: vec![],
            after: r#"{
              "status":"RUNNING", "current":"P", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2, "task":null,
              "fanout":{
                "inputs":[null,null], "next":2, "max_concurrency":0,
                "running":[
                  {
                    "index":0,
                    "frame":{
                      "current":"W", "input":{"n":5}, "entered_ms":1000,
                      "waiting":{"seq":4,"due_ms":61000}, "chain_id":3, "entered_event_id":4,
                      "task":null
                    }
                  }
                ],
                "results":[null,{"ok":true}], "failures":0, "tolerated":null, "error":null
              },
              "timeout_due_ms":null, "last_event_id":9, "output":null, "error":null,
              "cause":null
            }"#,
        },
        Fixture {
            name: "a Task waiting for its token after its call answered, heartbeat armed",
            definition: json!({"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "TimeoutSeconds": 300, "HeartbeatSeconds": 60,
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "End": true}}}),
            before: vec![(Event::Start, 1_000), (answered(3, "{}"), 1_500)],
            cursor: r#"{
              "status":"RUNNING", "current":"T", "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":0, "entered_event_id":2,
              "task":{
                "invocation":{
                  "seq":3, "function_name":"f", "qualifier":null,
                  "payload":"{\"token\":\"MXxhcm46YXdzOnN0YXRlczp1cy1lYXN0LTE6MTIzNDU2Nzg5MDEyOmV4ZWN1dGlvbjpzbTplfDN8MjEyMzRmNDdiMWM0NjYyMDM3OGRkYmJiOWYwNGY2Yjg\"}",
                  "invocation_type":"RequestResponse", "client_context":null
                },
                "parameters":{"FunctionName":"f","Payload":{"token":"MXxhcm46YXdzOnN0YXRlczp1cy1lYXN0LTE6MTIzNDU2Nzg5MDEyOmV4ZWN1dGlvbjpzbTplfDN8MjEyMzRmNDdiMWM0NjYyMDM3OGRkYmJiOWYwNGY2Yjg"}},
                "in_flight":3, "timeout":{"seq":3,"due_ms":301000}, "timeout_secs":300,
                "heartbeat_secs":60, "submitted":true, "heartbeat":{"seq":4,"due_ms":61000}
              },
              "timeout_due_ms":null, "last_event_id":5, "output":null, "error":null,
              "cause":null
            }"#,
            next: (
                Event::Callback {
                    seq: 3,
                    result: Ok(json!({"ok": true})),
                },
                2_000,
            ),
            events: &[
                r#"6 5 TaskSucceeded {"taskSucceededEventDetails":{"resourceType":"lambda","resource":"invoke.waitForTaskToken","output":"{\"ok\":true}","outputDetails":{"truncated":false}}}"#,
                r#"7 6 TaskStateExited {"stateExitedEventDetails":{"name":"T","output":"{\"ok\":true}","outputDetails":{"truncated":false}}}"#,
                r#"8 7 ExecutionSucceeded {"executionSucceededEventDetails":{"output":"{\"ok\":true}","outputDetails":{"truncated":false}}}"#,
            ],
            effects: vec![
                Effect::CancelTimer { seq: 3 },
                Effect::CancelTimer { seq: 4 },
            ],
            after: r#"{
              "status":"SUCCEEDED", "current":null, "input":{"items":[1,2,3],"n":5},
              "entered_ms":1000, "waiting":null, "chain_id":7, "entered_event_id":2, "task":null,
              "timeout_due_ms":null, "last_event_id":8, "output":{"ok":true}, "error":null,
              "cause":null
            }"#,
        },
    ]
}

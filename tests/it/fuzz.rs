//! Every API operation, fuzzed over HTTP with generated bodies: missing, malformed, oversized
//! and boundary values. The daemon must answer each request, with 200 or an AWS-shaped 400
//! (`{"__type": "<ns>#<Name>", "message": "..."}`), never a 5xx, and keep serving.

use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};

use crate::support::sfn::{create, start};
use crate::support::TestDaemon;

/// Operations and the members their requests have (botocore's model).
const OPERATIONS: &[(&str, &[&str])] = &[
    (
        "CreateStateMachine",
        &[
            "name",
            "definition",
            "roleArn",
            "type",
            "loggingConfiguration",
            "tags",
            "tracingConfiguration",
            "publish",
        ],
    ),
    ("DescribeStateMachine", &["stateMachineArn", "includedData"]),
    (
        "UpdateStateMachine",
        &[
            "stateMachineArn",
            "definition",
            "roleArn",
            "loggingConfiguration",
            "tracingConfiguration",
        ],
    ),
    ("DeleteStateMachine", &["stateMachineArn"]),
    ("ListStateMachines", &["maxResults", "nextToken"]),
    (
        "StartExecution",
        &["stateMachineArn", "name", "input", "traceHeader"],
    ),
    ("DescribeExecution", &["executionArn", "includedData"]),
    ("StopExecution", &["executionArn", "error", "cause"]),
    (
        "ListExecutions",
        &[
            "stateMachineArn",
            "statusFilter",
            "maxResults",
            "nextToken",
            "redriveFilter",
            "mapRunArn",
        ],
    ),
    (
        "GetExecutionHistory",
        &[
            "executionArn",
            "maxResults",
            "reverseOrder",
            "nextToken",
            "includeExecutionData",
        ],
    ),
    ("DescribeStateMachineForExecution", &["executionArn"]),
    (
        "ValidateStateMachineDefinition",
        &["definition", "type", "severity", "maxResults"],
    ),
    ("TagResource", &["resourceArn", "tags"]),
    ("UntagResource", &["resourceArn", "tagKeys"]),
    ("ListTagsForResource", &["resourceArn"]),
    ("SendTaskSuccess", &["taskToken", "output"]),
    ("SendTaskFailure", &["taskToken", "error", "cause"]),
    ("SendTaskHeartbeat", &["taskToken"]),
    ("CreateActivity", &["name", "tags"]),
    ("DescribeActivity", &["activityArn"]),
    ("DeleteActivity", &["activityArn"]),
    ("ListActivities", &["maxResults", "nextToken"]),
    ("GetActivityTask", &["activityArn", "workerName"]),
    (
        "StartSyncExecution",
        &[
            "stateMachineArn",
            "name",
            "input",
            "traceHeader",
            "includedData",
        ],
    ),
    ("RedriveExecution", &["executionArn", "clientToken"]),
    (
        "PublishStateMachineVersion",
        &["stateMachineArn", "revisionId", "description"],
    ),
    (
        "ListStateMachineVersions",
        &["stateMachineArn", "nextToken", "maxResults"],
    ),
    ("DeleteStateMachineVersion", &["stateMachineVersionArn"]),
    (
        "CreateStateMachineAlias",
        &["description", "name", "routingConfiguration"],
    ),
    ("DescribeStateMachineAlias", &["stateMachineAliasArn"]),
    (
        "UpdateStateMachineAlias",
        &[
            "stateMachineAliasArn",
            "description",
            "routingConfiguration",
        ],
    ),
    ("DeleteStateMachineAlias", &["stateMachineAliasArn"]),
    (
        "ListStateMachineAliases",
        &["stateMachineArn", "nextToken", "maxResults"],
    ),
    ("DescribeMapRun", &["mapRunArn"]),
    ("ListMapRuns", &["executionArn", "maxResults", "nextToken"]),
    (
        "UpdateMapRun",
        &[
            "mapRunArn",
            "maxConcurrency",
            "toleratedFailurePercentage",
            "toleratedFailureCount",
        ],
    ),
    (
        "TestState",
        &[
            "definition",
            "roleArn",
            "input",
            "inspectionLevel",
            "revealSecrets",
            "variables",
            "stateName",
            "mock",
            "context",
            "stateConfiguration",
        ],
    ),
];

/// Values for a member: real ARNs of this daemon, near-valid and hostile strings, numbers at
/// the edges, and structures of the wrong shape.
fn member(arns: Vec<String>) -> impl Strategy<Value = Value> {
    let strings = prop_oneof![
        prop::sample::select(arns),
        Just(String::new()),
        Just("x".repeat(300_000)),
        Just("a".repeat(81)),
        Just("arn:aws:states:us-east-1:123456789012:stateMachine:".to_owned()),
        Just("arn:aws:states:us-east-1:123456789012:execution:nope:nope".to_owned()),
        Just("not an arn".to_owned()),
        Just(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#.to_owned()),
        Just(r#"{"StartAt":"P","States":{}}"#.to_owned()),
        Just("{not json".to_owned()),
        Just("null".to_owned()),
        Just("STANDARD".to_owned()),
        Just("EXPRESS".to_owned()),
        Just("RUNNING".to_owned()),
        Just("\u{0000}\u{001f}\u{202e}🦀".to_owned()),
        "\\PC{0,40}",
    ];
    let leaves = prop_oneof![
        strings.prop_map(Value::String),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec![0i64, -1, 1, 1000, 1001, i64::MAX, i64::MIN])
            .prop_map(Value::from),
        Just(json!(1e300)),
        Just(json!(0.5)),
    ];
    leaves.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z]{1,8}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn body(fields: &'static [&'static str], arns: Vec<String>) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields.to_vec()), member(arns)), 0..5).prop_map(
        |kv| {
            Value::Object(
                kv.into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Map<_, _>>(),
            )
        },
    )
}

/// Send one request; check the answer is 200 or an AWS-shaped 400.
async fn check(http: &reqwest::Client, url: &str, op: &str, body: Vec<u8>) {
    let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    let response = http
        .post(url)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AWSStepFunctions.{op}"))
        .body(body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{op} got no answer ({e}) to {shown}"));
    let status = response.status().as_u16();
    let text = response.text().await.expect("read the answer");
    assert!(
        status == 200 || status == 400,
        "{op} answered {status} to {shown}: {text}"
    );
    let answer: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{op} answered non-JSON ({e}) to {shown}: {text}"));
    if status == 400 {
        let t = answer["__type"].as_str().unwrap_or_default();
        assert!(t.contains('#'), "{op}: no __type in {text} for {shown}");
        assert!(answer["message"].is_string(), "{op}: no message in {text}");
    }
}

#[tokio::test]
async fn every_operation_answers_generated_requests_with_200_or_an_aws_400() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "fuzzed",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#,
    )
    .await;
    let exec = start(&sfn, &sm, "e", "{}").await;
    // An activity ARN that names none: a real one would hold a GetActivityTask for 60 s.
    let arns = vec![
        sm.clone(),
        exec.clone(),
        format!("{sm}x"),
        exec.replace(":e", ":"),
        sm.replace(":stateMachine:fuzzed", ":activity:none"),
        format!("{sm}:1"),
        format!("{sm}:live"),
        sm.replace(":stateMachine:fuzzed", ":mapRun:fuzzed/l:1"),
    ];
    let url = format!("{}/", daemon.url());
    let http = reqwest::Client::new();
    let mut runner = TestRunner::deterministic();
    let mut sent = 0;
    for (op, fields) in OPERATIONS {
        let strategy = body(fields, arns.clone());
        for _ in 0..120 {
            let value = strategy
                .new_tree(&mut runner)
                .expect("generate a body")
                .current();
            check(&http, &url, op, value.to_string().into_bytes()).await;
            sent += 1;
        }
        // Bodies that are not a JSON object at all.
        for raw in [
            &b""[..],
            b"[]",
            b"\"s\"",
            b"{",
            b"{\"a\":}",
            b"\xff\xfe\x00",
            "[".repeat(100_000).as_bytes(),
        ] {
            check(&http, &url, op, raw.to_vec()).await;
            sent += 1;
        }
    }
    // A body larger than any request the API takes: refused with an AWS-shaped 400 once the
    // limit is read. The server may close the connection before the client has sent the rest,
    // in which case the client sees a reset instead of the answer; either way it is prompt.
    let oversized = format!(
        r#"{{"stateMachineArn":"{sm}","input":"{}"}}"#,
        "x".repeat(8 << 20)
    );
    let answer = http
        .post(&url)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AWSStepFunctions.StartExecution")
        .body(oversized)
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    if let Ok(response) = answer {
        assert_eq!(response.status().as_u16(), 400);
        let text = response.text().await.expect("read the answer");
        let body: Value = serde_json::from_str(&text).expect("an AWS-shaped answer");
        assert_eq!(
            body["__type"],
            "com.amazon.coral.validate#ValidationException"
        );
    }
    println!("{sent} generated requests answered");
    // Still serving (the generated requests may have stopped the execution, never lost it).
    let d = sfn
        .describe_execution()
        .execution_arn(&exec)
        .send()
        .await
        .expect("the daemon still serves");
    assert!(matches!(d.status().as_str(), "RUNNING" | "ABORTED"));
}

//! The AWS CLI works against the daemon unchanged.

use std::process::Command;

use crate::support::{test_venv, TestDaemon};

/// Run `aws stepfunctions --endpoint-url URL <args>` and return its stdout as JSON.
pub fn aws(daemon: &TestDaemon, args: &[&str]) -> serde_json::Value {
    let venv = test_venv();
    let out = Command::new(venv.join("bin/aws"))
        .args(["stepfunctions", "--endpoint-url", &daemon.url()])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run the aws cli");
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An operation that answers `{}` prints nothing.
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return serde_json::json!({});
    }
    serde_json::from_slice(&out.stdout).expect("aws prints JSON")
}

#[tokio::test]
async fn the_readme_walkthrough_works_with_the_aws_cli() {
    let daemon = TestDaemon::start().await;
    let created = aws(
        &daemon,
        &[
            "create-state-machine",
            "--definition",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
            "--name",
            "test",
            "--role-arn",
            "arn:aws:iam::123456789012:role/DummyRole",
        ],
    );
    assert_eq!(
        created["stateMachineArn"],
        "arn:aws:states:us-east-1:123456789012:stateMachine:test"
    );
    let started = aws(
        &daemon,
        &[
            "start-execution",
            "--state-machine-arn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:test",
            "--name",
            "first",
            "--input",
            r#"{"hello":"world"}"#,
        ],
    );
    let exec_arn = started["executionArn"].as_str().expect("executionArn");
    assert_eq!(
        exec_arn,
        "arn:aws:states:us-east-1:123456789012:execution:test:first"
    );
    let described = aws(
        &daemon,
        &["describe-execution", "--execution-arn", exec_arn],
    );
    assert_eq!(described["status"], "SUCCEEDED");
    assert_eq!(described["output"], r#"{"hello":"world"}"#);
    let history = aws(
        &daemon,
        &["get-execution-history", "--execution-arn", exec_arn],
    );
    let types: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

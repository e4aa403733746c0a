//! The AWS CLI works against the daemon unchanged.

use std::process::Command;

use crate::support::{test_venv, TestDaemon};

/// Run `aws stepfunctions --endpoint-url URL <args>` and return its stdout as JSON.
pub fn aws(daemon: &TestDaemon, args: &[&str]) -> serde_json::Value {
    let out = run_cli(daemon, args);
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

/// Run `aws stepfunctions` against the daemon, with the host prefix of StartSyncExecution and
/// TestState turned off (`AWS_DISABLE_HOST_PREFIX_INJECTION`, as README says).
fn run_cli(daemon: &TestDaemon, args: &[&str]) -> std::process::Output {
    Command::new(test_venv().join("bin/aws"))
        .args(["stepfunctions", "--endpoint-url", &daemon.url()])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .output()
        .expect("run the aws cli")
}

/// The error code the AWS CLI reports for a refused request.
fn aws_error(daemon: &TestDaemon, args: &[&str]) -> String {
    let out = run_cli(daemon, args);
    assert!(!out.status.success(), "aws {args:?} succeeded");
    let said = String::from_utf8_lossy(&out.stderr);
    said.split_once("An error occurred (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(code, _)| code.to_owned())
        .unwrap_or_else(|| panic!("no error code in {said}"))
}

#[tokio::test]
async fn versions_aliases_redrive_sync_and_test_state_work_from_the_aws_cli() {
    let daemon = TestDaemon::start().await;
    let pass = |word: &str| {
        format!(
            r#"{{"StartAt":"P","States":{{"P":{{"Type":"Pass","Result":"{word}","End":true}}}}}}"#
        )
    };
    let role = "arn:aws:iam::123456789012:role/DummyRole";
    let sm = aws(
        &daemon,
        &[
            "create-state-machine",
            "--name",
            "cli-versions",
            "--role-arn",
            role,
            "--definition",
            &pass("one"),
            "--publish",
            "--version-description",
            "first",
        ],
    );
    let machine = sm["stateMachineArn"].as_str().expect("arn").to_owned();
    let v1 = sm["stateMachineVersionArn"]
        .as_str()
        .expect("version")
        .to_owned();
    assert_eq!(v1, format!("{machine}:1"));
    aws(
        &daemon,
        &[
            "update-state-machine",
            "--state-machine-arn",
            &machine,
            "--definition",
            &pass("two"),
        ],
    );
    let v2 = aws(
        &daemon,
        &[
            "publish-state-machine-version",
            "--state-machine-arn",
            &machine,
        ],
    );
    let v2 = v2["stateMachineVersionArn"]
        .as_str()
        .expect("version")
        .to_owned();
    let listed = aws(
        &daemon,
        &[
            "list-state-machine-versions",
            "--state-machine-arn",
            &machine,
        ],
    );
    assert_eq!(
        listed["stateMachineVersions"].as_array().map(Vec::len),
        Some(2)
    );
    let routing = format!(r#"[{{"stateMachineVersionArn":"{v1}","weight":100}}]"#);
    let alias = aws(
        &daemon,
        &[
            "create-state-machine-alias",
            "--name",
            "live",
            "--routing-configuration",
            &routing,
        ],
    );
    let alias = alias["stateMachineAliasArn"]
        .as_str()
        .expect("alias")
        .to_owned();
    let routing = format!(r#"[{{"stateMachineVersionArn":"{v2}","weight":100}}]"#);
    aws(
        &daemon,
        &[
            "update-state-machine-alias",
            "--state-machine-alias-arn",
            &alias,
            "--routing-configuration",
            &routing,
        ],
    );
    let described = aws(
        &daemon,
        &[
            "describe-state-machine-alias",
            "--state-machine-alias-arn",
            &alias,
        ],
    );
    assert_eq!(
        described["routingConfiguration"][0]["stateMachineVersionArn"],
        v2.as_str()
    );
    let aliases = aws(
        &daemon,
        &[
            "list-state-machine-aliases",
            "--state-machine-arn",
            &machine,
        ],
    );
    assert_eq!(
        aliases["stateMachineAliases"].as_array().map(Vec::len),
        Some(1)
    );
    // A version an alias routes to cannot be deleted; one no alias names can.
    assert_eq!(
        aws_error(
            &daemon,
            &[
                "delete-state-machine-version",
                "--state-machine-version-arn",
                &v2
            ]
        ),
        "ConflictException"
    );
    aws(
        &daemon,
        &[
            "delete-state-machine-version",
            "--state-machine-version-arn",
            &v1,
        ],
    );
    aws(
        &daemon,
        &[
            "delete-state-machine-alias",
            "--state-machine-alias-arn",
            &alias,
        ],
    );

    // StartSyncExecution of an Express machine.
    let express = aws(
        &daemon,
        &[
            "create-state-machine",
            "--name",
            "cli-express",
            "--role-arn",
            role,
            "--type",
            "EXPRESS",
            "--definition",
            &pass("fast"),
        ],
    );
    let express = express["stateMachineArn"].as_str().expect("arn").to_owned();
    let sync = aws(
        &daemon,
        &[
            "start-sync-execution",
            "--state-machine-arn",
            &express,
            "--input",
            "{}",
        ],
    );
    assert_eq!(sync["status"], "SUCCEEDED");
    assert_eq!(sync["output"], "\"fast\"");
    assert_eq!(
        aws_error(
            &daemon,
            &["start-sync-execution", "--state-machine-arn", &machine]
        ),
        "StateMachineTypeNotSupported"
    );

    // RedriveExecution of a failed execution; a succeeded one is not redrivable.
    let failing = aws(
        &daemon,
        &[
            "create-state-machine",
            "--name",
            "cli-fails",
            "--role-arn",
            role,
            "--definition",
            r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"always"}}}"#,
        ],
    );
    let failing = failing["stateMachineArn"].as_str().expect("arn").to_owned();
    let failed = aws(
        &daemon,
        &[
            "start-execution",
            "--state-machine-arn",
            &failing,
            "--name",
            "f",
        ],
    );
    let failed = failed["executionArn"].as_str().expect("arn").to_owned();
    let mut status = String::new();
    for _ in 0..100 {
        status = aws(&daemon, &["describe-execution", "--execution-arn", &failed])["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if status != "RUNNING" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status, "FAILED");
    let redriven = aws(&daemon, &["redrive-execution", "--execution-arn", &failed]);
    assert!(redriven["redriveDate"].is_number() || redriven["redriveDate"].is_string());
    let done = aws(
        &daemon,
        &[
            "start-execution",
            "--state-machine-arn",
            &machine,
            "--name",
            "ok",
        ],
    );
    let done = done["executionArn"].as_str().expect("arn").to_owned();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        aws_error(&daemon, &["redrive-execution", "--execution-arn", &done]),
        "ExecutionNotRedrivable"
    );

    // TestState of a lone state, at DEBUG.
    let tested = aws(
        &daemon,
        &[
            "test-state",
            "--definition",
            r#"{"Type":"Pass","Result":{"x":1},"End":true}"#,
            "--input",
            "{}",
            "--inspection-level",
            "DEBUG",
        ],
    );
    assert_eq!(tested["status"], "SUCCEEDED");
    assert_eq!(tested["output"], r#"{"x":1}"#);
    assert!(tested["inspectionData"].is_object());
    assert_eq!(
        aws_error(
            &daemon,
            &[
                "test-state",
                "--definition",
                "{}",
                "--inspection-level",
                "LOUD"
            ]
        ),
        "ValidationException"
    );
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

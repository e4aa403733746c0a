//! StartExecution, DescribeExecution, StopExecution, ListExecutions and
//! DescribeStateMachineForExecution, through the SDK.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use aws_sdk_sfn::Client;

use crate::support::api::code_and_message;
use crate::support::sfn::{create, finished, history, start};
use crate::support::{TestDaemon, PASS_DEFINITION, ROLE_ARN};

const EXECUTION_PREFIX: &str = "arn:aws:states:us-east-1:123456789012:execution:";

/// Waits long enough to stay RUNNING for the whole test.
const WAITS_LONG: &str =
    r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":600,"End":true}}}"#;

/// Waits two seconds, then a Pass that answers `{"done": true}`.
const WAITS_TWO_SECONDS: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":2,"Next":"Done"},"Done":{"Type":"Pass","Result":{"done":true},"End":true}}}"#;

const FAILS: &str = r#"{"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"OrderRejected","Cause":"the card was declined"}}}"#;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

async fn describe(
    sfn: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    sfn.describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("describe execution")
}

#[tokio::test]
async fn start_execution_without_a_name_names_it_with_a_uuid() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "unnamed", PASS_DEFINITION).await;

    let started = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("start without a name");

    let name = started
        .execution_arn()
        .strip_prefix(&format!("{EXECUTION_PREFIX}unnamed:"))
        .unwrap_or_else(|| {
            panic!(
                "an execution ARN of the machine: {}",
                started.execution_arn()
            )
        });
    assert!(
        uuid::Uuid::parse_str(name).is_ok(),
        "the generated name {name:?} is a UUID"
    );
    let d = describe(&sfn, started.execution_arn()).await;
    assert_eq!(d.name(), Some(name));
    assert_eq!(d.input(), Some("{}"), "no input means {{}}");
}

#[tokio::test]
async fn start_execution_with_same_name_and_input_returns_the_original_arn() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "idempotent", WAITS_LONG).await;
    let request = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name("once")
        .input(r#"{"order":1}"#);
    let first = request.clone().send().await.expect("first start");

    let second = request.send().await.expect("the same start again");

    assert_eq!(
        first.execution_arn(),
        format!("{EXECUTION_PREFIX}idempotent:once")
    );
    assert_eq!(second.execution_arn(), first.execution_arn());
    assert_eq!(second.start_date(), first.start_date());
    let listed = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("list executions");
    assert_eq!(listed.executions().len(), 1, "one execution, not two");
}

#[tokio::test]
async fn start_execution_with_same_name_and_different_input_is_execution_already_exists() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "clash", WAITS_LONG).await;
    let arn = start(&sfn, &sm, "once", r#"{"order":1}"#).await;

    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name("once")
        .input(r#"{"order":2}"#)
        .send()
        .await
        .expect_err("the same name with another input");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ExecutionAlreadyExists");
    assert_eq!(message, format!("Execution Already Exists: '{arn}'"));
    assert!(err.into_service_error().is_execution_already_exists());
}

#[tokio::test]
async fn start_execution_with_the_name_of_a_finished_execution_is_execution_already_exists() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "reused", PASS_DEFINITION).await;
    let arn = start(&sfn, &sm, "done", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );

    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name("done")
        .input("{}")
        .send()
        .await
        .expect_err("a finished execution's name with its input");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ExecutionAlreadyExists");
    assert_eq!(message, format!("Execution Already Exists: '{arn}'"));
}

#[tokio::test]
async fn start_execution_with_input_that_is_not_json_is_invalid_execution_input() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "strict", PASS_DEFINITION).await;

    let token = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
    for (input, want) in [
        (
            "not json",
            format!("Unrecognized token 'not': was expecting {token}"),
        ),
        (
            "{\"a\":",
            "Unexpected end-of-input within/between Object entries".into(),
        ),
        (
            "{'a': 1}",
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name"
                .into(),
        ),
        ("", "Invalid execution input.".into()),
        ("  ", "Invalid execution input.".into()),
    ] {
        let err = sfn
            .start_execution()
            .state_machine_arn(&sm)
            .input(input)
            .send()
            .await
            .expect_err("input that is not JSON");

        let (code, message) = code_and_message(&err);
        assert_eq!(code, "InvalidExecutionInput", "input {input:?}");
        assert_eq!(
            message,
            format!("Invalid State Machine Execution Input: '{want}'"),
            "input {input:?}"
        );
    }
}

#[tokio::test]
async fn start_execution_of_an_unknown_state_machine_is_state_machine_does_not_exist() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:missing";

    let err = sfn
        .start_execution()
        .state_machine_arn(sm)
        .send()
        .await
        .expect_err("a start on an unknown machine");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(message, format!("State Machine Does Not Exist: '{sm}'"));
}

#[tokio::test]
async fn describe_execution_shows_running_then_succeeded_with_output_and_stop_date() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "waits", WAITS_TWO_SECONDS).await;
    let arn = start(&sfn, &sm, "run", r#"{"order":7}"#).await;

    let running = describe(&sfn, &arn).await;
    assert_eq!(running.status(), &ExecutionStatus::Running);
    assert_eq!(running.execution_arn(), arn);
    assert_eq!(running.state_machine_arn(), sm);
    assert_eq!(running.name(), Some("run"));
    assert_eq!(running.input(), Some(r#"{"order":7}"#));
    assert_eq!(running.output(), None, "no output while running");
    assert_eq!(running.stop_date(), None, "no stop date while running");

    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let done = describe(&sfn, &arn).await;
    assert_eq!(
        json(done.output().expect("an output")),
        serde_json::json!({"done": true})
    );
    assert_eq!(done.start_date(), running.start_date(), "the start stays");
    let stop = done.stop_date().expect("a stop date once closed");
    assert!(stop >= done.start_date(), "stopped after it started");
    assert_eq!(done.error(), None);
    assert_eq!(done.cause(), None);
}

#[tokio::test]
async fn describe_execution_of_a_fail_state_shows_failed_with_error_and_cause() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "fails", FAILS).await;
    let arn = start(&sfn, &sm, "run", "{}").await;

    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &arn).await;

    assert_eq!(d.error(), Some("OrderRejected"));
    assert_eq!(d.cause(), Some("the card was declined"));
    assert_eq!(d.output(), None, "a failed execution has no output");
    assert!(d.stop_date().is_some(), "a stop date once closed");
}

#[tokio::test]
async fn stop_execution_aborts_a_waiting_execution_with_its_error_and_cause() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "stoppable", WAITS_LONG).await;
    let arn = start(&sfn, &sm, "run", "{}").await;

    let stopped = sfn
        .stop_execution()
        .execution_arn(&arn)
        .error("Operator.Cancelled")
        .cause("no longer needed")
        .send()
        .await
        .expect("stop");

    let d = describe(&sfn, &arn).await;
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    assert_eq!(d.error(), Some("Operator.Cancelled"));
    assert_eq!(d.cause(), Some("no longer needed"));
    assert_eq!(d.stop_date(), Some(stopped.stop_date()));
    let events = history(&sfn, &arn).await;
    let last = events.last().expect("a history");
    assert_eq!(last.r#type(), &HistoryEventType::ExecutionAborted);
    let details = last
        .execution_aborted_event_details()
        .expect("executionAbortedEventDetails");
    assert_eq!(details.error(), Some("Operator.Cancelled"));
    assert_eq!(details.cause(), Some("no longer needed"));
}

#[tokio::test]
async fn stop_execution_of_a_finished_execution_leaves_it_as_it_was() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "finished", PASS_DEFINITION).await;
    let arn = start(&sfn, &sm, "run", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let before = describe(&sfn, &arn).await;

    sfn.stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("stop a finished execution");

    let after = describe(&sfn, &arn).await;
    assert_eq!(after.status(), &ExecutionStatus::Succeeded);
    assert_eq!(after.stop_date(), before.stop_date());
    assert_eq!(after.output(), before.output());
}

#[tokio::test]
async fn list_executions_returns_the_newest_first() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "ordered", WAITS_LONG).await;
    let mut started = Vec::new();
    for name in ["first", "second", "third"] {
        started.push(start(&sfn, &sm, name, "{}").await);
    }

    let listed = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("list executions");

    let arns: Vec<&str> = listed
        .executions()
        .iter()
        .map(|e| e.execution_arn())
        .collect();
    started.reverse();
    assert_eq!(arns, started, "newest first");
    assert!(
        listed
            .executions()
            .iter()
            .all(|e| e.redrive_count() == Some(0)),
        "a count of 0 for each, as AWS lists them"
    );
    let item = &listed.executions()[0];
    assert_eq!(item.name(), "third");
    assert_eq!(item.state_machine_arn(), sm);
    assert_eq!(item.status(), &ExecutionStatus::Running);
    assert_eq!(item.stop_date(), None);
    assert_eq!(listed.next_token(), None);
}

#[tokio::test]
async fn list_executions_with_a_status_filter_lists_only_that_status() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "mixed", WAITS_LONG).await;
    let running = start(&sfn, &sm, "running", "{}").await;
    let aborted = start(&sfn, &sm, "aborted", "{}").await;
    sfn.stop_execution()
        .execution_arn(&aborted)
        .send()
        .await
        .expect("stop");

    let list = |status: ExecutionStatus| {
        let sfn = sfn.clone();
        let sm = sm.clone();
        async move {
            let out = sfn
                .list_executions()
                .state_machine_arn(sm)
                .status_filter(status)
                .send()
                .await
                .expect("list executions");
            out.executions()
                .iter()
                .map(|e| (e.execution_arn().to_owned(), e.status().clone()))
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(
        list(ExecutionStatus::Running).await,
        [(running, ExecutionStatus::Running)]
    );
    assert_eq!(
        list(ExecutionStatus::Aborted).await,
        [(aborted, ExecutionStatus::Aborted)]
    );
    assert_eq!(list(ExecutionStatus::Succeeded).await, []);
}

#[tokio::test]
async fn list_executions_pages_through_every_execution_exactly_once() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "paged", WAITS_LONG).await;
    let mut started = HashSet::new();
    for i in 1..=5 {
        started.insert(start(&sfn, &sm, &format!("e{i}"), "{}").await);
    }

    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(&sm)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("list a page");
        pages.push(
            page.executions()
                .iter()
                .map(|e| e.execution_arn().to_owned())
                .collect::<Vec<_>>(),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 10, "the pages never end");
    }

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1], "page sizes");
    let listed: Vec<String> = pages.into_iter().flatten().collect();
    let unique: HashSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "no execution twice: {listed:?}");
    assert_eq!(unique, started, "every execution listed");
}

#[tokio::test]
async fn list_executions_of_an_unknown_state_machine_is_state_machine_does_not_exist() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:missing";

    let err = sfn
        .list_executions()
        .state_machine_arn(sm)
        .send()
        .await
        .expect_err("a list of an unknown machine");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(message, format!("State Machine Does Not Exist: '{sm}'"));
}

#[tokio::test]
async fn describe_state_machine_for_execution_returns_the_machine_it_ran() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "ran", PASS_DEFINITION).await;
    let arn = start(&sfn, &sm, "run", "{}").await;

    let d = sfn
        .describe_state_machine_for_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("describe state machine for execution");

    assert_eq!(d.state_machine_arn(), sm);
    assert_eq!(d.name(), "ran");
    assert_eq!(d.definition(), PASS_DEFINITION);
    assert_eq!(d.role_arn(), ROLE_ARN);
    assert!(d.update_date().secs() > 0, "an update date");
    assert_eq!(
        d.revision_id(),
        None,
        "the first revision has no id, as on AWS"
    );

    let updated = sfn
        .update_state_machine()
        .state_machine_arn(&sm)
        .definition(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":2,"End":true}}}"#)
        .send()
        .await
        .expect("update");
    let later = start(&sfn, &sm, "run-2", "{}").await;
    let d = sfn
        .describe_state_machine_for_execution()
        .execution_arn(&later)
        .send()
        .await
        .expect("describe state machine for the later execution");
    assert_eq!(
        d.revision_id(),
        updated.revision_id(),
        "an update's revision"
    );
    let d = sfn
        .describe_state_machine_for_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("describe state machine for the first execution again");
    assert_eq!(d.definition(), PASS_DEFINITION, "the revision it ran");
    assert_eq!(d.revision_id(), None);
}

/// The SDKs send StartSyncExecution to `sync-<endpoint host>`, which does not resolve for
/// `127.0.0.1`: this client takes the prefix off again, as README's section on Express
/// workflows shows.
async fn start_sync(
    sfn: &Client,
    sm: &str,
    input: &str,
) -> Result<
    aws_sdk_sfn::operation::start_sync_execution::StartSyncExecutionOutput,
    aws_sdk_sfn::error::SdkError<
        aws_sdk_sfn::operation::start_sync_execution::StartSyncExecutionError,
    >,
> {
    sfn.start_sync_execution()
        .state_machine_arn(sm)
        .input(input)
        .customize()
        .mutate_request(crate::support::sfn::unprefix)
        .send()
        .await
}

#[tokio::test]
async fn express_executions_are_named_as_aws_names_them_and_not_described() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let machine = create_express(
        &sfn,
        "shows-its-id",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id"},"End":true}}}"#,
    )
    .await;
    let prefix = "arn:aws:states:us-east-1:123456789012:express:shows-its-id:";
    let out = sfn
        .start_sync_execution()
        .state_machine_arn(&machine)
        .name("sync-one")
        .input("{}")
        .customize()
        .mutate_request(crate::support::sfn::unprefix)
        .send()
        .await
        .expect("StartSyncExecution");
    let arn = out.execution_arn().to_owned();
    let id = arn
        .strip_prefix(&format!("{prefix}sync-one:"))
        .expect("MACHINE:NAME:ID after express");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{arn}");
    // The context object shows the same ARN.
    assert_eq!(
        json(out.output().unwrap_or("")),
        serde_json::json!({"id": arn})
    );

    let started = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("async-one")
        .send()
        .await
        .expect("StartExecution");
    let arn = started.execution_arn();
    assert!(arn.starts_with(&format!("{prefix}async-one:")), "{arn}");
    // AWS keeps no history of an Express execution: its ARN is not one these calls take.
    let described = sfn.describe_execution().execution_arn(arn).send().await;
    assert_eq!(
        code_and_message(&described.expect_err("not described")),
        (
            "InvalidArn".to_owned(),
            "Invalid Arn: 'Resource type not valid in this context: express'".to_owned()
        )
    );
    let history = sfn.get_execution_history().execution_arn(arn).send().await;
    assert_eq!(
        code_and_message(&history.expect_err("no history")).0,
        "InvalidArn"
    );
}

/// Create an Express machine; its ARN.
async fn create_express(sfn: &Client, name: &str, definition: &str) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE_ARN)
        .r#type(aws_sdk_sfn::types::StateMachineType::Express)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned()
}

#[tokio::test]
async fn start_sync_execution_answers_an_express_execution_when_it_ends() {
    let daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let sfn = daemon.sfn();
    let waits = create_express(&sfn, "waits", WAITS_TWO_SECONDS).await;
    let t0 = std::time::Instant::now();
    let out = start_sync(&sfn, &waits, r#"{"n":1}"#)
        .await
        .expect("StartSyncExecution");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "answered after the Wait: {took:?}"
    );
    assert_eq!(
        out.status(),
        &aws_sdk_sfn::types::SyncExecutionStatus::Succeeded
    );
    assert_eq!(json(out.output().unwrap_or("")), json(r#"{"done":true}"#));
    assert_eq!(out.input(), Some(r#"{"n":1}"#));
    let billing = out.billing_details().expect("billing details");
    assert_eq!(billing.billed_memory_used_in_mb(), 64);
    assert!(billing.billed_duration_in_milliseconds() >= 2000);
    assert_eq!(billing.billed_duration_in_milliseconds() % 100, 0);

    let fails = create_express(&sfn, "fails", FAILS).await;
    let out = start_sync(&sfn, &fails, "{}")
        .await
        .expect("StartSyncExecution");
    assert_eq!(
        out.status(),
        &aws_sdk_sfn::types::SyncExecutionStatus::Failed
    );
    assert_eq!(
        (out.error(), out.cause()),
        (Some("OrderRejected"), Some("the card was declined"))
    );

    // A standard machine refuses it.
    let standard = create(&sfn, "standard", PASS_DEFINITION).await;
    let err = start_sync(&sfn, &standard, "{}")
        .await
        .expect_err("a standard machine");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineTypeNotSupported", "{message}");

    // ListExecutions refuses an Express machine, and a version of it, as AWS does; a standard
    // machine's executions are listed.
    let version = sfn
        .publish_state_machine_version()
        .state_machine_arn(&waits)
        .send()
        .await
        .expect("publish")
        .state_machine_version_arn()
        .to_owned();
    for arn in [&waits, &version] {
        let err = sfn
            .list_executions()
            .state_machine_arn(arn)
            .send()
            .await
            .expect_err("an Express machine's executions are not listed");
        assert_eq!(
            code_and_message(&err),
            (
                "StateMachineTypeNotSupported".to_owned(),
                "This operation is not supported by this type of state machine".to_owned()
            ),
            "{arn}"
        );
    }
    start(&sfn, &standard, "listed", "{}").await;
    let listed = sfn
        .list_executions()
        .state_machine_arn(&standard)
        .send()
        .await
        .expect("a standard machine's executions are listed");
    assert_eq!(listed.executions().len(), 1);

    // boto3, with the prefix turned off as README says.
    let script = format!(
        r#"
import boto3, botocore.config, json
c = boto3.client("stepfunctions", endpoint_url="{url}", region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test",
                 config=botocore.config.Config(inject_host_prefix=False))
r = c.start_sync_execution(stateMachineArn="{waits}", input='{{"n":2}}')
print(json.dumps({{"status": r["status"], "output": r["output"]}}))
"#,
        url = daemon.url()
    );
    let run = std::process::Command::new(crate::support::test_venv().join("bin/python"))
        .args(["-c", &script])
        .output()
        .expect("python");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shown = json(String::from_utf8_lossy(&run.stdout).trim());
    assert_eq!(shown["status"], serde_json::json!("SUCCEEDED"));
    assert_eq!(
        json(shown["output"].as_str().unwrap_or("")),
        json(r#"{"done":true}"#)
    );
}

#[tokio::test]
async fn an_express_execution_times_out_at_its_maximum_duration_and_a_standard_one_does_not() {
    let daemon = TestDaemon::start_with_env(&[
        ("WAIT_TIME_SCALE", "1"),
        ("HOURGLASS_LIMITS__EXPRESS_MAX_DURATION_SECS", "2"),
    ])
    .await;
    let sfn = daemon.sfn();
    let waits = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}"#;
    let express = create_express(&sfn, "express-waits", waits).await;
    let standard = create(&sfn, "standard-waits", waits).await;
    let running = start(&sfn, &standard, "s", "{}").await;
    let t0 = std::time::Instant::now();
    let out = start_sync(&sfn, &express, "{}")
        .await
        .expect("StartSyncExecution");
    assert_eq!(
        out.status(),
        &aws_sdk_sfn::types::SyncExecutionStatus::TimedOut
    );
    assert_eq!(out.error(), Some("States.Timeout"));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "timed out after {took:?}"
    );
    assert_eq!(
        describe(&sfn, &running).await.status(),
        &ExecutionStatus::Running,
        "a standard execution has no such limit"
    );
}

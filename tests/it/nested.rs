//! Nested executions (`arn:aws:states:::states:startExecution`): plain, `.sync`, `.sync:2` and
//! `.waitForTaskToken`, the child's end reaching its parent across `kill -9`, a stopped
//! parent stopping its child, and AWS's errors for a machine that does not exist.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use aws_sdk_sfn::Client;
use serde_json::{json, Value};

use crate::support::sfn::{create, describe, finished, history, start, types};
use crate::support::{eventually, TestDaemon};

/// A parent with one Task starting `child` through `resource`.
fn parent(resource: &str, child: &str, extra: Value) -> String {
    let mut params = json!({
        "StateMachineArn": child,
        "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
    });
    if let (Some(p), Value::Object(more)) = (params.as_object_mut(), extra) {
        p.extend(more);
    }
    json!({"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": format!("arn:aws:states:::states:{resource}"),
        "Parameters": params, "End": true}}})
    .to_string()
}

/// A child that waits `secs` seconds, then answers `{"doubled": n * 2}`.
fn waiting_child(secs: u64) -> String {
    json!({"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": secs, "Next": "Double"},
        "Double": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true}}})
    .to_string()
}

fn output(d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    serde_json::from_str(d.output().unwrap_or("null")).expect("output is JSON")
}

/// Run a `.sync` parent (`name`) of the machine `failing`, whose execution fails with `error`
/// and `cause`: the task fails with `States.TaskFailed` and the child's description as cause,
/// which is returned.
async fn a_failed_sync_child_fails_its_task(
    sfn: &Client,
    name: &str,
    failing: &str,
    error: &str,
    cause: &str,
) -> Value {
    let sm = create(
        sfn,
        name,
        &parent("startExecution.sync", failing, json!({})),
    )
    .await;
    let arn = start(sfn, &sm, "f", r#"{"n":1}"#).await;
    assert_eq!(
        finished(sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Failed
    );
    let d = describe(sfn, &arn).await;
    assert_eq!(d.error(), Some("States.TaskFailed"));
    let described: Value = serde_json::from_str(d.cause().unwrap_or("")).expect("cause is JSON");
    assert_eq!(described["Error"], json!(error));
    assert_eq!(described["Cause"], json!(cause));
    described
}

async fn child_arns(sfn: &Client, machine: &str) -> Vec<String> {
    sfn.list_executions()
        .state_machine_arn(machine)
        .send()
        .await
        .expect("ListExecutions")
        .executions()
        .iter()
        .map(|e| e.execution_arn().to_owned())
        .collect()
}

#[tokio::test]
async fn a_sync_2_parent_waits_for_a_child_that_waits_2_s() {
    let daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let sfn = daemon.sfn();
    let child = create(&sfn, "child", &waiting_child(2)).await;
    let sm = create(
        &sfn,
        "parent",
        &parent("startExecution.sync:2", &child, json!({})),
    )
    .await;
    let arn = start(&sfn, &sm, "p", r#"{"n":21}"#).await;
    let began = std::time::Instant::now();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    assert!(
        began.elapsed() >= Duration::from_millis(1_500),
        "it waited for the child"
    );
    let out = output(&describe(&sfn, &arn).await);
    assert_eq!(out["Output"], json!({"doubled": 42}), "{out}");
    assert_eq!(out["Status"], json!("SUCCEEDED"));
    assert_eq!(
        out["Input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"],
        json!(arn)
    );
    let kids = child_arns(&sfn, &child).await;
    assert_eq!(out["ExecutionArn"], json!(kids[0]));
    assert_eq!(
        types(&history(&sfn, &arn).await),
        vec![
            HistoryEventType::ExecutionStarted,
            HistoryEventType::TaskStateEntered,
            HistoryEventType::TaskScheduled,
            HistoryEventType::TaskStarted,
            HistoryEventType::TaskSubmitted,
            HistoryEventType::TaskSucceeded,
            HistoryEventType::TaskStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );
}

#[tokio::test]
async fn sync_gives_json_text_a_plain_start_does_not_wait_and_a_failed_child_fails_the_task() {
    let daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let sfn = daemon.sfn();
    let child = create(&sfn, "child", &waiting_child(1)).await;
    let sync = create(
        &sfn,
        "sync",
        &parent("startExecution.sync", &child, json!({})),
    )
    .await;
    let arn = start(&sfn, &sync, "s", r#"{"n":2}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    let out = output(&describe(&sfn, &arn).await);
    assert_eq!(out["Output"], json!(r#"{"doubled":4}"#), "JSON text: {out}");

    let plain = create(
        &sfn,
        "plain",
        &parent("startExecution", &child, json!({"Name": "kid"})),
    )
    .await;
    let arn = start(&sfn, &plain, "p", r#"{"n":3}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let out = output(&describe(&sfn, &arn).await);
    let kid = out["ExecutionArn"]
        .as_str()
        .expect("the child's ARN")
        .to_owned();
    assert!(kid.ends_with(":execution:child:kid"), "{kid}");
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    assert_eq!(
        describe(&sfn, &kid).await.status(),
        &ExecutionStatus::Running
    );

    let failing = create(
        &sfn,
        "failing",
        r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Oops","Cause":"bad input"}}}"#,
    )
    .await;
    let cause =
        a_failed_sync_child_fails_its_task(&sfn, "caller", &failing, "Oops", "bad input").await;
    assert_eq!(cause["Status"], json!("FAILED"));

    let missing = child.replace(":child", ":nothing");
    let sm = create(
        &sfn,
        "orphan",
        &parent("startExecution", &missing, json!({})),
    )
    .await;
    let arn = start(&sfn, &sm, "m", r#"{"n":1}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &arn).await;
    assert_eq!(
        d.error(),
        Some("StepFunctions.StateMachineDoesNotExistException")
    );
    let cause = d.cause().unwrap_or_default();
    assert!(
        cause.starts_with(&format!("State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: ")),
        "{cause}"
    );
}

#[tokio::test]
async fn a_childs_end_reaches_its_parent_across_a_sigkill() {
    let mut daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let sfn = daemon.sfn();
    let child = create(&sfn, "child", &waiting_child(3)).await;
    let sm = create(
        &sfn,
        "parent",
        &parent("startExecution.sync:2", &child, json!({})),
    )
    .await;
    let arn = start(&sfn, &sm, "p", r#"{"n":5}"#).await;
    eventually("the child to start", Duration::from_secs(10), || async {
        (!child_arns(&daemon.sfn(), &child).await.is_empty()).then_some(())
    })
    .await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        output(&describe(&sfn, &arn).await)["Output"],
        json!({"doubled": 10})
    );
    assert_eq!(
        child_arns(&sfn, &child).await.len(),
        1,
        "one child, started once"
    );
}

#[tokio::test]
async fn a_stopped_parent_stops_its_sync_child_and_a_token_child_answers_its_parent() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let child = create(&sfn, "child", &waiting_child(3_600)).await;
    let sm = create(
        &sfn,
        "parent",
        &parent("startExecution.sync", &child, json!({})),
    )
    .await;
    let arn = start(&sfn, &sm, "p", r#"{"n":1}"#).await;
    let kid = eventually("the child to start", Duration::from_secs(10), || async {
        child_arns(&daemon.sfn(), &child).await.pop()
    })
    .await;
    sfn.stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("StopExecution");
    assert_eq!(
        finished(&sfn, &kid, Duration::from_secs(10)).await,
        ExecutionStatus::Aborted
    );

    // The child is handed the parent's token in its input; whoever runs it answers.
    let token_child = create(&sfn, "token-child", &waiting_child(3_600)).await;
    let definition = parent(
        "startExecution.waitForTaskToken",
        &token_child,
        json!({"Input": {"token.$": "$$.Task.Token"}}),
    );
    let sm = create(&sfn, "token-parent", &definition).await;
    let arn = start(&sfn, &sm, "t", "{}").await;
    let kid = eventually("the child to start", Duration::from_secs(10), || async {
        child_arns(&daemon.sfn(), &token_child).await.pop()
    })
    .await;
    let input: Value =
        serde_json::from_str(describe(&sfn, &kid).await.input().unwrap_or("{}")).expect("input");
    let token = input["token"].as_str().expect("the token").to_owned();
    sfn.send_task_success()
        .task_token(token)
        .output(r#"{"answered":true}"#)
        .send()
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        output(&describe(&sfn, &arn).await),
        json!({"answered": true})
    );
}

#[tokio::test]
async fn children_start_on_the_step_functions_endpoint_when_it_is_another_server() {
    let other = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let there = other.sfn();
    let child = create(&there, "child", &waiting_child(2)).await;
    let failing = create(
        &there,
        "failing",
        &json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "told to"}}})
            .to_string(),
    )
    .await;
    let url = other.url();
    let mut daemon = TestDaemon::start_with_env(&[("STEP_FUNCTIONS_ENDPOINT", url.as_str())]).await;
    let sfn = daemon.sfn();

    // Plain: the child runs there, and only there.
    let sm = create(&sfn, "start", &parent("startExecution", &child, json!({}))).await;
    let arn = start(&sfn, &sm, "p", r#"{"n":1}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    let started = output(&describe(&sfn, &arn).await);
    let started_arn = started["ExecutionArn"].as_str().expect("the child's ARN");
    assert_eq!(child_arns(&there, &child).await, [started_arn]);

    // .sync:2 across a kill -9 of the parent's server: the child is started once, and its
    // output reaches the parent.
    let sm = create(
        &sfn,
        "sync2",
        &parent("startExecution.sync:2", &child, json!({})),
    )
    .await;
    let arn = start(&sfn, &sm, "p", r#"{"n":5}"#).await;
    eventually(
        "the second child to start",
        Duration::from_secs(10),
        || async { (child_arns(&there, &child).await.len() == 2).then_some(()) },
    )
    .await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    let out = output(&describe(&sfn, &arn).await);
    assert_eq!(out["Output"], json!({"doubled": 10}), "{out}");
    assert_eq!(out["Status"], json!("SUCCEEDED"));
    assert_eq!(child_arns(&there, &child).await.len(), 2, "started once");
    let seen = types(&history(&sfn, &arn).await);
    assert!(seen.contains(&HistoryEventType::TaskSubmitted), "{seen:?}");
    assert!(seen.contains(&HistoryEventType::TaskSucceeded), "{seen:?}");

    // .sync with a child that fails: the task fails as with a local child.
    a_failed_sync_child_fails_its_task(&sfn, "sync-fail", &failing, "Nope", "told to").await;

    // A machine the other server does not have: its error, as Step Functions names it.
    let missing = child.replace(":child", ":absent");
    let sm = create(
        &sfn,
        "missing",
        &parent("startExecution", &missing, json!({})),
    )
    .await;
    let arn = start(&sfn, &sm, "p", r#"{"n":1}"#).await;
    finished(&sfn, &arn, Duration::from_secs(20)).await;
    assert_eq!(
        describe(&sfn, &arn).await.error(),
        Some("StepFunctions.StateMachineDoesNotExistException")
    );
}

//! RedriveExecution through the SDK: a failed execution runs again from the state it failed
//! in, with that state's input and the machine's variables, keeping its history; what cannot
//! be redriven is refused as AWS refuses it; an aborted Wait is redriven and survives `kill -9`.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionRedriveStatus, ExecutionStatus, HistoryEventType};

use crate::support::api::code_and_message;
use crate::support::sfn::{create, describe, finished, history, start, types};
use crate::support::{FakeLambda, TestDaemon};

#[tokio::test]
async fn a_failed_execution_is_redriven_from_the_state_it_failed_in() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let mut daemon = TestDaemon::start_with_env(&[
        ("LAMBDA_ENDPOINT", endpoint.as_str()),
        ("WAIT_TIME_SCALE", "1"),
    ])
    .await;
    let sfn = daemon.sfn();
    // The function fails its first call and answers the event after that.
    let sm = create(
        &sfn,
        "charge",
        r#"{"QueryLanguage":"JSONata","StartAt":"Prepare","States":{
            "Prepare":{"Type":"Pass","Assign":{"attempt":"first"},"Output":{"order":"{% $states.input.order %}"},"Next":"Charge"},
            "Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                      "Arguments":{"FunctionName":"flaky-1-charge","Payload":{"order":"{% $states.input.order %}","attempt":"{% $attempt %}"}},
                      "Output":"{% $states.result.Payload %}","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "order-7", r#"{"order":7}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &arn).await;
    assert_eq!(
        d.redrive_status(),
        Some(&ExecutionRedriveStatus::Redrivable)
    );
    assert_eq!(d.redrive_count(), Some(0));

    let redriven = sfn
        .redrive_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("RedriveExecution");
    assert!(redriven.redrive_date().secs() > 0);
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let d = describe(&sfn, &arn).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(d.output().unwrap_or("null")).expect("json"),
        serde_json::json!({"order": 7, "attempt": "first"}),
        "the failed state ran again with its input and the machine's variables"
    );
    assert_eq!(d.redrive_count(), Some(1));
    assert!(d.redrive_date().is_some());
    assert_eq!(
        d.redrive_status(),
        Some(&ExecutionRedriveStatus::NotRedrivable)
    );
    assert_eq!(lambda.calls_to("flaky-1-charge").len(), 2);
    let seen = types(&history(&sfn, &arn).await);
    let failed_at = seen
        .iter()
        .position(|t| *t == HistoryEventType::ExecutionFailed)
        .expect("ExecutionFailed");
    assert_eq!(seen[failed_at + 1], HistoryEventType::ExecutionRedriven);
    assert_eq!(seen[failed_at + 2], HistoryEventType::TaskStateEntered);
    assert_eq!(seen.last(), Some(&HistoryEventType::ExecutionSucceeded));
    assert_eq!(
        seen.iter()
            .filter(|t| **t == HistoryEventType::PassStateEntered)
            .count(),
        1,
        "the states before the failed one are not run again"
    );

    // ListExecutions shows and filters redrives.
    let listed = |filter: aws_sdk_sfn::types::ExecutionRedriveFilter| {
        sfn.list_executions()
            .state_machine_arn(&sm)
            .redrive_filter(filter)
            .send()
    };
    let redriven_list = listed(aws_sdk_sfn::types::ExecutionRedriveFilter::Redriven)
        .await
        .expect("ListExecutions");
    assert_eq!(redriven_list.executions().len(), 1);
    assert_eq!(redriven_list.executions()[0].redrive_count(), Some(1));
    assert!(redriven_list.executions()[0].redrive_date().is_some());
    let not_redriven = listed(aws_sdk_sfn::types::ExecutionRedriveFilter::NotRedriven)
        .await
        .expect("ListExecutions");
    assert!(not_redriven.executions().is_empty());

    // What cannot be redriven.
    let again = sfn
        .redrive_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect_err("a succeeded execution");
    let (code, message) = code_and_message(&again);
    assert_eq!(code, "ExecutionNotRedrivable", "{message}");
    let missing = sfn
        .redrive_execution()
        .execution_arn(arn.replace("order-7", "order-8"))
        .send()
        .await
        .expect_err("no such execution");
    assert_eq!(code_and_message(&missing).0, "ExecutionDoesNotExist");

    // An aborted Wait: redriven, it waits again, across a kill -9, then finishes.
    let waits = create(
        &sfn,
        "waits",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"Next":"Done"},"Done":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let w = start(&sfn, &waits, "w", r#"{"k":1}"#).await;
    let running = sfn
        .redrive_execution()
        .execution_arn(&w)
        .send()
        .await
        .expect_err("a running execution");
    assert_eq!(code_and_message(&running).0, "ExecutionNotRedrivable");
    sfn.stop_execution()
        .execution_arn(&w)
        .send()
        .await
        .expect("StopExecution");
    assert_eq!(describe(&sfn, &w).await.status(), &ExecutionStatus::Aborted);
    sfn.redrive_execution()
        .execution_arn(&w)
        .send()
        .await
        .expect("RedriveExecution of an aborted execution");
    assert_eq!(describe(&sfn, &w).await.status(), &ExecutionStatus::Running);
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &w, Duration::from_secs(15)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(describe(&sfn, &w).await.output(), Some(r#"{"k":1}"#));
}

/// A Map that failed in one iteration is redriven: the iterations that had succeeded keep
/// their outputs and are not run again; the failed one and those never started run.
#[tokio::test]
async fn a_redriven_map_runs_only_the_iterations_that_had_not_succeeded() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", endpoint.as_str())]).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "each-once",
        r#"{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,
            "ItemProcessor":{"StartAt":"Call","States":{"Call":{"Type":"Task",
                "Resource":"arn:aws:states:::lambda:invoke",
                "Parameters":{"FunctionName.$":"$.fn","Payload.$":"$"},
                "OutputPath":"$.Payload","End":true}}},
            "End":true}}}"#,
    )
    .await;
    let items = serde_json::json!({"items": [
        {"fn": "echo", "n": 0}, {"fn": "echo", "n": 1},
        {"fn": "flaky-1-map", "n": 2}, {"fn": "echo", "n": 3}
    ]});
    let arn = start(&sfn, &sm, "four", &items.to_string()).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    assert_eq!(lambda.calls_to("echo").len(), 2, "the fourth never started");
    sfn.redrive_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("RedriveExecution");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let out: serde_json::Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().unwrap_or("null")).expect("json");
    assert_eq!(out, items["items"], "every output, by index");
    assert_eq!(
        lambda.calls_to("echo").len(),
        3,
        "the first two were not run again"
    );
    assert_eq!(lambda.calls_to("flaky-1-map").len(), 2);
    let seen = types(&history(&sfn, &arn).await);
    let redriven = seen
        .iter()
        .position(|t| *t == HistoryEventType::ExecutionRedriven)
        .expect("ExecutionRedriven");
    let started_after = seen[redriven..]
        .iter()
        .filter(|t| **t == HistoryEventType::MapIterationStarted)
        .count();
    assert_eq!(started_after, 2, "iterations 2 and 3 only");
}

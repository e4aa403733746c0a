//! Parallel and Map states whose branches and iterations wait and call functions, across
//! restarts and SIGKILL: the progress of every branch is persisted with the execution.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::{json, Value};

use crate::support::sfn::{create, describe, finished, history, start};
use crate::support::{eventually, FakeLambda, TestDaemon};

/// A Map over six items, two at a time: each iteration waits a second, calls the `echo`
/// function with its item and index, and reshapes the answer with a variable set outside.
const MAP_MACHINE: &str = r#"{
  "StartAt": "Setup",
  "States": {
    "Setup": {"Type": "Pass", "Assign": {"factor": 10}, "Next": "Each"},
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 2,
      "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
      "ItemProcessor": {
        "StartAt": "Pause",
        "States": {
          "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Call"},
          "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
            "ResultSelector": {"echoed.$": "$.Payload"},
            "Next": "Shape"
          },
          "Shape": {
            "Type": "Pass",
            "Parameters": {"item.$": "$.echoed.value", "at.$": "$.echoed.index", "factor.$": "$factor"},
            "End": true
          }
        }
      },
      "ResultPath": "$.results",
      "Next": "Done"
    },
    "Done": {"Type": "Pass", "OutputPath": "$.results", "End": true}
  }
}"#;

fn expected_map_output() -> Value {
    Value::Array(
        ["a", "b", "c", "d", "e", "f"]
            .iter()
            .enumerate()
            .map(|(i, v)| json!({"item": v, "at": i, "factor": 10}))
            .collect(),
    )
}

async fn daemon_with(lambda: &FakeLambda) -> TestDaemon {
    TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &lambda.endpoint())]).await
}

fn output(d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    serde_json::from_str(d.output().expect("output")).expect("output is JSON")
}

#[tokio::test]
async fn a_map_whose_iterations_wait_and_call_survives_a_sigkill_with_the_same_output() {
    let lambda = FakeLambda::start().await;
    let mut daemon = daemon_with(&lambda).await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "map-crash", MAP_MACHINE).await;
    let input = r#"{"items":["a","b","c","d","e","f"]}"#;

    // Without a crash.
    let reference = start(&sfn, &sm, "reference", input).await;
    assert_eq!(
        finished(&sfn, &reference, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    let want = output(&describe(&sfn, &reference).await);
    assert_eq!(want, expected_map_output());

    // With a SIGKILL once some iterations have finished and others are waiting.
    let arn = start(&sfn, &sm, "crashed", input).await;
    eventually("two iterations to finish", Duration::from_secs(20), || {
        let sfn = sfn.clone();
        let arn = arn.clone();
        async move {
            let done = history(&sfn, &arn)
                .await
                .iter()
                .filter(|e| e.r#type() == &HistoryEventType::MapIterationSucceeded)
                .count();
            (done >= 2).then_some(())
        }
    })
    .await;
    let before = history(&sfn, &arn).await.len();
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(output(&describe(&sfn, &arn).await), want);

    let events = history(&sfn, &arn).await;
    assert!(events.len() > before, "nothing happened after the restart");
    let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
    assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>());
    let count = |t: HistoryEventType| events.iter().filter(|e| e.r#type() == &t).count();
    assert_eq!(count(HistoryEventType::ExecutionSucceeded), 1);
    assert_eq!(count(HistoryEventType::MapStateStarted), 1);
    assert_eq!(count(HistoryEventType::MapStateSucceeded), 1);
    // Each iteration started and finished exactly once, whatever the crash interrupted.
    let mut per_index: BTreeMap<i32, (usize, usize)> = BTreeMap::new();
    for e in &events {
        let (started, index) = match e.r#type() {
            HistoryEventType::MapIterationStarted => (
                true,
                e.map_iteration_started_event_details().map(|d| d.index()),
            ),
            HistoryEventType::MapIterationSucceeded => (
                false,
                e.map_iteration_succeeded_event_details().map(|d| d.index()),
            ),
            _ => continue,
        };
        let entry = per_index
            .entry(index.expect("iteration events name their index"))
            .or_default();
        if started {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    assert_eq!(
        per_index,
        (0..6).map(|i| (i, (1, 1))).collect::<BTreeMap<_, _>>()
    );
    // Every wait lasted its second: no iteration's call came before its wait ended.
    let entered = events
        .iter()
        .filter(|e| e.r#type() == &HistoryEventType::WaitStateEntered)
        .count();
    let exited = events
        .iter()
        .filter(|e| e.r#type() == &HistoryEventType::WaitStateExited)
        .count();
    assert_eq!((entered, exited), (6, 6));
    let first = events.first().map(|e| e.timestamp().secs()).unwrap_or(0);
    let last = events.last().map(|e| e.timestamp().secs()).unwrap_or(0);
    assert!(
        last - first >= 2,
        "six one-second waits two at a time took under 3 s"
    );
}

#[tokio::test]
async fn a_parallel_state_with_a_waiting_branch_and_a_calling_branch_resumes_after_a_restart() {
    let lambda = FakeLambda::start().await;
    let mut daemon = daemon_with(&lambda).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "parallel-restart",
        r#"{"StartAt":"Both","States":{"Both":{"Type":"Parallel","End":true,
            "ResultSelector":{"waited.$":"$[0]","called.$":"$[1].Payload"},
            "Branches":[
              {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"End":true}}},
              {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                 "Parameters":{"FunctionName":"echo","Payload":{"hello.$":"$.who"}},"End":true}}}
            ]}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e", r#"{"who":"world"}"#).await;
    eventually("the call to be made", Duration::from_secs(10), || async {
        (!lambda.calls_to("echo").is_empty()).then_some(())
    })
    .await;
    daemon.restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        output(&describe(&sfn, &arn).await),
        json!({"waited": {"who": "world"}, "called": {"hello": "world"}})
    );
}

#[tokio::test]
async fn a_failing_branch_fails_the_parallel_state_and_its_catch_takes_over() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "parallel-catch",
        r#"{"StartAt":"Both","States":{
            "Both":{"Type":"Parallel","Next":"Unreached",
              "Catch":[{"ErrorEquals":["Broken"],"ResultPath":"$.error","Next":"Caught"}],
              "Branches":[
                {"StartAt":"Long","States":{"Long":{"Type":"Wait","Seconds":3600,"End":true}}},
                {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Broken","Cause":"on purpose"}}}
              ]},
            "Unreached":{"Type":"Fail","Error":"Unreached"},
            "Caught":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e", r#"{"keep":1}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        output(&describe(&sfn, &arn).await),
        json!({"keep": 1, "error": {"Error": "Broken", "Cause": "on purpose"}})
    );
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    assert!(types.contains(&HistoryEventType::ParallelStateFailed));
    // The waiting branch was abandoned: its hour-long wait never exits.
    assert!(!types.contains(&HistoryEventType::WaitStateExited));
}

#[tokio::test]
async fn a_map_runs_its_items_in_batches_by_count_and_by_size() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let map = |batcher: Value| {
        json!({"StartAt": "Each", "States": {"Each": {
            "Type": "Map", "ItemsPath": "$.items", "ItemBatcher": batcher,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true}}})
        .to_string()
    };
    let run = |name: &'static str, definition: String| {
        let sfn = sfn.clone();
        async move {
            let sm = create(&sfn, name, &definition).await;
            let arn = start(
                &sfn,
                &sm,
                "e",
                r#"{"items": [1, 2, 3, 4, 5], "per": 2, "tag": "t"}"#,
            )
            .await;
            assert_eq!(
                finished(&sfn, &arn, Duration::from_secs(10)).await,
                ExecutionStatus::Succeeded
            );
            let out: Value =
                serde_json::from_str(describe(&sfn, &arn).await.output().unwrap_or(""))
                    .expect("JSON output");
            out
        }
    };
    let out = run(
        "by-count",
        map(json!({"MaxItemsPerBatchPath": "$.per", "BatchInput": {"tag.$": "$.tag"}})),
    )
    .await;
    assert_eq!(
        out,
        json!([
            {"BatchInput": {"tag": "t"}, "Items": [1, 2]},
            {"BatchInput": {"tag": "t"}, "Items": [3, 4]},
            {"BatchInput": {"tag": "t"}, "Items": [5]}
        ])
    );
    // Each item is one byte of JSON: a batch holds three.
    let out = run("by-size", map(json!({"MaxInputBytesPerBatch": 3}))).await;
    assert_eq!(out, json!([{"Items": [1, 2, 3]}, {"Items": [4, 5]}]));
}

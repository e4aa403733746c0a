//! Distributed Map: iterations as child executions of a map run, the map-run operations
//! (DescribeMapRun, ListMapRuns, UpdateMapRun, ListExecutions by map run) through
//! `aws-sdk-sfn` and the AWS CLI, and a run of 20,000 items killed part way.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType, MapRunStatus};
use aws_sdk_sfn::Client;
use serde_json::{json, Value};

use crate::support::api::code_and_message;
use crate::support::sfn::{create, describe, finished, history, start};
use crate::support::{eventually, TestDaemon};

/// A Distributed Map over its input: items 3 and 7 fail, the others pass through doubled,
/// each child waiting `wait` seconds first.
fn machine(tolerated: Option<u32>, wait: u32, concurrency: u32) -> String {
    let mut map = json!({
        "Type": "Map",
        "MaxConcurrency": concurrency,
        "ItemsPath": "$.items",
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Pause",
            "States": {
                "Pause": {"Type": "Wait", "Seconds": wait, "Next": "Check"},
                "Check": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.value", "NumericEquals": 3, "Next": "Bad"},
                        {"Variable": "$.value", "NumericEquals": 7, "Next": "Bad"}
                    ],
                    "Default": "Double"
                },
                "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "an odd item"},
                "Double": {
                    "Type": "Pass",
                    "Parameters": {"twice.$": "States.MathAdd($.value, $.value)"},
                    "End": true
                }
            }
        },
        "Label": "Doubler",
        "End": true
    });
    if let Some(t) = tolerated {
        map["ToleratedFailureCount"] = json!(t);
    }
    json!({"StartAt": "Each", "States": {"Each": map}}).to_string()
}

fn items(n: u32) -> String {
    json!({ "items": (0..n).collect::<Vec<_>>() }).to_string()
}

async fn only_map_run(sfn: &Client, execution: &str) -> String {
    let runs = sfn
        .list_map_runs()
        .execution_arn(execution)
        .send()
        .await
        .expect("list map runs");
    assert_eq!(runs.map_runs().len(), 1, "one Map state, one run");
    runs.map_runs()[0].map_run_arn().to_owned()
}

async fn describe_run(
    sfn: &Client,
    run: &str,
) -> aws_sdk_sfn::operation::describe_map_run::DescribeMapRunOutput {
    sfn.describe_map_run()
        .map_run_arn(run)
        .send()
        .await
        .expect("describe map run")
}

/// Every child of a map run, through ListExecutions pages of `page`.
async fn children(sfn: &Client, map_run: &str, page: i32) -> Vec<(String, ExecutionStatus, i64)> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = sfn
            .list_executions()
            .map_run_arn(map_run)
            .max_results(page)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("list the map run's executions");
        for e in out.executions() {
            assert_eq!(e.map_run_arn(), Some(map_run));
            let start =
                e.start_date().secs() * 1000 + i64::from(e.start_date().subsec_nanos() / 1_000_000);
            all.push((e.execution_arn().to_owned(), e.status().clone(), start));
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return all;
        }
    }
}

#[tokio::test]
async fn a_distributed_map_runs_its_items_as_children_of_a_map_run() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "doubler", &machine(Some(2), 0, 4)).await;
    let arn = start(&sfn, &sm, "twelve", &items(12)).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(60)).await,
        ExecutionStatus::Succeeded
    );
    let out: Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().expect("output")).expect("JSON");
    let want: Vec<Value> = (0..12)
        .map(|i| match i {
            3 | 7 => json!({"Error": "Item.Bad", "Cause": "an odd item"}),
            i => json!({ "twice": 2 * i }),
        })
        .collect();
    assert_eq!(
        out,
        Value::Array(want),
        "outputs by index, failures tolerated"
    );
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    assert_eq!(
        types,
        [
            HistoryEventType::ExecutionStarted,
            HistoryEventType::MapStateEntered,
            HistoryEventType::MapStateStarted,
            HistoryEventType::MapRunStarted,
            HistoryEventType::MapRunSucceeded,
            HistoryEventType::MapStateSucceeded,
            HistoryEventType::MapStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );

    let run = only_map_run(&sfn, &arn).await;
    assert!(
        run.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:doubler/Doubler:"),
        "{run}"
    );
    let d = describe_run(&sfn, &run).await;
    assert_eq!(d.status(), &MapRunStatus::Succeeded);
    assert_eq!(d.execution_arn(), arn);
    assert_eq!(d.max_concurrency(), 4);
    assert_eq!(d.tolerated_failure_count(), 2);
    let counts = d.execution_counts().expect("execution counts");
    assert_eq!(
        (
            counts.total(),
            counts.succeeded(),
            counts.failed(),
            counts.pending(),
            counts.running()
        ),
        (12, 10, 2, 0, 0)
    );
    assert!(d.stop_date().is_some());

    // The children: listed by the run, paged, each naming its run and its machine's label.
    let kids = children(&sfn, &run, 5).await;
    assert_eq!(kids.len(), 12);
    let names: BTreeSet<&String> = kids.iter().map(|k| &k.0).collect();
    assert_eq!(names.len(), 12, "twelve distinct children");
    assert_eq!(
        kids.iter()
            .filter(|k| k.1 == ExecutionStatus::Failed)
            .count(),
        2
    );
    let failed = sfn
        .list_executions()
        .map_run_arn(&run)
        .status_filter(ExecutionStatus::Failed)
        .send()
        .await
        .expect("list failed children");
    assert_eq!(failed.executions().len(), 2);
    let child = &kids[0].0;
    assert!(child.contains(":execution:doubler/Doubler:"), "{child}");
    let cd = describe(&sfn, child).await;
    assert_eq!(cd.map_run_arn(), Some(run.as_str()));
    assert_eq!(
        cd.state_machine_arn(),
        "arn:aws:states:us-east-1:123456789012:stateMachine:doubler/Doubler"
    );
    let for_child = sfn
        .describe_state_machine_for_execution()
        .execution_arn(child)
        .send()
        .await
        .expect("describe the child's machine");
    assert_eq!(for_child.label(), Some("Doubler"));
    assert_eq!(for_child.map_run_arn(), Some(run.as_str()));
    let def: Value = serde_json::from_str(for_child.definition()).expect("definition JSON");
    assert_eq!(def["StartAt"], "Pause");
    assert!(def.get("ProcessorConfig").is_none());
    // The parent lists no children among its own machine's executions.
    let own = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("list the machine's executions");
    assert_eq!(own.executions().len(), 1);
}

#[tokio::test]
async fn more_failures_than_tolerated_fail_the_run_and_a_stop_aborts_it() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "strict", &machine(Some(1), 0, 1)).await;
    let arn = start(&sfn, &sm, "strict", &items(10)).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(60)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &arn).await;
    assert_eq!(d.error(), Some("States.ExceedToleratedFailureThreshold"));
    assert_eq!(
        d.cause(),
        Some("The specified tolerated failure threshold was exceeded")
    );
    let events = history(&sfn, &arn).await;
    let failed = events
        .iter()
        .find(|e| e.r#type() == &HistoryEventType::MapRunFailed)
        .expect("MapRunFailed");
    let details = failed.map_run_failed_event_details().expect("details");
    assert_eq!(
        details.error(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let run = only_map_run(&sfn, &arn).await;
    let mr = describe_run(&sfn, &run).await;
    assert_eq!(mr.status(), &MapRunStatus::Failed);
    let counts = mr.item_counts().expect("item counts");
    assert_eq!(
        counts.failed(),
        2,
        "one at a time: the second failure ends it"
    );
    assert!(counts.pending() > 0, "items after it never started");

    // A stop while children wait: the run and its children are aborted.
    let slow = create(&sfn, "slow", &machine(None, 60, 3)).await;
    let arn = start(&sfn, &slow, "stopped", &items(10)).await;
    let run = eventually("the map run", Duration::from_secs(20), || {
        let sfn = sfn.clone();
        let arn = arn.clone();
        async move {
            let runs = sfn.list_map_runs().execution_arn(&arn).send().await.ok()?;
            let run = runs.map_runs().first()?.map_run_arn().to_owned();
            let d = sfn.describe_map_run().map_run_arn(&run).send().await.ok()?;
            (d.item_counts()?.running() == 3).then_some(run)
        }
    })
    .await;
    // UpdateMapRun takes effect on the running run.
    sfn.update_map_run()
        .map_run_arn(&run)
        .max_concurrency(5)
        .tolerated_failure_percentage(50.0)
        .send()
        .await
        .expect("update map run");
    let running = eventually("two more children", Duration::from_secs(20), || {
        let sfn = sfn.clone();
        let run = run.clone();
        async move {
            let d = sfn.describe_map_run().map_run_arn(&run).send().await.ok()?;
            let n = d.item_counts()?.running();
            (n == 5 && d.max_concurrency() == 5 && d.tolerated_failure_percentage() == 50.0)
                .then_some(n)
        }
    })
    .await;
    assert_eq!(running, 5);
    sfn.stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("stop");
    let aborted = eventually("the run to be aborted", Duration::from_secs(20), || {
        let sfn = sfn.clone();
        let run = run.clone();
        async move {
            let d = sfn.describe_map_run().map_run_arn(&run).send().await.ok()?;
            let c = d.item_counts()?.clone();
            (d.status() == &MapRunStatus::Aborted && c.aborted() == 5 && c.running() == 0)
                .then_some(c)
        }
    })
    .await;
    assert_eq!(aborted.pending(), 5);
    for (_, status, _) in children(&sfn, &run, 100).await {
        assert_eq!(status, ExecutionStatus::Aborted);
    }
}

#[tokio::test]
async fn map_run_operations_refuse_bad_input_in_aws_words() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let unknown =
        "arn:aws:states:us-east-1:123456789012:mapRun:m/l:00000000-0000-0000-0000-000000000000";
    let err = sfn
        .describe_map_run()
        .map_run_arn(unknown)
        .send()
        .await
        .expect_err("unknown run");
    assert_eq!(code_and_message(&err).0, "ResourceNotFound");
    let err = sfn
        .describe_map_run()
        .map_run_arn("arn:aws:states:us-east-1:123456789012:stateMachine:m")
        .send()
        .await
        .expect_err("not a map run");
    assert_eq!(code_and_message(&err).0, "InvalidArn");
    let err = sfn
        .update_map_run()
        .map_run_arn(unknown)
        .send()
        .await
        .expect_err("nothing to change");
    assert_eq!(code_and_message(&err).0, "ValidationException");
    let err = sfn
        .update_map_run()
        .map_run_arn(unknown)
        .tolerated_failure_percentage(101.0)
        .send()
        .await
        .expect_err("out of range");
    assert_eq!(code_and_message(&err).0, "ValidationException");
    let err = sfn
        .update_map_run()
        .map_run_arn(unknown)
        .max_concurrency(3)
        .send()
        .await
        .expect_err("unknown run");
    assert_eq!(code_and_message(&err).0, "ResourceNotFound");
    let err = sfn
        .list_map_runs()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:m:none")
        .send()
        .await
        .expect_err("unknown execution");
    assert_eq!(code_and_message(&err).0, "ExecutionDoesNotExist");
    let err = sfn
        .list_executions()
        .map_run_arn(unknown)
        .state_machine_arn("arn:aws:states:us-east-1:123456789012:stateMachine:m")
        .send()
        .await
        .expect_err("both");
    assert_eq!(code_and_message(&err).0, "ValidationException");
    let err = sfn
        .list_executions()
        .map_run_arn(unknown)
        .send()
        .await
        .expect_err("unknown run");
    assert_eq!(code_and_message(&err).0, "ResourceNotFound");
}

#[tokio::test]
async fn the_map_run_operations_work_from_the_aws_cli() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "cli-doubler", &machine(Some(5), 0, 2)).await;
    let arn = start(&sfn, &sm, "cli", &items(4)).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(60)).await,
        ExecutionStatus::Succeeded
    );
    let runs = crate::cli::aws(&daemon, &["list-map-runs", "--execution-arn", &arn]);
    let run = runs["mapRuns"][0]["mapRunArn"]
        .as_str()
        .expect("a map run")
        .to_owned();
    // The run's machine is the Map state's: the parent's ARN and the label, as AWS lists it.
    assert_eq!(
        runs["mapRuns"][0]["stateMachineArn"],
        format!("{sm}/Doubler").as_str()
    );
    let d = crate::cli::aws(&daemon, &["describe-map-run", "--map-run-arn", &run]);
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["itemCounts"]["total"], 4);
    assert_eq!(d["itemCounts"]["succeeded"], 3, "item 3 fails, tolerated");
    assert_eq!(d["itemCounts"]["failed"], 1);
    let updated = crate::cli::aws(
        &daemon,
        &[
            "update-map-run",
            "--map-run-arn",
            &run,
            "--max-concurrency",
            "7",
        ],
    );
    assert_eq!(updated, json!({}));
    let d = crate::cli::aws(&daemon, &["describe-map-run", "--map-run-arn", &run]);
    assert_eq!(d["maxConcurrency"], 7);
    let kids = crate::cli::aws(&daemon, &["list-executions", "--map-run-arn", &run]);
    let kids = kids["executions"].as_array().expect("executions");
    assert_eq!(kids.len(), 4);
    assert!(kids
        .iter()
        .all(|k| k["itemCount"] == 1 && k["mapRunArn"] == run.as_str()));
}

/// 20,000 items, 1,000 children at a time (twenty pages of items): killed once a fifth have
/// finished, the run resumes where it was. Every item gets exactly one child, and the children
/// that had finished before the kill keep their start dates (none ran again).
#[tokio::test]
async fn a_distributed_map_of_20000_items_survives_a_sigkill_without_rerunning_children() {
    const N: u32 = 20_000;
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map",
            "Items": format!("{{% [0..{}] %}}", N - 1),
            "MaxConcurrency": 1000,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "One",
                "States": {"One": {"Type": "Pass", "Output": 1, "End": true}}
            },
            "End": true
        }}
    });
    let sm = create(&sfn, "hundred-thousand", &definition.to_string()).await;
    let arn = start(&sfn, &sm, "big", "{}").await;
    let run = eventually("a fifth of the children", Duration::from_secs(600), || {
        let sfn = sfn.clone();
        let arn = arn.clone();
        async move {
            let runs = sfn.list_map_runs().execution_arn(&arn).send().await.ok()?;
            let run = runs.map_runs().first()?.map_run_arn().to_owned();
            let d = sfn.describe_map_run().map_run_arn(&run).send().await.ok()?;
            (d.item_counts()?.succeeded() >= i64::from(N / 5)).then_some(run)
        }
    })
    .await;
    let before_kill = describe_run(&sfn, &run)
        .await
        .item_counts()
        .expect("counts")
        .succeeded();
    let killed_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(900)).await,
        ExecutionStatus::Succeeded
    );
    let out: Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().expect("output")).expect("JSON");
    let ones = out.as_array().expect("an array");
    assert_eq!(ones.len(), N as usize);
    assert!(ones.iter().all(|v| v == &json!(1)));
    let d = describe_run(&sfn, &run).await;
    let c = d.item_counts().expect("counts");
    assert_eq!(
        (c.total(), c.succeeded(), c.pending(), c.running()),
        (i64::from(N), i64::from(N), 0, 0)
    );
    let kids = children(&sfn, &run, 1000).await;
    assert_eq!(kids.len(), N as usize, "one child per item");
    let distinct: BTreeSet<&String> = kids.iter().map(|k| &k.0).collect();
    assert_eq!(distinct.len(), N as usize);
    assert!(kids.iter().all(|k| k.1 == ExecutionStatus::Succeeded));
    let started_before = kids.iter().filter(|k| k.2 <= killed_ms).count() as i64;
    assert!(
        started_before >= before_kill,
        "{started_before} children started before the kill, but {before_kill} had finished then"
    );
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    let runs_started = types
        .iter()
        .filter(|t| **t == HistoryEventType::MapRunStarted)
        .count();
    assert_eq!(runs_started, 1, "the run was resumed, not started again");
}

/// On a cluster over PostgreSQL: the children land in their parent's partition, on the node
/// that holds it, and every node answers for the run.
#[tokio::test]
async fn a_distributed_map_runs_on_a_postgresql_cluster() {
    let pg = crate::support::TestPostgres::start().await;
    let cluster = crate::support::cluster::TestCluster::start(pg.url(), 2, &[]).await;
    let sfn = cluster.sfn(0);
    let sm = create(&sfn, "pg-doubler", &machine(Some(2), 0, 20)).await;
    let arn = start(&sfn, &sm, "on-pg", &items(200)).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(120)).await,
        ExecutionStatus::Succeeded
    );
    let out: Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().expect("output")).expect("JSON");
    assert_eq!(out.as_array().map(Vec::len), Some(200));
    assert_eq!(out[10], json!({"twice": 20}));
    for node in [0, 1] {
        let sfn = cluster.sfn(node);
        let run = only_map_run(&sfn, &arn).await;
        let d = describe_run(&sfn, &run).await;
        let c = d.item_counts().expect("counts");
        assert_eq!((c.succeeded(), c.failed(), c.total()), (198, 2, 200));
        assert_eq!(children(&sfn, &run, 1000).await.len(), 200);
    }
}

/// A redrive of an execution whose Distributed Map failed runs again only the items whose
/// children did not succeed, in the same map run (`MapRunRedriven`).
#[tokio::test]
async fn a_redriven_distributed_map_runs_only_the_items_that_did_not_succeed() {
    let lambda = crate::support::FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", endpoint.as_str())]).await;
    let sfn = daemon.sfn();
    let definition = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Call",
            "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName.$": "$.fn", "Payload.$": "$"},
                "OutputPath": "$.Payload", "End": true}}},
        "End": true}}});
    let sm = create(&sfn, "redriven-run", &definition.to_string()).await;
    let items = json!({"items": [
        {"fn": "echo", "n": 0}, {"fn": "echo", "n": 1},
        {"fn": "flaky-1-dist", "n": 2}, {"fn": "echo", "n": 3}
    ]});
    let arn = start(&sfn, &sm, "four", &items.to_string()).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Failed
    );
    assert_eq!(
        describe(&sfn, &arn).await.error(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert_eq!(lambda.calls_to("echo").len(), 2, "the fourth never started");
    let run = only_map_run(&sfn, &arn).await;
    sfn.redrive_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("RedriveExecution");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    let out: Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().expect("output")).expect("JSON");
    assert_eq!(out, items["items"], "every output, by index");
    assert_eq!(
        lambda.calls_to("echo").len(),
        3,
        "the first two did not run again"
    );
    assert_eq!(lambda.calls_to("flaky-1-dist").len(), 2);
    assert_eq!(
        only_map_run(&sfn, &arn).await,
        run,
        "the same run, redriven"
    );
    let d = describe_run(&sfn, &run).await;
    assert_eq!(d.status(), &MapRunStatus::Succeeded);
    assert_eq!(d.redrive_count(), Some(1));
    let c = d.item_counts().expect("counts");
    assert_eq!((c.succeeded(), c.failed(), c.total()), (4, 0, 4));
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    let redriven = types
        .iter()
        .position(|t| *t == HistoryEventType::ExecutionRedriven)
        .expect("ExecutionRedriven");
    assert_eq!(
        &types[redriven..],
        [
            HistoryEventType::ExecutionRedriven,
            HistoryEventType::MapStateEntered,
            HistoryEventType::MapRunRedriven,
            HistoryEventType::MapRunSucceeded,
            HistoryEventType::MapStateSucceeded,
            HistoryEventType::MapStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );
}

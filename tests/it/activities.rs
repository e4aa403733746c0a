//! Activities: workers written as a user writes them with the SDK (a GetActivityTask loop,
//! SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat), across `kill -9`, with AWS's
//! errors for activities that are unknown, deleted or badly named.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use aws_sdk_sfn::Client;
use serde_json::{json, Value};

use crate::support::sfn::{activity, create, describe, finished, history, start, types};
use crate::support::TestDaemon;

/// One Task state on `activity`, with these extra fields.
fn machine(activity: &str, extra: Value) -> String {
    let mut task = json!({"Type": "Task", "Resource": activity, "End": true});
    if let (Some(t), Value::Object(more)) = (task.as_object_mut(), extra) {
        t.extend(more);
    }
    json!({"StartAt": "Work", "States": {"Work": task}}).to_string()
}

/// One poll: the task's token and input, if one came.
async fn poll(sfn: &Client, activity: &str, worker: &str) -> Option<(String, String)> {
    let out = sfn
        .get_activity_task()
        .activity_arn(activity)
        .worker_name(worker)
        .send()
        .await
        .expect("GetActivityTask");
    Some((out.task_token()?.to_owned(), out.input()?.to_owned()))
}

fn code<E: ProvideErrorMetadata>(r: Result<impl Sized, E>) -> String {
    match r {
        Ok(_) => "no error".into(),
        Err(e) => e.code().unwrap_or("no code").to_owned(),
    }
}

#[tokio::test]
async fn four_workers_process_500_tasks_and_none_is_given_twice() {
    const N: usize = 500;
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let act = activity(&sfn, "resize").await;
    let sm = create(&sfn, "resize", &machine(&act, json!({}))).await;
    let mut arns = Vec::new();
    for i in 0..N {
        arns.push(start(&sfn, &sm, &format!("e{i}"), &json!({ "id": i }).to_string()).await);
    }
    // Each worker takes tasks until all N are done, answering with its name.
    let seen: Arc<Mutex<BTreeMap<u64, Vec<String>>>> = Arc::default();
    // Answers the daemon took: a worker is stopped only once none is still on its way.
    let answered = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (sfn, act, seen) = (sfn.clone(), act.clone(), seen.clone());
        let answered = answered.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("worker-{w}");
            loop {
                let Some((token, input)) = poll(&sfn, &act, &name).await else {
                    continue;
                };
                let input: Value = serde_json::from_str(&input).expect("input is JSON");
                let id = input["id"].as_u64().expect("id");
                seen.lock()
                    .expect("lock")
                    .entry(id)
                    .or_default()
                    .push(name.clone());
                sfn.send_task_success()
                    .task_token(token)
                    .output(json!({ "id": id, "by": name }).to_string())
                    .send()
                    .await
                    .expect("SendTaskSuccess");
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let all = async {
        while answered.load(Ordering::SeqCst) < N {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("every task is done");
    // The workers still polling are cut short, as a worker process that stops.
    for w in workers {
        w.abort();
        if let Err(e) = w.await {
            assert!(e.is_cancelled(), "a worker panicked: {e}");
        }
    }
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), N, "every task was given out");
    let twice: Vec<_> = seen.iter().filter(|(_, by)| by.len() > 1).collect();
    assert!(twice.is_empty(), "tasks given twice: {twice:?}");
    let workers: std::collections::BTreeSet<&String> = seen.values().flatten().collect();
    assert!(workers.len() > 1, "the work was shared: {workers:?}");
    for (i, arn) in arns.iter().enumerate() {
        assert_eq!(
            finished(&sfn, arn, Duration::from_secs(30)).await,
            ExecutionStatus::Succeeded
        );
        let d = describe(&sfn, arn).await;
        let out: Value = serde_json::from_str(d.output().unwrap_or_default()).expect("output");
        assert_eq!(out["id"], json!(i));
        assert_eq!(out["by"], json!(seen[&(i as u64)][0]));
    }
    let events = history(&sfn, &arns[0]).await;
    assert_eq!(
        types(&events),
        vec![
            HistoryEventType::ExecutionStarted,
            HistoryEventType::TaskStateEntered,
            HistoryEventType::ActivityScheduled,
            HistoryEventType::ActivityStarted,
            HistoryEventType::ActivitySucceeded,
            HistoryEventType::TaskStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );
    let scheduled = events[2]
        .activity_scheduled_event_details()
        .expect("scheduled details");
    assert_eq!(scheduled.resource(), act);
    assert_eq!(scheduled.input(), Some(r#"{"id":0}"#));
    let started = events[3]
        .activity_started_event_details()
        .expect("started details");
    assert_eq!(started.worker_name(), Some(seen[&0][0].as_str()));
}

#[tokio::test]
async fn an_offered_task_survives_a_sigkill_and_a_taken_one_times_out() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let act = activity(&sfn, "approve").await;
    let sm = create(
        &sfn,
        "approve",
        &machine(&act, json!({"TimeoutSeconds": 4})),
    )
    .await;
    let taken_arn = start(&sfn, &sm, "taken", r#"{"n":1}"#).await;
    let (token, input) = poll(&sfn, &act, "dies").await.expect("a task");
    assert_eq!(input, r#"{"n":1}"#);
    // Offered, not yet taken, when the daemon is killed.
    let offered_arn = start(&sfn, &sm, "offered", r#"{"n":2}"#).await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    let (token2, input2) = poll(&sfn, &act, "lives").await.expect("offered again");
    assert_eq!(
        input2, r#"{"n":2}"#,
        "the task taken before the kill is not given again"
    );
    sfn.send_task_success()
        .task_token(token2)
        .output(r#"{"ok":true}"#)
        .send()
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &offered_arn, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    // The worker that took the other one died: its task times out.
    assert_eq!(
        finished(&sfn, &taken_arn, Duration::from_secs(30)).await,
        ExecutionStatus::Failed
    );
    assert_eq!(
        describe(&sfn, &taken_arn).await.error(),
        Some("States.Timeout")
    );
    let events = history(&sfn, &taken_arn).await;
    assert!(types(&events).contains(&HistoryEventType::ActivityTimedOut));
    let late = sfn
        .send_task_success()
        .task_token(token)
        .output("{}")
        .send()
        .await;
    assert_eq!(code(late), "TaskTimedOut");
}

#[tokio::test]
async fn heartbeats_keep_an_activity_alive_and_a_missed_one_fails_it() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let act = activity(&sfn, "slow").await;
    let definition = machine(&act, json!({"HeartbeatSeconds": 2, "TimeoutSeconds": 60}));
    let sm = create(&sfn, "slow", &definition).await;
    let alive = start(&sfn, &sm, "alive", "{}").await;
    let (token, _) = poll(&sfn, &act, "w").await.expect("a task");
    // 5 s of work, a heartbeat a second: longer than HeartbeatSeconds in all.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sfn.send_task_heartbeat()
            .task_token(&token)
            .send()
            .await
            .expect("SendTaskHeartbeat");
    }
    sfn.send_task_success()
        .task_token(&token)
        .output(r#""done""#)
        .send()
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &alive, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    let silent = start(&sfn, &sm, "silent", "{}").await;
    let (token, _) = poll(&sfn, &act, "w").await.expect("a task");
    assert_eq!(
        finished(&sfn, &silent, Duration::from_secs(30)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &silent).await;
    assert_eq!(d.error(), Some("States.Timeout"));
    let after = sfn.send_task_heartbeat().task_token(token).send().await;
    assert_eq!(code(after), "TaskTimedOut");
}

#[tokio::test]
async fn a_failure_is_raised_to_catch_and_bad_input_gets_aws_errors() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let act = activity(&sfn, "check").await;
    let definition = json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": act,
                 "Catch": [{"ErrorEquals": ["Rejected"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    let sm = create(&sfn, "check", &definition.to_string()).await;
    let arn = start(&sfn, &sm, "one", "{}").await;
    let (token, _) = poll(&sfn, &act, "w").await.expect("a task");
    sfn.send_task_failure()
        .task_token(token)
        .error("Rejected")
        .cause("not today")
        .send()
        .await
        .expect("SendTaskFailure");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        describe(&sfn, &arn).await.output(),
        Some(r#"{"Error":"Rejected","Cause":"not today"}"#)
    );
    let events = history(&sfn, &arn).await;
    let failed = events
        .iter()
        .find_map(|e| e.activity_failed_event_details())
        .expect("ActivityFailed");
    assert_eq!(failed.error(), Some("Rejected"));

    // Unknown, malformed and badly named activities.
    let unknown = act.replace(":check", ":nothing");
    assert_eq!(
        code(sfn.get_activity_task().activity_arn(&unknown).send().await),
        "ActivityDoesNotExist"
    );
    assert_eq!(
        code(sfn.describe_activity().activity_arn(&unknown).send().await),
        "ActivityDoesNotExist"
    );
    assert_eq!(
        code(
            sfn.describe_activity()
                .activity_arn("not-an-arn")
                .send()
                .await
        ),
        "InvalidArn"
    );
    assert_eq!(
        code(sfn.create_activity().name("bad name").send().await),
        "InvalidName"
    );
    assert_eq!(
        code(
            sfn.get_activity_task()
                .activity_arn(&act)
                .worker_name("w".repeat(81))
                .send()
                .await
        ),
        "ValidationException"
    );

    // A task scheduled on an activity that does not exist fails its state.
    let orphan = create(&sfn, "orphan", &machine(&unknown, json!({}))).await;
    let arn = start(&sfn, &orphan, "one", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Failed
    );
    let events = history(&sfn, &arn).await;
    assert!(types(&events).contains(&HistoryEventType::ActivityScheduleFailed));

    // A deleted activity: its pending task times out, its workers are told it is gone.
    let gone = activity(&sfn, "gone").await;
    let sm = create(&sfn, "gone", &machine(&gone, json!({"TimeoutSeconds": 2}))).await;
    let arn = start(&sfn, &sm, "one", "{}").await;
    sfn.delete_activity()
        .activity_arn(&gone)
        .send()
        .await
        .expect("DeleteActivity");
    assert_eq!(
        code(sfn.get_activity_task().activity_arn(&gone).send().await),
        "ActivityDoesNotExist"
    );
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Failed
    );
    // Offered before the delete, the task times out; offered after it, it cannot be
    // scheduled. Either way the execution ends.
    let error = describe(&sfn, &arn).await.error().map(str::to_owned);
    assert!(
        matches!(error.as_deref(), Some("States.Timeout" | "States.Runtime")),
        "{error:?}"
    );
    let listed = sfn.list_activities().send().await.expect("ListActivities");
    let names: Vec<&str> = listed.activities().iter().map(|a| a.name()).collect();
    assert_eq!(names, vec!["check"]);
}

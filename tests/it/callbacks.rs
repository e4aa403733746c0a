//! Tasks waiting for a token (`lambda:invoke.waitForTaskToken`): the token reaches the
//! function, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat answer it, across restarts
//! and `kill -9`, with AWS's errors for tokens that are bad, used or late.

use std::time::Duration;

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use aws_sdk_sfn::Client;
use serde_json::Value;

use crate::support::sfn::{create, describe, finished, history, start, types};
use crate::support::{eventually, FakeLambda, TestDaemon};

/// Hands the token to `echo`, then waits for the callback; a failure is caught.
const CALLBACK: &str = r#"{"StartAt":"Ask","States":{
  "Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
         "Parameters":{"FunctionName":"echo","Payload":{"token.$":"$$.Task.Token","input.$":"$"}},
         "Catch":[{"ErrorEquals":["Rejected"],"ResultPath":"$.rejected","Next":"Caught"}],
         "Next":"Done"},
  "Caught":{"Type":"Pass","End":true},
  "Done":{"Type":"Pass","End":true}}}"#;

/// The same with a heartbeat of 2 s and a timeout of 30 s.
const HEARTBEAT: &str = r#"{"StartAt":"Ask","States":{
  "Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
         "HeartbeatSeconds":2,"TimeoutSeconds":30,
         "Parameters":{"FunctionName":"echo","Payload":{"token.$":"$$.Task.Token"}},
         "End":true}}}"#;

async fn daemon_with_lambda() -> (TestDaemon, FakeLambda) {
    let lambda = FakeLambda::start().await;
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &lambda.endpoint())]).await;
    (daemon, lambda)
}

/// The tokens `echo` received, by the `id` of the execution's input.
async fn tokens(lambda: &FakeLambda, n: usize) -> Vec<(Value, String)> {
    eventually(
        "every token to reach the function",
        Duration::from_secs(30),
        || async {
            let calls = lambda.calls_to("echo");
            (calls.len() >= n).then(|| {
                calls
                    .iter()
                    .filter_map(|c| {
                        let body: Value = serde_json::from_str(&c.body).ok()?;
                        Some((body["input"].clone(), body["token"].as_str()?.to_owned()))
                    })
                    .collect()
            })
        },
    )
    .await
}

async fn succeed(sfn: &Client, token: &str, output: &str) -> Result<(), String> {
    sfn.send_task_success()
        .task_token(token)
        .output(output)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

#[tokio::test]
async fn a_token_sent_after_a_sigkill_and_restart_completes_its_execution() {
    let (mut daemon, lambda) = daemon_with_lambda().await;
    let sm = create(&daemon.sfn(), "callback", CALLBACK).await;
    let arn = start(&daemon.sfn(), &sm, "one", r#"{"id":1}"#).await;
    let token = tokens(&lambda, 1).await.remove(0).1;
    // The call answered: the task is submitted and waits.
    eventually("TaskSubmitted", Duration::from_secs(10), || async {
        let events = history(&daemon.sfn(), &arn).await;
        types(&events)
            .contains(&HistoryEventType::TaskSubmitted)
            .then_some(())
    })
    .await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        describe(&sfn, &arn).await.status(),
        &ExecutionStatus::Running
    );
    succeed(&sfn, &token, r#"{"approved":true}"#)
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        describe(&sfn, &arn).await.output(),
        Some(r#"{"approved":true}"#)
    );
    let events = history(&sfn, &arn).await;
    assert_eq!(
        types(&events),
        vec![
            HistoryEventType::ExecutionStarted,
            HistoryEventType::TaskStateEntered,
            HistoryEventType::TaskScheduled,
            HistoryEventType::TaskStarted,
            HistoryEventType::TaskSubmitted,
            HistoryEventType::TaskSucceeded,
            HistoryEventType::TaskStateExited,
            HistoryEventType::PassStateEntered,
            HistoryEventType::PassStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );
    let scheduled = events[2]
        .task_scheduled_event_details()
        .expect("scheduled details");
    assert_eq!(scheduled.resource(), "invoke.waitForTaskToken");
    assert_eq!(scheduled.resource_type(), "lambda");
    // Used once: a second answer is refused as AWS refuses it.
    assert_eq!(
        succeed(&sfn, &token, "{}").await,
        Err("TaskTimedOut".to_owned())
    );
    assert_eq!(lambda.calls_to("echo").len(), 1, "the call was made once");
}

#[tokio::test]
async fn a_thousand_executions_waiting_on_tokens_survive_a_restart_and_all_complete() {
    const N: usize = 1_000;
    let (mut daemon, lambda) = daemon_with_lambda().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "many", CALLBACK).await;
    let mut arns = Vec::with_capacity(N);
    for chunk in (0..N).collect::<Vec<_>>().chunks(50) {
        let started = crate::support::join_all(chunk.iter().map(|&i| {
            let (sfn, sm) = (sfn.clone(), sm.clone());
            tokio::spawn(async move {
                start(&sfn, &sm, &format!("e{i}"), &format!(r#"{{"id":{i}}}"#)).await
            })
        }))
        .await;
        arns.extend(started.into_iter().map(|r| r.expect("start task")));
    }
    let tokens = tokens(&lambda, N).await;
    daemon.restart().await;
    let sfn = daemon.sfn();
    for chunk in tokens.chunks(50) {
        let sent = crate::support::join_all(chunk.iter().map(|(input, token)| {
            let (sfn, token) = (sfn.clone(), token.clone());
            let output = serde_json::json!({ "done": input["id"] }).to_string();
            tokio::spawn(async move { succeed(&sfn, &token, &output).await })
        }))
        .await;
        assert!(sent.iter().all(|r| matches!(r, Ok(Ok(())))), "{sent:?}");
    }
    for arn in &arns {
        assert_eq!(
            finished(&sfn, arn, Duration::from_secs(30)).await,
            ExecutionStatus::Succeeded
        );
    }
    // Each got its own answer.
    for (i, arn) in arns.iter().enumerate().step_by(97) {
        let out: Value = serde_json::from_str(describe(&sfn, arn).await.output().expect("output"))
            .expect("json");
        assert_eq!(out["done"], i, "{arn}");
    }
}

#[tokio::test]
async fn heartbeats_keep_a_task_alive_and_a_missed_one_fails_it() {
    let (daemon, lambda) = daemon_with_lambda().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "heartbeat", HEARTBEAT).await;
    let kept = start(&sfn, &sm, "kept", "{}").await;
    let token = tokens(&lambda, 1).await.remove(0).1;
    let missed = start(&sfn, &sm, "missed", "{}").await;
    // Five heartbeats a second apart: well past the 2 s heartbeat.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sfn.send_task_heartbeat()
            .task_token(&token)
            .send()
            .await
            .expect("SendTaskHeartbeat");
    }
    assert_eq!(
        describe(&sfn, &kept).await.status(),
        &ExecutionStatus::Running
    );
    succeed(&sfn, &token, r#""late but alive""#)
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &kept, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    // The other sent none: it failed when its heartbeat ran out.
    assert_eq!(
        finished(&sfn, &missed, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &missed).await;
    assert_eq!(d.error(), Some("States.Timeout"));
    let events = history(&sfn, &missed).await;
    let started = events
        .iter()
        .find(|e| e.r#type() == &HistoryEventType::TaskStarted)
        .expect("TaskStarted");
    let timed_out = events
        .iter()
        .find(|e| e.r#type() == &HistoryEventType::TaskTimedOut)
        .expect("TaskTimedOut");
    let waited = crate::support::sfn::event_ms(timed_out) - crate::support::sfn::event_ms(started);
    assert!(
        (2_000..4_000).contains(&waited),
        "the heartbeat ran out after {waited} ms, not 2 s"
    );
    assert_eq!(
        timed_out.task_timed_out_event_details().map(|d| d.error()),
        Some(Some("States.Timeout"))
    );
}

#[tokio::test]
async fn bad_tokens_and_outputs_get_aws_errors_and_a_failure_is_caught() {
    let (daemon, lambda) = daemon_with_lambda().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "errors", CALLBACK).await;
    let arn = start(&sfn, &sm, "e", r#"{"id":7}"#).await;
    let token = tokens(&lambda, 1).await.remove(0).1;

    assert_eq!(
        succeed(&sfn, "not-a-token", "{}").await,
        Err("InvalidToken".to_owned())
    );
    // A well-formed token whose tag is wrong.
    let mut forged = token.clone();
    forged.truncate(token.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(
        succeed(&sfn, &forged, "{}").await,
        Err("InvalidToken".to_owned())
    );
    assert_eq!(
        succeed(&sfn, &token, "not json").await,
        Err("InvalidOutput".to_owned())
    );
    let big = format!(r#""{}""#, "x".repeat(262_144));
    assert_eq!(
        succeed(&sfn, &token, &big).await,
        Err("ValidationException".to_owned())
    );
    let empty = sfn.send_task_heartbeat().task_token("").send().await;
    assert_eq!(
        empty.err().and_then(|e| e.code().map(str::to_owned)),
        Some("ValidationException".to_owned())
    );
    // Nothing above touched the execution.
    assert_eq!(
        describe(&sfn, &arn).await.status(),
        &ExecutionStatus::Running
    );

    sfn.send_task_failure()
        .task_token(&token)
        .error("Rejected")
        .cause("not today")
        .send()
        .await
        .expect("SendTaskFailure");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let out: Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().expect("output")).expect("json");
    assert_eq!(out["rejected"]["Error"], "Rejected");
    assert_eq!(out["rejected"]["Cause"], "not today");
    let events = history(&sfn, &arn).await;
    let failed = events
        .iter()
        .find(|e| e.r#type() == &HistoryEventType::TaskFailed)
        .and_then(|e| e.task_failed_event_details())
        .expect("TaskFailed");
    assert_eq!(failed.resource(), "invoke.waitForTaskToken");
    assert_eq!(failed.error(), Some("Rejected"));
    // The execution ended: its token is over.
    let late = sfn.send_task_heartbeat().task_token(&token).send().await;
    assert_eq!(
        late.err().and_then(|e| e.code().map(str::to_owned)),
        Some("TaskTimedOut".to_owned())
    );
}

#[tokio::test]
async fn a_retried_task_hands_out_a_new_token_and_the_old_one_is_over() {
    const RETRIED: &str = r#"{"StartAt":"Ask","States":{
      "Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
             "Parameters":{"FunctionName":"echo","Payload":{"token.$":"$$.Task.Token","try.$":"$$.State.RetryCount"}},
             "Retry":[{"ErrorEquals":["Again"],"IntervalSeconds":1,"MaxAttempts":1}],
             "End":true}}}"#;
    let (daemon, lambda) = daemon_with_lambda().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "retried", RETRIED).await;
    let arn = start(&sfn, &sm, "r", "{}").await;
    let first = tokens(&lambda, 1).await.remove(0).1;
    sfn.send_task_failure()
        .task_token(&first)
        .error("Again")
        .send()
        .await
        .expect("SendTaskFailure");
    let calls = eventually(
        "the second attempt's call",
        Duration::from_secs(10),
        || async {
            let calls = lambda.calls_to("echo");
            (calls.len() == 2).then_some(calls)
        },
    )
    .await;
    let second: Value = serde_json::from_str(&calls[1].body).expect("json");
    let second_token = second["token"].as_str().expect("token").to_owned();
    assert_ne!(second_token, first, "each attempt has a token of its own");
    assert_eq!(second["try"], 1, "the parameters were evaluated again");
    assert_eq!(
        succeed(&sfn, &first, "{}").await,
        Err("TaskTimedOut".to_owned()),
        "the first attempt is over"
    );
    succeed(&sfn, &second_token, r#"{"second":true}"#)
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        describe(&sfn, &arn).await.output(),
        Some(r#"{"second":true}"#)
    );
}

#[tokio::test]
async fn tokens_of_parallel_branches_are_answered_separately_and_a_stop_ends_them() {
    const BRANCHES: &str = r#"{"StartAt":"Both","States":{"Both":{"Type":"Parallel","End":true,
      "Branches":[
        {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
          "Parameters":{"FunctionName":"echo","Payload":{"token.$":"$$.Task.Token","input":"a"}},"End":true}}},
        {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
          "Parameters":{"FunctionName":"echo","Payload":{"token.$":"$$.Task.Token","input":"b"}},"End":true}}}]}}}"#;
    let (daemon, lambda) = daemon_with_lambda().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "branches", BRANCHES).await;
    let arn = start(&sfn, &sm, "p", "{}").await;
    let mut got = tokens(&lambda, 2).await;
    got.sort_by_key(|(input, _)| input.as_str().unwrap_or_default().to_owned());
    succeed(&sfn, &got[1].1, r#""from b""#).await.expect("b");
    assert_eq!(
        describe(&sfn, &arn).await.status(),
        &ExecutionStatus::Running
    );
    succeed(&sfn, &got[0].1, r#""from a""#).await.expect("a");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        describe(&sfn, &arn).await.output(),
        Some(r#"["from a","from b"]"#)
    );

    // A stopped execution's tokens are over.
    let stopped = start(&sfn, &sm, "s", "{}").await;
    let waiting = tokens(&lambda, 4).await;
    sfn.stop_execution()
        .execution_arn(&stopped)
        .send()
        .await
        .expect("stop");
    for (_, token) in &waiting[2..] {
        assert_eq!(
            succeed(&sfn, token, "{}").await,
            Err("TaskTimedOut".to_owned())
        );
    }
}

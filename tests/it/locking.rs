//! Executions and their state machines changing at once: deletes racing stops and firings,
//! updates racing starts. Nothing hangs, and every execution runs the revision that was
//! current when its start was acknowledged.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;

use crate::support::api::code_and_message;
use crate::support::sfn::{create, start};
use crate::support::{eventually, join_all, TestDaemon, ROLE_ARN};

const WAIT_AN_HOUR: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

/// Wait until DescribeStateMachine says the machine does not exist.
async fn machine_gone(sfn: &aws_sdk_sfn::Client, sm: &str, timeout: Duration) {
    eventually("the state machine to disappear", timeout, || {
        let sfn = sfn.clone();
        let sm = sm.to_owned();
        async move {
            match sfn
                .describe_state_machine()
                .state_machine_arn(sm)
                .send()
                .await
            {
                Ok(_) => None,
                Err(e) => {
                    let (code, _) = code_and_message(&e);
                    (code == "StateMachineDoesNotExist").then_some(())
                }
            }
        }
    })
    .await;
}

/// `m948`'s lock and its first execution's fell in the same stripe when both kinds of lock
/// shared one array: ending the execution while the machine was DELETING waited on itself.
#[tokio::test]
async fn stopping_the_last_execution_of_a_deleting_machine_deletes_it_without_hanging() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "m948", WAIT_AN_HOUR).await;
    let exec = start(&sfn, &sm, "first", "{}").await;
    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");
    tokio::time::timeout(
        Duration::from_secs(5),
        sfn.stop_execution().execution_arn(&exec).send(),
    )
    .await
    .expect("StopExecution answers within 5 s")
    .expect("stop");
    machine_gone(&sfn, &sm, Duration::from_secs(5)).await;
    tokio::time::timeout(Duration::from_secs(5), create(&sfn, "m948", WAIT_AN_HOUR))
        .await
        .expect("CreateStateMachine answers within 5 s");
    let status = daemon.terminate_within(Duration::from_secs(5));
    assert!(status.success(), "SIGTERM exit: {status}");
}

#[tokio::test]
async fn deleting_a_machine_while_3000_of_its_executions_are_stopped_and_fire_ends_them_all() {
    let mut daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "crowded",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#,
    )
    .await;
    // Deadlines spread over the next three seconds, so firings overlap the stops.
    let mut handles = Vec::new();
    for client in 0..32 {
        let sfn = sfn.clone();
        let sm = sm.clone();
        handles.push(tokio::spawn(async move {
            let mut arns = Vec::new();
            for i in (client..3000).step_by(32) {
                let input = format!(r#"{{"s":{}}}"#, 1 + i % 3);
                arns.push(start(&sfn, &sm, &format!("e{i}"), &input).await);
            }
            arns
        }));
    }
    let arns: Vec<String> = join_all(handles)
        .await
        .into_iter()
        .flat_map(|r| r.expect("starter"))
        .collect();
    assert_eq!(arns.len(), 3000);
    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");
    // Stop every other one while the rest fire.
    let mut stops = Vec::new();
    for chunk in arns.chunks(200) {
        let sfn = sfn.clone();
        let chunk: Vec<String> = chunk.iter().step_by(2).cloned().collect();
        stops.push(tokio::spawn(async move {
            for arn in chunk {
                let answered = tokio::time::timeout(
                    Duration::from_secs(10),
                    sfn.stop_execution().execution_arn(&arn).send(),
                )
                .await;
                let Ok(stopped) = answered else {
                    panic!("StopExecution of {arn} hung");
                };
                stopped.expect("stop");
            }
        }));
    }
    for r in join_all(stops).await {
        r.expect("stopper");
    }
    for arn in &arns {
        let status = crate::support::sfn::finished(&sfn, arn, Duration::from_secs(20)).await;
        assert!(
            matches!(
                status,
                ExecutionStatus::Succeeded | ExecutionStatus::Aborted
            ),
            "{arn}: {status:?}"
        );
    }
    machine_gone(&sfn, &sm, Duration::from_secs(5)).await;
    let status = daemon.terminate_within(Duration::from_secs(5));
    assert!(status.success(), "SIGTERM exit: {status}");
}

/// A Pass machine whose output names its revision. The long comment makes reading the
/// machine slow enough that a stale read can land after an update has committed.
fn revision_definition(k: usize) -> String {
    let padding = "x".repeat(200_000);
    format!(
        r#"{{"Comment":"{padding}","StartAt":"P","States":{{"P":{{"Type":"Pass","Result":{{"rev":{k}}},"End":true}}}}}}"#
    )
}

#[tokio::test]
async fn every_execution_runs_the_revision_current_when_its_start_was_acknowledged() {
    const UPDATES: usize = 200;
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "revisions", &revision_definition(0)).await;
    // When each update was sent and acknowledged (index k: revision k; 0 is the creation).
    let origin = Instant::now();
    let updates: Arc<Mutex<Vec<(Duration, Duration)>>> =
        Arc::new(Mutex::new(vec![(Duration::ZERO, origin.elapsed())]));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut starters = Vec::new();
    for client in 0..16 {
        let (sfn, sm, done) = (sfn.clone(), sm.clone(), done.clone());
        starters.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut i = 0;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let sent = origin.elapsed();
                let out = sfn
                    .start_execution()
                    .state_machine_arn(&sm)
                    .name(format!("c{client}-{i}"))
                    .send()
                    .await
                    .expect("start");
                seen.push((out.execution_arn().to_owned(), sent, origin.elapsed()));
                i += 1;
            }
            seen
        }));
    }
    for k in 1..=UPDATES {
        let sent = origin.elapsed();
        sfn.update_state_machine()
            .state_machine_arn(&sm)
            .definition(revision_definition(k))
            .role_arn(ROLE_ARN)
            .send()
            .await
            .expect("update");
        updates
            .lock()
            .expect("updates")
            .push((sent, origin.elapsed()));
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let mut seen: Vec<(String, Duration, Duration)> = join_all(starters)
        .await
        .into_iter()
        .flat_map(|r| r.expect("starter"))
        .collect();
    // Starts after the last update must all see it.
    for i in 0..50 {
        let sent = origin.elapsed();
        let arn = start(&sfn, &sm, &format!("after-{i}"), "{}").await;
        seen.push((arn, sent, origin.elapsed()));
    }
    let updates = updates.lock().expect("updates").clone();
    let mut checked = 0;
    for (arn, sent, acked) in &seen {
        let out = crate::support::sfn::describe(&sfn, arn).await;
        let output: serde_json::Value =
            serde_json::from_str(out.output().unwrap_or("null")).expect("output");
        let k = output["rev"].as_u64().expect("rev") as usize;
        // Revision k was current at some moment between the start's request and its answer:
        // update k had begun before the answer, and update k+1 had not ended before the request.
        assert!(
            updates[k].0 <= *acked,
            "{arn} ran revision {k}, whose update was sent after the start was acknowledged"
        );
        if let Some(next) = updates.get(k + 1) {
            assert!(
                next.1 >= *sent,
                "{arn} ran revision {k} though revision {} was acknowledged before the start was sent",
                k + 1
            );
        }
        checked += 1;
    }
    assert!(checked > UPDATES, "only {checked} starts were checked");
}

//! What survives a restart: state machines, closed executions with their histories, and
//! waiting executions, which then complete exactly once and not before their deadline.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType, Tag};
use aws_sdk_sfn::Client;

use crate::support::sfn::{create, finished, history, start};
use crate::support::TestDaemon;

const SUCCEEDS: &str = r#"{"StartAt":"Init","States":{"Init":{"Type":"Pass","Result":{"go":true},"Next":"Decide"},"Decide":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"Done"}],"Default":"Done"},"Done":{"Type":"Succeed"}}}"#;
const FAILS: &str =
    r#"{"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"Broken","Cause":"on purpose"}}}"#;
const WAITS_LONG: &str =
    r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":600,"End":true}}}"#;
/// The wait of the waiting-execution tests, in seconds.
const WAIT_SECONDS: i64 = 3;
const WAITS_THREE_SECONDS: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3,"Next":"Done"},"Done":{"Type":"Pass","End":true}}}"#;

/// Everything the API shows about one state machine and its executions.
#[derive(Debug, PartialEq)]
struct MachineView {
    arn: String,
    name: String,
    status: Option<String>,
    definition: String,
    role_arn: String,
    creation_date: aws_sdk_sfn::primitives::DateTime,
    tags: Vec<(String, String)>,
    executions: Vec<ExecutionView>,
}

#[derive(Debug, PartialEq)]
struct ExecutionView {
    arn: String,
    name: Option<String>,
    status: ExecutionStatus,
    input: Option<String>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
    start_date: aws_sdk_sfn::primitives::DateTime,
    stop_date: Option<aws_sdk_sfn::primitives::DateTime>,
    history: Vec<HistoryEvent>,
}

/// Read every machine, its tags, its executions and their histories through the API.
async fn view(sfn: &Client) -> Vec<MachineView> {
    let machines = sfn
        .list_state_machines()
        .send()
        .await
        .expect("list state machines");
    let mut views = Vec::new();
    for item in machines.state_machines() {
        let arn = item.state_machine_arn();
        let d = sfn
            .describe_state_machine()
            .state_machine_arn(arn)
            .send()
            .await
            .expect("describe state machine");
        let tags = sfn
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("list tags")
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let listed = sfn
            .list_executions()
            .state_machine_arn(arn)
            .send()
            .await
            .expect("list executions");
        let mut executions = Vec::new();
        for e in listed.executions() {
            let x = sfn
                .describe_execution()
                .execution_arn(e.execution_arn())
                .send()
                .await
                .expect("describe execution");
            executions.push(ExecutionView {
                arn: x.execution_arn().to_owned(),
                name: x.name().map(str::to_owned),
                status: x.status().clone(),
                input: x.input().map(str::to_owned),
                output: x.output().map(str::to_owned),
                error: x.error().map(str::to_owned),
                cause: x.cause().map(str::to_owned),
                start_date: *x.start_date(),
                stop_date: x.stop_date().copied(),
                history: history(sfn, x.execution_arn()).await,
            });
        }
        views.push(MachineView {
            arn: d.state_machine_arn().to_owned(),
            name: d.name().to_owned(),
            status: d.status().map(|s| s.as_str().to_owned()),
            definition: d.definition().to_owned(),
            role_arn: d.role_arn().to_owned(),
            creation_date: *d.creation_date(),
            tags,
            executions,
        });
    }
    views
}

/// Machines with a succeeded, a failed and an aborted execution, all closed; returns the view.
async fn closed_executions(sfn: &Client) -> Vec<MachineView> {
    let ok = create(sfn, "succeeds", SUCCEEDS).await;
    let bad = create(sfn, "fails", FAILS).await;
    let long = create(sfn, "waits", WAITS_LONG).await;
    sfn.tag_resource()
        .resource_arn(&ok)
        .tags(Tag::builder().key("team").value("orders").build())
        .send()
        .await
        .expect("tag");
    let succeeded = start(sfn, &ok, "ok", r#"{"order":1}"#).await;
    let failed = start(sfn, &bad, "bad", "{}").await;
    let aborted = start(sfn, &long, "stopped", "{}").await;
    sfn.stop_execution()
        .execution_arn(&aborted)
        .error("Stopped")
        .cause("by the test")
        .send()
        .await
        .expect("stop");
    assert_eq!(
        finished(sfn, &succeeded, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        finished(sfn, &failed, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let before = view(sfn).await;
    assert_eq!(before.len(), 3, "three machines");
    assert!(
        before
            .iter()
            .all(|m| m.executions.len() == 1 && !m.executions[0].history.is_empty()),
        "one execution with a history each: {before:#?}"
    );
    before
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since.as_millis()).expect("milliseconds fit in i64")
}

fn millis(e: &HistoryEvent) -> i64 {
    let t = e.timestamp();
    t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000)
}

fn only(events: &[HistoryEvent], t: HistoryEventType) -> &HistoryEvent {
    let found: Vec<&HistoryEvent> = events.iter().filter(|e| e.r#type() == &t).collect();
    match found[..] {
        [one] => one,
        _ => panic!(
            "expected exactly one {t:?}, found {}: {events:#?}",
            found.len()
        ),
    }
}

/// Start a three-second wait, restart the daemon part way (SIGKILL or SIGTERM), and check that
/// the execution completes once, and not before its deadline.
async fn waiting_execution_survives(daemon: &mut TestDaemon, sigkill: bool) {
    let sfn = daemon.sfn();
    let sm = create(&sfn, "sleeper", WAITS_THREE_SECONDS).await;
    let arn = start(&sfn, &sm, "run", r#"{"n":1}"#).await;
    // Arrangement, not an outcome: let the restart fall inside the wait.
    tokio::time::sleep(Duration::from_secs(1)).await;

    if sigkill {
        daemon.kill9();
    } else {
        let status = daemon.terminate();
        assert!(status.success(), "daemon exited with {status} on SIGTERM");
    }
    let stopped_ms = now_ms();
    daemon.start_again();

    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    let events = history(&sfn, &arn).await;
    only(&events, HistoryEventType::ExecutionSucceeded);
    let entered = millis(only(&events, HistoryEventType::WaitStateEntered));
    let exited = millis(only(&events, HistoryEventType::WaitStateExited));
    assert!(
        exited - entered >= WAIT_SECONDS * 1000,
        "the wait ended {} ms after it began, before its {WAIT_SECONDS} s",
        exited - entered
    );
    assert!(
        exited >= stopped_ms,
        "the wait ended at {exited}, before the first daemon stopped at {stopped_ms}: the restart did not fall inside it"
    );
    let ids: Vec<i64> = events.iter().map(HistoryEvent::id).collect();
    assert_eq!(
        ids,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "contiguous ids"
    );
    let d = sfn
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("describe when done");
    assert_eq!(d.output(), Some(r#"{"n":1}"#));
}

#[tokio::test]
async fn state_machines_and_closed_executions_with_their_histories_survive_a_sigterm_restart() {
    let mut daemon = TestDaemon::start().await;
    let before = closed_executions(&daemon.sfn()).await;

    daemon.restart().await;

    assert_eq!(view(&daemon.sfn()).await, before);
}

#[tokio::test]
async fn state_machines_and_closed_executions_with_their_histories_survive_a_sigkill() {
    let mut daemon = TestDaemon::start().await;
    let before = closed_executions(&daemon.sfn()).await;

    daemon.kill9_and_restart().await;

    assert_eq!(view(&daemon.sfn()).await, before);
}

#[tokio::test]
async fn a_waiting_execution_survives_a_sigterm_restart_and_completes_once_not_early() {
    let mut daemon = TestDaemon::start().await;

    waiting_execution_survives(&mut daemon, false).await;
}

#[tokio::test]
async fn a_waiting_execution_survives_a_sigkill_and_completes_once_not_early() {
    let mut daemon = TestDaemon::start().await;

    waiting_execution_survives(&mut daemon, true).await;
}

#[tokio::test]
async fn a_restarted_daemon_accepts_new_work_on_old_state_machines() {
    let mut daemon = TestDaemon::start().await;
    let sm = create(&daemon.sfn(), "reused", SUCCEEDS).await;

    daemon.restart().await;

    let sfn = daemon.sfn();
    let arn = start(&sfn, &sm, "after-restart", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
}

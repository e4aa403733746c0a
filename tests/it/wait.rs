//! Durable Wait states seen from outside: scaled waits, timestamps, stops, timeouts, restarts.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};

use crate::support::sfn::{create, describe, finished, history, start};
use crate::support::TestDaemon;

fn millis(e: &HistoryEvent) -> i64 {
    let t = e.timestamp();
    t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000)
}

fn find(events: &[HistoryEvent], t: HistoryEventType) -> &HistoryEvent {
    events
        .iter()
        .find(|e| e.r#type() == &t)
        .unwrap_or_else(|| panic!("no {t:?} event"))
}

#[tokio::test]
async fn a_three_day_wait_scaled_down_survives_a_sigterm_restart_and_fires_once_not_early() {
    // 259 200 s × 0.00002 = 5.184 s.
    let mut daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "0.00002")]).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "three-days",
        r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":259200,"Next":"Done"},"Done":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "run", r#"{"n":1}"#).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    daemon.restart().await;
    let sfn = daemon.sfn();
    let d = describe(&sfn, &arn).await;
    assert_eq!(
        d.status(),
        &ExecutionStatus::Running,
        "still waiting after the restart"
    );
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    let events = history(&sfn, &arn).await;
    let entered = millis(find(&events, HistoryEventType::WaitStateEntered));
    let exited = millis(find(&events, HistoryEventType::WaitStateExited));
    assert!(
        exited - entered >= 5_184,
        "the wait ended {} ms after it began, before its 5184 ms deadline",
        exited - entered
    );
    let succeeded = events
        .iter()
        .filter(|e| e.r#type() == &HistoryEventType::ExecutionSucceeded)
        .count();
    assert_eq!(succeeded, 1, "exactly one terminal event");
}

#[tokio::test]
async fn a_timestamp_wait_ends_at_its_timestamp() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "until",
        r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","TimestampPath":"$.at","End":true}}}"#,
    )
    .await;
    let due = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let due_ms = (due.unix_timestamp_nanos() / 1_000_000) as i64;
    let at = due
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let arn = start(&sfn, &sm, "at", &format!(r#"{{"at":"{at}"}}"#)).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(15)).await,
        ExecutionStatus::Succeeded
    );
    let events = history(&sfn, &arn).await;
    let exited = millis(find(&events, HistoryEventType::WaitStateExited));
    assert!(
        exited >= due_ms,
        "exited {exited} before the timestamp {due_ms}"
    );
}

#[tokio::test]
async fn stopping_a_waiting_execution_aborts_it_and_its_timer_never_fires() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "stop-me",
        r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":1,"Next":"Done"},"Done":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "run", "{}").await;
    sfn.stop_execution()
        .execution_arn(&arn)
        .error("Stopped")
        .cause("by the test")
        .send()
        .await
        .expect("stop");
    // Past the original deadline: nothing may have run after the abort.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let d = describe(&sfn, &arn).await;
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    assert_eq!(
        types,
        [
            HistoryEventType::ExecutionStarted,
            HistoryEventType::WaitStateEntered,
            HistoryEventType::ExecutionAborted
        ]
    );
}

#[tokio::test]
async fn an_execution_timeout_during_a_wait_times_out_across_a_crash() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "too-slow",
        r#"{"StartAt":"Wait","TimeoutSeconds":2,"States":{"Wait":{"Type":"Wait","Seconds":60,"End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "run", "{}").await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(15)).await,
        ExecutionStatus::TimedOut
    );
    let events = history(&sfn, &arn).await;
    let started = millis(find(&events, HistoryEventType::ExecutionStarted));
    let timed_out = find(&events, HistoryEventType::ExecutionTimedOut);
    assert!(millis(timed_out) - started >= 2_000, "timed out early");
    assert_eq!(
        timed_out
            .execution_timed_out_event_details()
            .and_then(|d| d.error()),
        Some("States.Timeout")
    );
}

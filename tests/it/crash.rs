//! Crash consistency of waits: SIGKILL the daemon while thousands of executions are waiting.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use tokio::sync::Semaphore;

use crate::support::TestDaemon;
use crate::wait::{create, history, start};

const EXECUTIONS: usize = 2_000;

#[tokio::test]
async fn two_thousand_waits_survive_a_sigkill_none_lost_none_early_none_twice() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "crash",
        r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","TimestampPath":"$.due","Next":"Done"},"Done":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    // Deadlines spread over 1.5 .. 5.5 s from now.
    let base = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1_500);
    let permits = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(EXECUTIONS);
    for i in 0..EXECUTIONS {
        let due = base + time::Duration::milliseconds((i as i64 * 4_000) / EXECUTIONS as i64);
        let due_ms = (due.unix_timestamp_nanos() / 1_000_000) as i64;
        let at = due
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let sfn = sfn.clone();
        let sm = sm.clone();
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _p = permits.acquire().await.expect("permit");
            let arn = start(&sfn, &sm, &format!("e{i}"), &format!(r#"{{"due":"{at}"}}"#)).await;
            (arn, due_ms)
        }));
    }
    let mut acknowledged = Vec::with_capacity(EXECUTIONS);
    for t in tasks {
        acknowledged.push(t.await.expect("start task"));
    }
    // Part way through the firing window.
    let kill_at = base + time::Duration::milliseconds(1_500);
    let wait = kill_at - time::OffsetDateTime::now_utc();
    if wait.is_positive() {
        tokio::time::sleep(Duration::from_millis(wait.whole_milliseconds() as u64)).await;
    }
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();

    // Every acknowledged execution completes.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut pending: HashSet<String> = acknowledged.iter().map(|(a, _)| a.clone()).collect();
    while !pending.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} executions never finished",
            pending.len()
        );
        let mut token = None;
        loop {
            let page = sfn
                .list_executions()
                .state_machine_arn(&sm)
                .status_filter(ExecutionStatus::Succeeded)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .expect("list");
            for e in page.executions() {
                pending.remove(e.execution_arn());
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // None early, one terminal event each, ids contiguous.
    for (arn, due_ms) in &acknowledged {
        let events = history(&sfn, arn).await;
        let exited = events
            .iter()
            .find(|e| e.r#type() == &HistoryEventType::WaitStateExited)
            .unwrap_or_else(|| panic!("{arn}: no WaitStateExited"));
        let t = exited.timestamp();
        let exited_ms = t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000);
        assert!(
            exited_ms >= *due_ms,
            "{arn} fired {} ms early",
            due_ms - exited_ms
        );
        let terminal = events
            .iter()
            .filter(|e| {
                matches!(
                    e.r#type(),
                    HistoryEventType::ExecutionSucceeded
                        | HistoryEventType::ExecutionFailed
                        | HistoryEventType::ExecutionAborted
                        | HistoryEventType::ExecutionTimedOut
                )
            })
            .count();
        assert_eq!(terminal, 1, "{arn}: {terminal} terminal events");
        let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
        let want: Vec<i64> = (1..=events.len() as i64).collect();
        assert_eq!(ids, want, "{arn}: history ids not contiguous");
    }
}

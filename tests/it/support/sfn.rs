//! Step Functions calls every test makes, through `aws-sdk-sfn`: create a machine, start an
//! execution, describe it, wait for its end, read its whole history.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use aws_sdk_sfn::Client;

use super::{eventually, ROLE_ARN};

/// A new activity's ARN.
pub async fn activity(sfn: &Client, name: &str) -> String {
    sfn.create_activity()
        .name(name)
        .send()
        .await
        .expect("create activity")
        .activity_arn()
        .to_owned()
}

pub async fn create(sfn: &Client, name: &str, definition: &str) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create state machine")
        .state_machine_arn()
        .to_owned()
}

pub async fn start(sfn: &Client, sm: &str, name: &str, input: &str) -> String {
    sfn.start_execution()
        .state_machine_arn(sm)
        .name(name)
        .input(input)
        .send()
        .await
        .expect("start execution")
        .execution_arn()
        .to_owned()
}

pub async fn describe(
    sfn: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    sfn.describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe {arn}: {e:?}"))
}

/// Wait until the execution is no longer RUNNING and return its status.
pub async fn finished(sfn: &Client, arn: &str, timeout: Duration) -> ExecutionStatus {
    eventually("the execution to finish", timeout, || {
        let sfn = sfn.clone();
        let arn = arn.to_owned();
        async move {
            let d = sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .ok()?;
            (d.status() != &ExecutionStatus::Running).then(|| d.status().clone())
        }
    })
    .await
}

pub async fn history(sfn: &Client, arn: &str) -> Vec<HistoryEvent> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .expect("history");
        events.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return events;
        }
    }
}

/// The ARNs of `sm`'s executions with `status`, every page.
pub async fn list_with_status(sfn: &Client, sm: &str, status: ExecutionStatus) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(sm)
            .status_filter(status.clone())
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .expect("list executions");
        out.extend(
            page.executions()
                .iter()
                .map(|e| e.execution_arn().to_owned()),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

/// Wait until every execution of `arns` (all of `sm`) has SUCCEEDED; panics naming how many
/// have not after `timeout`. `sfn` is asked again each round, so it may change.
pub async fn all_succeed(
    mut sfn: impl FnMut() -> Client,
    sm: &str,
    arns: impl IntoIterator<Item = String>,
    timeout: Duration,
) {
    let deadline = std::time::Instant::now() + timeout;
    let mut pending: std::collections::HashSet<String> = arns.into_iter().collect();
    loop {
        for arn in list_with_status(&sfn(), sm, ExecutionStatus::Succeeded).await {
            pending.remove(&arn);
        }
        if pending.is_empty() {
            return;
        }
        if std::time::Instant::now() >= deadline {
            let mut shown = String::new();
            for arn in pending.iter().take(3) {
                shown.push_str(&format!("\n{arn}: {}", where_it_is(&sfn(), arn).await));
            }
            panic!(
                "{} executions did not succeed within {timeout:?}, e.g.{shown}",
                pending.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// An execution's status and its last three events, for a failure message.
async fn where_it_is(sfn: &Client, arn: &str) -> String {
    let status = match sfn.describe_execution().execution_arn(arn).send().await {
        Ok(d) => format!("{:?}", d.status()),
        Err(e) => return format!("describe failed: {e:?}"),
    };
    let events = history(sfn, arn).await;
    let last: Vec<String> = events
        .iter()
        .rev()
        .take(3)
        .map(|e| format!("{:?} at {} ms", e.r#type(), event_ms(e)))
        .collect();
    format!(
        "{status}, {} events, last: {}",
        events.len(),
        last.join(", ")
    )
}

/// Milliseconds since the Unix epoch of an event.
pub fn event_ms(e: &HistoryEvent) -> i64 {
    let t = e.timestamp();
    t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000)
}

/// Check what every durable history must hold: one terminal event, ids 1..=n without a gap,
/// and each state entered once at most exited once (nothing applied twice). When `due_ms` is
/// given, the Wait exits no earlier than it; returns how late it exited (ms), if it did.
pub fn check_history(arn: &str, events: &[HistoryEvent], due_ms: Option<i64>) -> Option<i64> {
    use aws_sdk_sfn::types::HistoryEventType as T;
    let terminal = events
        .iter()
        .filter(|e| super::is_terminal(e.r#type()))
        .count();
    assert_eq!(terminal, 1, "{arn}: {terminal} terminal events");
    let ids: Vec<i64> = events.iter().map(HistoryEvent::id).collect();
    let want: Vec<i64> = (1..=events.len() as i64).collect();
    assert_eq!(ids, want, "{arn}: history ids not contiguous");
    let count = |t: T| events.iter().filter(|e| *e.r#type() == t).count();
    assert!(
        count(T::WaitStateExited) <= count(T::WaitStateEntered)
            && count(T::TaskStateExited) <= count(T::TaskStateEntered),
        "{arn}: a state exited more often than entered"
    );
    let due_ms = due_ms?;
    let exited = events
        .iter()
        .find(|e| e.r#type() == &T::WaitStateExited)
        .unwrap_or_else(|| panic!("{arn}: no WaitStateExited"));
    let exited_ms = event_ms(exited);
    assert!(
        exited_ms >= due_ms,
        "{arn}: the Wait exited {} ms before its deadline",
        due_ms - exited_ms
    );
    Some(exited_ms - due_ms)
}

/// The types of these history events, in order.
pub fn types(events: &[HistoryEvent]) -> Vec<HistoryEventType> {
    events.iter().map(|e| e.r#type().clone()).collect()
}

/// The SDKs send StartSyncExecution and TestState to `sync-` + the endpoint's host, which does
/// not resolve for `127.0.0.1`: `.customize().mutate_request(unprefix)` takes the prefix off.
pub fn unprefix(req: &mut aws_sdk_sfn::config::http::HttpRequest) {
    let uri = req.uri().replace("://sync-", "://");
    let _ = req.set_uri(uri);
}

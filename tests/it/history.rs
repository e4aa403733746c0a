//! GetExecutionHistory: event order, ids, details, reverse order, paging, execution data.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType as T};
use aws_sdk_sfn::Client;

use crate::support::sfn::{create, finished, history, start};
use crate::support::TestDaemon;

/// Pass (answers `{"go": true}`) → Choice → Succeed. The rule and the default lead to the same
/// state, so the path does not depend on how the rule is evaluated.
const PASS_CHOICE_SUCCEED: &str = r#"{
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Result": {"go": true}, "Next": "Decide"},
    "Decide": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "Done"}],
      "Default": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
}"#;

const INPUT: &str = r#"{"order":42}"#;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The machine run once to success; returns its execution ARN.
async fn run(sfn: &Client) -> String {
    let sm = create(sfn, "history", PASS_CHOICE_SUCCEED).await;
    let arn = start(sfn, &sm, "run", INPUT).await;
    assert_eq!(
        finished(sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    arn
}

/// Every page of the history, `max_results` at a time; returns the pages.
async fn pages(sfn: &Client, arn: &str, max_results: i32, reverse: bool) -> Vec<Vec<HistoryEvent>> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .max_results(max_results)
            .reverse_order(reverse)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("a history page");
        pages.push(page.events().to_vec());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return pages;
        }
        assert!(pages.len() < 50, "the pages never end");
    }
}

fn ids(events: &[HistoryEvent]) -> Vec<i64> {
    events.iter().map(HistoryEvent::id).collect()
}

#[tokio::test]
async fn history_of_a_pass_choice_succeed_machine_lists_every_event_in_order() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = run(&sfn).await;

    let events = history(&sfn, &arn).await;

    let types: Vec<&T> = events.iter().map(HistoryEvent::r#type).collect();
    assert_eq!(
        types,
        [
            &T::ExecutionStarted,
            &T::PassStateEntered,
            &T::PassStateExited,
            &T::ChoiceStateEntered,
            &T::ChoiceStateExited,
            &T::SucceedStateEntered,
            &T::SucceedStateExited,
            &T::ExecutionSucceeded,
        ]
    );
    assert_eq!(ids(&events), (1..=8).collect::<Vec<i64>>(), "ids 1..n");
    // As on AWS, the first state's entry points back to 0, as ExecutionStarted does.
    let previous: Vec<i64> = events.iter().map(HistoryEvent::previous_event_id).collect();
    assert_eq!(previous, [0, 0, 2, 3, 4, 5, 6, 7], "previousEventId");
    for pair in events.windows(2) {
        assert!(
            pair[1].timestamp() >= pair[0].timestamp(),
            "timestamps never go back: {pair:?}"
        );
    }
}

#[tokio::test]
async fn history_events_carry_state_names_inputs_and_the_final_output() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = run(&sfn).await;
    let after_init = serde_json::json!({"go": true});

    let events = history(&sfn, &arn).await;

    let started = events[0]
        .execution_started_event_details()
        .expect("executionStartedEventDetails");
    assert_eq!(started.input().map(json), Some(json(INPUT)));
    assert_eq!(
        started.role_arn(),
        Some(crate::support::ROLE_ARN),
        "the role it runs as"
    );
    let entered: Vec<(&str, serde_json::Value)> = events
        .iter()
        .filter_map(HistoryEvent::state_entered_event_details)
        .map(|d| (d.name(), json(d.input().expect("a state input"))))
        .collect();
    assert_eq!(
        entered,
        [
            ("Init", json(INPUT)),
            ("Decide", after_init.clone()),
            ("Done", after_init.clone()),
        ]
    );
    let exited: Vec<(&str, serde_json::Value)> = events
        .iter()
        .filter_map(HistoryEvent::state_exited_event_details)
        .map(|d| (d.name(), json(d.output().expect("a state output"))))
        .collect();
    assert_eq!(
        exited,
        [
            ("Init", after_init.clone()),
            ("Decide", after_init.clone()),
            ("Done", after_init.clone()),
        ]
    );
    let succeeded = events[7]
        .execution_succeeded_event_details()
        .expect("executionSucceededEventDetails");
    assert_eq!(succeeded.output().map(json), Some(after_init));
}

#[tokio::test]
async fn history_in_reverse_order_is_the_same_events_newest_first() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = run(&sfn).await;
    let forward = history(&sfn, &arn).await;

    let reversed = sfn
        .get_execution_history()
        .execution_arn(&arn)
        .reverse_order(true)
        .send()
        .await
        .expect("history in reverse");

    let mut expected = forward;
    expected.reverse();
    assert_eq!(reversed.events(), expected);
    assert_eq!(reversed.next_token(), None);
}

#[tokio::test]
async fn history_pages_cover_every_event_exactly_once() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = run(&sfn).await;
    let all = history(&sfn, &arn).await;

    let pages = pages(&sfn, &arn, 3, false).await;

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 2], "page sizes");
    assert_eq!(
        pages.concat(),
        all,
        "the pages put together are the history"
    );
}

#[tokio::test]
async fn history_pages_in_reverse_order_cover_every_event_exactly_once() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = run(&sfn).await;
    let mut all = history(&sfn, &arn).await;
    all.reverse();

    let pages = pages(&sfn, &arn, 3, true).await;

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 2], "page sizes");
    assert_eq!(
        ids(&pages.concat()),
        ids(&all),
        "newest to oldest, once each"
    );
    assert_eq!(pages.concat(), all);
}

#[tokio::test]
async fn history_without_execution_data_has_no_inputs_or_outputs() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = run(&sfn).await;

    let out = sfn
        .get_execution_history()
        .execution_arn(&arn)
        .include_execution_data(false)
        .send()
        .await
        .expect("history without data");

    let events = out.events();
    assert_eq!(events.len(), 8, "the same events");
    let started = events[0]
        .execution_started_event_details()
        .expect("executionStartedEventDetails");
    assert_eq!(started.input(), None, "no execution input");
    for e in events {
        if let Some(d) = e.state_entered_event_details() {
            assert_eq!(d.input(), None, "no input for {}", d.name());
            assert!(!d.name().is_empty(), "the state name stays");
        }
        if let Some(d) = e.state_exited_event_details() {
            assert_eq!(d.output(), None, "no output for {}", d.name());
            assert!(!d.name().is_empty(), "the state name stays");
        }
    }
    let succeeded = events[7]
        .execution_succeeded_event_details()
        .expect("executionSucceededEventDetails");
    assert_eq!(succeeded.output(), None, "no execution output");
}

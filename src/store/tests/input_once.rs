//! An execution's input kept once: the texts written with its start leave it out where they
//! hold exactly it, and every read gives them back whole.

use super::*;
use crate::store::ports::ConsoleReads;

on_every_store!(a_started_execution_reads_back_whole_though_its_input_is_kept_once);

/// Its history and cursor as written, the input as sent (here with spaces).
const INPUT: &str = r#"{"expirydate": 11, "note": "a \"quoted\" \\ naïve ✓"}"#;
const COMPACT: &str = r#"{"expirydate":11,"note":"a \"quoted\" \\ naïve ✓"}"#;

fn started() -> (ExecutionRow, Vec<EventRow>) {
    let mut row = ExecutionRow::running_for_tests(1, "e1", 100);
    row.input = INPUT.into();
    row.cursor = Some(format!(
        r#"{{"status":"RUNNING","current":"Wait","input":{COMPACT},"entered_ms":100,"waiting":{{"seq":2,"due_ms":999}},"entered_event_id":2,"last_event_id":2}}"#
    ));
    row.last_event_id = 2;
    let content = serde_json::Value::from(COMPACT).to_string();
    let events = vec![
        EventRow {
            id: 1,
            previous_id: 0,
            timestamp_ms: 100,
            event_type: HistoryEventType::ExecutionStarted,
            details: Some(format!(
                r#"{{"executionStartedEventDetails":{{"input":{content},"inputDetails":{{"truncated":false}},"roleArn":"arn:aws:iam::123456789012:role/r"}}}}"#
            )),
        },
        EventRow {
            id: 2,
            previous_id: 1,
            timestamp_ms: 100,
            event_type: HistoryEventType::WaitStateEntered,
            details: Some(format!(
                r#"{{"stateEnteredEventDetails":{{"name":"Wait","input":{content},"inputDetails":{{"truncated":false}}}}}}"#
            )),
        },
    ];
    (row, events)
}

async fn write_started(store: &impl Commit) -> (ExecutionRow, Vec<EventRow>) {
    let (row, events) = started();
    write(
        store,
        vec![
            WriteOp::InsertExecution(row.clone()),
            WriteOp::InsertEvents(NewEvents {
                execution_id: 1,
                events: events.clone(),
            }),
        ],
    )
    .await;
    (row, events)
}

async fn a_started_execution_reads_back_whole_though_its_input_is_kept_once(
    store: impl ExecutionReads + HistoryReads + Commit,
) {
    let (row, events) = write_started(&store).await;
    assert_eq!(
        store.execution_by_id(1).await.expect("read"),
        Some(row.clone())
    );
    assert_eq!(
        store.execution_by_arn(&row.arn).await.expect("read"),
        Some(row.clone())
    );
    assert_eq!(
        store
            .list_executions(&row.state_machine_arn, None, None, 10)
            .await
            .expect("list"),
        [row]
    );
    assert_eq!(
        store.history(1, None, 10, false).await.expect("history"),
        events
    );
    assert_eq!(
        store.history(1, None, 10, true).await.expect("reversed"),
        events.iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        store.history(1, Some(1), 10, false).await.expect("page"),
        events[1..]
    );
}

mod console_on_sqlite {
    #[tokio::test]
    async fn the_whole_history_reads_back_whole_though_the_input_is_kept_once() {
        let (store, _dir) = super::sqlite_store().await;
        super::the_whole_history_reads_back_whole(&store).await;
        // On disk the input is in the row only.
        let mut conn = store.reader.readers.get().await.expect("a read connection");
        for (sql, n) in [
            (
                "SELECT COUNT(*) FROM executions WHERE instr(input, 'expirydate') > 0",
                1,
            ),
            (
                "SELECT COUNT(*) FROM executions WHERE instr(cursor, 'expirydate') > 0",
                0,
            ),
            (
                "SELECT COUNT(*) FROM history_events WHERE instr(details, 'expirydate') > 0",
                0,
            ),
            (
                "SELECT COUNT(*) FROM history_events WHERE instr(substr(details, 2), char(31)) > 0",
                2,
            ),
        ] {
            let holding: i64 = sqlx::query_scalar(sql)
                .fetch_one(&mut *conn)
                .await
                .expect(sql);
            assert_eq!(holding, n, "{sql}");
        }
    }
}

mod console_on_postgres {
    #[tokio::test]
    async fn the_whole_history_reads_back_whole_though_the_input_is_kept_once() {
        let (store, _db) = super::postgres_store().await;
        super::the_whole_history_reads_back_whole(&store).await;
    }
}

async fn the_whole_history_reads_back_whole(store: &(impl ConsoleReads + Commit)) {
    let (_, events) = write_started(store).await;
    assert_eq!(store.whole_history(1).await.expect("whole"), events);
}

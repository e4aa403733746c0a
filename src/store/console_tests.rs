//! The console's reads, on the databases (the in-memory tables serve no console): counts by
//! status kept through every change, names by prefix, timers, the whole history at once.

use super::ports::{self, Commit, ExecutionReads, HistoryReads};
use super::tests::write;
use super::*;
use crate::model::{ExecutionStatus, HistoryEventType};

mod on_sqlite {
    #[tokio::test]
    async fn counts_names_and_timers() {
        let (store, _dir) = super::super::tests::sqlite_store().await;
        super::the_consoles_counts_name_search_and_timers(store).await;
    }

    #[tokio::test]
    async fn uuid_names_among_others() {
        let (store, _dir) = super::super::tests::sqlite_store().await;
        super::uuid_names_read_and_sort_as_text(store).await;
    }
}

mod on_postgres {
    #[tokio::test]
    async fn counts_names_and_timers() {
        let (store, _db) = super::super::tests::postgres_store().await;
        super::the_consoles_counts_name_search_and_timers(store).await;
    }

    #[tokio::test]
    async fn uuid_names_among_others() {
        let (store, _db) = super::super::tests::postgres_store().await;
        super::uuid_names_read_and_sort_as_text(store).await;
    }
}

/// Names that are UUIDs (which SQLite keeps as 16 bytes) among names that are not: each reads
/// back by its ARN, and a search by prefix pages through them in text order whatever the page
/// size, with and without a status.
async fn uuid_names_read_and_sort_as_text(
    store: impl ExecutionReads + ports::ConsoleReads + Commit,
) {
    let uuids = [
        "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ab",
        "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ac",
        "3f000000-0000-4000-8000-000000000000",
        "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
        "ffffffff-ffff-4fff-bfff-ffffffffffff",
    ];
    let others = [
        "0",
        "0b1c2d3e",
        "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ab-x",
        "0B1C2D3E-AAAA-4BBB-8CCC-0123456789AB",
        "3",
        "3f_z",
        "A",
        "a",
        "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4",
        "g",
        "zz",
    ];
    let names: Vec<&str> = uuids.iter().chain(&others).copied().collect();
    let rows: Vec<ExecutionRow> = names
        .iter()
        .zip(1..)
        .map(|(name, id)| {
            let mut row = ExecutionRow::running_for_tests(id, name, 100 + id);
            if id % 3 == 0 {
                row.status = ExecutionStatus::Succeeded;
                row.stop_ms = Some(500);
            }
            row
        })
        .collect();
    write(
        &store,
        rows.iter().cloned().map(WriteOp::InsertExecution).collect(),
    )
    .await;
    for row in &rows {
        let read = store.execution_by_arn(&row.arn).await.expect("by arn");
        assert_eq!(read.as_ref(), Some(row), "{}", row.name);
    }
    let prefix = |p: &str| format!("arn:aws:states:us-east-1:123456789012:execution:sm:{p}");
    for start in [
        "",
        "0",
        "0b1c2d3e",
        "0b1c2d3e-aaaa-4bbb-8ccc-0123456789a",
        uuids[0],
        "3",
        "a",
        "f",
        "0B",
    ] {
        for status in [None, Some(ExecutionStatus::Running)] {
            let mut expected: Vec<&ExecutionRow> = rows
                .iter()
                .filter(|r| r.name.starts_with(start) && status.is_none_or(|s| r.status == s))
                .collect();
            expected.sort_by(|a, b| a.name.cmp(&b.name));
            let expected: Vec<&str> = expected.iter().map(|r| r.name.as_str()).collect();
            for page in [1, 2, 3, 100] {
                let mut got: Vec<String> = Vec::new();
                loop {
                    let after = got.last().map(|n| prefix(n));
                    let rows = store
                        .executions_named(&prefix(start), status, after.as_deref(), page)
                        .await
                        .expect("by name");
                    let n = rows.len();
                    got.extend(rows.into_iter().map(|r| r.name));
                    if n < usize::try_from(page).unwrap_or(usize::MAX) {
                        break;
                    }
                }
                assert_eq!(
                    got, expected,
                    "prefix {start:?}, {status:?}, pages of {page}"
                );
            }
        }
    }
}

async fn the_consoles_counts_name_search_and_timers(
    store: impl ExecutionReads + HistoryReads + ports::ConsoleReads + Commit,
) {
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
    let names = ["a1", "a2", "b1", "b2", "b10"];
    let mut ops: Vec<WriteOp> = names
        .iter()
        .zip(1..)
        .map(|(name, id)| {
            let mut row = ExecutionRow::running_for_tests(id, name, 100 + id);
            if *name == "a1" || *name == "b2" {
                row.status = ExecutionStatus::Failed;
                row.stop_ms = Some(200);
            }
            WriteOp::InsertExecution(row)
        })
        .collect();
    ops.push(WriteOp::InsertTimer(TimerRow {
        partition: 0,
        due_ms: 999,
        execution_id: 3,
        seq: 7,
    }));
    write(&store, ops).await;

    let counts = || async {
        let mut c = store.execution_counts(sm).await.expect("counts");
        c.sort_by_key(|c| c.0.as_str());
        c
    };
    assert_eq!(
        counts().await,
        [(ExecutionStatus::Failed, 2), (ExecutionStatus::Running, 3)]
    );
    // The counts follow every change: a status changed, one written again unchanged, a
    // closed execution deleted.
    let update = |id, status| {
        WriteOp::UpdateExecution(ExecutionUpdate {
            id,
            status,
            output: None,
            error: None,
            cause: None,
            stop_ms: Some(300),
            cursor: None,
            last_event_id: 2,
        })
    };
    write(
        &store,
        vec![
            update(2, ExecutionStatus::Succeeded),
            update(5, ExecutionStatus::Succeeded),
            update(4, ExecutionStatus::Failed),
        ],
    )
    .await;
    assert_eq!(
        counts().await,
        [
            (ExecutionStatus::Failed, 2),
            (ExecutionStatus::Running, 1),
            (ExecutionStatus::Succeeded, 2)
        ]
    );
    write(&store, vec![WriteOp::DeleteExecutions { ids: vec![2] }]).await;
    write(&store, vec![update(5, ExecutionStatus::Running)]).await;
    assert_eq!(
        counts().await,
        [(ExecutionStatus::Failed, 2), (ExecutionStatus::Running, 2)]
    );
    write(&store, vec![update(5, ExecutionStatus::Succeeded)]).await;
    let prefix = |p: &str| format!("arn:aws:states:us-east-1:123456789012:execution:sm:{p}");
    let named = |rows: Vec<ExecutionRow>| rows.into_iter().map(|e| e.name).collect::<Vec<_>>();
    let all_b = store
        .executions_named(&prefix("b"), None, None, 10)
        .await
        .expect("by name");
    assert_eq!(named(all_b), ["b1", "b10", "b2"]);
    let after = store
        .executions_named(&prefix("b"), None, Some(&prefix("b1")), 1)
        .await
        .expect("by name, after");
    assert_eq!(named(after), ["b10"]);
    let other = "arn:aws:states:us-east-1:123456789012:execution:sm2:b";
    let elsewhere = store.executions_named(other, None, None, 10).await;
    assert!(elsewhere.expect("by name").is_empty());
    let failed = store
        .executions_named(&prefix(""), Some(ExecutionStatus::Failed), None, 10)
        .await
        .expect("by name and status");
    assert_eq!(named(failed), ["a1", "b2"]);
    // ListExecutions with a status reads its own query.
    let running = store
        .list_executions(sm, Some(ExecutionStatus::Running), None, 2)
        .await
        .expect("by status");
    assert_eq!(running.iter().map(|e| e.id).collect::<Vec<_>>(), [3]);
    let failed_first = store
        .list_executions(sm, Some(ExecutionStatus::Failed), None, 1)
        .await
        .expect("by status");
    assert_eq!(failed_first.iter().map(|e| e.id).collect::<Vec<_>>(), [4]);
    let rest = store
        .list_executions(sm, Some(ExecutionStatus::Failed), Some((104, 4)), 10)
        .await
        .expect("by status, after");
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [1]);
    assert_eq!(store.timers_of(3).await.expect("timers"), [(7, 999)]);
    assert!(store.timers_of(4).await.expect("timers").is_empty());

    // The whole history at once: the same events as read a page at a time.
    let events: Vec<EventRow> = (1..=300)
        .map(|id| EventRow {
            id,
            previous_id: id - 1,
            timestamp_ms: 1000 + id,
            event_type: HistoryEventType::PassStateEntered,
            details: (id % 7 != 0).then(|| {
                serde_json::json!({"stateEnteredEventDetails": {"name": "a b", "input": "x\ny"}})
                    .to_string()
            }),
        })
        .collect();
    write(
        &store,
        vec![WriteOp::InsertEvents(NewEvents {
            execution_id: 2,
            events: events.clone(),
        })],
    )
    .await;
    assert_eq!(store.whole_history(2).await.expect("whole"), events);
    assert_eq!(
        store.history(2, None, 1000, false).await.expect("paged"),
        events
    );
    assert!(store.whole_history(4).await.expect("none").is_empty());

    // Commits larger than one statement holds (several in one transaction): 600 starts,
    // then 600 status changes and a few unchanged, counted once each.
    let many: Vec<WriteOp> = (1000..1600)
        .map(|id| {
            WriteOp::InsertExecution(ExecutionRow::running_for_tests(id, &format!("m{id}"), id))
        })
        .collect();
    write(&store, many).await;
    let changes: Vec<WriteOp> = (1000..1600)
        .map(|id| match id % 3 {
            0 => update(id, ExecutionStatus::Running),
            1 => update(id, ExecutionStatus::Succeeded),
            _ => update(id, ExecutionStatus::Failed),
        })
        .collect();
    write(&store, changes).await;
    assert_eq!(
        counts().await,
        [
            (ExecutionStatus::Failed, 2 + 200),
            (ExecutionStatus::Running, 1 + 200),
            (ExecutionStatus::Succeeded, 1 + 200)
        ]
    );
}

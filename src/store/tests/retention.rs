//! Retention's delete, on every store.

use super::*;

on_every_store!(retention_removes_closed_executions_whole_and_spares_one_running_again);

/// The retention sweep's delete takes a closed execution with its history, timers and tasks,
/// and leaves whole one that was chosen closed but runs again by the commit (a redrive in
/// between).
async fn retention_removes_closed_executions_whole_and_spares_one_running_again(
    store: impl ExecutionReads + HistoryReads + TimerReads + Commit,
) {
    let mut ops = Vec::new();
    for id in [1, 2] {
        let mut row = ExecutionRow::running_for_tests(id, &format!("e{id}"), 100 + id);
        row.status = ExecutionStatus::Failed;
        row.stop_ms = Some(200);
        ops.push(WriteOp::InsertExecution(row));
        ops.push(WriteOp::InsertEvents(NewEvents {
            execution_id: id,
            events: (1..=3)
                .map(|e| EventRow {
                    id: e,
                    previous_id: e - 1,
                    timestamp_ms: 100,
                    event_type: HistoryEventType::PassStateEntered,
                    details: None,
                })
                .collect(),
        }));
        ops.push(WriteOp::InsertTimer(TimerRow {
            partition: 0,
            due_ms: 999,
            execution_id: id,
            seq: 7,
        }));
    }
    write(&store, ops).await;
    // Execution 2 is redriven after the sweep chose both.
    write(
        &store,
        vec![WriteOp::UpdateExecution(ExecutionUpdate {
            id: 2,
            status: ExecutionStatus::Running,
            output: None,
            error: None,
            cause: None,
            stop_ms: None,
            cursor: Some("{}".into()),
            last_event_id: 3,
        })],
    )
    .await;
    write(&store, vec![WriteOp::DeleteExecutions { ids: vec![1, 2] }]).await;

    assert!(store.execution_by_id(1).await.expect("read").is_none());
    assert!(store
        .history(1, None, 10, false)
        .await
        .expect("history")
        .is_empty());
    let kept = store.execution_by_id(2).await.expect("read").expect("kept");
    assert_eq!(kept.status, ExecutionStatus::Running);
    assert_eq!(
        store
            .history(2, None, 10, false)
            .await
            .expect("history")
            .len(),
        3
    );
    assert_eq!(store.count_timers().await.expect("timers"), 1);
}

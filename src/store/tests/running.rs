//! Counts of running executions, on every store: what the start-up's gauge and the open
//! execution cap read.

use super::*;

on_every_store!(running_executions_are_counted_by_machine_and_in_all);

/// Running executions of two machines and a closed one: counted by machine and in all, and
/// again after one ends, the closed one is removed, and one ended runs again.
async fn running_executions_are_counted_by_machine_and_in_all(store: impl ExecutionReads + Commit) {
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
    let other = "arn:aws:states:us-east-1:123456789012:stateMachine:other";
    let mut ops = Vec::new();
    for id in 1..=5 {
        let mut row = ExecutionRow::running_for_tests(id, &format!("e{id}"), 100 + id);
        if id == 4 {
            row.state_machine_arn = other.into();
            row.arn = format!("arn:aws:states:us-east-1:123456789012:execution:other:e{id}");
        }
        if id == 5 {
            row.status = ExecutionStatus::Failed;
            row.stop_ms = Some(200);
        }
        ops.push(WriteOp::InsertExecution(row));
    }
    write(&store, ops).await;
    assert_eq!(counts(&store, [sm, other]).await, (4, 3, 1));
    let ended = |id: i64, status: ExecutionStatus| {
        WriteOp::UpdateExecution(ExecutionUpdate {
            id,
            status,
            output: None,
            error: None,
            cause: None,
            stop_ms: (status != ExecutionStatus::Running).then_some(300),
            cursor: None,
            last_event_id: 2,
        })
    };
    write(&store, vec![ended(1, ExecutionStatus::Succeeded)]).await;
    assert_eq!(counts(&store, [sm, other]).await, (3, 2, 1));
    write(&store, vec![WriteOp::DeleteExecutions { ids: vec![5] }]).await;
    assert_eq!(counts(&store, [sm, other]).await, (3, 2, 1));
    write(&store, vec![ended(1, ExecutionStatus::Running)]).await;
    assert_eq!(counts(&store, [sm, other]).await, (4, 3, 1));
}

/// Running executions in all, and of each machine.
async fn counts(store: &impl ExecutionReads, [a, b]: [&str; 2]) -> (i64, i64, i64) {
    (
        store.count_all_running().await.expect("all"),
        store.count_running(a).await.expect("a"),
        store.count_running(b).await.expect("b"),
    )
}

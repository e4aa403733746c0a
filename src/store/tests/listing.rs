//! ListExecutions' pages, on every store.

use super::*;

on_every_store!(listings_page_through_executions_started_in_the_same_millisecond);

/// ListExecutions pages by start and id: executions started in the same millisecond are
/// neither repeated nor skipped where a page ends, with a status and without.
async fn listings_page_through_executions_started_in_the_same_millisecond(
    store: impl ExecutionReads + Commit,
) {
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
    let ops = (1..=5)
        .map(|i| {
            let start_ms = if i == 1 { 100 } else { 200 };
            WriteOp::InsertExecution(ExecutionRow::running_for_tests(
                i,
                &format!("e{i}"),
                start_ms,
            ))
        })
        .collect();
    write(&store, ops).await;
    for status in [None, Some(ExecutionStatus::Running)] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list_executions(sm, status, after, 2)
                .await
                .expect("list");
            seen.extend(page.iter().map(|e| e.id));
            match page.last() {
                Some(last) if page.len() == 2 => after = Some((last.start_ms, last.id)),
                _ => break,
            }
        }
        assert_eq!(seen, [5, 4, 3, 2, 1], "{status:?}");
    }
}

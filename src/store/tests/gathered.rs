//! Reads of many executions by ARN with the versions they were started through, and of the
//! versions of many by id, in one query each: every row as a read of one gives it, on every
//! store.

use super::*;

on_every_store!(many_by_arn_and_their_versions_read_as_each_alone);

async fn many_by_arn_and_their_versions_read_as_each_alone(
    store: impl ExecutionReads + VersionReads + Commit,
) {
    let mut rows: Vec<ExecutionRow> = [
        "plain",
        // Stored as its 16 bytes on SQLite.
        "0190a3b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b",
        "only-its-arn",
    ]
    .iter()
    .zip(1..)
    .map(|(name, id)| ExecutionRow::running_for_tests(id, name, 100 + id))
    .collect();
    // An ARN the machine's ARN and the name do not make (kept whole).
    rows[2].arn = "arn:aws:states:us-east-1:123456789012:express:sm:only-its-arn:x".into();
    let arns: Vec<String> = rows.iter().map(|r| r.arn.clone()).collect();
    let mut ops: Vec<WriteOp> = rows.into_iter().map(WriteOp::InsertExecution).collect();
    ops.push(WriteOp::InsertExecutionVersion {
        execution_id: 2,
        version_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm:1".into(),
        alias_arn: Some("arn:aws:states:us-east-1:123456789012:stateMachine:sm:live".into()),
    });
    ops.push(WriteOp::InsertExecutionVersion {
        execution_id: 3,
        version_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm:2".into(),
        alias_arn: None,
    });
    write(&store, ops).await;

    let mut asked = arns.clone();
    asked.push("arn:aws:states:us-east-1:123456789012:execution:sm:missing".into());
    // The machine and name of the third, under an ARN that is not its own.
    asked.push("arn:aws:states:us-east-1:123456789012:execution:sm:only-its-arn".into());
    let mut found = store.described_by_arns(&asked).await.expect("by arns");
    found.sort_by_key(|d| d.row.id);
    assert_eq!(
        found.iter().map(|d| d.row.id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    for (d, arn) in found.iter().zip(&arns) {
        assert_eq!(&d.row.arn, arn);
        let alone = store.execution_by_arn(arn).await.expect("by arn");
        assert_eq!(alone.as_ref(), Some(&d.row));
        let version = store.execution_version(d.row.id).await.expect("version");
        assert_eq!(d.through(), version);
    }
    assert_eq!(found[0].through(), None);
    assert!(found[1].alias_arn.is_some() && found[2].version_arn.is_some());
    assert!(store.described_by_arns(&[]).await.expect("none").is_empty());

    let mut versions = store
        .execution_versions(&[3, 1, 2, 9])
        .await
        .expect("versions");
    versions.sort();
    assert_eq!(versions.iter().map(|v| v.0).collect::<Vec<_>>(), vec![2, 3]);
    for (id, version, alias) in versions {
        let alone = store.execution_version(id).await.expect("version");
        assert_eq!(alone, Some((version, alias)));
    }
    assert!(store
        .execution_versions(&[])
        .await
        .expect("none")
        .is_empty());
}

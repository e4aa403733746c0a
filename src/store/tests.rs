//! Every query and write through the ports, run against each implementation: SQLite in a
//! temporary directory, and the in-memory tables the engine's tests use.

use tokio_util::sync::CancellationToken;

use super::memory::MemoryStore;
use super::ports::{CallReads, Commit, ExecutionReads, HistoryReads, MachineReads, TimerReads};
use super::postgres::{self, PgStore};
use super::sqlite::{SqliteStore, SqliteWriter};
use super::*;
use crate::model::{ExecutionStatus, HistoryEventType, StateMachineStatus, StateMachineType};

/// A fresh database on the PostgreSQL server the test command provides
/// (`HOURGLASS_TEST_DATABASE_URL`), dropped when the returned guard goes.
pub(crate) async fn postgres_store() -> (PgStore, TestDatabase) {
    let db = TestDatabase::create().await;
    let settings = postgres::Settings {
        url: db.url.clone(),
        read_connections: 4,
        connect_timeout: std::time::Duration::from_secs(10),
        idle_in_transaction: None,
    };
    let (pool, conn, _partitions) = postgres::open(&settings, 16).await.expect("open");
    let options = settings.url.parse().expect("url");
    let (writer, _task) = postgres::writer::spawn(
        conn,
        "test-node".into(),
        64,
        16,
        CancellationToken::new(),
        options,
    );
    (PgStore::new(pool, writer), db)
}

/// A database of its own on the test server, dropped at the end.
pub(crate) struct TestDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        use sqlx::{Connection, Executor};
        let admin = std::env::var("HOURGLASS_TEST_DATABASE_URL").expect(
            "HOURGLASS_TEST_DATABASE_URL: the store tests need a PostgreSQL server; run them \
             with scripts/test, which starts one",
        );
        let name = format!("hg_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to the test server");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a database");
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => format!("{admin}/{name}"),
        };
        Self { url, admin, name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropping needs a connection of its own, on a runtime of its own (a test's runtime
        // is ending when this runs).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    use sqlx::{Connection, Executor};
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = c
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

pub(super) async fn sqlite_store() -> (SqliteStore, tempfile::TempDir) {
    let (reader, conn, dir) = sqlite::open_temporary_writer().await;
    let (writer, _task) = SqliteWriter::spawn(conn, 64, 16, CancellationToken::new());
    let store = SqliteStore::new(reader, writer).await.expect("store");
    (store, dir)
}

/// Each test below, once per implementation of the ports.
macro_rules! on_every_store {
    ($($test:ident),+ $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test]
            async fn $test() {
                let (store, _dir) = super::sqlite_store().await;
                super::$test(store).await;
            })+
        }
        mod on_memory {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::MemoryStore::default()).await;
            })+
        }
        mod on_postgres {
            $(#[tokio::test]
            async fn $test() {
                let (store, _db) = super::postgres_store().await;
                super::$test(store).await;
            })+
        }
    };
}

on_every_store!(
    state_machines_round_trip_through_update_and_delete,
    executions_events_timers_and_tasks,
    a_taken_key_fails_the_whole_commit,
    activities_are_created_once_listed_by_arn_and_deleted_with_their_tags,
    versions_aliases_and_the_executions_started_through_them,
);

pub(super) async fn write(store: &impl Commit, ops: Vec<WriteOp>) {
    store.commit(ops, WhenFull::Wait).await.expect("commit");
}

fn machine_ops() -> Vec<WriteOp> {
    vec![WriteOp::InsertStateMachine {
        arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        name: "sm".into(),
        machine_type: StateMachineType::Standard,
        creation_date_ms: 1,
        logging_configuration: None,
        tracing_configuration: None,
        revision: RevisionRow {
            revision_id: "r1".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            definition: "{}".into(),
            role_arn: "role".into(),
            description: None,
            created_ms: 1,
        },
    }]
}

async fn state_machines_round_trip_through_update_and_delete(store: impl MachineReads + Commit) {
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
    write(&store, machine_ops()).await;
    let sm = store
        .state_machine(arn)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (sm.name.as_str(), sm.status, sm.revision_id.as_str()),
        ("sm", StateMachineStatus::Active, "r1")
    );
    write(
        &store,
        vec![WriteOp::UpdateStateMachine {
            arn: arn.into(),
            revision: Some(RevisionRow {
                revision_id: "r2".into(),
                state_machine_arn: arn.into(),
                definition: "{\"v\":2}".into(),
                role_arn: "role2".into(),
                description: None,
                created_ms: 2,
            }),
            update_date_ms: 2,
            logging_configuration: None,
            tracing_configuration: None,
        }],
    )
    .await;
    let sm = store
        .state_machine(arn)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (sm.definition.as_str(), sm.update_date_ms),
        ("{\"v\":2}", Some(2))
    );
    assert!(
        store.revision("r1").await.expect("read").is_some(),
        "old revision kept"
    );
    assert_eq!(
        store
            .list_state_machines(None, 10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_state_machines(Some(arn), 10)
            .await
            .expect("list")
            .len(),
        0
    );
    write(
        &store,
        vec![
            WriteOp::PutTags {
                arn: arn.into(),
                tags: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            },
            WriteOp::DeleteTags {
                arn: arn.into(),
                keys: vec!["a".into()],
            },
            WriteOp::SetStateMachineStatus {
                arn: arn.into(),
                status: StateMachineStatus::Deleting,
            },
        ],
    )
    .await;
    assert_eq!(
        store.tags(arn).await.expect("tags"),
        vec![("b".to_owned(), "2".to_owned())]
    );
    assert_eq!(
        store
            .state_machine(arn)
            .await
            .expect("read")
            .expect("exists")
            .status,
        StateMachineStatus::Deleting
    );
    write(
        &store,
        vec![WriteOp::DeleteStateMachine { arn: arn.into() }],
    )
    .await;
    assert!(store.state_machine(arn).await.expect("read").is_none());
    assert!(store.tags(arn).await.expect("tags").is_empty());
}

async fn activities_are_created_once_listed_by_arn_and_deleted_with_their_tags(
    store: impl MachineReads + Commit,
) {
    let row = |name: &str, ms: i64| ActivityRow {
        arn: format!("arn:aws:states:us-east-1:123456789012:activity:{name}"),
        name: name.into(),
        creation_date_ms: ms,
    };
    let b = row("b", 1);
    write(
        &store,
        vec![
            WriteOp::InsertActivity(b.clone()),
            WriteOp::InsertActivity(row("a", 2)),
            WriteOp::PutTags {
                arn: b.arn.clone(),
                tags: vec![("k".into(), "v".into())],
            },
        ],
    )
    .await;
    // Created again: the first row stays.
    write(&store, vec![WriteOp::InsertActivity(row("b", 99))]).await;
    assert_eq!(store.activity(&b.arn).await.expect("read"), Some(b.clone()));
    let names = |rows: Vec<ActivityRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_activities(None, 10).await.expect("list")),
        ["a", "b"]
    );
    assert_eq!(
        names(store.list_activities(None, 1).await.expect("list")),
        ["a"]
    );
    let after_a = row("a", 0).arn;
    assert_eq!(
        names(
            store
                .list_activities(Some(&after_a), 10)
                .await
                .expect("list")
        ),
        ["b"]
    );
    write(&store, vec![WriteOp::DeleteActivity { arn: b.arn.clone() }]).await;
    assert!(store.activity(&b.arn).await.expect("read").is_none());
    assert!(store.tags(&b.arn).await.expect("tags").is_empty());
}

async fn executions_events_timers_and_tasks(
    store: impl ExecutionReads + HistoryReads + TimerReads + CallReads + Commit,
) {
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
    let mut ops: Vec<WriteOp> = (1..=5)
        .map(|i| {
            WriteOp::InsertExecution(ExecutionRow::running_for_tests(
                i,
                &format!("e{i}"),
                100 + i,
            ))
        })
        .collect();
    let events = |execution_id, n, details: &dyn Fn(i64) -> String| {
        WriteOp::InsertEvents(NewEvents {
            execution_id,
            events: (1..=n)
                .map(|id| EventRow {
                    id,
                    previous_id: id - 1,
                    timestamp_ms: 100,
                    event_type: HistoryEventType::PassStateEntered,
                    details: Some(details(id)),
                })
                .collect(),
        })
    };
    ops.push(events(1, 4, &|id| format!(r#"{{"d":{id}}}"#)));
    // The next execution's history, with one event of large details (over a page's share).
    let large = format!(
        r#"{{"stateEnteredEventDetails":{{"name":"P","input":"{}","inputDetails":{{"truncated":false}}}}}}"#,
        "x".repeat(5_000)
    );
    ops.push(events(2, 2, &|_| large.clone()));
    ops.extend((1..=3).map(|i| {
        WriteOp::InsertTimer(TimerRow {
            partition: 0,
            due_ms: 1_000 - i,
            execution_id: i,
            seq: 2,
        })
    }));
    ops.push(WriteOp::InsertTask(TaskRow {
        partition: 0,
        execution_id: 4,
        seq: 3,
        scheduled_ms: 7,
        invocation: "{}".into(),
    }));
    write(&store, ops).await;
    assert_eq!(store.max_execution_id().await.expect("max"), 5);
    assert_eq!(store.count_running(sm).await.expect("count"), 5);

    // Newest first, paged by (start, id).
    let page = store
        .list_executions(sm, None, None, 2)
        .await
        .expect("list");
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![5, 4]);
    let next = store
        .list_executions(sm, None, Some((page[1].start_ms, page[1].id)), 10)
        .await
        .expect("list");
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), vec![3, 2, 1]);

    // Several by id in one read: those that exist, each whole, as one read by id gives it.
    let mut some = store.executions_by_ids(&[4, 99, 2]).await.expect("by ids");
    some.sort_by_key(|e| e.id);
    assert_eq!(some.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 4]);
    for e in &some {
        let alone = store.execution_by_id(e.id).await.expect("by id");
        assert_eq!(alone.as_ref(), Some(e));
        // On SQLite the reads by id and by ARN take different connections: the rows agree.
        let by_arn = store.execution_by_arn(&e.arn).await.expect("by ARN");
        assert_eq!(by_arn.as_ref(), Some(e));
    }
    assert!(store.executions_by_ids(&[]).await.expect("none").is_empty());

    // Batched updates.
    let done = |id| ExecutionUpdate {
        id,
        status: ExecutionStatus::Succeeded,
        output: Some("{}".into()),
        error: None,
        cause: None,
        stop_ms: Some(200),
        cursor: None,
        last_event_id: 9,
    };
    write(
        &store,
        vec![
            WriteOp::UpdateExecution(done(1)),
            WriteOp::UpdateExecution(done(2)),
        ],
    )
    .await;
    let e1 = store
        .execution_by_id(1)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (e1.status, e1.stop_ms, e1.last_event_id, e1.cursor),
        (ExecutionStatus::Succeeded, Some(200), 9, None)
    );
    assert_eq!(
        store
            .list_executions(sm, Some(ExecutionStatus::Succeeded), None, 10)
            .await
            .expect("filter")
            .len(),
        2
    );
    assert_eq!(
        store
            .execution_by_arn(&e1.arn)
            .await
            .expect("read")
            .map(|e| e.id),
        Some(1)
    );

    // History paging both ways.
    let fwd = store.history(1, Some(1), 2, false).await.expect("history");
    assert_eq!(fwd.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 3]);
    let back = store.history(1, None, 3, true).await.expect("history");
    assert_eq!(back.iter().map(|e| e.id).collect::<Vec<_>>(), vec![4, 3, 2]);
    assert_eq!(fwd[0].details.as_deref(), Some("{\"d\":2}"));
    let all = store.history(1, None, 100, false).await.expect("history");
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let back = store.history(1, Some(3), 100, true).await.expect("history");
    assert_eq!(back.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 1]);
    let next = store.history(2, None, 100, true).await.expect("history");
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(next[0].details.as_deref(), Some(large.as_str()));
    assert!(store
        .history(3, None, 100, false)
        .await
        .expect("history")
        .is_empty());

    // Timers in due order, paged after a cursor, deleted in a batch.
    let due = store
        .timers_due(None, 10_000, 2, None)
        .await
        .expect("timers");
    assert_eq!(
        due.iter().map(|t| t.execution_id).collect::<Vec<_>>(),
        vec![3, 2]
    );
    let rest = store
        .timers_due(due.last().copied(), 10_000, 10, None)
        .await
        .expect("timers");
    assert_eq!(
        rest.iter().map(|t| t.execution_id).collect::<Vec<_>>(),
        vec![1]
    );
    assert!(
        store
            .timers_due(None, 998, 10, None)
            .await
            .expect("timers")
            .len()
            == 1,
        "until is exclusive"
    );
    write(
        &store,
        vec![
            WriteOp::DeleteTimer {
                execution_id: 1,
                seq: 2,
            },
            WriteOp::DeleteTimer {
                execution_id: 3,
                seq: 2,
            },
        ],
    )
    .await;
    assert_eq!(store.count_timers().await.expect("count"), 1);

    // Tasks.
    assert_eq!(
        store
            .tasks_after(None, 1000, None)
            .await
            .expect("tasks")
            .len(),
        1
    );
    write(&store, vec![WriteOp::DeleteTasksOf { execution_id: 4 }]).await;
    assert!(store
        .tasks_after(None, 1000, None)
        .await
        .expect("tasks")
        .is_empty());
}

async fn a_taken_key_fails_the_whole_commit(store: impl ExecutionReads + HistoryReads + Commit) {
    write(
        &store,
        vec![WriteOp::InsertExecution(ExecutionRow::running_for_tests(
            1, "taken", 1,
        ))],
    )
    .await;
    let again = store
        .commit(
            vec![
                WriteOp::InsertExecution(ExecutionRow::running_for_tests(2, "fresh", 2)),
                WriteOp::InsertExecution(ExecutionRow::running_for_tests(3, "taken", 3)),
            ],
            WhenFull::Wait,
        )
        .await;
    assert!(matches!(again, Err(Error::Duplicate)), "{again:?}");
    assert!(
        store.execution_by_id(2).await.expect("read").is_none(),
        "nothing of a failed commit is written"
    );
}

#[tokio::test]
async fn a_failing_request_does_not_fail_its_batch_neighbours() {
    let (store, _dir) = sqlite_store().await;
    let writer = store.writer.clone();
    writer
        .write(vec![WriteOp::InsertExecution(
            ExecutionRow::running_for_tests(1, "dup", 1),
        )])
        .await
        .expect("first");
    let dup = writer.clone();
    let ok = writer.clone();
    let (a, b) = tokio::join!(
        dup.write(vec![WriteOp::InsertExecution(
            ExecutionRow::running_for_tests(2, "dup", 2)
        )]),
        ok.write(vec![WriteOp::InsertExecution(
            ExecutionRow::running_for_tests(3, "fresh", 3)
        )]),
    );
    assert!(matches!(a, Err(Error::Duplicate)), "{a:?}");
    b.expect("the neighbour commits");
    assert!(store.execution_by_id(3).await.expect("read").is_some());
    assert!(
        store.execution_by_id(2).await.expect("read").is_none(),
        "nothing half-written"
    );
}

#[tokio::test]
async fn a_commit_fenced_by_an_epoch_another_node_took_writes_nothing_and_its_neighbours_commit() {
    use super::ports::Leases;
    let (store, db) = postgres_store().await;
    let ttl = std::time::Duration::from_secs(30);
    let held = store.acquire("test-node", 16, ttl).await.expect("acquire");
    let epoch = |p: i64| {
        held.iter()
            .find(|(q, _)| *q == p)
            .map(|(_, e)| *e)
            .expect("held")
    };
    let row = |id: i64, name: &str, partition: i64| {
        let mut r = ExecutionRow::running_for_tests(id, name, id);
        r.partition = partition;
        WriteOp::InsertExecution(r)
    };
    let fence = |p: i64| WriteOp::Fence {
        partition: p,
        epoch: epoch(p),
    };
    write(&store, vec![fence(3), row(1, "a", 3)]).await;

    // Another node takes partition 3 (its lease expired while this one was paused).
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        sqlx::query("UPDATE leases SET owner = 'other', epoch = epoch + 1 WHERE partition = 3")
            .execute(&mut c)
            .await
            .expect("take over");
    }
    let writer = store.writer.clone();
    let (stale, fresh) = tokio::join!(
        writer.write(vec![fence(3), row(2, "b", 3)]),
        writer.write(vec![fence(4), row(3, "c", 4)]),
    );
    assert!(matches!(stale, Err(Error::Fenced(3))), "{stale:?}");
    fresh.expect("a neighbour on a partition still held commits");
    assert!(store.execution_by_id(2).await.expect("read").is_none());
    assert!(store.execution_by_id(3).await.expect("read").is_some());
    assert!(store.execution_by_id(1).await.expect("read").is_some());
}

#[tokio::test]
async fn a_transaction_a_paused_node_left_open_keeps_its_partition_only_until_the_idle_timeout() {
    use super::ports::Leases;
    use sqlx::Connection;
    let (store, db) = postgres_store().await;
    let lease = std::time::Duration::from_millis(500);
    store.acquire("paused", 16, lease).await.expect("acquire");
    // The paused node's commit got as far as its fence check on partition 3, then stopped.
    let url = db.url.clone();
    let paused = |idle| {
        let url = url.clone();
        async move {
            let settings = postgres::Settings {
                url,
                read_connections: 1,
                connect_timeout: std::time::Duration::from_secs(10),
                idle_in_transaction: idle,
            };
            let opts = postgres::options(&settings).expect("options");
            let mut c = sqlx::PgConnection::connect_with(&opts)
                .await
                .expect("connect");
            sqlx::query("BEGIN").execute(&mut c).await.expect("begin");
            sqlx::query("SELECT epoch FROM leases WHERE partition = 3 FOR SHARE")
                .execute(&mut c)
                .await
                .expect("fence check");
            c
        }
    };
    let taken = |node: &'static str| {
        let store = store.clone();
        async move {
            let got = store
                .acquire(node, 16, std::time::Duration::from_secs(30))
                .await
                .expect("acquire");
            got.iter().any(|(p, _)| *p == 3)
        }
    };

    // Left to the server's default, the open transaction keeps partition 3 from its next
    // owner however long the node stays paused.
    let held_open = paused(None).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert!(!taken("other").await, "a locked lease row is skipped");
    drop(held_open);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(taken("other").await, "taken once the session is gone");

    // With the idle timeout the node's sessions are made with, the server ends it.
    store
        .release("other", &(0..16).collect::<Vec<_>>())
        .await
        .expect("release");
    store.acquire("paused", 16, lease).await.expect("acquire");
    let _held_open = paused(Some(std::time::Duration::from_millis(300))).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert!(
        taken("third").await,
        "the server ended the idle transaction and freed partition 3"
    );
}

#[tokio::test]
async fn a_read_on_a_connection_the_server_dropped_while_it_was_idle_is_answered() {
    use sqlx::Connection;
    let (store, db) = postgres_store().await;
    assert!(store.execution_by_id(1).await.expect("read").is_none());
    // Idle past the time a pooled connection is handed out untested, then dropped by the
    // server (a restart, an administrator, a proxy's timeout).
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let mut admin = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let dropped: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert!(
        dropped.iter().any(|d| *d),
        "the pool's connection was dropped"
    );
    assert!(store
        .execution_by_id(1)
        .await
        .expect("read again")
        .is_none());
}

async fn versions_aliases_and_the_executions_started_through_them(
    store: impl MachineReads + VersionReads + Commit,
) {
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
    write(&store, machine_ops()).await;
    let version = |n: i64| VersionRow {
        arn: format!("{sm}:{n}"),
        state_machine_arn: sm.into(),
        version: n,
        revision_id: "r1".into(),
        description: (n == 1).then(|| "first".to_owned()),
        creation_date_ms: n,
    };
    write(
        &store,
        vec![
            WriteOp::InsertVersion(version(1)),
            WriteOp::InsertVersion(version(2)),
        ],
    )
    .await;
    assert_eq!(
        store.version(&version(1).arn).await.expect("read"),
        Some(version(1))
    );
    let numbers = |rows: Vec<VersionRow>| rows.into_iter().map(|v| v.version).collect::<Vec<_>>();
    assert_eq!(numbers(store.versions(sm).await.expect("list")), [2, 1]);
    // A deleted version is gone, but its number stays taken.
    write(
        &store,
        vec![WriteOp::DeleteVersion {
            arn: version(2).arn,
        }],
    )
    .await;
    assert!(store
        .version(&version(2).arn)
        .await
        .expect("read")
        .is_none());
    assert_eq!(numbers(store.versions(sm).await.expect("list")), [1]);
    assert_eq!(store.last_version(sm).await.expect("last"), 2);
    // The same number again is refused.
    let again = store
        .commit(vec![WriteOp::InsertVersion(version(2))], WhenFull::Wait)
        .await;
    assert!(again.is_err(), "a version number is given once");

    let alias = AliasRow {
        arn: format!("{sm}:prod"),
        state_machine_arn: sm.into(),
        name: "prod".into(),
        description: None,
        routing: r#"[{"stateMachineVersionArn":"v","weight":100}]"#.into(),
        creation_date_ms: 10,
        update_date_ms: 10,
    };
    write(&store, vec![WriteOp::PutAlias(alias.clone())]).await;
    let mut changed = alias.clone();
    changed.description = Some("routes to 1".into());
    changed.update_date_ms = 20;
    write(&store, vec![WriteOp::PutAlias(changed.clone())]).await;
    assert_eq!(
        store.alias(&alias.arn).await.expect("read"),
        Some(changed.clone())
    );
    assert_eq!(store.aliases(sm).await.expect("list"), [changed]);

    write(
        &store,
        vec![WriteOp::InsertExecutionVersion {
            execution_id: 7,
            version_arn: version(1).arn,
            alias_arn: Some(alias.arn.clone()),
        }],
    )
    .await;
    assert_eq!(
        store.execution_version(7).await.expect("read"),
        Some((version(1).arn, Some(alias.arn.clone())))
    );
    assert_eq!(store.execution_version(8).await.expect("read"), None);

    write(
        &store,
        vec![WriteOp::DeleteAlias {
            arn: alias.arn.clone(),
        }],
    )
    .await;
    assert!(store.alias(&alias.arn).await.expect("read").is_none());
    // Deleting the machine takes its versions and aliases with it.
    write(&store, vec![WriteOp::PutAlias(alias.clone())]).await;
    write(&store, vec![WriteOp::DeleteStateMachine { arn: sm.into() }]).await;
    assert!(store.versions(sm).await.expect("list").is_empty());
    assert!(store.aliases(sm).await.expect("list").is_empty());
}

mod gathered;
mod input_once;
mod listing;
mod retention;
mod running;

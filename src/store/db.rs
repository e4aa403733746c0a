//! [`Db`]: the store the daemon runs on, SQLite or PostgreSQL, chosen by the configuration.
//! An enum rather than a trait object, so every call is a match and a static call.

use std::future::Future;

use super::ports::{
    CallReads, Commit, ConsoleReads, ExecutionReads, ExecutionVersion, FreePages, HistoryReads,
    Ids, MachineReads, MapRunReads, TimerReads, VersionReads, WhenFull,
};
use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{
    ActivityRow, AliasRow, DescribedExecution, EventRow, ExecutionRow, MapItemRow, MapRunKey,
    MapRunRow, Result, RevisionRow, StateMachineRow, TaskRow, TimerRow, VersionRow, WriteOp,
};
use crate::model::ExecutionStatus;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Each port method, sent to the store this is.
macro_rules! dispatch {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)+) => {
        $(fn $name(&self, $($arg: $ty),*) -> impl Future<Output = Result<$out>> + Send {
            async move {
                match self {
                    Db::Sqlite(s) => s.$name($($arg),*).await,
                    Db::Postgres(s) => s.$name($($arg),*).await,
                }
            }
        })+
    };
}

impl MachineReads for Db {
    dispatch! {
        state_machine(arn: &str) -> Option<StateMachineRow>;
        list_state_machines(after_arn: Option<&str>, limit: i64) -> Vec<StateMachineRow>;
        deleting_state_machines() -> Vec<String>;
        revision(revision_id: &str) -> Option<RevisionRow>;
        activity(arn: &str) -> Option<ActivityRow>;
        list_activities(after_arn: Option<&str>, limit: i64) -> Vec<ActivityRow>;
        tags(resource_arn: &str) -> Vec<(String, String)>;
    }
}

impl VersionReads for Db {
    dispatch! {
        version(arn: &str) -> Option<VersionRow>;
        versions(state_machine_arn: &str) -> Vec<VersionRow>;
        last_version(state_machine_arn: &str) -> i64;
        alias(arn: &str) -> Option<AliasRow>;
        aliases(state_machine_arn: &str) -> Vec<AliasRow>;
        execution_version(execution_id: i64) -> Option<(String, Option<String>)>;
        execution_versions(ids: &[i64]) -> Vec<ExecutionVersion>;
        described_by_arns(arns: &[String]) -> Vec<DescribedExecution>;
        list_executions_through(
            arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64
        ) -> Vec<ExecutionRow>;
    }
}

impl MapRunReads for Db {
    dispatch! {
        map_run(arn: &str) -> Option<MapRunRow>;
        map_runs_of(execution_arn: &str) -> Vec<MapRunRow>;
        map_items(run: MapRunKey, from: i64, limit: i64, pending: bool) -> Vec<MapItemRow>;
        running_map_items(run: MapRunKey) -> Vec<MapItemRow>;
        map_run_of_child(execution_arn: &str) -> Option<String>;
        list_map_run_executions(
            arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64
        ) -> Vec<ExecutionRow>;
    }
}

impl ExecutionReads for Db {
    dispatch! {
        execution_by_arn(arn: &str) -> Option<ExecutionRow>;
        execution_by_id(id: i64) -> Option<ExecutionRow>;
        executions_by_ids(ids: &[i64]) -> Vec<ExecutionRow>;
        list_executions(
            state_machine_arn: &str,
            status: Option<ExecutionStatus>,
            after: Option<(i64, i64)>,
            limit: i64
        ) -> Vec<ExecutionRow>;
        count_running(state_machine_arn: &str) -> i64;
        count_all_running() -> i64;
        max_execution_id() -> i64;
        closed_before(before_ms: i64, limit: i64) -> Vec<i64>;
        free_pages() -> Option<FreePages>;
    }
}

impl ConsoleReads for Db {
    dispatch! {
        execution_counts(state_machine_arn: &str) -> Vec<(ExecutionStatus, i64)>;
        executions_named(
            arn_prefix: &str,
            status: Option<ExecutionStatus>,
            after: Option<&str>,
            limit: i64
        ) -> Vec<ExecutionRow>;
        timers_of(execution_id: i64) -> Vec<(i64, i64)>;
        whole_history(execution_id: i64) -> Vec<EventRow>;
    }
}

impl HistoryReads for Db {
    dispatch! {
        history(execution_id: i64, after_id: Option<i64>, limit: i64, reverse: bool) -> Vec<EventRow>;
    }
}

impl TimerReads for Db {
    dispatch! {
        timers_due(after: Option<TimerRow>, until_ms: i64, limit: i64, held: Option<&[i64]>) -> Vec<TimerRow>;
        count_timers() -> i64;
    }
}

impl CallReads for Db {
    dispatch! {
        tasks_after(after: Option<(i64, i64)>, limit: i64, held: Option<&[i64]>) -> Vec<TaskRow>;
    }
}

impl Ids for Db {
    dispatch! {
        next_execution_id() -> i64;
    }
}

impl Commit for Db {
    dispatch! {
        commit(ops: Vec<WriteOp>, when_full: WhenFull) -> ();
    }
}

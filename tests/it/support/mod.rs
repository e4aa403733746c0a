//! Test helpers: [`TestDaemon`] runs the real binary; [`eventually`] polls without fixed sleeps.
//! The services tests need each start per test on a free loopback port and stop on drop:
//! [`TestPostgres`], [`TestBrowser`] (Chromium over WebDriver) and [`TestMoto`] (SQS, SNS,
//! DynamoDB, EventBridge and S3).

#![allow(dead_code)]

pub mod api;
pub mod browser;
pub mod cluster;
pub mod corpus;
pub mod daemon;
pub mod lambda;
pub mod moto;
pub mod postgres;
pub mod prom;
pub mod sfn;
pub mod sqlite;

pub use browser::TestBrowser;
pub use daemon::TestDaemon;
pub use lambda::FakeLambda;
pub use moto::TestMoto;
pub use postgres::{PgOptions, TestPostgres};

use std::future::Future;
use std::time::{Duration, Instant};

/// Poll `f` until it returns `Some`, or panic after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A one-state Pass machine definition.
pub const PASS_DEFINITION: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/DummyRole";

/// The Python virtual environment `scripts/test` prepares (boto3, the AWS CLI, moto).
pub fn test_venv() -> std::path::PathBuf {
    let venv = std::env::var_os("HOURGLASS_TEST_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-test"));
    assert!(
        venv.join("bin/python").exists(),
        "no Python test environment at {}: run the suite with scripts/test, which installs it",
        venv.display()
    );
    venv
}

/// Spawned tasks run at once; wait for each in turn.
pub async fn join_all<T>(
    handles: impl IntoIterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let handles: Vec<_> = handles.into_iter().collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}

/// The history events that end an execution.
pub fn is_terminal(t: &aws_sdk_sfn::types::HistoryEventType) -> bool {
    use aws_sdk_sfn::types::HistoryEventType as T;
    matches!(
        t,
        T::ExecutionSucceeded | T::ExecutionFailed | T::ExecutionAborted | T::ExecutionTimedOut
    )
}

/// A line of `/proc/PID/status`, in KiB (`VmRSS`, `VmHWM`).
fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The resident memory of a process now, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS:")
}

/// The resident memory of a process's own heap and stacks now (not its mapped files), in KiB.
pub fn rss_anon_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "RssAnon:")
}

/// The most resident memory a process has had, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmHWM:")
}

//! Test helpers: [`TestDaemon`] runs the real binary; [`eventually`] polls without fixed sleeps.

#![allow(dead_code)]

pub mod daemon;

pub use daemon::TestDaemon;

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

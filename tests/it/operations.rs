//! Operations: metrics move with the work, retention removes old executions, bad
//! configuration is refused before binding, SIGTERM under load loses nothing acknowledged.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;

use crate::support::sfn::{create, finished, start};
use crate::support::{eventually, TestDaemon, PASS_DEFINITION};

async fn metrics_text(daemon: &TestDaemon) -> String {
    reqwest::get(format!("{}/metrics", daemon.url()))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body")
}

/// The value of one sample line (`name{labels} value`) in Prometheus text, by exact series.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn counters_and_gauges_move_when_executions_start_wait_and_finish() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let waiting = create(
        &sfn,
        "waiting",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#,
    )
    .await;
    let quick = create(&sfn, "quick", PASS_DEFINITION).await;
    start(&sfn, &waiting, "w1", "{}").await;
    start(&sfn, &waiting, "w2", "{}").await;
    let q = start(&sfn, &quick, "q1", "{}").await;
    finished(&sfn, &q, Duration::from_secs(5)).await;
    let text = metrics_text(&daemon).await;
    assert_eq!(
        sample(&text, "hourglass_executions_started_total"),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            "hourglass_executions_finished_total{status=\"SUCCEEDED\"}"
        ),
        Some(1.0)
    );
    assert_eq!(sample(&text, "hourglass_executions_running"), Some(2.0));
    assert_eq!(sample(&text, "hourglass_timers_on_disk"), Some(2.0));
    // Statements, schemas and page caches of the writer and the readers: well over 64 KiB.
    let sqlite = sample(&text, "hourglass_sqlite_memory_bytes").expect("SQLite's memory");
    assert!(sqlite > 65_536.0, "{sqlite}");
    assert_eq!(
        sample(
            &text,
            "hourglass_api_requests_total{operation=\"StartExecution\",outcome=\"ok\"}"
        ),
        Some(3.0)
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_daemon_runs_without_transparent_huge_pages() {
    let daemon = TestDaemon::start().await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid()))
        .expect("the daemon's status");
    let thp = status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .expect("the kernel shows THP_enabled");
    assert_eq!(thp.trim(), "0", "{status}");
}

#[tokio::test]
async fn closed_executions_are_removed_after_the_retention_period() {
    // 0.00002 days = 1.7 s.
    let daemon = TestDaemon::start_with_env(&[
        ("HOURGLASS_RETENTION_DAYS", "0.00002"),
        ("HOURGLASS_RETENTION_SWEEP_SECS", "1"),
    ])
    .await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "short-lived", PASS_DEFINITION).await;
    let arn = start(&sfn, &sm, "old", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(5)).await,
        ExecutionStatus::Succeeded
    );
    eventually(
        "the execution to be removed",
        Duration::from_secs(15),
        || {
            let sfn = sfn.clone();
            let arn = arn.clone();
            async move {
                let r = sfn.describe_execution().execution_arn(arn).send().await;
                match r {
                    Err(e) => e
                        .into_service_error()
                        .is_execution_does_not_exist()
                        .then_some(()),
                    Ok(_) => None,
                }
            }
        },
    )
    .await;
    let text = metrics_text(&daemon).await;
    assert!(sample(&text, "hourglass_retention_removed_total").is_some_and(|n| n >= 1.0));
}

/// Pages freed by the sweep and not reused by the next one are given back: the file shrinks.
#[tokio::test]
async fn pages_the_sweep_freed_are_given_back_to_the_file_system() {
    let daemon = TestDaemon::start_with_env(&[
        ("HOURGLASS_RETENTION_DAYS", "0.00002"),
        ("HOURGLASS_RETENTION_SWEEP_SECS", "1"),
    ])
    .await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "large-inputs", PASS_DEFINITION).await;
    let input = format!("{{\"pad\":\"{}\"}}", "x".repeat(200_000));
    // Each is seen to succeed as soon as it is started: the sweep removes an ended execution
    // 1.7 s after its end, and all 20 starts can take longer than that.
    for i in 0..20 {
        let arn = start(&sfn, &sm, &format!("large-{i}"), &input).await;
        assert_eq!(
            finished(&sfn, &arn, Duration::from_secs(10)).await,
            ExecutionStatus::Succeeded
        );
    }
    let db = daemon.data_dir().join("hourglass.db");
    let file_size = || std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let wal = daemon.data_dir().join("hourglass.db-wal");
    // Everything written so far, in the file or still in the log.
    let written = file_size() + std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(written > 8_000_000, "{written} bytes");
    eventually(
        "the freed pages to be given back",
        Duration::from_secs(30),
        || {
            let daemon = &daemon;
            async move {
                let text = metrics_text(daemon).await;
                let released = sample(&text, "hourglass_database_pages_released_total")?;
                // The file is cut at a checkpoint; the next commits end in one.
                (released > 1000.0 && file_size() < 2_000_000).then_some(())
            }
        },
    )
    .await;
    // It goes on serving.
    let arn = start(&sfn, &sm, "after", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(5)).await,
        ExecutionStatus::Succeeded
    );
}

#[test]
fn a_bad_configuration_value_names_the_key_and_exits_before_binding() {
    let cases = [
        ("WAIT_TIME_SCALE", "-3", "wait_time_scale"),
        ("HOURGLASS_LOG", "loud", "HOURGLASS_LOG"),
        ("RUST_LOG", "hourglass=chatty", "log.level"),
        (
            "HOURGLASS_LIMITS__REQUEST_TIMEOUT_SECS",
            "0",
            "request_timeout_secs",
        ),
        ("SQS_ENDPOINT", "not a url", "integrations.sqs_endpoint"),
        ("SFN_MOCK_CONFIG", "/nonexistent/mocks.json", "mock_config"),
    ];
    for (var, value, named) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = crate::support::daemon::command()
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir.path())
            .current_dir(dir.path())
            .env_remove("HOURGLASS_LOG")
            .env_remove("RUST_LOG")
            .env(var, value)
            .output()
            .expect("run hourglass");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {err}");
        assert!(err.contains(named), "{var}={value}: stderr: {err}");
        assert!(
            out.stdout.is_empty(),
            "{var}={value}: it must not have started serving"
        );
    }
}

#[test]
fn hourglass_config_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = crate::support::daemon::command()
        .arg("config")
        .current_dir(dir.path())
        .env("HOURGLASS_PORT", "9999")
        .env("AWS_SECRET_ACCESS_KEY", "very-secret")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .output()
        .expect("run hourglass config");
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed["port"], 9999);
    assert_eq!(printed["lambda"]["access_key_id"], "AKIDEXAMPLE");
    assert_eq!(printed["lambda"]["secret_access_key"], "***");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("very-secret"));
}

#[tokio::test]
async fn sigterm_under_load_exits_zero_and_keeps_every_acknowledged_start() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "load",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#,
    )
    .await;
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for c in 0..8 {
        let sfn = sfn.clone();
        let sm = sm.clone();
        let acknowledged = acknowledged.clone();
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                match sfn
                    .start_execution()
                    .state_machine_arn(&sm)
                    .name(format!("c{c}-{i}"))
                    .send()
                    .await
                {
                    Ok(r) => acknowledged
                        .lock()
                        .expect("list")
                        .push(r.execution_arn().to_owned()),
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let started = std::time::Instant::now();
    let status = daemon.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} to stop",
        started.elapsed()
    );
    for c in clients {
        let _ = c.await;
    }
    daemon.start_again();
    let sfn = daemon.sfn();
    let acknowledged = acknowledged.lock().expect("list").clone();
    assert!(!acknowledged.is_empty(), "the load made no starts");
    for arn in &acknowledged {
        let d = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{arn} was acknowledged and lost: {e:?}"));
        assert_eq!(d.status(), &ExecutionStatus::Running);
    }
}

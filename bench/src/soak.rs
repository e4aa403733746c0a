//! The soak: mixed load at a fixed rate for a long time, sampled every minute.
//!
//! Each execution waits 1–60 s (`SecondsPath`), calls a function through `lambda:invoke`
//! (one call in twenty fails once and is retried after a second), and ends in a Pass. One in
//! a hundred waits 60 s and is stopped two seconds after its start. One start in ten is
//! followed by a DescribeExecution of an execution started up to half a minute before, one in
//! a hundred by a GetExecutionHistory of it. Closed executions are removed by the daemon's
//! retention sweep, so the store reaches a steady size.
//!
//! Every minute a row goes to the CSV file: starts and their latency, reads and theirs, the
//! lateness of the function calls that follow a Wait (the call's arrival minus the start's
//! send time plus the wait, so at least the wheel's own lateness, never less), the daemon's
//! RSS, CPU and database size. At the end the drift of each figure is printed: the mean and
//! the median of the last ten minutes against those of minutes 11–20. The median is the one to
//! read for the p99s: one or two minutes with a stall of the disk can make a ten-minute mean of
//! p99s several times its median.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::client::Client;
use crate::daemon::Daemon;
use crate::{now_ms, pct};

pub const MACHINE: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","SecondsPath":"$.wait","Next":"Task"},"Task":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","OutputPath":"$.Payload","Parameters":{"Payload.$":"$","FunctionName":"soak"},"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":3,"BackoffRate":1.0}],"Next":"Pass"},"Pass":{"Type":"Pass","End":true}}}"#;

/// What the clients and the function server saw in the current minute.
#[derive(Default)]
struct Minute {
    start_us: Vec<u64>,
    describe_us: Vec<u64>,
    history_us: Vec<u64>,
    lateness_ms: Vec<i64>,
    tasks_ok: u64,
    task_failures: u64,
    stops: u64,
    api_errors: u64,
}

#[derive(Default)]
struct Shared {
    minute: Mutex<Minute>,
    /// Executions whose first call failed: their next call is the retry, not a wake-up.
    failed_once: Mutex<HashSet<u64>>,
}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut Minute) -> R) -> R {
        let mut m = self.minute.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut m)
    }
}

/// The function the executions call: answers with its payload, fails one execution in twenty
/// on its first call, and records how late each first call came.
pub struct FunctionServer {
    pub url: String,
    shared: Arc<Shared>,
}

impl FunctionServer {
    pub async fn start() -> Result<Self> {
        use axum::routing::post;
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let app = axum::Router::new().route(
            "/2015-03-31/functions/{name}/invocations",
            post(move |body: axum::body::Bytes| {
                let s = s.clone();
                async move { s.invoked(body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, shared })
    }
}

impl Shared {
    fn invoked(&self, body: axum::body::Bytes) -> axum::response::Response {
        use axum::response::IntoResponse;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let id = v["id"].as_u64().unwrap_or(0);
        let due = v["due"].as_i64().unwrap_or(0);
        let retry = {
            let mut failed = self.failed_once.lock().unwrap_or_else(|p| p.into_inner());
            failed.remove(&id)
        };
        let fail = !retry && id.is_multiple_of(20);
        if fail {
            self.failed_once
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id);
        }
        let late = now_ms() - due;
        self.with(|m| {
            if !retry {
                m.lateness_ms.push(late);
            }
            if fail {
                m.task_failures += 1;
            } else {
                m.tasks_ok += 1;
            }
        });
        if fail {
            (
                [
                    ("content-type", "application/json"),
                    ("x-amz-function-error", "Unhandled"),
                ],
                r#"{"errorType":"Flaky","errorMessage":"failed once on purpose"}"#,
            )
                .into_response()
        } else {
            (
                [
                    ("content-type", "application/json"),
                    ("x-amz-executed-version", "$LATEST"),
                ],
                body,
            )
                .into_response()
        }
    }
}

pub struct Options {
    pub rate: u64,
    pub minutes: u64,
    pub csv: PathBuf,
}

/// The seconds execution `id` waits: 1–60, spread by a multiplicative hash; 60 for those
/// that are stopped.
fn wait_secs(id: u64) -> u64 {
    if id % 100 == 7 {
        60
    } else {
        1 + (id.wrapping_mul(2_654_435_761) >> 7) % 60
    }
}

pub async fn run(
    client: &Client,
    daemon: &Daemon,
    data_dir: &Path,
    function: &FunctionServer,
    opts: &Options,
) -> Result<()> {
    let sm = client.create_state_machine("soak", MACHINE).await?;
    let exec_prefix = sm.replacen(":stateMachine:", ":execution:", 1);
    let shared = function.shared.clone();
    let mut csv = std::fs::File::create(&opts.csv)
        .with_context(|| format!("creating {}", opts.csv.display()))?;
    let header = "minute,starts,start_p50_ms,start_p99_ms,describe_p99_ms,history_p99_ms,\
                  lateness_p50_ms,lateness_p99_ms,lateness_max_ms,early,tasks_ok,task_failures,\
                  stops,api_errors,rss_mib,cpu_pct,db_mib,load1";
    writeln!(csv, "{header}")?;
    println!("{header}");

    let begun = Instant::now();
    let starter = {
        let (client, shared, sm, prefix, rate) = (
            client.clone(),
            shared.clone(),
            sm.clone(),
            exec_prefix.clone(),
            opts.rate,
        );
        tokio::spawn(async move {
            let inflight = Arc::new(tokio::sync::Semaphore::new(512));
            let mut issued = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let target = begun.elapsed().as_millis() as u64 * rate / 1000;
                while issued < target {
                    let id = issued;
                    issued += 1;
                    let Ok(permit) = inflight.clone().acquire_owned().await else {
                        return;
                    };
                    let (client, shared, sm, prefix) =
                        (client.clone(), shared.clone(), sm.clone(), prefix.clone());
                    tokio::spawn(async move {
                        one_execution(&client, &shared, &sm, &prefix, id, rate).await;
                        drop(permit);
                    });
                }
            }
        })
    };
    let _stop = crate::AbortAll(vec![starter]);
    let mut cpu0 = daemon.cpu_seconds()?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for n in 1..=opts.minutes {
        tokio::time::sleep_until((begun + Duration::from_secs(60 * n)).into()).await;
        let minute = std::mem::take(&mut *shared.minute.lock().unwrap_or_else(|p| p.into_inner()));
        let cpu = daemon.cpu_seconds()?;
        let row = sample(minute, cpu - cpu0, daemon.rss_mib()?, dir_bytes(data_dir));
        cpu0 = cpu;
        let line = std::iter::once(n.to_string())
            .chain(row.iter().map(|v| format!("{v:.2}")))
            .collect::<Vec<_>>()
            .join(",");
        writeln!(csv, "{line}")?;
        csv.flush()?;
        println!("{line}");
        rows.push(row);
    }
    drift(&rows);
    Ok(())
}

async fn one_execution(
    client: &Client,
    shared: &Shared,
    sm: &str,
    prefix: &str,
    id: u64,
    rate: u64,
) {
    let wait = wait_secs(id);
    let input = serde_json::json!({"id": id, "wait": wait, "due": now_ms() + wait as i64 * 1000});
    let body = serde_json::json!({"stateMachineArn": sm, "name": format!("s{id}"), "input": input.to_string()});
    let t = Instant::now();
    let ok = matches!(client.call("StartExecution", &body).await, Ok(Ok(_)));
    let us = t.elapsed().as_micros() as u64;
    shared.with(|m| {
        if ok {
            m.start_us.push(us);
        } else {
            m.api_errors += 1;
        }
    });
    if id % 100 == 7 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let body = serde_json::json!({"executionArn": format!("{prefix}:s{id}")});
        let ok = matches!(client.call("StopExecution", &body).await, Ok(Ok(_)));
        shared.with(|m| if ok { m.stops += 1 } else { m.api_errors += 1 });
    } else if id % 10 == 3 {
        // An execution started up to 30 s before, still kept (retention is longer).
        let back = (id.wrapping_mul(7_919) % (rate * 30).max(1)).min(id);
        let arn = format!("{prefix}:s{}", id - back);
        let history = id % 100 == 13;
        let (op, body) = if history {
            (
                "GetExecutionHistory",
                serde_json::json!({"executionArn": arn, "maxResults": 100}),
            )
        } else {
            (
                "DescribeExecution",
                serde_json::json!({"executionArn": arn}),
            )
        };
        let t = Instant::now();
        let ok = matches!(client.call(op, &body).await, Ok(Ok(_)));
        let us = t.elapsed().as_micros() as u64;
        shared.with(|m| match (ok, history) {
            (false, _) => m.api_errors += 1,
            (true, true) => m.history_us.push(us),
            (true, false) => m.describe_us.push(us),
        });
    }
}

/// One row of figures (without the minute's number) from a minute's observations.
fn sample(mut m: Minute, cpu_secs: f64, rss_mib: f64, db_bytes: u64) -> Vec<f64> {
    for v in [&mut m.start_us, &mut m.describe_us, &mut m.history_us] {
        v.sort_unstable();
    }
    m.lateness_ms.sort_unstable();
    let ms = |v: &[u64], p: f64| pct(v, p) as f64 / 1000.0;
    vec![
        m.start_us.len() as f64,
        ms(&m.start_us, 50.0),
        ms(&m.start_us, 99.0),
        ms(&m.describe_us, 99.0),
        ms(&m.history_us, 99.0),
        pct(&m.lateness_ms, 50.0) as f64,
        pct(&m.lateness_ms, 99.0) as f64,
        m.lateness_ms.last().copied().unwrap_or(0) as f64,
        m.lateness_ms.iter().filter(|l| **l < 0).count() as f64,
        m.tasks_ok as f64,
        m.task_failures as f64,
        m.stops as f64,
        m.api_errors as f64,
        rss_mib,
        cpu_secs * 100.0 / 60.0,
        db_bytes as f64 / (1024.0 * 1024.0),
        load_average(),
    ]
}

/// The machine's one-minute load average (other work on the machine shows here).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The bytes of the files in `dir` (the database, its WAL and shared memory).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The change of each figure: the last ten minutes' mean and median against minutes 11–20's.
fn drift(rows: &[Vec<f64>]) {
    if rows.len() < 30 {
        println!("drift: needs at least 30 minutes, ran {}", rows.len());
        return;
    }
    let names = [
        ("start_p99_ms", 2),
        ("describe_p99_ms", 3),
        ("lateness_p99_ms", 6),
        ("rss_mib", 13),
        ("cpu_pct", 14),
        ("db_mib", 15),
    ];
    let change = |early: f64, late: f64| (late - early) * 100.0 / early.max(f64::MIN_POSITIVE);
    for (name, i) in names {
        let (first, last) = (
            column(&rows[10..20], i),
            column(&rows[rows.len() - 10..], i),
        );
        let (early, late) = (mean(&first), mean(&last));
        let (early_med, late_med) = (median(first), median(last));
        let max = column(&rows[10..], i).into_iter().fold(f64::MIN, f64::max);
        println!(
            "drift {name}: minutes 11-20 {early:.2}, last 10 {late:.2} ({:+.1}%); medians {early_med:.2}, {late_med:.2} ({:+.1}%); max after minute 10 {max:.2}",
            change(early, late),
            change(early_med, late_med),
        );
    }
}

fn column(rows: &[Vec<f64>], i: usize) -> Vec<f64> {
    rows.iter().map(|r| r[i]).collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The middle value (`pct` at 50: of an even count, the upper of the two middle ones).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    pct(&values, 50.0)
}

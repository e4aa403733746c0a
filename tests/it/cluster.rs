//! Several nodes on one PostgreSQL database: failover when a node dies or stalls, rolling
//! restarts, a node joining, PostgreSQL going away, and moving a SQLite database over.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::Client;
use tokio::sync::Semaphore;

use crate::support::cluster::{TestCluster, LEASE_SECS, PARTITIONS};
use crate::support::postgres::{PgOptions, TestPostgres};
use crate::support::sfn::{all_succeed, check_history, create, history, start};
use crate::support::{FakeLambda, TestDaemon};

/// Waits for a deadline, then calls Lambda.
const WAIT_THEN_CALL: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.due","Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}"#;
/// Waits for a deadline.
const WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.due","Next":"P"},"P":{"Type":"Pass","End":true}}}"#;

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The input of an execution due at `due_ms`.
fn due_input(due_ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(due_ms) * 1_000_000)
        .expect("a time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    format!(r#"{{"due":"{at}"}}"#)
}

/// Start `n` executions of `sm` through the clients in turn (32 at a time), the i-th due at
/// `due(i)`; returns (arn, due) of each.
async fn start_many(
    clients: &[Client],
    sm: &str,
    prefix: &str,
    n: usize,
    due: impl Fn(usize) -> i64,
) -> Vec<(String, i64)> {
    let permits = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let sfn = clients[i % clients.len()].clone();
        let sm = sm.to_owned();
        let name = format!("{prefix}{i}");
        let due_ms = due(i);
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _p = permits.acquire().await.expect("permit");
            (start(&sfn, &sm, &name, &due_input(due_ms)).await, due_ms)
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("start task"));
    }
    out
}

/// Check every history (see [`check_history`]) and return the lateness of each Wait, in ms,
/// in the order of `executions`.
async fn check_all(sfn: &Client, executions: &[(String, i64)]) -> Vec<i64> {
    let mut late = Vec::with_capacity(executions.len());
    for (arn, due) in executions {
        let events = history(sfn, arn).await;
        late.extend(check_history(arn, &events, Some(*due)));
    }
    late
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Clients that keep starting executions of `sm` (due 0.5–3 s after their start) through the
/// nodes the shared list names, recording what was acknowledged and every error code, until
/// `stop` is cancelled.
struct Load {
    acknowledged: Arc<Mutex<Vec<(String, i64)>>>,
    errors: Arc<Mutex<BTreeMap<String, u64>>>,
    stop: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(targets: Arc<RwLock<Vec<Client>>>, sm: &str, clients: usize) -> Self {
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = tokio_util::sync::CancellationToken::new();
        let tasks = (0..clients)
            .map(|c| {
                let (targets, sm) = (targets.clone(), sm.to_owned());
                let (acknowledged, errors, stop) =
                    (acknowledged.clone(), errors.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut n = 0usize;
                    while !stop.is_cancelled() {
                        n += 1;
                        let sfn = {
                            let t = targets.read().expect("targets");
                            t[(c + n) % t.len()].clone()
                        };
                        let due_ms = now_ms() + 500 + ((c * 7919 + n * 104_729) % 2_500) as i64;
                        let answer = sfn
                            .start_execution()
                            .state_machine_arn(&sm)
                            .name(format!("load-{c}-{n}"))
                            .input(due_input(due_ms))
                            .send()
                            .await;
                        match answer {
                            Ok(out) => acknowledged
                                .lock()
                                .expect("acknowledged")
                                .push((out.execution_arn().to_owned(), due_ms)),
                            Err(e) => {
                                let code = e.code().unwrap_or("no answer").to_owned();
                                *errors.lock().expect("errors").entry(code).or_default() += 1;
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                })
            })
            .collect();
        Self {
            acknowledged,
            errors,
            stop,
            tasks,
        }
    }

    /// Stop the clients; returns what was acknowledged and the errors by code.
    async fn finish(self) -> (Vec<(String, i64)>, BTreeMap<String, u64>) {
        self.stop.cancel();
        for t in self.tasks {
            t.await.expect("load client");
        }
        let acknowledged = std::mem::take(&mut *self.acknowledged.lock().expect("acknowledged"));
        let errors = std::mem::take(&mut *self.errors.lock().expect("errors"));
        (acknowledged, errors)
    }
}

#[tokio::test]
async fn three_nodes_lose_one_to_sigkill_and_every_acknowledged_execution_ends_once_on_time() {
    const EXECUTIONS: usize = 3_000;
    let pg = TestPostgres::start().await;
    let lambda = FakeLambda::start().await;
    let mut cluster = TestCluster::start(
        pg.url(),
        3,
        &[
            ("LAMBDA_ENDPOINT", lambda.endpoint().as_str()),
            ("HOURGLASS_LOG", "info"),
        ],
    )
    .await;
    let clients: Vec<Client> = cluster.live().iter().map(|&i| cluster.sfn(i)).collect();
    let sm = create(&clients[0], "cluster-kill", WAIT_THEN_CALL).await;

    // Deadlines spread over 2–20 s from now, started through all three nodes.
    let t0 = now_ms();
    let started = Instant::now();
    let executions = start_many(&clients, &sm, "e", EXECUTIONS, |i| {
        t0 + 2_000 + (i as i64 * 18_000) / EXECUTIONS as i64
    })
    .await;
    let start_secs = started.elapsed().as_secs_f64();

    // Half-way through the deadlines, the node holding the most partitions dies.
    let kill_at = t0 + 11_000;
    let wait = kill_at - now_ms();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    let victim = cluster.busiest().await;
    let victim_held = cluster.held(victim).await.unwrap_or(0);
    cluster.kill9(victim);
    let killed_ms = now_ms();
    let survivor = cluster.live()[0];

    all_succeed(
        || cluster.sfn(survivor),
        &sm,
        executions.iter().map(|(a, _)| a.clone()),
        Duration::from_secs(90),
    )
    .await;
    let late = check_all(&cluster.sfn(survivor), &executions).await;
    // The dead node's timers pass on when its leases expire: no later than the lease and 2 s
    // after their deadlines (those due before the kill could be late by the time the kill
    // itself took; only those due after it are held to this).
    let after_kill = sorted(
        executions
            .iter()
            .zip(late.iter())
            .filter(|((_, due), _)| *due > killed_ms)
            .map(|(_, l)| *l)
            .collect(),
    );
    let late = sorted(late);
    let calls = lambda.calls_to("echo").len();
    println!(
        "3 nodes: {EXECUTIONS} starts in {start_secs:.1} s ({:.0}/s); killed node{victim} \
         holding {victim_held} of {PARTITIONS} partitions; Wait lateness p50 {} ms, p99 {} ms, \
         max {} ms (after the kill: max {} ms); {calls} Lambda calls ({} made again)",
        EXECUTIONS as f64 / start_secs,
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late.last().copied().unwrap_or(0),
        after_kill.last().copied().unwrap_or(0),
        calls.saturating_sub(EXECUTIONS),
    );
    assert!(calls >= EXECUTIONS, "{calls} Lambda calls for {EXECUTIONS}");
    let bound = (LEASE_SECS * 1000 + 2_000) as i64;
    assert!(
        after_kill.last().copied().unwrap_or(0) <= bound,
        "a Wait due after the kill fired {} ms late (bound {bound} ms)",
        after_kill.last().copied().unwrap_or(0)
    );
}

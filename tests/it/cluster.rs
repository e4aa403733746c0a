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

#[tokio::test]
async fn a_node_stopped_past_its_lease_commits_nothing_for_what_it_lost_then_takes_its_share_back()
{
    let pg = TestPostgres::start().await;
    let cluster = TestCluster::start(pg.url(), 3, &[]).await;
    let victim = cluster.busiest().await;
    let others: Vec<usize> = cluster
        .live()
        .into_iter()
        .filter(|&i| i != victim)
        .collect();
    let all: Vec<Client> = cluster.live().iter().map(|&i| cluster.sfn(i)).collect();
    let sm = create(&all[0], "cluster-stop", WAIT).await;

    // Deadlines 1–6 s away, a third of them in the victim's wheel when it stops.
    let t0 = now_ms();
    let mut executions = start_many(&all, &sm, "w", 600, |i| t0 + 1_000 + (i as i64 * 5)).await;
    let targets = Arc::new(RwLock::new(
        others.iter().map(|&i| cluster.sfn(i)).collect::<Vec<_>>(),
    ));
    let load = Load::start(targets, &sm, 8);
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.node(victim).signal("-STOP");
    let stopped = Instant::now();
    // The others take its partitions over once its leases expire.
    let mut taken_over = None;
    while stopped.elapsed() < Duration::from_secs(2 * LEASE_SECS + 4) {
        let mut held = 0;
        for &i in &others {
            held += cluster.held(i).await.unwrap_or(0);
        }
        if held == PARTITIONS && taken_over.is_none() {
            taken_over = Some(stopped.elapsed());
        }
        if taken_over.is_some() && stopped.elapsed() >= Duration::from_secs(2 * LEASE_SECS) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.node(victim).signal("-CONT");
    let paused = stopped.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (acknowledged, errors) = load.finish().await;
    executions.extend(acknowledged);

    // It rejoins and takes its share back.
    let rejoined = cluster.balanced(Duration::from_secs(4 * LEASE_SECS)).await;
    let sfn = cluster.sfn(others[0]);
    all_succeed(
        || sfn.clone(),
        &sm,
        executions.iter().map(|(a, _)| a.clone()),
        Duration::from_secs(60),
    )
    .await;
    let late = sorted(check_all(&sfn, &executions).await);
    let fenced = cluster
        .metric(victim, "hourglass_fenced_commits_total")
        .await
        .unwrap_or(0.0);
    let lost = cluster
        .metric(victim, "hourglass_lease_losses_total")
        .await
        .unwrap_or(0.0);
    println!(
        "SIGSTOP of node{victim} for {:.1} s: the others held all {PARTITIONS} partitions \
         {taken_over:.1?} after it stopped; {} executions, Wait lateness p99 {} ms, max {} ms; \
         the stopped node had {fenced} commits fenced in the database and {lost} leases lost; \
         balanced again {:.1} s after SIGCONT+3 s; starts refused meanwhile: {errors:?}",
        paused.as_secs_f64(),
        executions.len(),
        percentile(&late, 0.99),
        late.last().copied().unwrap_or(0),
        rejoined.as_secs_f64(),
    );
    assert!(
        taken_over.is_some(),
        "the running nodes never held every partition while one was stopped"
    );
    // Starts for the stopped node's partitions wait for the takeover (2 s at most), then are
    // refused with a 503 the SDKs retry; nothing else.
    assert!(
        errors.keys().all(|k| k == "ServiceUnavailableException"),
        "the running nodes refused starts: {errors:?}"
    );
}

#[tokio::test]
async fn a_rolling_restart_of_every_node_loses_no_acknowledged_start() {
    let pg = TestPostgres::start().await;
    let mut cluster = TestCluster::start(pg.url(), 3, &[]).await;
    let targets = Arc::new(RwLock::new(
        cluster
            .live()
            .iter()
            .map(|&i| cluster.sfn(i))
            .collect::<Vec<_>>(),
    ));
    let sm = create(&cluster.sfn(0), "cluster-roll", WAIT).await;
    let load = Load::start(targets.clone(), &sm, 8);
    for i in cluster.live() {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let status = cluster.node_mut(i).terminate();
        assert!(status.success(), "node{i} exited with {status} on SIGTERM");
        cluster.node_mut(i).start_again();
        targets.write().expect("targets")[i] = cluster.sfn(i);
        cluster.balanced(Duration::from_secs(6 * LEASE_SECS)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (acknowledged, errors) = load.finish().await;
    all_succeed(
        || cluster.sfn(0),
        &sm,
        acknowledged.iter().map(|(a, _)| a.clone()),
        Duration::from_secs(60),
    )
    .await;
    let late = sorted(check_all(&cluster.sfn(0), &acknowledged).await);
    println!(
        "rolling restart of 3 nodes: {} starts acknowledged, all succeeded; Wait lateness p99 \
         {} ms, max {} ms; refused or unanswered: {errors:?}",
        acknowledged.len(),
        percentile(&late, 0.99),
        late.last().copied().unwrap_or(0),
    );
    assert!(acknowledged.len() > 100, "the load hardly ran");
}

#[tokio::test]
async fn a_fourth_node_takes_its_share_within_two_leases_and_fires_timers() {
    let pg = TestPostgres::start().await;
    let mut cluster = TestCluster::start(pg.url(), 3, &[]).await;
    let clients: Vec<Client> = cluster.live().iter().map(|&i| cluster.sfn(i)).collect();
    let sm = create(&clients[0], "cluster-join", WAIT).await;
    let t0 = now_ms();
    let executions = start_many(&clients, &sm, "j", 400, |i| t0 + 3_000 + (i as i64 * 10)).await;

    let joining = Instant::now();
    let new = cluster.add_node().await;
    cluster.balanced(Duration::from_secs(6 * LEASE_SECS)).await;
    let took = joining.elapsed();
    let held = cluster.held(new).await.unwrap_or(0);

    all_succeed(
        || cluster.sfn(new),
        &sm,
        executions.iter().map(|(a, _)| a.clone()),
        Duration::from_secs(60),
    )
    .await;
    let fired = cluster
        .metric(new, "hourglass_timers_fired_total")
        .await
        .unwrap_or(0.0);
    let late = sorted(check_all(&cluster.sfn(new), &executions).await);
    println!(
        "a fourth node held {held} of {PARTITIONS} partitions {:.2} s after it was started; it \
         fired {fired} of {} timers; Wait lateness max {} ms",
        took.as_secs_f64(),
        executions.len(),
        late.last().copied().unwrap_or(0),
    );
    assert!(
        took <= Duration::from_secs(2 * LEASE_SECS),
        "the fourth node took {took:?} to hold its share"
    );
    assert!(fired > 0.0, "the fourth node fired no timer");
}

#[tokio::test]
async fn postgresql_going_away_under_load_answers_503_then_everything_completes() {
    let mut pg = TestPostgres::start_cluster(PgOptions::default()).await;
    let cluster = TestCluster::start(pg.url(), 2, &[]).await;
    let targets = Arc::new(RwLock::new(
        cluster
            .live()
            .iter()
            .map(|&i| cluster.sfn(i))
            .collect::<Vec<_>>(),
    ));
    let sm = create(&cluster.sfn(0), "cluster-pg", WAIT).await;
    let load = Load::start(targets, &sm, 8);
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.stop();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let ready_while_down: Vec<Option<u16>> = cluster
        .live()
        .iter()
        .map(|&i| cluster.node(i).get_status("/ready"))
        .collect();
    pg.start_again();
    let downtime = down.elapsed();
    // Back to ready by themselves.
    crate::support::eventually(
        "the nodes to be ready again",
        Duration::from_secs(30),
        || {
            let ok = cluster
                .live()
                .iter()
                .all(|&i| cluster.node(i).get_status("/ready") == Some(200));
            async move { ok.then_some(()) }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (acknowledged, errors) = load.finish().await;
    all_succeed(
        || cluster.sfn(0),
        &sm,
        acknowledged.iter().map(|(a, _)| a.clone()),
        Duration::from_secs(60),
    )
    .await;
    check_all(&cluster.sfn(0), &acknowledged).await;
    println!(
        "PostgreSQL down for {:.1} s under load: {} starts acknowledged, all succeeded; \
         refused: {errors:?}; /ready while down: {ready_while_down:?}",
        downtime.as_secs_f64(),
        acknowledged.len(),
    );
    assert!(
        errors
            .get("ServiceUnavailableException")
            .copied()
            .unwrap_or(0)
            > 0,
        "no start was answered 503 while PostgreSQL was down: {errors:?}"
    );
    let other: Vec<&String> = errors
        .keys()
        .filter(|k| *k != "ServiceUnavailableException" && *k != "ThrottlingException")
        .collect();
    assert!(
        other.is_empty(),
        "starts refused otherwise than with 503: {errors:?}"
    );
    assert!(
        ready_while_down.iter().all(|s| *s == Some(503)),
        "/ready while PostgreSQL was down: {ready_while_down:?}"
    );
}

#[tokio::test]
async fn executions_waiting_in_sqlite_migrated_to_postgresql_finish_on_three_nodes_on_time() {
    const EXECUTIONS: usize = 1_000;
    let mut single = TestDaemon::start().await;
    let sfn = single.sfn();
    let sm = create(&sfn, "migrated", WAIT).await;
    let t0 = now_ms();
    let executions = start_many(std::slice::from_ref(&sfn), &sm, "m", EXECUTIONS, |i| {
        t0 + 8_000 + (i as i64 * 6_000) / EXECUTIONS as i64
    })
    .await;
    // A version and an alias go across too.
    let version = sfn
        .publish_state_machine_version()
        .state_machine_arn(&sm)
        .description("migrated")
        .send()
        .await
        .expect("PublishStateMachineVersion")
        .state_machine_version_arn()
        .to_owned();
    let alias = sfn
        .create_state_machine_alias()
        .name("live")
        .routing_configuration(
            aws_sdk_sfn::types::RoutingConfigurationListItem::builder()
                .state_machine_version_arn(&version)
                .weight(100)
                .build()
                .expect("a route"),
        )
        .send()
        .await
        .expect("CreateStateMachineAlias")
        .state_machine_alias_arn()
        .to_owned();
    // A Distributed Map part-way: one child waiting, two items not started yet.
    let map = serde_json::json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Pause",
            "States": {"Pause": {"Type": "Wait", "Seconds": 3, "End": true}}},
        "End": true}}});
    let dm = create(&sfn, "migrated-map", &map.to_string()).await;
    let dm_arn = start(&sfn, &dm, "run", r#"{"items":[1,2,3]}"#).await;
    crate::support::eventually("the map run's first child", Duration::from_secs(20), || {
        let sfn = sfn.clone();
        let dm_arn = dm_arn.clone();
        async move {
            let runs = sfn
                .list_map_runs()
                .execution_arn(&dm_arn)
                .send()
                .await
                .ok()?;
            let run = runs.map_runs().first()?.map_run_arn().to_owned();
            let d = sfn.describe_map_run().map_run_arn(&run).send().await.ok()?;
            (d.item_counts()?.running() == 1).then_some(())
        }
    })
    .await;
    let pg = TestPostgres::start().await;
    let migrate = |data_dir: &std::path::Path| {
        crate::support::daemon::command()
            .args(["migrate", "--to", pg.url(), "--data-dir"])
            .arg(data_dir)
            .current_dir(data_dir)
            .env("HOURGLASS_LOG", "warn")
            .output()
            .expect("run hourglass migrate")
    };

    // Refused while the daemon runs.
    let out = migrate(single.data_dir());
    assert!(!out.status.success(), "migrated a database in use");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("another hourglass process"), "{said}");

    let status = single.terminate();
    assert!(status.success(), "the SQLite daemon exited with {status}");
    let started = Instant::now();
    let out = migrate(single.data_dir());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("{} executions", EXECUTIONS + 2))
            && said.contains("1 map runs (3 items)"),
        "{said}"
    );
    let took = started.elapsed();

    // A second run finds the target holding data.
    let again = migrate(single.data_dir());
    assert!(
        !again.status.success(),
        "migrated into a database holding data"
    );
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(refused.contains("already holds data"), "{refused}");

    let cluster = TestCluster::start(pg.url(), 3, &[]).await;
    let routed = cluster
        .sfn(0)
        .describe_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .expect("the alias, migrated");
    assert_eq!(
        routed.routing_configuration()[0].state_machine_version_arn(),
        version
    );
    all_succeed(
        || cluster.sfn(1),
        &sm,
        executions.iter().map(|(a, _)| a.clone()),
        Duration::from_secs(60),
    )
    .await;
    // The map run goes on where it was: the waiting child ends, the other two run.
    let map_done =
        crate::support::sfn::finished(&cluster.sfn(0), &dm_arn, Duration::from_secs(60)).await;
    assert_eq!(map_done, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    let out = crate::support::sfn::describe(&cluster.sfn(1), &dm_arn).await;
    assert_eq!(out.output(), Some("[1,2,3]"));
    let late = sorted(check_all(&cluster.sfn(2), &executions).await);
    println!(
        "migrated {EXECUTIONS} waiting executions in {:.2} s; on 3 nodes their Waits exited p50 \
         {} ms, p99 {} ms, max {} ms after their deadlines",
        took.as_secs_f64(),
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late.last().copied().unwrap_or(0),
    );
}

#[tokio::test]
async fn nested_executions_and_activity_tasks_run_on_three_nodes() {
    let pg = TestPostgres::start().await;
    let cluster = TestCluster::start(pg.url(), 3, &[]).await;
    let clients: Vec<Client> = cluster.live().iter().map(|&i| cluster.sfn(i)).collect();
    // A parent waiting for an unnamed child: the child is placed with its parent, so whichever
    // node runs the parent runs the child and hears of its end.
    let child = create(
        &clients[0],
        "cluster-child",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#,
    )
    .await;
    let parent = format!(
        r#"{{"StartAt":"S","States":{{"S":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{{"StateMachineArn":"{child}","Input.$":"$"}},"End":true}}}}}}"#
    );
    let sm = create(&clients[0], "cluster-parent", &parent).await;
    let mut parents = Vec::new();
    for i in 0..24 {
        parents.push(start(&clients[i % 3], &sm, &format!("p{i}"), "{}").await);
    }
    // Activity tasks: a poll takes the tasks of the partitions the node it reaches holds, so
    // workers poll every node (here one worker loop per node).
    let act = clients[0]
        .create_activity()
        .name("cluster-work")
        .send()
        .await
        .expect("create activity")
        .activity_arn()
        .to_owned();
    let worker_sm = create(
        &clients[1],
        "cluster-activity",
        &format!(
            r#"{{"StartAt":"A","States":{{"A":{{"Type":"Task","Resource":"{act}","End":true}}}}}}"#
        ),
    )
    .await;
    let mut workers = Vec::new();
    for i in 0..24 {
        workers.push(start(&clients[i % 3], &worker_sm, &format!("a{i}"), "{}").await);
    }
    let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let loops: Vec<_> = clients
        .iter()
        .map(|sfn| {
            let (sfn, act, taken) = (sfn.clone(), act.clone(), taken.clone());
            tokio::spawn(async move {
                loop {
                    let task = sfn
                        .get_activity_task()
                        .activity_arn(&act)
                        .send()
                        .await
                        .expect("GetActivityTask");
                    if let Some(token) = task.task_token() {
                        sfn.send_task_success()
                            .task_token(token)
                            .output("{}")
                            .send()
                            .await
                            .expect("SendTaskSuccess");
                        taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while taken.load(std::sync::atomic::Ordering::Relaxed) < workers.len()
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for l in loops {
        l.abort();
    }
    let answered = taken.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(answered, workers.len(), "every activity task was taken");
    all_succeed(
        || cluster.sfn(0),
        &sm,
        parents.iter().cloned(),
        Duration::from_secs(60),
    )
    .await;
    all_succeed(
        || cluster.sfn(0),
        &worker_sm,
        workers.iter().cloned(),
        Duration::from_secs(60),
    )
    .await;
}

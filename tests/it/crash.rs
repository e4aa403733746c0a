//! Crash consistency: SIGKILL the daemon while thousands of executions wait, and again and again under mixed load.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use tokio::sync::Semaphore;

use crate::support::sfn::{create, finished, history, start};
use crate::support::{is_terminal, TestDaemon};

const EXECUTIONS: usize = 2_000;

#[tokio::test]
async fn two_thousand_waits_survive_a_sigkill_none_lost_none_early_none_twice() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "crash",
        r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","TimestampPath":"$.due","Next":"Done"},"Done":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    // Deadlines spread over 1.5 .. 5.5 s from now.
    let base = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1_500);
    let permits = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(EXECUTIONS);
    for i in 0..EXECUTIONS {
        let due = base + time::Duration::milliseconds((i as i64 * 4_000) / EXECUTIONS as i64);
        let due_ms = (due.unix_timestamp_nanos() / 1_000_000) as i64;
        let at = due
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let sfn = sfn.clone();
        let sm = sm.clone();
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _p = permits.acquire().await.expect("permit");
            let arn = start(&sfn, &sm, &format!("e{i}"), &format!(r#"{{"due":"{at}"}}"#)).await;
            (arn, due_ms)
        }));
    }
    let mut acknowledged = Vec::with_capacity(EXECUTIONS);
    for t in tasks {
        acknowledged.push(t.await.expect("start task"));
    }
    // Part way through the firing window.
    let kill_at = base + time::Duration::milliseconds(1_500);
    let wait = kill_at - time::OffsetDateTime::now_utc();
    if wait.is_positive() {
        tokio::time::sleep(Duration::from_millis(wait.whole_milliseconds() as u64)).await;
    }
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();

    // Every acknowledged execution completes.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut pending: HashSet<String> = acknowledged.iter().map(|(a, _)| a.clone()).collect();
    while !pending.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} executions never finished",
            pending.len()
        );
        let mut token = None;
        loop {
            let page = sfn
                .list_executions()
                .state_machine_arn(&sm)
                .status_filter(ExecutionStatus::Succeeded)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .expect("list");
            for e in page.executions() {
                pending.remove(e.execution_arn());
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // None early, one terminal event each, ids contiguous.
    for (arn, due_ms) in &acknowledged {
        let events = history(&sfn, arn).await;
        let exited = events
            .iter()
            .find(|e| e.r#type() == &HistoryEventType::WaitStateExited)
            .unwrap_or_else(|| panic!("{arn}: no WaitStateExited"));
        let t = exited.timestamp();
        let exited_ms = t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000);
        assert!(
            exited_ms >= *due_ms,
            "{arn} fired {} ms early",
            due_ms - exited_ms
        );
        let terminal = events.iter().filter(|e| is_terminal(e.r#type())).count();
        assert_eq!(terminal, 1, "{arn}: {terminal} terminal events");
        let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
        let want: Vec<i64> = (1..=events.len() as i64).collect();
        assert_eq!(ids, want, "{arn}: history ids not contiguous");
    }
}

/// A small deterministic generator (xorshift64*), seeded per run and printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn millis_of(e: &aws_sdk_sfn::types::HistoryEvent) -> i64 {
    let t = e.timestamp();
    t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000)
}

const MIXED_WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.due","Next":"P"},"P":{"Type":"Pass","End":true}}}"#;
const MIXED_TASK: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.due","Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}"#;
const MIXED_MAP: &str = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemSelector":{"due.$":"$.due","id.$":"$.id","i.$":"$$.Map.Item.Value"},"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.due","Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}},"End":true}}}"#;

/// What the clients of the mixed load were told, shared between them.
#[derive(Default)]
struct Ledger {
    /// Acknowledged starts: (arn, deadline, input id, which machine).
    started: Vec<(String, i64, u64, usize)>,
    /// Executions a stop was sent for (a stop the crash cut off may still have committed).
    stops_sent: HashSet<String>,
    /// Acknowledged stops: the time the answer came.
    stops_acked: std::collections::HashMap<String, i64>,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One client of the mixed load: starts (4 in 5) and stops until `stop` is set.
async fn mixed_client(
    sfn: aws_sdk_sfn::Client,
    machines: Arc<[String; 3]>,
    ledger: Arc<std::sync::Mutex<Ledger>>,
    mut rng: Rng,
    client: u64,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut n = 0;
    while !stop.load(std::sync::atomic::Ordering::Acquire) {
        n += 1;
        let pick = {
            let l = ledger.lock().expect("ledger");
            (!l.started.is_empty() && rng.below(5) == 0).then(|| {
                l.started[rng.below(l.started.len() as u64) as usize]
                    .0
                    .clone()
            })
        };
        if let Some(arn) = pick {
            ledger
                .lock()
                .expect("ledger")
                .stops_sent
                .insert(arn.clone());
            if sfn
                .stop_execution()
                .execution_arn(&arn)
                .send()
                .await
                .is_ok()
            {
                ledger
                    .lock()
                    .expect("ledger")
                    .stops_acked
                    .insert(arn, now_ms());
            }
            continue;
        }
        let due =
            time::OffsetDateTime::now_utc() + time::Duration::milliseconds(rng.below(1_500) as i64);
        let due_ms = (due.unix_timestamp_nanos() / 1_000_000) as i64;
        let at = due
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let which = rng.below(3) as usize;
        let id = client * 1_000_000 + n;
        let input = if which == 2 {
            format!(r#"{{"due":"{at}","id":{id},"items":[1,2,3]}}"#)
        } else {
            format!(r#"{{"due":"{at}","id":{id}}}"#)
        };
        if let Ok(out) = sfn
            .start_execution()
            .state_machine_arn(&machines[which])
            .name(format!("c{client}-{n}"))
            .input(input)
            .send()
            .await
        {
            ledger.lock().expect("ledger").started.push((
                out.execution_arn().to_owned(),
                due_ms,
                id,
                which,
            ));
        }
    }
}

#[tokio::test]
async fn thirty_sigkills_under_mixed_load_lose_nothing_fire_nothing_early_end_everything_once() {
    const CLIENTS: u64 = 8;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    println!("crash-consistency seed {seed}");
    let mut rng = Rng(seed);
    let lambda = crate::support::FakeLambda::start().await;
    let mut daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &lambda.endpoint())]).await;
    let sfn = daemon.sfn();
    let machines = Arc::new([
        create(&sfn, "mixed-wait", MIXED_WAIT).await,
        create(&sfn, "mixed-task", MIXED_TASK).await,
        create(&sfn, "mixed-map", MIXED_MAP).await,
    ]);
    let ledger = Arc::new(std::sync::Mutex::new(Ledger::default()));
    // When each SIGKILL was sent.
    let mut kills_ms = Vec::new();
    for _ in 0..30 {
        // Concurrent clients, so the kill lands in the middle of requests.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(mixed_client(
                    daemon.sfn(),
                    machines.clone(),
                    ledger.clone(),
                    Rng(rng.next() | 1),
                    c + 10 * kills_ms.len() as u64,
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300))).await;
        kills_ms.push(now_ms());
        daemon.kill9();
        stop.store(true, std::sync::atomic::Ordering::Release);
        for c in crate::support::join_all(clients).await {
            c.expect("client");
        }
        daemon.start_again();
    }
    let sfn = daemon.sfn();
    let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
    assert!(
        ledger.started.len() > 100,
        "only {} starts",
        ledger.started.len()
    );
    let calls = lambda.calls_to("echo");
    let mut duplicates = 0;
    for (arn, due_ms, id, which) in &ledger.started {
        // Every acknowledged execution exists and ends.
        let status = finished(&sfn, arn, Duration::from_secs(60)).await;
        let events = history(&sfn, arn).await;
        let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
        assert_eq!(
            ids,
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "{arn}: ids"
        );
        let terminal = events.iter().filter(|e| is_terminal(e.r#type())).count();
        assert_eq!(terminal, 1, "{arn}: {terminal} terminal events");
        // No wait ended before its deadline.
        for e in events
            .iter()
            .filter(|e| e.r#type() == &HistoryEventType::WaitStateExited)
        {
            assert!(
                millis_of(e) >= *due_ms,
                "{arn}: a wait ended {} ms early",
                due_ms - millis_of(e)
            );
        }
        let described = crate::support::sfn::describe(&sfn, arn).await;
        match status {
            ExecutionStatus::Succeeded => {
                // An acknowledged stop of an execution that succeeded came after its end.
                if let Some(acked) = ledger.stops_acked.get(arn) {
                    let ended = described
                        .stop_date()
                        .map_or(0, |d| d.to_millis().unwrap_or(0));
                    assert!(
                        ended <= *acked,
                        "{arn}: a stop was acknowledged, yet it ran on"
                    );
                }
                // The function's answer (its input, echoed) is the output.
                let output: serde_json::Value =
                    serde_json::from_str(described.output().unwrap_or("null")).expect("output");
                match which {
                    1 => assert_eq!(output["id"], *id, "{arn}: output {output}"),
                    2 => assert_eq!(
                        output.as_array().map(Vec::len),
                        Some(3),
                        "{arn}: output {output}"
                    ),
                    _ => {}
                }
            }
            ExecutionStatus::Aborted => {
                assert!(ledger.stops_sent.contains(arn), "{arn}: aborted unasked")
            }
            other => panic!("{arn} ended {other:?}"),
        }
        // A call (of the Task, or of one Map iteration) is made again only when a kill fell
        // between it and the one before. The fake notes a call when it arrives, which can be a
        // moment after the daemon sent it, so a kill just before the first also counts.
        let mut made: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
        for c in &calls {
            let Ok(body) = serde_json::from_str::<serde_json::Value>(&c.body) else {
                continue;
            };
            if body["id"] == *id {
                made.entry(body["i"].to_string()).or_default().push(c.at_ms);
            }
        }
        for times in made.values_mut() {
            times.sort_unstable();
            for pair in times.windows(2) {
                assert!(
                    kills_ms
                        .iter()
                        .any(|k| pair[0] - 100 <= *k && *k <= pair[1]),
                    "{arn}: called twice ({} and {} ms) with no crash between",
                    pair[0],
                    pair[1]
                );
                duplicates += 1;
            }
        }
    }
    println!(
        "{} acknowledged executions, {} stops sent ({} acknowledged), {} calls, {} made again after a crash, 30 SIGKILLs: all consistent",
        ledger.started.len(),
        ledger.stops_sent.len(),
        ledger.stops_acked.len(),
        calls.len(),
        duplicates
    );
}

//! Limits, a full disk, and races: the daemon refuses what it cannot hold with AWS's errors,
//! keeps what it acknowledged, and leaves one consistent history per execution.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::api::code_and_message;
use crate::support::sfn::{create, describe, finished, history, start};
use crate::support::{eventually, is_terminal, join_all, FakeLambda, TestDaemon};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};

const WAIT_AN_HOUR: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

/// One terminal event, ids 1..n without gaps, and a status that agrees with the history.
async fn assert_consistent(sfn: &aws_sdk_sfn::Client, arn: &str) {
    let events = history(sfn, arn).await;
    let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
    assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>(), "{arn}");
    let terminal: Vec<&HistoryEventType> = events
        .iter()
        .map(|e| e.r#type())
        .filter(|t| is_terminal(t))
        .collect();
    assert_eq!(terminal.len(), 1, "{arn}: {terminal:?}");
    let status = describe(sfn, arn).await.status().clone();
    let want = match terminal[0] {
        HistoryEventType::ExecutionSucceeded => ExecutionStatus::Succeeded,
        HistoryEventType::ExecutionFailed => ExecutionStatus::Failed,
        HistoryEventType::ExecutionAborted => ExecutionStatus::Aborted,
        _ => ExecutionStatus::TimedOut,
    };
    assert_eq!(status, want, "{arn}");
    assert_eq!(
        events.last().map(|e| e.r#type()),
        Some(terminal[0]),
        "{arn}: the terminal event is not the last"
    );
}

#[tokio::test]
async fn the_open_execution_cap_answers_execution_limit_exceeded_until_one_closes() {
    let daemon =
        TestDaemon::start_with_env(&[("HOURGLASS_LIMITS__MAX_OPEN_EXECUTIONS", "3")]).await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "capped", WAIT_AN_HOUR).await;
    let mut open = Vec::new();
    for i in 0..3 {
        open.push(start(&sfn, &sm, &format!("e{i}"), "{}").await);
    }
    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name("one-too-many")
        .send()
        .await
        .expect_err("past the cap");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ExecutionLimitExceeded");
    assert!(message.contains("max_open_executions"), "{message}");
    sfn.stop_execution()
        .execution_arn(&open[0])
        .send()
        .await
        .expect("stop");
    start(&sfn, &sm, "room-again", "{}").await;
}

#[tokio::test]
async fn an_execution_that_fills_its_history_fails_with_the_last_event() {
    let daemon =
        TestDaemon::start_with_env(&[("HOURGLASS_LIMITS__MAX_HISTORY_EVENTS", "40")]).await;
    let sfn = daemon.sfn();
    // Counts down from the input, two events per state: runs past 40 events.
    let sm = create(
        &sfn,
        "long",
        r#"{"StartAt":"Dec","States":{
            "Dec":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, -1)"},"Next":"More"},
            "More":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":0,"Next":"Dec"}],"Default":"Done"},
            "Done":{"Type":"Succeed"}}}"#,
    )
    .await;
    let short = start(&sfn, &sm, "short", r#"{"n":3}"#).await;
    assert_eq!(
        finished(&sfn, &short, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let long = start(&sfn, &sm, "long", r#"{"n":100}"#).await;
    assert_eq!(
        finished(&sfn, &long, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &long).await;
    assert_eq!(d.error(), Some("States.Runtime"));
    assert_eq!(
        d.cause(),
        Some("The execution reached the maximum number of history events (40).")
    );
    let events = history(&sfn, &long).await;
    assert_eq!(events.len(), 40);
    assert_consistent(&sfn, &long).await;
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_keeps_what_it_holds_and_recovers() {
    let mut daemon = TestDaemon::start_with_env(&[("HOURGLASS_SQLITE__MAX_SIZE_MIB", "3")]).await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "fill", WAIT_AN_HOUR).await;
    // 50 KB inputs: about sixty fit in 3 MiB with their history.
    let input = format!(r#"{{"pad":"{}"}}"#, "x".repeat(50_000));
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..1_000 {
        let name = format!("e{i}");
        match sfn
            .start_execution()
            .state_machine_arn(&sm)
            .name(&name)
            .input(&input)
            .send()
            .await
        {
            Ok(out) => acknowledged.push(out.execution_arn().to_owned()),
            Err(e) => {
                let (code, message) = code_and_message(&e);
                assert_eq!(code, "ServiceUnavailableException", "{message}");
                let raw = e.raw_response().map(|r| r.status().as_u16());
                assert_eq!(raw, Some(503));
                refused = Some(name);
                break;
            }
        }
    }
    let refused = refused.expect("the cap was never reached");
    assert!(acknowledged.len() > 10, "only {} fit", acknowledged.len());

    // Nothing half-written: the refused start does not exist; reads go on.
    let arn = acknowledged[0].replace(":e0", &format!(":{refused}"));
    let err = sfn
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect_err("the refused execution was not written");
    assert_eq!(code_and_message(&err).0, "ExecutionDoesNotExist");
    for arn in &acknowledged {
        assert_eq!(
            describe(&sfn, arn).await.status(),
            &ExecutionStatus::Running
        );
    }

    // Space returns (a larger cap): every acknowledged execution is there and writes work.
    daemon.terminate();
    daemon.set_env("HOURGLASS_SQLITE__MAX_SIZE_MIB", "64");
    daemon.start_again();
    let sfn = daemon.sfn();
    let listed = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .max_results(1000)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.executions().len(), acknowledged.len());
    start(&sfn, &sm, &refused, &input).await;
}

#[tokio::test]
async fn stops_racing_firing_timers_leave_one_terminal_event_each() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "race-timer",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.at","Next":"P"},"P":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    // Deadlines 4 ms apart over 400 ms, and every stop sent at the middle one: the first
    // half fire before their stop, the second half are stopped first (the stops have 200 ms
    // to land), and the ones around the middle race.
    let base = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1_500);
    let mut arns = Vec::new();
    for i in 0..100 {
        let at = (base + time::Duration::milliseconds(4 * i))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        arns.push(start(&sfn, &sm, &format!("e{i}"), &format!(r#"{{"at":"{at}"}}"#)).await);
    }
    let middle = base + time::Duration::milliseconds(200);
    let until_middle = middle - time::OffsetDateTime::now_utc();
    if until_middle.is_positive() {
        tokio::time::sleep(Duration::from_millis(
            until_middle.whole_milliseconds() as u64
        ))
        .await;
    }
    let stops = arns.iter().map(|arn| {
        let sfn = sfn.clone();
        let arn = arn.clone();
        tokio::spawn(async move { sfn.stop_execution().execution_arn(arn).send().await })
    });
    for s in join_all(stops).await {
        s.expect("join").expect("stop answers");
    }
    let mut seen = HashSet::new();
    for arn in &arns {
        let status = finished(&sfn, arn, Duration::from_secs(10)).await;
        seen.insert(status.as_str().to_owned());
        assert_consistent(&sfn, arn).await;
    }
    assert!(seen.contains("ABORTED"), "no stop won: {seen:?}");
}

#[tokio::test]
async fn a_stop_during_a_lambda_call_wins_and_the_late_result_changes_nothing() {
    let lambda = FakeLambda::start().await;
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &lambda.endpoint())]).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "race-call",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"sleep","Payload.$":"$"},"End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    eventually("the call to arrive", Duration::from_secs(10), || async {
        (!lambda.calls_to("sleep").is_empty()).then_some(())
    })
    .await;
    sfn.stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("stop");
    // The sleeping function answers 3 s after the call; give its answer time to arrive.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_consistent(&sfn, &arn).await;
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    assert_eq!(types.last(), Some(&HistoryEventType::ExecutionAborted));
    assert!(!types.contains(&HistoryEventType::TaskSucceeded));
}

#[tokio::test]
async fn duplicate_starts_racing_each_other_create_one_execution() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "race-start", WAIT_AN_HOUR).await;
    let same = (0..32).map(|_| {
        let sfn = sfn.clone();
        let sm = sm.clone();
        tokio::spawn(async move {
            sfn.start_execution()
                .state_machine_arn(sm)
                .name("once")
                .input(r#"{"k":1}"#)
                .send()
                .await
                .map(|o| o.execution_arn().to_owned())
        })
    });
    let arns: HashSet<String> = join_all(same)
        .await
        .into_iter()
        .map(|r| r.expect("join").expect("an identical start is idempotent"))
        .collect();
    assert_eq!(arns.len(), 1);
    // Same name, different inputs: one wins, the others are told it exists.
    let different = (0..16).map(|i| {
        let sfn = sfn.clone();
        let sm = sm.clone();
        tokio::spawn(async move {
            sfn.start_execution()
                .state_machine_arn(sm)
                .name("contested")
                .input(format!(r#"{{"k":{i}}}"#))
                .send()
                .await
                .map_err(|e| code_and_message(&e).0)
        })
    });
    let results: Vec<_> = join_all(different)
        .await
        .into_iter()
        .map(|r| r.expect("join"))
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|c| c == "ExecutionAlreadyExists"));
    let listed = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.executions().len(), 2);
    for e in listed.executions() {
        let started = history(&sfn, e.execution_arn())
            .await
            .iter()
            .filter(|h| h.r#type() == &HistoryEventType::ExecutionStarted)
            .count();
        assert_eq!(started, 1);
    }
}

#[tokio::test]
async fn an_overloaded_write_queue_throttles_starts_and_loses_none_it_acknowledged() {
    let daemon = TestDaemon::start_with_env(&[
        ("HOURGLASS_WRITER__QUEUE_CAPACITY", "4"),
        ("HOURGLASS_WRITER__MAX_BATCH", "4"),
    ])
    .await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "overload", WAIT_AN_HOUR).await;
    let starts = (0..400).map(|i| {
        let sfn = sfn.clone();
        let sm = sm.clone();
        tokio::spawn(async move {
            sfn.start_execution()
                .state_machine_arn(sm)
                .name(format!("e{i}"))
                .send()
                .await
                .map(|o| o.execution_arn().to_owned())
                .map_err(|e| code_and_message(&e).0)
        })
    });
    let results: Vec<_> = join_all(starts)
        .await
        .into_iter()
        .map(|r| r.expect("join"))
        .collect();
    let acknowledged: HashSet<String> = results.iter().filter_map(|r| r.clone().ok()).collect();
    let throttled = results
        .iter()
        .filter(|r| r.as_ref().err().map(String::as_str) == Some("ThrottlingException"))
        .count();
    assert_eq!(
        acknowledged.len() + throttled,
        400,
        "other errors: {:?}",
        results.iter().filter(|r| r.is_err()).collect::<Vec<_>>()
    );
    assert!(throttled > 0, "the queue never filled");
    let mut listed = HashSet::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(&sm)
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .expect("list");
        listed.extend(
            page.executions()
                .iter()
                .map(|e| e.execution_arn().to_owned()),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        listed, acknowledged,
        "stored executions differ from acknowledged ones"
    );
}

#[tokio::test]
async fn definitions_over_1_mib_and_inputs_over_256_kib_are_refused_at_the_edge() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let pad = "x".repeat(1_048_576);
    let big = format!(
        r#"{{"Comment":"{pad}","StartAt":"P","States":{{"P":{{"Type":"Pass","End":true}}}}}}"#
    );
    let err = sfn
        .create_state_machine()
        .name("big")
        .definition(big)
        .role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .expect_err("a definition over 1 MiB");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains(
            "Value at 'definition' failed to satisfy constraint: Member must have size less \
             than or equal to 1048576 bytes in UTF-8 encoding"
        ),
        "{message}"
    );
    let sm = create(&sfn, "small", WAIT_AN_HOUR).await;
    let at_limit = format!(r#""{}""#, "y".repeat(262_144 - 2));
    start(&sfn, &sm, "at-limit", &at_limit).await;
    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name("over")
        .input(format!(r#""{}""#, "y".repeat(262_144 - 1)))
        .send()
        .await
        .expect_err("an input over 256 KiB");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member \
         must have size less than or equal to 262144 bytes in UTF-8 encoding"
    );
}

#[tokio::test]
async fn the_256_kib_input_limit_counts_utf8_bytes_not_characters() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "bytes", WAIT_AN_HOUR).await;
    // "é" is two bytes: 131,071 of them and the quotes are 262,144 bytes, 131,073 characters.
    let at_limit = format!(r#""{}""#, "é".repeat(131_071));
    assert_eq!(at_limit.len(), 262_144);
    start(&sfn, &sm, "at-limit", &at_limit).await;
    // One more byte: still far fewer characters than the limit, but too many bytes.
    let over = format!(r#""{}x""#, "é".repeat(131_071));
    assert_eq!(over.len(), 262_145);
    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name("over")
        .input(over)
        .send()
        .await
        .expect_err("an input over 256 KiB in bytes");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member \
         must have size less than or equal to 262144 bytes in UTF-8 encoding"
    );
    // The 1 MiB definition limit counts bytes too.
    let pad = "é".repeat(524_288);
    let big = format!(
        r#"{{"Comment":"{pad}","StartAt":"P","States":{{"P":{{"Type":"Pass","End":true}}}}}}"#
    );
    let err = sfn
        .create_state_machine()
        .name("wide")
        .definition(big)
        .role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .expect_err("a definition over 1 MiB in bytes");
    assert_eq!(code_and_message(&err).0, "ValidationException");
}

#[tokio::test]
async fn an_endless_function_answer_is_cut_at_the_limit_without_being_held() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "stream",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:stream","End":true}}}"#,
    )
    .await;
    let rss_before = crate::support::rss_kib(daemon.pid());
    let mut arns = Vec::new();
    for i in 0..8 {
        arns.push(start(&sfn, &sm, &format!("s{i}"), "{}").await);
    }
    for arn in &arns {
        assert_eq!(
            finished(&sfn, arn, Duration::from_secs(30)).await,
            ExecutionStatus::Failed
        );
        assert_eq!(
            describe(&sfn, arn).await.error(),
            Some("States.DataLimitExceeded")
        );
    }
    let grown_mib = crate::support::peak_rss_kib(daemon.pid()).saturating_sub(rss_before) / 1024;
    // Eight 64 MiB answers held whole would take 512 MiB.
    assert!(grown_mib < 64, "the daemon grew by {grown_mib} MiB");
}

#[tokio::test]
async fn executions_evaluating_heavy_expressions_delay_neither_health_nor_other_waits() {
    let daemon = TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1")]).await;
    let sfn = daemon.sfn();
    // A quarter of a second of JSONata per execution in a debug build, four at once: more
    // than this machine has cores.
    let heavy = create(
        &sfn,
        "heavy",
        r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true,
            "Output":"{% $sum($map([1..200000], function($v){ $v * 2 })) %}"}}}"#,
    )
    .await;
    let light = create(
        &sfn,
        "light",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#,
    )
    .await;
    let addr = daemon.url().trim_start_matches("http://").to_owned();
    // /health is probed from a thread of its own, so the test's own runtime cannot delay it.
    let probe = std::thread::spawn(move || {
        let mut worst = Duration::ZERO;
        let until = std::time::Instant::now() + Duration::from_secs(4);
        while std::time::Instant::now() < until {
            let started = std::time::Instant::now();
            let status = crate::support::daemon::get_status(&addr, "/health");
            assert_eq!(status, Some(200));
            worst = worst.max(started.elapsed());
            std::thread::sleep(Duration::from_millis(10));
        }
        worst
    });
    let waiting = start(&sfn, &light, "w", "{}").await;
    let mut heavies = Vec::new();
    for i in 0..4 {
        let (sfn, heavy) = (sfn.clone(), heavy.clone());
        heavies.push(tokio::spawn(async move {
            start(&sfn, &heavy, &format!("h{i}"), "{}").await
        }));
    }
    let started = join_all(heavies).await;
    let worst = tokio::task::spawn_blocking(move || probe.join().expect("probe"))
        .await
        .expect("probe");
    for h in started {
        let arn = h.expect("start");
        assert_eq!(
            finished(&sfn, &arn, Duration::from_secs(60)).await,
            ExecutionStatus::Succeeded
        );
    }
    assert_eq!(
        finished(&sfn, &waiting, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let events = history(&sfn, &waiting).await;
    let at = |t: HistoryEventType| {
        events
            .iter()
            .find(|e| e.r#type() == &t)
            .map(|e| e.timestamp().as_secs_f64())
            .expect("event")
    };
    let late_ms =
        (at(HistoryEventType::WaitStateExited) - at(HistoryEventType::WaitStateEntered) - 1.0)
            * 1000.0;
    // An evaluation on the runtime's threads would hold /health and the timer for its whole
    // quarter of a second; the bounds leave room for a machine busy with other tests.
    assert!(worst < Duration::from_millis(150), "/health took {worst:?}");
    assert!(late_ms < 150.0, "the wait ended {late_ms:.0} ms late");
}

/// What one client of the mixed load did and was told.
#[derive(Default)]
struct Mixed {
    started: Vec<String>,
    stopped: Vec<String>,
    tagged: Vec<(String, String)>,
    throttled: HashSet<&'static str>,
    answered: usize,
}

/// The error code of a failed call; `None` when it succeeded.
fn refused<T, E: aws_sdk_sfn::error::ProvideErrorMetadata + std::fmt::Debug>(
    r: &Result<T, E>,
) -> Option<String> {
    r.as_ref().err().map(|e| code_and_message(e).0)
}

#[tokio::test]
async fn under_2048_clients_every_operation_is_throttled_not_queued_and_nothing_acknowledged_is_lost(
) {
    let daemon = TestDaemon::start_with_env(&[
        ("HOURGLASS_WRITER__QUEUE_CAPACITY", "8"),
        ("HOURGLASS_WRITER__MAX_BATCH", "8"),
        ("HOURGLASS_LIMITS__MAX_CONCURRENT_REQUESTS", "256"),
    ])
    .await;
    let sfn = daemon.sfn();
    // 32 clients a machine, under AWS's 50 tags a resource.
    let mut machines = Vec::new();
    for i in 0..64 {
        machines.push(create(&sfn, &format!("mixed{i}"), WAIT_AN_HOUR).await);
    }
    let rss_before = crate::support::rss_kib(daemon.pid());
    let clients = (0..2048).map(|c| {
        let sfn = sfn.clone();
        let sm = machines[c % machines.len()].clone();
        tokio::spawn(async move {
            let mut m = Mixed::default();
            let note = |m: &mut Mixed, op: &'static str, code: Option<String>| {
                m.answered += 1;
                match code.as_deref() {
                    None => true,
                    Some("ThrottlingException") => {
                        m.throttled.insert(op);
                        false
                    }
                    Some(other) => panic!("{op}: {other}"),
                }
            };
            let started = sfn
                .start_execution()
                .state_machine_arn(&sm)
                .name(format!("c{c}"))
                .send()
                .await;
            if note(&mut m, "StartExecution", refused(&started)) {
                m.started
                    .push(started.expect("started").execution_arn().to_owned());
            }
            let key = format!("k{c}");
            let tagged = sfn
                .tag_resource()
                .resource_arn(&sm)
                .tags(
                    aws_sdk_sfn::types::Tag::builder()
                        .key(&key)
                        .value("v")
                        .build(),
                )
                .send()
                .await;
            if note(&mut m, "TagResource", refused(&tagged)) {
                m.tagged.push((sm.clone(), key));
            }
            let updated = sfn
                .update_state_machine()
                .state_machine_arn(&sm)
                .definition(WAIT_AN_HOUR)
                .send()
                .await;
            note(&mut m, "UpdateStateMachine", refused(&updated));
            let listed = sfn.list_executions().state_machine_arn(&sm).send().await;
            note(&mut m, "ListExecutions", refused(&listed));
            if let Some(arn) = m.started.first().cloned() {
                let described = sfn.describe_execution().execution_arn(&arn).send().await;
                note(&mut m, "DescribeExecution", refused(&described));
                let history = sfn.get_execution_history().execution_arn(&arn).send().await;
                note(&mut m, "GetExecutionHistory", refused(&history));
                let stopped = sfn.stop_execution().execution_arn(&arn).send().await;
                if note(&mut m, "StopExecution", refused(&stopped)) {
                    m.stopped.push(arn);
                }
            }
            m
        })
    });
    let results: Vec<Mixed> = tokio::time::timeout(Duration::from_secs(120), join_all(clients))
        .await
        .expect("every client was answered")
        .into_iter()
        .map(|r| r.expect("client"))
        .collect();
    let grown_mib = crate::support::peak_rss_kib(daemon.pid()).saturating_sub(rss_before) / 1024;
    let throttled: HashSet<&str> = results.iter().flat_map(|m| m.throttled.clone()).collect();
    let answered: usize = results.iter().map(|m| m.answered).sum();
    println!("{answered} requests; throttled operations: {throttled:?}; RSS grew {grown_mib} MiB");
    assert!(
        throttled.iter().any(|op| *op != "StartExecution"),
        "only StartExecution was ever throttled: {throttled:?}"
    );
    assert!(grown_mib < 256, "the daemon grew by {grown_mib} MiB");
    // Everything acknowledged is stored.
    for m in &results {
        for arn in &m.started {
            let status = describe(&sfn, arn).await.status().clone();
            let want = if m.stopped.contains(arn) {
                ExecutionStatus::Aborted
            } else {
                ExecutionStatus::Running
            };
            assert_eq!(status, want, "{arn}");
        }
    }
    for sm in &machines {
        let tags = sfn
            .list_tags_for_resource()
            .resource_arn(sm)
            .send()
            .await
            .expect("tags");
        let stored: HashSet<&str> = tags.tags().iter().filter_map(|t| t.key()).collect();
        for (_, key) in results
            .iter()
            .flat_map(|m| &m.tagged)
            .filter(|(s, _)| s == sm)
        {
            assert!(stored.contains(key.as_str()), "tag {key} of {sm} was lost");
        }
    }
}

//! Upgrades keep pending work: databases written by earlier builds, with executions stopped at
//! every kind of blocking point, open in this build and every execution finishes as it would
//! have.
//!
//! Each fixture under `tests/fixtures/upgrade/<build>/` is a `hourglass.db` written by that
//! build with [`make_upgrade_fixture`] (run it with `TEST_DAEMON_BIN` set to that build's
//! binary), and `expected.json`, what each execution ends with. Every change to what is
//! persisted (the cursor, the rows) adds a migration and a fixture written by the build before
//! it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;

use crate::support::sfn::{create, describe, finished, history, start};
use crate::support::{eventually, FakeLambda, TestDaemon};

/// Timestamp waits (one fired before the stop, two pending).
const WAITS: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.at","Next":"P"},"P":{"Type":"Pass","Result":{"waited":true},"ResultPath":"$.done","End":true}}}"#;
/// A Task whose call is in flight at the stop.
const TASK: &str = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"hang","Payload.$":"$"},"OutputPath":"$.Payload","Next":"P"},"P":{"Type":"Pass","End":true}}}"#;
/// A Map one item at a time: the first iteration done, the second waiting at the stop.
const MAP: &str = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.waits","MaxConcurrency":1,"ItemSelector":{"wait.$":"$$.Map.Item.Value","index.$":"$$.Map.Item.Index"},"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.wait","Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}},"End":true}}}"#;
/// A Task that fails, waiting out a Retry back-off at the stop, then caught.
const RETRY: &str = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:fail-typed","Retry":[{"ErrorEquals":["CustomError"],"IntervalSeconds":20,"MaxAttempts":1}],"Catch":[{"ErrorEquals":["CustomError"],"ResultPath":"$.error","Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

/// Write a fixture with the build under test (`TEST_DAEMON_BIN`) into
/// `tests/fixtures/upgrade/$UPGRADE_FIXTURE_NAME/`. Not part of the suite.
#[tokio::test]
#[ignore]
async fn make_upgrade_fixture() {
    let name = std::env::var("UPGRADE_FIXTURE_NAME").expect("UPGRADE_FIXTURE_NAME");
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let mut daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
    let sfn = daemon.sfn();
    let now = time::OffsetDateTime::now_utc();
    let at = |secs: i64| {
        (now + time::Duration::seconds(secs))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let waits = create(&sfn, "waits", WAITS).await;
    let task = create(&sfn, "task", TASK).await;
    let map = create(&sfn, "map", MAP).await;
    let retry = create(&sfn, "retry", RETRY).await;
    let mut expected = serde_json::Map::new();
    // Names that are UUIDs, as an unnamed start gets: from migration 0010 on, the lowercase
    // one is kept as 16 bytes and the other as text.
    for (name, secs) in [
        ("fired", 0),
        ("pending-1", 20),
        ("pending-2", 30),
        ("7d3b1c0e-5a4f-4e2b-9c8d-1f2e3a4b5c6d", 25),
        ("7D3B1C0E-5A4F-4E2B-9C8D-1F2E3A4B5C6D", 25),
    ] {
        let input = format!(r#"{{"at":"{}"}}"#, at(secs));
        start(&sfn, &waits, name, &input).await;
        let mut output: serde_json::Value = serde_json::from_str(&input).expect("input");
        output["done"] = serde_json::json!({"waited": true});
        expected.insert(
            format!("waits:{name}"),
            serde_json::json!({"status": "SUCCEEDED", "output": output}),
        );
    }
    start(&sfn, &task, "in-flight", r#"{"n":7}"#).await;
    expected.insert(
        "task:in-flight".into(),
        serde_json::json!({"status": "SUCCEEDED", "output": {"n": 7}}),
    );
    start(&sfn, &map, "part-way", r#"{"waits":[0,20]}"#).await;
    expected.insert(
        "map:part-way".into(),
        serde_json::json!({"status": "SUCCEEDED", "output": [{"wait": 0, "index": 0}, {"wait": 20, "index": 1}]}),
    );
    start(&sfn, &retry, "backing-off", r#"{"k":1}"#).await;
    expected.insert(
        "retry:backing-off".into(),
        serde_json::json!({"status": "SUCCEEDED", "output": {"k": 1, "error": {"Error": "CustomError", "Cause": "{\"errorType\":\"CustomError\",\"errorMessage\":\"boom\"}"}}}),
    );
    // Let each reach its blocking point: the first wait fired, the call in flight, the first
    // iteration done, the first attempt failed.
    eventually("the blocking points", Duration::from_secs(10), || async {
        let called = lambda.in_progress("hang") == 1
            && lambda.calls_to("echo").len() == 1
            && lambda.calls_to("fail-typed").len() == 1;
        let fired = describe(
            &sfn,
            "arn:aws:states:us-east-1:123456789012:execution:waits:fired",
        )
        .await
        .status()
            == &ExecutionStatus::Succeeded;
        (called && fired).then_some(())
    })
    .await;
    assert!(daemon.terminate().success());
    let dir = fixtures().join(&name);
    std::fs::create_dir_all(&dir).expect("fixture dir");
    std::fs::copy(
        daemon.data_dir().join("hourglass.db"),
        dir.join("hourglass.db"),
    )
    .expect("copy the database");
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected).expect("json") + "\n",
    )
    .expect("write expected.json");
    println!("wrote {}", dir.display());
}

#[tokio::test]
async fn databases_of_earlier_builds_finish_their_pending_executions() {
    let mut builds: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("tests/fixtures/upgrade")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.join("hourglass.db").exists())
        .collect();
    builds.sort();
    assert!(!builds.is_empty(), "no upgrade fixtures");
    for build in builds {
        let lambda = FakeLambda::start().await;
        lambda.release_hang();
        let endpoint = lambda.endpoint();
        let daemon = TestDaemon::start_from(
            &build.join("hourglass.db"),
            &[("LAMBDA_ENDPOINT", &endpoint)],
        )
        .await;
        let sfn = daemon.sfn();
        let expected: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(build.join("expected.json")).expect("expected.json"),
        )
        .expect("expected.json is an object");
        for (key, want) in &expected {
            let (machine, name) = key.split_once(':').expect("machine:name");
            let arn = format!("arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}");
            let status = finished(&sfn, &arn, Duration::from_secs(30)).await;
            assert_eq!(
                status.as_str(),
                want["status"],
                "{}: {key}",
                build.display()
            );
            let output: serde_json::Value =
                serde_json::from_str(describe(&sfn, &arn).await.output().unwrap_or("null"))
                    .expect("output");
            assert_eq!(output, want["output"], "{}: {key}", build.display());
            // The history written before the upgrade and after it reads as one, in order.
            let events = history(&sfn, &arn).await;
            let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
            assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>(), "{key}");
            assert!(
                events.iter().all(|e| e.previous_event_id() < e.id()),
                "{key}"
            );
            let first = events.first().map(|e| e.r#type().as_str().to_owned());
            assert_eq!(first.as_deref(), Some("ExecutionStarted"), "{key}");
            let last = events.last().map(|e| e.r#type().as_str().to_owned());
            assert!(last.is_some_and(|t| t.starts_with("Execution")), "{key}");
        }
        // The counts by status the upgrade began keeping (from the rows already there, then
        // from every change) agree with the executions listed, machine by machine.
        let machines = sfn.list_state_machines().send().await.expect("machines");
        for m in machines.state_machines() {
            let listed = sfn
                .list_executions()
                .state_machine_arn(m.state_machine_arn())
                .max_results(1000)
                .send()
                .await
                .expect("executions")
                .executions()
                .len();
            let arn: String =
                form_urlencoded::byte_serialize(m.state_machine_arn().as_bytes()).collect();
            let page = reqwest::get(format!("{}/console/machine?arn={arn}", daemon.url()))
                .await
                .expect("console")
                .text()
                .await
                .expect("page");
            let all = format!("All <span class=\"n\">{listed}</span>");
            assert!(
                page.contains(&all),
                "{}: {} counts {listed}",
                build.display(),
                m.name()
            );
        }
    }
}

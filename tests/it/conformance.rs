//! The recorded AWS behaviour in `tests/conformance/` (a copy of the shared corpus, so a fresh
//! clone runs it), replayed against the real daemon by the corpus's own runner.
//!
//! The run fails when the pass rate of the selected cases drops below the floor recorded in
//! `tests/conformance/FLOOR` (raise it as features land). The runner prints a pass table by
//! feature and one line per failed case; `cargo test conformance -- --nocapture` shows it.

use crate::support::corpus;

/// The cases of callbacks, activities and nested executions that need no AWS service beyond
/// Lambda. Left out: cases that need another service (SQS, SNS, S3, ...), Step Functions
/// Local's mock files, or the TestState API, each the subject of another part of the work.
const CALLBACKS: &[&str] = &[
    "--any-need",
    "callback",
    "--any-need",
    "activity",
    "--any-need",
    "api:create_activity",
    "--any-need",
    "sfn_nested",
    "--any-need",
    "sync_integration",
    "--exclude-need",
    "sqs",
    "--exclude-need",
    "sns",
    "--exclude-need",
    "aws_sdk",
    "--exclude-need",
    "dynamodb",
    "--exclude-need",
    "events",
    "--exclude-need",
    "mock_config",
    "--exclude-need",
    "test_state",
];

/// The pass rate those cases are held to.
const CALLBACKS_FLOOR: f64 = 90.0;

#[tokio::test]
async fn callback_activity_and_nested_execution_cases_pass_at_90_percent() {
    let replay = corpus::replay_with_floor("conformance", CALLBACKS, CALLBACKS_FLOOR).await;
    let n = replay.ran();
    assert!(n >= 30, "the selection ran {n} cases");
    replay.assert_ran_and_reached_floor(n);
}

/// Selection of cases this build is expected to run: every core case (those a standalone
/// server with a Lambda endpoint can pass), the Lambda ones against the corpus's own
/// function server.
const SELECTION: &[&str] = &["--core"];

#[tokio::test]
async fn conformance_cases_pass_above_the_recorded_floor() {
    let replay = corpus::replay("conformance", SELECTION).await;
    // Cases left out are counted, not hidden: every case is either run or skipped for a
    // need this server does not meet (another AWS service, activities, Distributed Map, ...).
    let index = &replay.index;
    let core_needs: std::collections::BTreeSet<&str> = index
        .iter()
        .filter(|c| c["core"] == true)
        .flat_map(|c| c["needs"].as_array().into_iter().flatten())
        .filter_map(|n| n.as_str())
        .collect();
    let mut skipped: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in index.iter().filter(|c| c["core"] != true) {
        for need in c["needs"].as_array().into_iter().flatten() {
            if let Some(n) = need.as_str().filter(|n| !core_needs.contains(n)) {
                *skipped.entry(n).or_default() += 1;
            }
        }
    }
    let run = replay.core_cases();
    println!(
        "{} cases: {run} run, {} skipped; skipped cases by what they need:",
        index.len(),
        index.len() - run
    );
    for (need, n) in &skipped {
        println!("  {need:<32} {n}");
    }
    replay.assert_ran_and_reached_floor(run);
}

/// The core cases again with their histories compared event type for event type
/// (`--strict-history`), and each event's `previousEventId` where the recording kept the ids
/// (`--strict-chain`): a case whose history differs from AWS's fails even when its output
/// matches.
#[tokio::test]
async fn core_cases_match_aws_histories_event_for_event_at_99_percent() {
    let selection = ["--core", "--strict-history", "--strict-chain"];
    let replay = corpus::replay_with_floor("conformance", &selection, 99.0).await;
    let n = replay.core_cases();
    replay.assert_ran_and_reached_floor(n);
}

/// The cases of Express machines: their validation and StartSyncExecution. Left out of the
/// floor's reach: the one that needs a function only the recording account has.
const EXPRESS: &[&str] = &["--any-need", "express", "--any-need", "express_sync"];

#[tokio::test]
async fn express_cases_pass_at_80_percent() {
    let replay = corpus::replay_with_floor("conformance", EXPRESS, 80.0).await;
    let n = replay.ran();
    assert!(n >= 7, "the selection ran {n} cases");
    replay.assert_ran_and_reached_floor(n);
}

/// The TestState cases: states run on their own, with mocks (checked against the service's
/// output shapes), inspection data, Retry and Catch, and the API's refusals.
const TEST_STATE: &[&str] = &["--any-need", "test_state", "--any-need", "api:test_state"];

#[tokio::test]
async fn test_state_cases_pass_at_90_percent() {
    let replay = corpus::replay_with_floor("conformance", TEST_STATE, 90.0).await;
    let n = replay.ran();
    assert!(n >= 100, "the selection ran {n} cases");
    replay.assert_ran_and_reached_floor(n);
}

/// The CreateStateMachine refusals recorded beyond the core set: most are a Distributed
/// Map's `Label` (its characters and length), refused in AWS's own words.
const CREATE_REFUSALS: &[&str] = &["--need", "api:create_state_machine"];

#[tokio::test]
async fn create_state_machine_refusals_pass_at_95_percent() {
    let replay = corpus::replay_with_floor("conformance", CREATE_REFUSALS, 95.0).await;
    let n = replay.ran();
    assert!(n >= 50, "the selection ran {n} cases");
    replay.assert_ran_and_reached_floor(n);
}

/// The Distributed Map and ItemBatcher cases whose items need no S3 object the recording
/// account had (those with an `ItemReader` do): child executions, map runs, labels, tolerated
/// failures, batches, and a `ResultWriter` writing to moto's S3.
const DISTRIBUTED: &[&str] = &[
    "--any-need",
    "map_distributed",
    "--any-need",
    "item_batcher",
    "--exclude-need",
    "item_reader",
];

#[tokio::test]
async fn distributed_map_and_item_batcher_cases_pass_at_90_percent() {
    let moto = crate::support::TestMoto::start().await;
    let replay = corpus::replay_with_s3("conformance", DISTRIBUTED, 90.0, &moto.endpoint()).await;
    let n = replay.ran();
    assert!(n >= 80, "the selection ran {n} cases");
    replay.assert_ran_and_reached_floor(n);
}

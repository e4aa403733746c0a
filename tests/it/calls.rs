//! Calls the daemon owes: abandoned ones are cancelled and never made again, results are never
//! dropped, and a call that cannot be read back fails its state instead of hanging.

use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;

use crate::support::sfn::{create, describe, finished, start};
use crate::support::{eventually, join_all, FakeLambda, TestDaemon};

fn task_with_timeout(function: &str, timeout_secs: u64) -> String {
    format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:{function}","TimeoutSeconds":{timeout_secs},"End":true}}}}}}"#
    )
}

/// Start `n` executions of `sm` named `{prefix}{i}`, 16 at a time.
async fn start_many(sfn: &aws_sdk_sfn::Client, sm: &str, prefix: &str, n: usize) -> Vec<String> {
    let mut handles = Vec::new();
    for client in 0..16 {
        let (sfn, sm, prefix) = (sfn.clone(), sm.to_owned(), prefix.to_owned());
        handles.push(tokio::spawn(async move {
            let mut arns = Vec::new();
            for i in (client..n).step_by(16) {
                arns.push(start(&sfn, &sm, &format!("{prefix}{i}"), "{}").await);
            }
            arns
        }));
    }
    join_all(handles)
        .await
        .into_iter()
        .flat_map(|r| r.expect("starter"))
        .collect()
}

#[tokio::test]
async fn calls_that_time_out_are_cancelled_free_their_slots_and_are_not_made_after_a_restart() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let mut daemon = TestDaemon::start_with_env(&[
        ("LAMBDA_ENDPOINT", &endpoint),
        ("HOURGLASS_LAMBDA__MAX_CONCURRENCY_PER_FUNCTION", "8"),
    ])
    .await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "hangs", &task_with_timeout("hang", 1)).await;
    let arns = start_many(&sfn, &sm, "h", 200).await;
    for arn in &arns {
        let d = describe(&sfn, arn).await;
        if d.status() == &ExecutionStatus::Running {
            assert_eq!(
                finished(&sfn, arn, Duration::from_secs(60)).await,
                ExecutionStatus::Failed
            );
        }
        assert_eq!(
            describe(&sfn, arn).await.error(),
            Some("States.Timeout"),
            "{arn}"
        );
    }
    // Every abandoned call was cut off: none is still waiting at the function.
    eventually("abandoned calls to end", Duration::from_secs(5), || async {
        (lambda.in_progress("hang") == 0).then_some(())
    })
    .await;
    let made = lambda.calls_to("hang").len();
    assert!(made <= 200, "{made} calls for 200 executions");
    // The function's slots are free: a call to it now goes out at once.
    lambda.release_hang();
    let quick = create(&sfn, "quick", &task_with_timeout("hang", 30)).await;
    let arn = start(&sfn, &quick, "q", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(5)).await,
        ExecutionStatus::Succeeded,
        "a call to the same function waited for slots its abandoned calls kept"
    );
    // Nothing abandoned is made again after a restart.
    let before = lambda.calls_to("hang").len();
    daemon.restart().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        lambda.calls_to("hang").len(),
        before,
        "a call whose state was left was made again after the restart"
    );
}

#[tokio::test]
async fn stopping_an_execution_or_failing_a_sibling_branch_cancels_its_calls() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let mut daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
    let sfn = daemon.sfn();
    let single = create(&sfn, "single", &task_with_timeout("hang", 3600)).await;
    let parallel = create(
        &sfn,
        "siblings",
        r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:hang","End":true}}},
            {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"F"},"F":{"Type":"Fail","Error":"Broken"}}}]}}}"#,
    )
    .await;
    let stopped = start(&sfn, &single, "s", "{}").await;
    let failed = start(&sfn, &parallel, "p", "{}").await;
    eventually(
        "both calls to reach the function",
        Duration::from_secs(5),
        || async { (lambda.in_progress("hang") == 2).then_some(()) },
    )
    .await;
    sfn.stop_execution()
        .execution_arn(&stopped)
        .send()
        .await
        .expect("stop");
    assert_eq!(
        finished(&sfn, &failed, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    eventually(
        "the calls to be cut off",
        Duration::from_secs(5),
        || async { (lambda.in_progress("hang") == 0).then_some(()) },
    )
    .await;
    daemon.restart().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        lambda.calls_to("hang").len(),
        2,
        "a cancelled call was made again"
    );
}

/// Lower the daemon's file size limit (RLIMIT_FSIZE) so that every write to the database
/// fails as on a full disk, or lift it again.
fn limit_file_size(pid: u32, limit: &str) {
    let ok = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--fsize={limit}:unlimited"),
        ])
        .status()
        .expect("run prlimit")
        .success();
    assert!(ok, "prlimit failed");
}

#[tokio::test]
async fn results_that_cannot_be_written_are_kept_until_the_disk_takes_them() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
    results_are_kept_until_the_disk_takes_them(&daemon, &lambda).await;
}

#[tokio::test]
async fn a_daemon_logging_to_a_file_the_disk_refuses_loses_those_lines_and_goes_on() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let (daemon, log) = TestDaemon::start_logging_to_file(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
    results_are_kept_until_the_disk_takes_them(&daemon, &lambda).await;
    // The log lines written while the limit held were lost; the daemon went on.
    assert!(log.exists());
    assert_eq!(daemon.get_status("/ready"), Some(200));
}

/// 20 calls answer while the daemon may write no byte to any file (RLIMIT_FSIZE 0); once the
/// limit is lifted every result is recorded, and no function is called twice.
async fn results_are_kept_until_the_disk_takes_them(daemon: &TestDaemon, lambda: &FakeLambda) {
    let sfn = daemon.sfn();
    // `sleep` answers after 3 s: the answers arrive while the disk refuses writes.
    let sm = create(
        &sfn,
        "slow",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:sleep","Next":"P"},"P":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let arns = start_many(&sfn, &sm, "r", 20).await;
    eventually("every call to be made", Duration::from_secs(5), || async {
        (lambda.calls_to("sleep").len() == 20).then_some(())
    })
    .await;
    limit_file_size(daemon.pid(), "0");
    // Held past the answers (3 s after the calls) and past two failed attempts each.
    tokio::time::sleep(Duration::from_secs(6)).await;
    limit_file_size(daemon.pid(), "unlimited");
    for arn in &arns {
        assert_eq!(
            finished(&sfn, arn, Duration::from_secs(20)).await,
            ExecutionStatus::Succeeded,
            "{arn}"
        );
    }
    assert_eq!(
        lambda.calls_to("sleep").len(),
        20,
        "each function was called exactly once"
    );
}

#[tokio::test]
async fn a_stored_call_that_cannot_be_read_fails_its_state_with_states_runtime() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let mut daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "corrupt", &task_with_timeout("hang", 3600)).await;
    let arn = start(&sfn, &sm, "c", "{}").await;
    eventually("the call to be made", Duration::from_secs(5), || async {
        (lambda.in_progress("hang") == 1).then_some(())
    })
    .await;
    let status = daemon.terminate();
    assert!(status.success());
    // Damage the stored call, as a bad disk or a hand edit could.
    crate::support::sqlite::execute(
        daemon.data_dir(),
        "UPDATE tasks SET invocation = '{not json'",
    )
    .await;
    daemon.start_again();
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let d = describe(&sfn, &arn).await;
    assert_eq!(d.error(), Some("States.Runtime"));
    assert!(
        d.cause().unwrap_or_default().contains("could not be read"),
        "{:?}",
        d.cause()
    );
}

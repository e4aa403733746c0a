//! Starting up: `/health` answers from the moment the socket is bound, `/ready` and the API
//! answer 503 until recovery is done, then everything works on the data that was there.

use std::time::Duration;

use crate::support::api::post_raw;
use crate::support::sfn::{create, describe, start};
use crate::support::{eventually, TestDaemon};

const WAIT_AN_HOUR: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

#[tokio::test]
async fn health_and_ready_answer_200_once_the_daemon_has_started() {
    let daemon = TestDaemon::start().await;
    assert_eq!(daemon.get_status("/health"), Some(200));
    assert_eq!(daemon.get_status("/ready"), Some(200));
}

#[tokio::test]
async fn while_the_database_is_locked_health_answers_ready_and_the_api_answer_503() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "held", WAIT_AN_HOUR).await;
    let waiting = start(&sfn, &sm, "before", "{}").await;
    assert!(daemon.terminate().success());

    // Another program holds the database; the daemon starts and waits for it.
    let lock = crate::support::sqlite::lock(daemon.data_dir()).await;
    daemon.start_again_unready();
    for _ in 0..3 {
        assert_eq!(daemon.get_status("/health"), Some(200), "/health");
        assert_eq!(daemon.get_status("/ready"), Some(503), "/ready");
        let answer = post_raw(&daemon.url(), "AWSStepFunctions.ListStateMachines", "{}").await;
        assert_eq!(answer.status, 503, "{:?}", answer.body);
        assert_eq!(answer.error_type(), "ServiceUnavailableException");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    drop(lock);
    eventually(
        "the daemon to be ready",
        Duration::from_secs(10),
        || async { (daemon.get_status("/ready") == Some(200)).then_some(()) },
    )
    .await;
    let sfn = daemon.sfn();
    assert_eq!(
        describe(&sfn, &waiting).await.status(),
        &aws_sdk_sfn::types::ExecutionStatus::Running,
        "the execution from before is still there"
    );
    start(&sfn, &sm, "after", "{}").await;
}

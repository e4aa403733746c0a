//! The first thing a user does: create a machine, start it, read the result.

use aws_sdk_sfn::types::ExecutionStatus;

use crate::support::{eventually, TestDaemon, PASS_DEFINITION, ROLE_ARN};
use std::time::Duration;

#[tokio::test]
async fn a_pass_machine_runs_to_success() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let created = sfn
        .create_state_machine()
        .name("test")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create");
    assert_eq!(
        created.state_machine_arn(),
        "arn:aws:states:us-east-1:123456789012:stateMachine:test"
    );
    let started = sfn
        .start_execution()
        .state_machine_arn(created.state_machine_arn())
        .input(r#"{"hello":"world"}"#)
        .send()
        .await
        .expect("start");
    let arn = started.execution_arn().to_owned();
    let done = eventually("the execution to finish", Duration::from_secs(10), || {
        let sfn = sfn.clone();
        let arn = arn.clone();
        async move {
            let d = sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .ok()?;
            (d.status() != &ExecutionStatus::Running).then_some(d)
        }
    })
    .await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(done.output(), Some(r#"{"hello":"world"}"#));
}

//! Step Functions calls every test makes, through `aws-sdk-sfn`: create a machine, start an
//! execution, describe it, wait for its end, read its whole history.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use aws_sdk_sfn::Client;

use super::{eventually, ROLE_ARN};

pub async fn create(sfn: &Client, name: &str, definition: &str) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create state machine")
        .state_machine_arn()
        .to_owned()
}

pub async fn start(sfn: &Client, sm: &str, name: &str, input: &str) -> String {
    sfn.start_execution()
        .state_machine_arn(sm)
        .name(name)
        .input(input)
        .send()
        .await
        .expect("start execution")
        .execution_arn()
        .to_owned()
}

pub async fn describe(
    sfn: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    sfn.describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe {arn}: {e:?}"))
}

/// Wait until the execution is no longer RUNNING and return its status.
pub async fn finished(sfn: &Client, arn: &str, timeout: Duration) -> ExecutionStatus {
    eventually("the execution to finish", timeout, || {
        let sfn = sfn.clone();
        let arn = arn.to_owned();
        async move {
            let d = sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .ok()?;
            (d.status() != &ExecutionStatus::Running).then(|| d.status().clone())
        }
    })
    .await
}

pub async fn history(sfn: &Client, arn: &str) -> Vec<HistoryEvent> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .expect("history");
        events.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return events;
        }
    }
}

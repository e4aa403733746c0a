//! The AWS SDK forms of Secrets Manager and Systems Manager's Parameter Store against moto
//! (`aws-sdk:secretsmanager:*`, `aws-sdk:ssm:*`), their errors in AWS's words, and a Step
//! Functions start whose input is given as JSON rather than as its text.

use serde_json::json;

use crate::integrations::{daemon_on, one_task, run};
use crate::support::sfn::{create, describe};
use crate::support::{TestDaemon, TestMoto};

#[tokio::test]
async fn secrets_and_parameters_are_read_in_the_aws_sdk_form() {
    let moto = TestMoto::start().await;
    let daemon = daemon_on(&moto, &[]).await;
    moto.aws(&[
        "secretsmanager",
        "create-secret",
        "--name",
        "db-password",
        "--secret-string",
        "hunter2",
    ]);
    moto.aws(&[
        "ssm",
        "put-parameter",
        "--name",
        "/app/greeting",
        "--value",
        "hello",
        "--type",
        "String",
    ]);
    let definition = json!({"StartAt": "Secret", "States": {
        "Secret": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
                   "Parameters": {"SecretId.$": "$.secret"},
                   "ResultSelector": {"value.$": "$.SecretString", "name.$": "$.Name"},
                   "ResultPath": "$.secret", "Next": "Parameter"},
        "Parameter": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ssm:getParameter",
                      "Parameters": {"Name": "/app/greeting"},
                      "ResultSelector": {"value.$": "$.Parameter.Value"},
                      "ResultPath": "$.parameter", "Next": "List"},
        "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:secretsmanager:listSecrets",
                 "Parameters": {}, "ResultSelector": {"names.$": "$.SecretList[*].Name"},
                 "ResultPath": "$.listed", "End": true}}});
    let (_, out) = run(
        &daemon,
        "secrets",
        &definition.to_string(),
        r#"{"secret":"db-password"}"#,
    )
    .await;
    assert_eq!(
        out,
        json!({
            "secret": {"value": "hunter2", "name": "db-password"},
            "parameter": {"value": "hello"},
            "listed": {"names": ["db-password"]},
        })
    );

    // A member the service sends as null is left out, as AWS's answer leaves it out.
    let (_, out) = run(
        &daemon,
        "none-listed",
        &one_task(
            "aws-sdk:secretsmanager:listSecrets",
            json!({"Filters": [{"Key": "name", "Values": ["absent"]}]}),
        ),
        "{}",
    )
    .await;
    assert_eq!(out, json!({"SecretList": []}));
    let (_, out) = run(
        &daemon,
        "no-secret",
        &one_task(
            "aws-sdk:secretsmanager:getSecretValue",
            json!({"SecretId": "nope"}),
        ),
        "{}",
    )
    .await;
    assert_eq!(out["status"], json!("FAILED"));
    assert_eq!(
        out["error"],
        json!("SecretsManager.ResourceNotFoundException"),
        "{out}"
    );
    assert!(
        out["cause"]
            .as_str()
            .is_some_and(|c| c.contains("(Service: SecretsManager, Status Code: ")),
        "{out}"
    );
    let (_, out) = run(
        &daemon,
        "no-parameter",
        &one_task("aws-sdk:ssm:getParameter", json!({"Name": "/nope"})),
        "{}",
    )
    .await;
    assert_eq!(
        out["error"],
        json!("Ssm.ParameterNotFoundException"),
        "{out}"
    );
}

#[tokio::test]
async fn a_start_through_the_sdk_form_writes_an_input_given_as_json_as_its_text() {
    let other = TestDaemon::start().await;
    let there = other.sfn();
    let target = create(
        &there,
        "target",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let url = other.url();
    let daemon = TestDaemon::start_with_env(&[("STEP_FUNCTIONS_ENDPOINT", url.as_str())]).await;
    let definition = json!({"StartAt": "Start", "States": {
        "Start": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
                  "Parameters": {"StateMachineArn": target, "Name": "child", "Input": {"key": "value"}},
                  "End": true}}});
    let (_, out) = run(&daemon, "starter", &definition.to_string(), "{}").await;
    let child = out["ExecutionArn"].as_str().expect("the child's ARN");
    assert!(child.ends_with(":target:child"), "{out}");
    let d = describe(&there, child).await;
    assert_eq!(d.input(), Some(r#"{"key":"value"}"#));
}

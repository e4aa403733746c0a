//! Step Functions Local's mocked responses (`SFN_MOCK_CONFIG`): an execution started on
//! `stateMachineArn#TestCase` answers the Task states the test case names from the mock file,
//! with the history a real call writes. The machine and file are those of Step Functions
//! Local's documented example (a Lambda state with Retry, then an SQS state), written afresh.

use std::time::Duration;

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType as T};
use serde_json::{json, Value};

use crate::support::sfn::{create, describe, finished, history, types};
use crate::support::TestDaemon;

const MOCKS: &str = r#"{
  "StateMachines": {
    "LambdaSQSIntegration": {
      "TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
        "FailPath": {"LambdaState": "MockedLambdaNotReady"}
      }
    },
    "Approval": {"TestCases": {"Approved": {"Approve": "Approved"}}}
  },
  "MockedResponses": {
    "MockedLambdaSuccess": {
      "0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
    },
    "MockedLambdaNotReady": {
      "0-3": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}}
    },
    "Approved": {"0": {"Return": {"approved": true}}},
    "MockedSQSSuccess": {
      "0": {"Return": {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                       "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}}
    },
    "MockedLambdaRetry": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
      "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
      "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
    }
  }
}"#;

const MACHINE: &str = r#"{"StartAt": "LambdaState", "States": {
  "LambdaState": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
    "Next": "SQSState"},
  "SQSState": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue", "MessageBody.$": "$"},
    "End": true}}}"#;

#[tokio::test]
async fn test_cases_answer_from_the_mock_file_with_the_documented_histories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("MockConfigFile.json");
    std::fs::write(&file, MOCKS).expect("write the mock file");
    let daemon = TestDaemon::start_with_env(&[
        ("SFN_MOCK_CONFIG", file.to_str().expect("a path")),
        ("WAIT_TIME_SCALE", "0"),
    ])
    .await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "LambdaSQSIntegration", MACHINE).await;
    let run = |case: &str| {
        let (sfn, target, case) = (sfn.clone(), format!("{sm}#{case}"), case.to_owned());
        async move {
            let arn = sfn
                .start_execution()
                .state_machine_arn(target)
                .name(&case)
                .send()
                .await
                .expect("StartExecution")
                .execution_arn()
                .to_owned();
            let status = finished(&sfn, &arn, Duration::from_secs(10)).await;
            (arn, status)
        }
    };
    let entered_and_called = [T::TaskStateEntered, T::TaskScheduled, T::TaskStarted];
    let sqs = [
        T::TaskSucceeded,
        T::TaskStateExited,
        T::TaskStateEntered,
        T::TaskScheduled,
        T::TaskStarted,
        T::TaskSucceeded,
        T::TaskStateExited,
        T::ExecutionSucceeded,
    ];

    let (arn, status) = run("HappyPath").await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let out: Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().unwrap_or("null")).expect("json");
    assert_eq!(
        out["MessageId"],
        json!("3bcb6e8e-8b51-4375-b0bc-1a59812c6e51")
    );
    let mut want = vec![T::ExecutionStarted];
    want.extend(entered_and_called.clone());
    want.extend(sqs.clone());
    assert_eq!(types(&history(&sfn, &arn).await), want);

    // Three failures retried, then the mocked success.
    let (arn, status) = run("RetryPath").await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let mut want = vec![T::ExecutionStarted];
    want.extend(entered_and_called.clone());
    for _ in 0..3 {
        want.extend([T::TaskFailed, T::TaskScheduled, T::TaskStarted]);
    }
    want.extend(sqs);
    let events = history(&sfn, &arn).await;
    assert_eq!(types(&events), want);
    let errors: Vec<&str> = events
        .iter()
        .filter_map(|e| e.task_failed_event_details())
        .filter_map(|d| d.error())
        .collect();
    assert_eq!(
        errors,
        [
            "Lambda.ResourceNotReadyException",
            "Lambda.TimeoutException",
            "Lambda.TimeoutException"
        ]
    );

    // Every attempt fails: the error and cause of the file reach the execution.
    let (arn, status) = run("FailPath").await;
    assert_eq!(status, ExecutionStatus::Failed);
    let d = describe(&sfn, &arn).await;
    assert_eq!(d.error(), Some("Lambda.ResourceNotReadyException"));
    assert_eq!(d.cause(), Some("Lambda resource is not ready."));

    // A mocked activity state answers without a worker, with the activity's events.
    let approval = create(
        &sfn,
        "Approval",
        r#"{"StartAt": "Approve", "States": {"Approve": {"Type": "Task",
            "Resource": "arn:aws:states:us-east-1:123456789012:activity:approvals", "End": true}}}"#,
    )
    .await;
    let arn = sfn
        .start_execution()
        .state_machine_arn(format!("{approval}#Approved"))
        .send()
        .await
        .expect("StartExecution")
        .execution_arn()
        .to_owned();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        describe(&sfn, &arn).await.output(),
        Some(r#"{"approved":true}"#)
    );
    assert_eq!(
        types(&history(&sfn, &arn).await),
        [
            T::ExecutionStarted,
            T::TaskStateEntered,
            T::ActivityScheduled,
            T::ActivitySucceeded,
            T::TaskStateExited,
            T::ExecutionSucceeded
        ]
    );

    let unknown = sfn
        .start_execution()
        .state_machine_arn(format!("{sm}#NoSuchCase"))
        .send()
        .await
        .expect_err("no such test case");
    assert_eq!(unknown.code(), Some("ValidationException"));
}

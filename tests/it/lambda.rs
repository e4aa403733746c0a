//! Task states calling Lambda through the fake Invoke API: the users' flow, both resource
//! forms, every error mapping, Retry with back-off, Catch, and redelivery after a crash.

use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};

use crate::support::sfn::{create, describe, finished, history, start};
use crate::support::{eventually, FakeLambda, TestDaemon};

async fn daemon_with(lambda: &FakeLambda, scale: &str) -> TestDaemon {
    TestDaemon::start_with_env(&[
        ("LAMBDA_ENDPOINT", &lambda.endpoint()),
        ("WAIT_TIME_SCALE", scale),
    ])
    .await
}

fn millis(e: &aws_sdk_sfn::types::HistoryEvent) -> i64 {
    let t = e.timestamp();
    t.secs() * 1000 + i64::from((t.subsec_nanos() + 500_000) / 1_000_000)
}

const USERS_FLOW: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","SecondsPath":"$.expirydate","Next":"Task"},"Task":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","OutputPath":"$.Payload","Parameters":{"Payload.$":"$","FunctionName":"arn:aws:lambda:us-east-1:function:HelloWorldFunction:$LATEST"},"Next":"Pass"},"Pass":{"Type":"Pass","End":true}}}"#;

#[tokio::test]
async fn the_users_flow_waits_then_calls_the_function_then_passes() {
    let lambda = FakeLambda::start().await;
    // 11 s × 0.2 = 2.2 s.
    let daemon = daemon_with(&lambda, "0.2").await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "test", USERS_FLOW).await;
    let arn = start(&sfn, &sm, "flow", r#"{"expirydate":11,"a":1233333}"#).await;
    assert!(
        lambda.calls().is_empty(),
        "the function was called before the wait ended"
    );
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    let d = describe(&sfn, &arn).await;
    let output: serde_json::Value =
        serde_json::from_str(d.output().expect("output")).expect("output is JSON");
    assert_eq!(
        output,
        serde_json::json!({"greeting": "Hello", "event": {"expirydate": 11, "a": 1233333}})
    );
    let events = history(&sfn, &arn).await;
    let types: Vec<&str> = events.iter().map(|e| e.r#type().as_str()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let calls = lambda.calls_to("HelloWorldFunction");
    assert_eq!(calls.len(), 1, "called once");
    let wait_exited = millis(&events[2]);
    assert!(
        calls[0].at_ms >= wait_exited,
        "called at {} before the wait ended at {wait_exited}",
        calls[0].at_ms
    );
    let scheduled = events[4]
        .task_scheduled_event_details()
        .expect("TaskScheduled details");
    assert_eq!(scheduled.resource_type(), "lambda");
    assert_eq!(scheduled.resource(), "invoke");
    assert_eq!(scheduled.region(), "us-east-1");
}

#[tokio::test]
async fn a_function_arn_resource_sends_the_input_and_returns_the_output() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "direct",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:echo","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e", r#"{"x":[1,2]}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let d = describe(&sfn, &arn).await;
    assert_eq!(d.output(), Some(r#"{"x":[1,2]}"#));
    let types: Vec<HistoryEventType> = history(&sfn, &arn)
        .await
        .iter()
        .map(|e| e.r#type().clone())
        .collect();
    assert_eq!(
        types,
        [
            HistoryEventType::ExecutionStarted,
            HistoryEventType::TaskStateEntered,
            HistoryEventType::LambdaFunctionScheduled,
            HistoryEventType::LambdaFunctionStarted,
            HistoryEventType::LambdaFunctionSucceeded,
            HistoryEventType::TaskStateExited,
            HistoryEventType::ExecutionSucceeded
        ]
    );
    assert_eq!(lambda.calls_to("echo")[0].body, r#"{"x":[1,2]}"#);
}

/// Every way of naming a version or alias reaches the Invoke API as its `Qualifier`
/// parameter, and an endpoint written with a trailing slash works the same.
#[tokio::test]
async fn qualifiers_reach_the_invoke_api_as_the_qualifier_parameter() {
    let lambda = FakeLambda::start().await;
    let endpoint = format!("{}/", lambda.endpoint());
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", endpoint.as_str())]).await;
    let sfn = daemon.sfn();
    let cases = [
        ("echo", None),
        ("echo:live", Some("live")),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:echo:7",
            Some("7"),
        ),
        // `$LATEST` is the default version: no qualifier at all.
        ("arn:aws:lambda:us-east-1:function:echo:$LATEST", None),
    ];
    for (i, (function, _)) in cases.iter().enumerate() {
        let sm = create(&sfn, &format!("q{i}"), &invoke_machine(function, "")).await;
        let arn = start(&sfn, &sm, "e", r#"{"i":1}"#).await;
        assert_eq!(
            finished(&sfn, &arn, Duration::from_secs(10)).await,
            ExecutionStatus::Succeeded,
            "{function}"
        );
    }
    let got: Vec<Option<String>> = lambda
        .calls_to("echo")
        .into_iter()
        .map(|c| c.qualifier)
        .collect();
    let want: Vec<Option<String>> = cases.iter().map(|(_, q)| q.map(str::to_owned)).collect();
    assert_eq!(got, want);
}

fn invoke_machine(function: &str, extra: &str) -> String {
    format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{{"FunctionName":"{function}","Payload.$":"$"}}{extra},"End":true}}}}}}"#
    )
}

#[tokio::test]
async fn lambda_answers_map_to_the_errors_step_functions_reports() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    let cases = [
        (
            "function error with a type",
            "fail-typed",
            "",
            "CustomError",
            Some("boom"),
        ),
        (
            "function error without a type",
            "fail-untyped",
            "",
            "Lambda.Unknown",
            Some("boom"),
        ),
        (
            "no such function",
            "missing",
            "",
            "Lambda.ResourceNotFoundException",
            Some("(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;"),
        ),
        (
            "throttled",
            "throttle",
            "",
            "Lambda.TooManyRequestsException",
            Some("Rate Exceeded."),
        ),
        (
            "task timeout",
            "sleep",
            r#","TimeoutSeconds":1"#,
            "States.Timeout",
            None,
        ),
    ];
    for (i, (name, function, extra, error, cause_part)) in cases.into_iter().enumerate() {
        let sm = create(
            &sfn,
            &format!("errors-{i}"),
            &invoke_machine(function, extra),
        )
        .await;
        let arn = start(&sfn, &sm, "e", "{}").await;
        assert_eq!(
            finished(&sfn, &arn, Duration::from_secs(15)).await,
            ExecutionStatus::Failed,
            "{name}"
        );
        let d = describe(&sfn, &arn).await;
        assert_eq!(d.error(), Some(error), "{name}");
        match cause_part {
            Some(part) => assert!(
                d.cause().is_some_and(|c| c.contains(part)),
                "{name}: cause {:?} lacks {part:?}",
                d.cause()
            ),
            None => assert_eq!(d.cause(), None, "{name}: States.Timeout has no cause"),
        }
    }
}

#[tokio::test]
async fn an_oversized_result_is_a_catchable_data_limit_error() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "huge",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"huge"},"Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"Next":"Handled"}],"End":true},"Handled":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let d = describe(&sfn, &arn).await;
    let output: serde_json::Value =
        serde_json::from_str(d.output().expect("output")).expect("json");
    assert_eq!(output["Error"], "States.DataLimitExceeded");
}

#[tokio::test]
async fn retries_back_off_as_configured_and_then_succeed() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "retry",
        &invoke_machine(
            "flaky-2-retry",
            r#","Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"BackoffRate":2,"MaxAttempts":3}]"#,
        ),
    )
    .await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(15)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        lambda.calls_to("flaky-2-retry").len(),
        3,
        "two failures, one success"
    );
    let events = history(&sfn, &arn).await;
    let at = |t: HistoryEventType| -> Vec<i64> {
        events
            .iter()
            .filter(|e| e.r#type() == &t)
            .map(millis)
            .collect()
    };
    let scheduled = at(HistoryEventType::TaskScheduled);
    let failed = at(HistoryEventType::TaskFailed);
    assert_eq!((scheduled.len(), failed.len()), (3, 2));
    assert!(
        scheduled[1] - failed[0] >= 1_000,
        "first back-off shorter than 1 s"
    );
    assert!(
        scheduled[2] - failed[1] >= 2_000,
        "second back-off shorter than 2 s"
    );
}

#[tokio::test]
async fn max_attempts_zero_never_retries_and_catch_keeps_the_input() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "catch",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"flaky-5-catch"},"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],"Catch":[{"ErrorEquals":["Flaky"],"ResultPath":"$.error","Next":"Handled"}],"End":true},"Handled":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e", r#"{"keep":"me"}"#).await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        lambda.calls_to("flaky-5-catch").len(),
        1,
        "no retry with MaxAttempts 0"
    );
    let d = describe(&sfn, &arn).await;
    let output: serde_json::Value =
        serde_json::from_str(d.output().expect("output")).expect("json");
    assert_eq!(output["keep"], "me");
    assert_eq!(output["error"]["Error"], "Flaky");
    assert!(output["error"]["Cause"]
        .as_str()
        .is_some_and(|c| c.contains("not yet")));
}

#[tokio::test]
async fn a_call_in_flight_at_a_sigkill_is_made_again_and_the_execution_completes_once() {
    let lambda = FakeLambda::start().await;
    let mut daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "inflight", &invoke_machine("sleep", "")).await;
    let arn = start(&sfn, &sm, "e", r#"{"n":1}"#).await;
    eventually("the call to arrive", Duration::from_secs(10), || async {
        (!lambda.calls_to("sleep").is_empty()).then_some(())
    })
    .await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(20)).await,
        ExecutionStatus::Succeeded
    );
    assert!(
        lambda.calls_to("sleep").len() >= 2,
        "the call was not made again"
    );
    let events = history(&sfn, &arn).await;
    let succeeded = events
        .iter()
        .filter(|e| e.r#type() == &HistoryEventType::ExecutionSucceeded)
        .count();
    assert_eq!(succeeded, 1);
    let ids: Vec<i64> = events.iter().map(|e| e.id()).collect();
    assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn misbehaving_functions_become_asl_errors_and_the_daemon_keeps_serving() {
    let lambda = FakeLambda::start().await;
    let daemon = daemon_with(&lambda, "1").await;
    let sfn = daemon.sfn();
    // A body that is not JSON reaches the state as a string, as the integration passes it.
    let sm = create(&sfn, "garbage", &invoke_machine("garbage", "")).await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let out: serde_json::Value =
        serde_json::from_str(describe(&sfn, &arn).await.output().expect("output")).expect("json");
    assert_eq!(out["Payload"], "this is {not json");
    // A proxy's HTML error page is a Lambda service error.
    let sm = create(&sfn, "gateway", &invoke_machine("gateway", "")).await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    let error = describe(&sfn, &arn)
        .await
        .error()
        .unwrap_or_default()
        .to_owned();
    assert!(error.starts_with("Lambda."), "{error}");
    // A slow function under TimeoutSeconds times out.
    let sm = create(
        &sfn,
        "slow",
        &invoke_machine("sleep", r#","TimeoutSeconds":1"#),
    )
    .await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Failed
    );
    assert_eq!(describe(&sfn, &arn).await.error(), Some("States.Timeout"));
    // Still serving.
    sfn.list_state_machines()
        .send()
        .await
        .expect("still serving");
}

#[tokio::test]
async fn an_unreachable_or_hanging_up_endpoint_is_an_sdk_client_exception() {
    let endpoints = [
        // Port 1 (tcpmux) has no listener here; a port freed by another test could be reused.
        "http://127.0.0.1:1".to_owned(),
        crate::support::lambda::hang_up_endpoint().await,
    ];
    for endpoint in endpoints {
        let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &endpoint)]).await;
        let sfn = daemon.sfn();
        let sm = create(&sfn, "broken", &invoke_machine("echo", "")).await;
        let arn = start(&sfn, &sm, "e", "{}").await;
        assert_eq!(
            finished(&sfn, &arn, Duration::from_secs(15)).await,
            ExecutionStatus::Failed,
            "{endpoint}"
        );
        let d = describe(&sfn, &arn).await;
        assert_eq!(d.error(), Some("Lambda.SdkClientException"), "{endpoint}");
        assert!(
            d.cause()
                .is_some_and(|c| c.starts_with("Unable to execute HTTP request")),
            "{endpoint}: {:?}",
            d.cause()
        );
        sfn.list_state_machines()
            .send()
            .await
            .expect("still serving");
    }
}

#[tokio::test]
async fn calls_are_signed_only_when_lambda_sign_is_set() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let credentials = [
        ("LAMBDA_ENDPOINT", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDFROMTHEENVIRONMENT"),
        ("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment"),
        ("AWS_SESSION_TOKEN", "session-token-from-the-environment"),
    ];
    let definition = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:echo","End":true}}}"#;

    // Credentials in the environment alone: a plain-HTTP emulator gets none of them.
    let daemon = TestDaemon::start_with_env(&credentials).await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "unsigned", definition).await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let call = &lambda.calls_to("echo")[0];
    assert_eq!(call.authorization, None, "signed without lambda.sign");
    assert_eq!(
        call.security_token, None,
        "a session token went out in clear"
    );
    drop(daemon);

    // Asked for: signed for Lambda in the configured region.
    let mut env = credentials.to_vec();
    env.push(("HOURGLASS_LAMBDA__SIGN", "true"));
    let daemon = TestDaemon::start_with_env(&env).await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "signed", definition).await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    let call = &lambda.calls_to("echo")[1];
    let authorization = call.authorization.as_deref().unwrap_or_default();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDFROMTHEENVIRONMENT/")
            && authorization.contains("/us-east-1/lambda/aws4_request"),
        "{authorization}"
    );
    assert_eq!(
        call.security_token.as_deref(),
        Some("session-token-from-the-environment")
    );
}

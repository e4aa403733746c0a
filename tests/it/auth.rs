//! SigV4 verification of API requests (`auth.enabled`): the SDK and the AWS CLI with the
//! right keys are served; unsigned, malformed, wrongly signed, unknown and stale requests get
//! AWS's errors.

use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::support::api::{code_and_message, post_raw, post_raw_with};
use crate::support::sfn::{create, start};
use crate::support::{test_venv, TestDaemon};

const KEY: &str = "AKIDHOURGLASSTEST";
const SECRET: &str = "hourglass-test-secret";
const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
const LIST: &str = "AWSStepFunctions.ListStateMachines";

async fn daemon_with_auth() -> TestDaemon {
    TestDaemon::start_with_env(&[
        ("HOURGLASS_AUTH__ENABLED", "true"),
        (&format!("HOURGLASS_AUTH__KEYS__{KEY}"), SECRET),
    ])
    .await
}

/// SigV4 headers for a ListStateMachines request signed at `time`.
fn signed(
    url: &str,
    body: &str,
    key: &str,
    secret: &str,
    time: SystemTime,
) -> Vec<(String, String)> {
    signed_as(
        url,
        body,
        (key, secret),
        time,
        ("us-east-1", "states"),
        &[("x-amz-target", LIST)],
    )
}

/// SigV4 headers for a request signed for this scope (region, service) over `host`,
/// `content-type` and `extra` headers only.
fn signed_as(
    url: &str,
    body: &str,
    (key, secret): (&str, &str),
    time: SystemTime,
    (region, service): (&str, &str),
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let identity = aws_credential_types::Credentials::new(key, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("host", host),
    ];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.into_iter().chain(extra.iter().copied()),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn post_signed(url: &str, body: &str, headers: &[(String, String)]) -> (u16, String) {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = post_raw_with(url, LIST, body, &h).await;
    (answer.status, answer.error_type_or_ok())
}

#[tokio::test]
async fn signed_requests_are_served_and_every_other_request_gets_aws_errors() {
    let daemon = daemon_with_auth().await;

    // The SDK with the configured keys works end to end.
    let sfn = daemon.sfn_as(KEY, SECRET);
    let sm = create(&sfn, "signed", PASS).await;
    let arn = start(&sfn, &sm, "e", "{}").await;
    assert!(arn.ends_with(":signed:e"));

    // A wrong secret, and an unknown key.
    let err = daemon
        .sfn_as(KEY, "not-the-secret")
        .list_state_machines()
        .send()
        .await
        .expect_err("a wrong secret is refused");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.starts_with("The request signature we calculated does not match"));
    let err = daemon
        .sfn_as("AKIDNOBODYKNOWS", SECRET)
        .list_state_machines()
        .send()
        .await
        .expect_err("an unknown key is refused");
    assert_eq!(
        code_and_message(&err),
        (
            "UnrecognizedClientException".to_owned(),
            "The security token included in the request is invalid.".to_owned()
        )
    );

    // No signature at all, and one that cannot be parsed.
    let url = format!("{}/", daemon.url());
    let unsigned = post_raw(&url, LIST, "{}").await;
    assert_eq!(
        (unsigned.status, unsigned.error_type()),
        (400, "MissingAuthenticationTokenException")
    );
    assert_eq!(unsigned.body["message"], "Missing Authentication Token");
    let malformed = post_raw_with(
        &url,
        LIST,
        "{}",
        &[("authorization", "AWS4-HMAC-SHA256 Signature=abc")],
    )
    .await;
    assert_eq!(malformed.error_type(), "IncompleteSignatureException");
    assert!(malformed.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("requires 'Credential' parameter")));

    // Signed correctly now; signed ten minutes ago; signed for another body.
    let fresh = signed(&url, "{}", KEY, SECRET, SystemTime::now());
    assert_eq!(post_signed(&url, "{}", &fresh).await, (200, "ok".into()));
    let stale = signed(
        &url,
        "{}",
        KEY,
        SECRET,
        SystemTime::now() - Duration::from_secs(600),
    );
    let answer = post_raw_with(
        &url,
        LIST,
        "{}",
        &stale
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(answer.error_type(), "InvalidSignatureException");
    assert!(answer.body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Signature expired")));
    assert_eq!(
        post_signed(&url, r#"{"maxResults":1}"#, &fresh).await,
        (400, "InvalidSignatureException".into())
    );
}

fn aws_cli(daemon: &TestDaemon, key: &str, secret: &str) -> std::process::Output {
    Command::new(test_venv().join("bin/aws"))
        .args([
            "stepfunctions",
            "--endpoint-url",
            &daemon.url(),
            "list-state-machines",
        ])
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run the aws cli")
}

#[tokio::test]
async fn the_aws_cli_is_served_with_the_right_keys_and_refused_with_others() {
    let daemon = daemon_with_auth().await;
    let ok = aws_cli(&daemon, KEY, SECRET);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let refused = aws_cli(&daemon, KEY, "wrong");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("InvalidSignatureException"));
}

#[tokio::test]
async fn without_auth_enabled_unsigned_requests_are_served() {
    let daemon = TestDaemon::start().await;
    let answer = post_raw(&format!("{}/", daemon.url()), LIST, "{}").await;
    assert_eq!(answer.status, 200);
}

/// Send `body` as `target` with these headers; the answer's status and error name.
async fn post_as(url: &str, target: &str, body: &str, headers: &[(String, String)]) -> String {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post_raw_with(url, target, body, &h)
        .await
        .error_type_or_ok()
}

#[tokio::test]
async fn a_signature_must_cover_the_operation_and_name_this_region_and_service() {
    let daemon = daemon_with_auth().await;
    let sfn = daemon.sfn_as(KEY, SECRET);
    let sm = create(&sfn, "kept", PASS).await;
    let url = format!("{}/", daemon.url());
    let body = format!(r#"{{"stateMachineArn":"{sm}"}}"#);
    let describe = "AWSStepFunctions.DescribeStateMachine";
    let delete = "AWSStepFunctions.DeleteStateMachine";
    let now = SystemTime::now();
    let keys = (KEY, SECRET);
    let here = ("us-east-1", "states");

    // A signature of a DescribeStateMachine that left the operation out cannot be replayed
    // as a DeleteStateMachine on the same body.
    let without_target = signed_as(&url, &body, keys, now, here, &[]);
    assert_eq!(
        post_as(&url, delete, &body, &without_target).await,
        "IncompleteSignatureException"
    );
    assert_eq!(
        post_as(&url, describe, &body, &without_target).await,
        "IncompleteSignatureException"
    );
    // The same signature with the operation in it: served as signed, refused as another.
    let with_target = signed_as(&url, &body, keys, now, here, &[("x-amz-target", describe)]);
    assert_eq!(post_as(&url, describe, &body, &with_target).await, "ok");
    assert_eq!(
        post_as(&url, delete, &body, &with_target).await,
        "InvalidSignatureException"
    );
    sfn.describe_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("the machine was not deleted");

    // Another region's or another service's scope.
    for scope in [("eu-west-1", "states"), ("us-east-1", "lambda")] {
        let other = signed_as(&url, &body, keys, now, scope, &[("x-amz-target", describe)]);
        assert_eq!(
            post_as(&url, describe, &body, &other).await,
            "InvalidSignatureException",
            "{scope:?}"
        );
    }

    // An x-amz-* header sent but not signed.
    let mut unsigned_extra = with_target.clone();
    unsigned_extra.push(("x-amz-meta-note".into(), "added later".into()));
    assert_eq!(
        post_as(&url, describe, &body, &unsigned_extra).await,
        "IncompleteSignatureException"
    );
}

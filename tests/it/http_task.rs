//! The HTTP Task (`arn:aws:states:::http:invoke`) against an HTTP server of the test: the
//! request it makes (method, query, headers, JSON and form bodies), the result it gives, and
//! AWS's errors for 4xx, 5xx and a server that does not answer in time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};

use crate::support::sfn::{create, describe, finished, start};
use crate::support::TestDaemon;

/// A server answering `/echo` with what it received, `/status/{code}` with that status, and
/// `/slow` after five seconds.
async fn server() -> String {
    async fn echo(headers: HeaderMap, req: Request) -> String {
        let method = req.method().to_string();
        let url = reqwest::Url::parse(&format!("http://server{}", req.uri())).expect("a URL");
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let body = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let header = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        json!({"method": method, "query": q, "body": body,
               "content_type": header("content-type"), "key": header("x-api-key"),
               "authorization": header("authorization"), "version": header("x_version")})
        .to_string()
    }
    // An OAuth authorization server for client `id`/`secret`: tokens `tok-1`, `tok-2`, ...
    let issued = Arc::new(AtomicU32::new(0));
    let token = move |headers: HeaderMap, body: String| {
        let issued = issued.clone();
        async move {
            let basic = headers.get("authorization").and_then(|v| v.to_str().ok());
            if basic != Some("Basic aWQ6c2VjcmV0") || body != "grant_type=client_credentials" {
                return (
                    StatusCode::UNAUTHORIZED,
                    r#"{"error":"invalid_client"}"#.to_owned(),
                );
            }
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            (
                StatusCode::OK,
                json!({"access_token": format!("tok-{n}"), "expires_in": 3600}).to_string(),
            )
        }
    };
    // Refuses the first token, as an API does once a token is revoked.
    async fn protected(headers: HeaderMap, req: Request) -> (StatusCode, String) {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer tok-1") {
            return (StatusCode::UNAUTHORIZED, "revoked".to_owned());
        }
        (StatusCode::OK, echo(headers, req).await)
    }
    let app = Router::new()
        .route("/echo", any(echo))
        .route("/token", axum::routing::post(token))
        .route("/protected", any(protected))
        .route(
            "/status/{code}",
            get(
                |axum::extract::Path(code): axum::extract::Path<u16>| async move {
                    (
                        StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
                        r#"{"problem":"told to"}"#,
                    )
                },
            ),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn call(parameters: Value) -> String {
    json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                 "Parameters": parameters,
                 "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "NotThere"}],
                 "End": true},
        "NotThere": {"Type": "Pass", "End": true}}})
    .to_string()
}

async fn run(daemon: &TestDaemon, name: &str, parameters: Value) -> Value {
    let sfn = daemon.sfn();
    let sm = create(&sfn, name, &call(parameters)).await;
    let arn = start(&sfn, &sm, "run", "{}").await;
    finished(&sfn, &arn, Duration::from_secs(20)).await;
    let d = describe(&sfn, &arn).await;
    match d.output() {
        Some(out) => serde_json::from_str(out).expect("output is JSON"),
        None => json!({"error": d.error(), "cause": d.cause()}),
    }
}

#[tokio::test]
async fn requests_results_and_http_errors() {
    let api = server().await;
    let daemon =
        TestDaemon::start_with_env(&[("HOURGLASS_INTEGRATIONS__RESPONSE_TIMEOUT_SECS", "2")]).await;
    let out = run(
        &daemon,
        "get",
        json!({"ApiEndpoint": format!("{api}/echo"), "Method": "GET",
               "QueryParameters": {"page": 2, "tag": ["a", "b"]},
               "Headers": {"x-api-key": "secret"},
               "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/api/1"}}),
    )
    .await;
    assert_eq!(out["StatusCode"], json!(200), "{out}");
    assert_eq!(out["StatusText"], json!("OK"));
    let got = &out["ResponseBody"];
    assert_eq!(got["method"], json!("GET"));
    assert_eq!(
        got["query"],
        json!([["page", "2"], ["tag", "a"], ["tag", "b"]])
    );
    assert_eq!(got["key"], json!("secret"));
    assert!(out["Headers"]["content-type"].is_array());

    let out = run(
        &daemon,
        "post-json",
        json!({"ApiEndpoint": format!("{api}/echo"), "Method": "POST",
               "RequestBody": {"order": 7}}),
    )
    .await;
    assert_eq!(
        out["ResponseBody"]["body"],
        json!(r#"{"order":7}"#),
        "{out}"
    );
    assert_eq!(
        out["ResponseBody"]["content_type"],
        json!("application/json")
    );

    let out = run(
        &daemon,
        "post-form",
        json!({"ApiEndpoint": format!("{api}/echo"), "Method": "POST",
               "RequestBody": {"a": "1 2", "b": true},
               "Transform": {"RequestBodyEncoding": "URL_ENCODED"}}),
    )
    .await;
    assert_eq!(out["ResponseBody"]["body"], json!("a=1+2&b=true"), "{out}");

    // 404 is caught by the machine's Catch; 500 fails the execution with its response.
    let out = run(
        &daemon,
        "not-found",
        json!({"ApiEndpoint": format!("{api}/status/404"), "Method": "GET"}),
    )
    .await;
    assert_eq!(out["Error"], json!("States.Http.StatusCode.404"), "{out}");
    let cause: Value = serde_json::from_str(out["Cause"].as_str().unwrap_or("")).expect("json");
    assert_eq!(cause["StatusCode"], json!(404));
    assert_eq!(cause["ResponseBody"], json!({"problem": "told to"}));
    let out = run(
        &daemon,
        "failing",
        json!({"ApiEndpoint": format!("{api}/status/500"), "Method": "GET"}),
    )
    .await;
    assert_eq!(out["error"], json!("States.Http.StatusCode.500"), "{out}");
    let out = run(
        &daemon,
        "slow",
        json!({"ApiEndpoint": format!("{api}/slow"), "Method": "GET"}),
    )
    .await;
    assert_eq!(out["error"], json!("States.Http.Socket"), "{out}");
    let out = run(&daemon, "no-url", json!({"Method": "GET"})).await;
    assert_eq!(out["error"], json!("States.Runtime"), "{out}");
}

#[tokio::test]
async fn connections_add_their_credentials_and_parameters_over_the_tasks() {
    let api = server().await;
    let token_url = format!("{api}/token");
    let daemon = TestDaemon::start_with_env(&[
        ("HOURGLASS_CONNECTIONS__KEYED__API_KEY__NAME", "x-api-key"),
        (
            "HOURGLASS_CONNECTIONS__KEYED__API_KEY__VALUE",
            "from-connection",
        ),
        ("HOURGLASS_CONNECTIONS__KEYED__HEADERS__X_VERSION", "2"),
        ("HOURGLASS_CONNECTIONS__KEYED__QUERY__PAGE", "9"),
        ("HOURGLASS_CONNECTIONS__KEYED__BODY__SOURCE", "connection"),
        ("HOURGLASS_CONNECTIONS__BASIC__BASIC__USERNAME", "svc"),
        ("HOURGLASS_CONNECTIONS__BASIC__BASIC__PASSWORD", "pw"),
        (
            "HOURGLASS_CONNECTIONS__OAUTH__OAUTH__AUTHORIZATION_ENDPOINT",
            token_url.as_str(),
        ),
        ("HOURGLASS_CONNECTIONS__OAUTH__OAUTH__CLIENT_ID", "id"),
        (
            "HOURGLASS_CONNECTIONS__OAUTH__OAUTH__CLIENT_SECRET",
            "secret",
        ),
        (
            "HOURGLASS_CONNECTIONS__OAUTH__OAUTH__BODY__GRANT_TYPE",
            "client_credentials",
        ),
    ])
    .await;
    let through = |name: &str| json!({"ConnectionArn": format!("arn:aws:events:us-east-1:123456789012:connection/{name}/5c1d")});

    // API key, headers, query and body fields: the connection's win over the Task's.
    let out = run(
        &daemon,
        "keyed",
        json!({"ApiEndpoint": format!("{api}/echo"), "Method": "POST",
               "Headers": {"x-api-key": "from-task", "x_version": "1"},
               "QueryParameters": {"page": 2, "q": "x"},
               "RequestBody": {"order": 7, "source": "task"},
               "Authentication": through("keyed")}),
    )
    .await;
    let got = &out["ResponseBody"];
    assert_eq!(got["key"], json!("from-connection"), "{out}");
    assert_eq!(got["version"], json!("2"));
    assert_eq!(got["query"], json!([["q", "x"], ["page", "9"]]));
    let body: Value = serde_json::from_str(got["body"].as_str().unwrap_or("")).expect("json");
    assert_eq!(body, json!({"order": 7, "source": "connection"}));

    // Basic.
    let out = run(
        &daemon,
        "basic",
        json!({"ApiEndpoint": format!("{api}/echo"), "Method": "GET",
               "Authentication": through("basic")}),
    )
    .await;
    assert_eq!(
        out["ResponseBody"]["authorization"],
        json!("Basic c3ZjOnB3"),
        "{out}"
    );

    // OAuth: the first token is refused, so a new one is got and the call made again; the
    // next execution uses the token held.
    for name in ["oauth-1", "oauth-2"] {
        let out = run(
            &daemon,
            name,
            json!({"ApiEndpoint": format!("{api}/protected"), "Method": "GET",
                   "Authentication": through("oauth")}),
        )
        .await;
        assert_eq!(out["StatusCode"], json!(200), "{name}: {out}");
        assert_eq!(
            out["ResponseBody"]["authorization"],
            json!("Bearer tok-2"),
            "{name}"
        );
    }

    // A connection not configured adds nothing.
    let out = run(
        &daemon,
        "unlisted",
        json!({"ApiEndpoint": format!("{api}/echo"), "Method": "GET",
               "Authentication": through("elsewhere")}),
    )
    .await;
    assert_eq!(out["ResponseBody"]["authorization"], Value::Null, "{out}");
    assert_eq!(out["ResponseBody"]["key"], Value::Null);
}

/// TestState at `TRACE` shows an HTTP Task's request and response; what its connection adds
/// (here an API key, a header and a query parameter) only with `revealSecrets`.
#[tokio::test]
async fn test_state_traces_the_request_and_response_and_reveals_secrets_only_when_asked() {
    let api = server().await;
    let daemon = TestDaemon::start_with_env(&[
        ("HOURGLASS_CONNECTIONS__KEYED__API_KEY__NAME", "x-api-key"),
        ("HOURGLASS_CONNECTIONS__KEYED__API_KEY__VALUE", "s3cret"),
        ("HOURGLASS_CONNECTIONS__KEYED__QUERY__TOKEN", "hidden"),
    ])
    .await;
    let sfn = daemon.sfn();
    use crate::test_state::SendUnprefixed;
    let state = json!({"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("{api}/echo"), "Method": "POST",
                       "RequestBody": {"order": 7},
                       "Authentication": {"ConnectionArn":
                           "arn:aws:events:us-east-1:123456789012:connection/keyed/5c1d"}},
        "End": true})
    .to_string();
    let traced = |reveal: bool| {
        sfn.test_state()
            .definition(&state)
            .role_arn(crate::support::ROLE_ARN)
            .inspection_level(aws_sdk_sfn::types::InspectionLevel::Trace)
            .reveal_secrets(reveal)
            .send_unprefixed()
    };
    let out = traced(false).await.expect("TestState at TRACE");
    let data = out.inspection_data().expect("inspection data");
    let request = data.request().expect("the request");
    assert_eq!(request.method(), Some("POST"));
    assert_eq!(request.protocol(), Some("http"));
    assert_eq!(request.url(), Some(format!("{api}/echo").as_str()));
    assert_eq!(request.body(), Some(r#"{"order":7}"#));
    let headers = request.headers().unwrap_or_default();
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    assert!(!headers.contains("s3cret"), "a secret shown: {headers}");
    let response = data.response().expect("the response");
    assert_eq!(response.status_code(), Some("200"));
    assert_eq!(response.status_message(), Some("OK"));
    let body: Value = serde_json::from_str(response.body().unwrap_or("")).expect("JSON body");
    assert_eq!(body["key"], "s3cret", "the call itself went with the key");

    let out = traced(true).await.expect("TestState revealing secrets");
    let request = out
        .inspection_data()
        .and_then(|d| d.request())
        .expect("the request");
    assert!(request
        .headers()
        .unwrap_or_default()
        .contains("x-api-key: s3cret"));
    assert!(request.url().unwrap_or_default().contains("token=hidden"));

    // At DEBUG there is no request or response; revealSecrets needs TRACE.
    let debug = sfn
        .test_state()
        .definition(&state)
        .role_arn(crate::support::ROLE_ARN)
        .inspection_level(aws_sdk_sfn::types::InspectionLevel::Debug)
        .send_unprefixed()
        .await
        .expect("TestState at DEBUG");
    assert!(debug.inspection_data().and_then(|d| d.request()).is_none());
    let refused = sfn
        .test_state()
        .definition(&state)
        .role_arn(crate::support::ROLE_ARN)
        .inspection_level(aws_sdk_sfn::types::InspectionLevel::Debug)
        .reveal_secrets(true)
        .send_unprefixed()
        .await
        .expect_err("revealSecrets below TRACE");
    assert_eq!(
        crate::support::api::code_and_message(&refused).0,
        "ValidationException"
    );
}

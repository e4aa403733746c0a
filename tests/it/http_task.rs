//! The HTTP Task (`arn:aws:states:::http:invoke`) against an HTTP server of the test: the
//! request it makes (method, query, headers, JSON and form bodies), the result it gives, and
//! AWS's errors for 4xx, 5xx and a server that does not answer in time.

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
               "content_type": header("content-type"), "key": header("x-api-key")})
        .to_string()
    }
    let app = Router::new()
        .route("/echo", any(echo))
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

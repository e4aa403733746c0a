//! A fake Lambda Invoke API (axum, port 0, in the test process) that records every call.
//!
//! Functions, by name:
//! - `echo`, `HelloWorldFunction`: answer the event (`HelloWorldFunction` wraps it as
//!   `{"greeting": "Hello", "event": ...}`);
//! - `fail-typed`: a function error with `errorType` `CustomError`;
//! - `fail-untyped`: a function error without `errorType`;
//! - `sleep`: answer the event after 3 s;
//! - `flaky-N-...`: fail with `errorType` `Flaky` on the first N calls, then echo;
//! - `huge`: a 300 KiB JSON string;
//! - `throttle`: HTTP 429 `TooManyRequestsException`;
//! - `garbage`: HTTP 200 with a body that is not JSON;
//! - `gateway`: HTTP 502 with an HTML page, as a broken proxy answers;
//! - `hang`: answer the event only once [`FakeLambda::release_hang`] is called (calls in
//!   progress are counted, so a test sees a call the daemon abandoned end);
//! - `stream`: HTTP 200 with an endless body (64 MiB of a JSON string, sent in chunks);
//! - anything else: 404 `ResourceNotFoundException`, as Lambda answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub function: String,
    pub body: String,
    pub at_ms: i64,
    pub invocation_type: Option<String>,
    /// The `Qualifier` query parameter, decoded.
    pub qualifier: Option<String>,
    /// The `Authorization` header, when the call was signed.
    pub authorization: Option<String>,
    /// The `X-Amz-Security-Token` header, when one was sent.
    pub security_token: Option<String>,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    counts: HashMap<String, u32>,
    /// Calls that have not answered yet (or whose caller has gone), by function.
    in_progress: HashMap<String, i64>,
}

/// Counts a call in progress from its start until its handler ends or is dropped.
struct InProgress {
    inner: Arc<Mutex<Inner>>,
    function: String,
}

impl InProgress {
    fn new(inner: &Arc<Mutex<Inner>>, function: &str) -> Self {
        *inner
            .lock()
            .expect("fake lambda state")
            .in_progress
            .entry(function.to_owned())
            .or_default() += 1;
        Self {
            inner: inner.clone(),
            function: function.to_owned(),
        }
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        if let Ok(mut i) = self.inner.lock() {
            *i.in_progress.entry(self.function.clone()).or_default() -= 1;
        }
    }
}

#[derive(Clone)]
pub struct FakeLambda {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    release: tokio::sync::watch::Sender<bool>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    released: tokio::sync::watch::Receiver<bool>,
}

impl FakeLambda {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let (release, released) = tokio::sync::watch::channel(false);
        let app = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .with_state(Shared {
                inner: inner.clone(),
                released,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake lambda");
        let addr = listener.local_addr().expect("fake lambda address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            inner,
            release,
        }
    }

    /// From now on `hang` answers (the calls waiting answer too).
    pub fn release_hang(&self) {
        let _ = self.release.send(true);
    }

    /// Calls to `function` that have not answered yet and whose caller has not gone.
    pub fn in_progress(&self, function: &str) -> i64 {
        self.inner
            .lock()
            .expect("calls")
            .in_progress
            .get(function)
            .copied()
            .unwrap_or(0)
    }

    /// The value for LAMBDA_ENDPOINT.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().expect("calls").calls.clone()
    }

    pub fn calls_to(&self, function: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.function == function)
            .collect()
    }
}

/// The decoded `Qualifier` of a query string.
fn qualifier(query: &str) -> Option<String> {
    let raw = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("Qualifier="))?;
    let mut out = Vec::new();
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex: String = bytes.by_ref().take(2).map(char::from).collect();
            out.push(u8::from_str_radix(&hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn json(status: StatusCode, extra: &[(&'static str, &str)], body: String) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("header"));
    headers.insert("x-amzn-requestid", "req-1".parse().expect("header"));
    for (k, v) in extra {
        headers.insert(*k, v.parse().expect("header"));
    }
    (status, headers, body).into_response()
}

async fn invoke(
    State(Shared {
        inner,
        mut released,
    }): State<Shared>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let count = {
        let mut i = inner.lock().expect("fake lambda state");
        i.calls.push(Call {
            function: name.clone(),
            body: body.clone(),
            at_ms: now_ms(),
            invocation_type: header("x-amz-invocation-type"),
            qualifier: uri.query().and_then(qualifier),
            authorization: header("authorization"),
            security_token: header("x-amz-security-token"),
        });
        let c = i.counts.entry(name.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let ok = |b: String| json(StatusCode::OK, &[("x-amz-executed-version", "$LATEST")], b);
    let function_error = |b: &str| {
        json(
            StatusCode::OK,
            &[("x-amz-function-error", "Unhandled")],
            b.to_owned(),
        )
    };
    match name.as_str() {
        "echo" => ok(body),
        "HelloWorldFunction" => ok(format!(r#"{{"greeting":"Hello","event":{body}}}"#)),
        "fail-typed" => function_error(r#"{"errorType":"CustomError","errorMessage":"boom"}"#),
        "fail-untyped" => function_error(r#"{"errorMessage":"boom"}"#),
        "sleep" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            ok(body)
        }
        "hang" => {
            let _counted = InProgress::new(&inner, "hang");
            let _ = released.wait_for(|r| *r).await;
            ok(body)
        }
        "stream" => {
            let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
            let chunks = std::iter::once(Bytes::from_static(b"\""))
                .chain(std::iter::repeat_n(chunk, 1024))
                .map(Ok::<_, std::io::Error>);
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
            )
                .into_response()
        }
        "huge" => ok(format!("\"{}\"", "a".repeat(300 * 1024))),
        "garbage" => ok("this is {not json".to_owned()),
        "gateway" => (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response(),
        "throttle" => json(
            StatusCode::TOO_MANY_REQUESTS,
            &[("x-amzn-errortype", "TooManyRequestsException")],
            r#"{"Type":"User","message":"Rate Exceeded."}"#.to_owned(),
        ),
        n if n.starts_with("flaky-") => {
            let fails: u32 = n
                .split('-')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            if count <= fails {
                function_error(r#"{"errorType":"Flaky","errorMessage":"not yet"}"#)
            } else {
                ok(body)
            }
        }
        other => json(
            StatusCode::NOT_FOUND,
            &[("x-amzn-errortype", "ResourceNotFoundException")],
            format!(
                r#"{{"Type":"User","message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{other}"}}"#
            ),
        ),
    }
}

/// An endpoint that accepts a connection, reads the request and closes without answering.
pub async fn hang_up_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind hang-up endpoint");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                drop(socket);
            });
        }
    });
    format!("http://{addr}")
}

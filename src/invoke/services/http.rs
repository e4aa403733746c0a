//! The HTTP Task, `arn:aws:states:::http:invoke`: a request to any HTTPS or HTTP API.
//!
//! | parameter | meaning |
//! |---|---|
//! | `ApiEndpoint` | the URL (required) |
//! | `Method` | `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD` or `OPTIONS` (required) |
//! | `Headers`, `QueryParameters` | objects of names and values (a list repeats a query key) |
//! | `RequestBody` | sent as is when text, as JSON otherwise; as a form with `Transform.RequestBodyEncoding: URL_ENCODED` |
//! | `Authentication.ConnectionArn` | the connection of the configuration's `connections` table by that ARN or its name: its authorization, headers, query parameters and body fields are added, winning over the Task's (as EventBridge's do); a connection not listed adds nothing |
//!
//! The result is `{Headers, ResponseBody, StatusCode, StatusText}` (`ResponseBody` parsed when it
//! is JSON). A status outside 2xx raises `States.Http.StatusCode.NNN` with that result as cause;
//! a request that gets no answer raises `States.Http.Socket`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Map, Value};

use super::super::lambda::{error_chain, read_capped, MAX_RESPONSE_BYTES};
use super::super::{InvokeOutput, Outcome};
use crate::asl::StatesError;
use crate::invoke::connections::{self, Connection, OAuth};

fn runtime(msg: &str) -> StatesError {
    StatesError::runtime(format!("The HTTP Task's parameters are not valid: {msg}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn socket(what: &str, e: &reqwest::Error) -> StatesError {
    StatesError::new("States.Http.Socket", format!("{what}: {}", error_chain(e)))
}

/// An OAuth token of a connection and when to stop using it.
struct Token {
    value: String,
    until: Instant,
}

/// HTTP Tasks, with the configured connections and the OAuth tokens got for them.
pub struct HttpTask {
    connections: BTreeMap<String, Connection>,
    tokens: Mutex<HashMap<String, Token>>,
}

impl std::fmt::Debug for HttpTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Connections hold secrets: only their names are shown.
        f.debug_struct("HttpTask")
            .field("connections", &self.connections.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The request the parameters describe, before the connection's additions.
struct Parts {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    url_encoded: bool,
}

fn parts(params: &Map<String, Value>) -> Result<Parts, StatesError> {
    let endpoint = params
        .get("ApiEndpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| runtime("'ApiEndpoint' is required"))?;
    let method = params
        .get("Method")
        .and_then(Value::as_str)
        .ok_or_else(|| runtime("'Method' is required"))?;
    let method = match method.to_ascii_uppercase().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS") => {
            reqwest::Method::from_bytes(m.as_bytes()).map_err(|e| runtime(&e.to_string()))?
        }
        other => return Err(runtime(&format!("'Method' {other} is not an HTTP method"))),
    };
    let mut url = reqwest::Url::parse(endpoint)
        .map_err(|e| runtime(&format!("'ApiEndpoint' {endpoint}: {e}")))?;
    if let Some(Value::Object(query)) = params.get("QueryParameters") {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            match v {
                Value::Array(items) => {
                    for item in items {
                        pairs.append_pair(k, &text(item));
                    }
                }
                other => {
                    pairs.append_pair(k, &text(other));
                }
            }
        }
    }
    let headers = match params.get("Headers") {
        Some(Value::Object(h)) => h.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        _ => Vec::new(),
    };
    let url_encoded = params
        .get("Transform")
        .and_then(|t| t.get("RequestBodyEncoding"))
        .and_then(Value::as_str)
        == Some("URL_ENCODED");
    Ok(Parts {
        method,
        url,
        headers,
        body: params.get("RequestBody").filter(|b| !b.is_null()).cloned(),
        url_encoded,
    })
}

/// `pairs` as a form body.
fn form<'a>(pairs: impl IntoIterator<Item = (&'a String, String)>) -> String {
    let mut ser = reqwest::Url::parse("http://form").expect("a constant URL");
    {
        let mut out = ser.query_pairs_mut();
        for (k, v) in pairs {
            out.append_pair(k, &v);
        }
    }
    ser.query().unwrap_or_default().to_owned()
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, StatesError> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| runtime(&format!("'{k}' is not a header name")))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| runtime(&format!("the value of header '{k}' is not valid")))?;
        // A later header of the same name (the connection's) replaces an earlier one.
        map.insert(name, value);
    }
    Ok(map)
}

impl HttpTask {
    pub fn new(connections: BTreeMap<String, Connection>) -> Self {
        Self {
            connections,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Make the request the parameters describe.
    pub async fn invoke(&self, http: &reqwest::Client, payload: &str) -> Outcome {
        self.call(http, payload, None).await
    }

    /// [`Self::invoke`], with what went over the wire: `{"request", "response"}` as
    /// TestState's `inspectionData` shows them (strings). The request is shown as the Task
    /// describes it, and with what its connection adds when `reveal_secrets`.
    pub async fn invoke_traced(
        &self,
        http: &reqwest::Client,
        payload: &str,
        reveal_secrets: bool,
    ) -> (Outcome, Value) {
        let mut trace = Trace {
            reveal_secrets,
            request: Value::Null,
            response: Value::Null,
        };
        let outcome = self.call(http, payload, Some(&mut trace)).await;
        let mut shown = Map::new();
        if !trace.request.is_null() {
            shown.insert("request".into(), trace.request);
        }
        if !trace.response.is_null() {
            shown.insert("response".into(), trace.response);
        }
        (outcome, Value::Object(shown))
    }

    async fn call(
        &self,
        http: &reqwest::Client,
        payload: &str,
        mut trace: Option<&mut Trace>,
    ) -> Outcome {
        let params: Map<String, Value> = serde_json::from_str(payload).unwrap_or_default();
        let parts = parts(&params)?;
        if let Some(t) = trace.as_deref_mut().filter(|t| !t.reveal_secrets) {
            let plain = request(
                http,
                &parts,
                parts.url.clone(),
                &parts.headers,
                parts.body.clone(),
            )?;
            t.request = plain.build().map_or(Value::Null, |r| shown_request(&r));
        }
        let arn = params
            .get("Authentication")
            .and_then(|a| a.get("ConnectionArn"))
            .and_then(Value::as_str);
        let connection = arn.and_then(|a| connections::find(&self.connections, a));
        if let (Some(arn), None) = (arn, connection) {
            tracing::debug!(
                connection = arn,
                "HTTP Task through a connection not configured"
            );
        }
        let reveal = trace.as_deref_mut().filter(|t| t.reveal_secrets);
        let mut resp = self
            .send(http, &parts, connection, arn, false, reveal)
            .await?;
        if matches!(resp.status().as_u16(), 401 | 407)
            && connection.is_some_and(|c| c.oauth.is_some())
        {
            // The token may have been revoked: get a new one and try once more.
            let reveal = trace.as_deref_mut().filter(|t| t.reveal_secrets);
            resp = self
                .send(http, &parts, connection, arn, true, reveal)
                .await?;
        }
        answer(resp, trace.map(|t| &mut t.response)).await
    }

    async fn send(
        &self,
        http: &reqwest::Client,
        parts: &Parts,
        connection: Option<&Connection>,
        arn: Option<&str>,
        fresh_token: bool,
        trace: Option<&mut Trace>,
    ) -> Result<reqwest::Response, StatesError> {
        let mut url = parts.url.clone();
        let mut headers = parts.headers.clone();
        let mut body = parts.body.clone();
        if let Some(c) = connection {
            if !c.query.is_empty() {
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .into_owned()
                    .filter(|(k, _)| !c.query.contains_key(k))
                    .collect();
                url.query_pairs_mut()
                    .clear()
                    .extend_pairs(kept)
                    .extend_pairs(&c.query);
            }
            headers.extend(c.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
            // Body fields join an object body (JSON or form); a text body is sent as it is.
            if !c.body.is_empty() && matches!(body, None | Some(Value::Object(_))) {
                let mut fields = match body {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                for (k, v) in &c.body {
                    fields.insert(k.clone(), Value::String(v.clone()));
                }
                body = Some(Value::Object(fields));
            }
            if let Some(b) = &c.basic {
                let req = request(http, parts, url, &headers, body)?
                    .basic_auth(&b.username, Some(&b.password));
                return execute(http, req, trace).await;
            }
            if let Some(k) = &c.api_key {
                headers.push((k.name.clone(), k.value.clone()));
            }
            if let Some(o) = &c.oauth {
                let key = arn.unwrap_or_default();
                let token = self.token(http, key, o, fresh_token).await?;
                headers.push(("authorization".into(), format!("Bearer {token}")));
            }
        }
        execute(http, request(http, parts, url, &headers, body)?, trace).await
    }

    /// The connection's OAuth token: the one held while it lasts (unless `fresh`), else a new
    /// one from the authorization endpoint.
    async fn token(
        &self,
        http: &reqwest::Client,
        key: &str,
        o: &OAuth,
        fresh: bool,
    ) -> Result<String, StatesError> {
        if !fresh {
            let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(t) = tokens.get(key).filter(|t| t.until > Instant::now()) {
                return Ok(t.value.clone());
            }
        }
        let mut url = reqwest::Url::parse(&o.authorization_endpoint)
            .map_err(|e| runtime(&format!("the connection's authorization endpoint: {e}")))?;
        url.query_pairs_mut().extend_pairs(&o.query);
        let method =
            reqwest::Method::from_bytes(o.http_method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let fields = o.body.iter().map(|(k, v)| (k, v.clone()));
        let mut req = if method == reqwest::Method::GET {
            url.query_pairs_mut()
                .extend_pairs(o.body.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            http.get(url)
        } else {
            http.request(method, url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(fields))
        };
        for (k, v) in &o.headers {
            req = req.header(k, v);
        }
        let resp = req
            .basic_auth(&o.client_id, Some(&o.client_secret))
            .send()
            .await
            .map_err(|e| socket("The connection's OAuth token could not be got", &e))?;
        let status = resp.status();
        let text = read_capped(resp, 64 * 1024)
            .await
            .map_err(|e| socket("The connection's OAuth token could not be read", &e))?;
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|_| status.is_success())
            .ok_or_else(|| {
                StatesError::new(
                    format!("States.Http.StatusCode.{}", status.as_u16()),
                    format!("The connection's authorization endpoint gave no access_token: {text}"),
                )
            })?
            .to_owned();
        // Kept a minute less than it lasts (an hour when the answer does not say).
        let lasts = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        let until = Instant::now() + Duration::from_secs(lasts.saturating_sub(60));
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key.to_owned(),
                Token {
                    value: token.clone(),
                    until,
                },
            );
        Ok(token)
    }
}

/// The request with these (merged) parts.
fn request(
    http: &reqwest::Client,
    parts: &Parts,
    url: reqwest::Url,
    headers: &[(String, String)],
    body: Option<Value>,
) -> Result<reqwest::RequestBuilder, StatesError> {
    let headers = header_map(headers)?;
    let has_content_type = headers.contains_key("content-type");
    let mut req = http.request(parts.method.clone(), url).headers(headers);
    match body {
        None => {}
        Some(Value::Object(fields)) if parts.url_encoded => {
            if !has_content_type {
                req = req.header("content-type", "application/x-www-form-urlencoded");
            }
            req = req.body(form(fields.iter().map(|(k, v)| (k, text(v)))));
        }
        Some(Value::String(s)) => req = req.body(s),
        Some(other) => {
            if !has_content_type {
                req = req.header("content-type", "application/json");
            }
            req = req.body(other.to_string());
        }
    }
    Ok(req)
}

/// What a traced call went through (TestState's `TRACE`).
pub struct Trace {
    reveal_secrets: bool,
    request: Value,
    response: Value,
}

/// Send a request; with `trace`, note it as it went (connection's additions included).
async fn execute(
    http: &reqwest::Client,
    req: reqwest::RequestBuilder,
    trace: Option<&mut Trace>,
) -> Result<reqwest::Response, StatesError> {
    let req = req
        .build()
        .map_err(|e| socket("The request could not be made", &e))?;
    if let Some(t) = trace {
        t.request = shown_request(&req);
    }
    http.execute(req)
        .await
        .map_err(|e| socket("The request could not be completed", &e))
}

/// Headers as one string, `[name: value, ...]`.
fn shown_headers(headers: &reqwest::header::HeaderMap) -> String {
    let each: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{}: {}", k.as_str(), v.to_str().unwrap_or("")))
        .collect();
    format!("[{}]", each.join(", "))
}

fn protocol(url: &reqwest::Url) -> &str {
    url.scheme()
}

fn shown_request(req: &reqwest::Request) -> Value {
    let body = req
        .body()
        .and_then(reqwest::Body::as_bytes)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    json!({
        "protocol": protocol(req.url()),
        "method": req.method().as_str(),
        "url": req.url().as_str(),
        "headers": shown_headers(req.headers()),
        "body": body,
    })
}

/// The Task's result, or its error for a status outside 2xx; with `trace`, the response as
/// it came.
async fn answer(resp: reqwest::Response, trace: Option<&mut Value>) -> Outcome {
    let status = resp.status();
    let shown = trace.map(|t| {
        let head = json!({
            "protocol": protocol(resp.url()),
            "statusCode": status.as_u16().to_string(),
            "statusMessage": status.canonical_reason().unwrap_or_default(),
            "headers": shown_headers(resp.headers()),
        });
        (t, head)
    });
    let mut headers = Map::new();
    for (k, v) in resp.headers() {
        if let Ok(v) = v.to_str() {
            let entry = headers
                .entry(k.as_str().to_owned())
                .or_insert_with(|| json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(json!(v));
            }
        }
    }
    let body = read_capped(resp, MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| socket("The response could not be read", &e))?;
    if let Some((t, mut head)) = shown {
        head["body"] = json!(body);
        *t = head;
    }
    let response_body =
        serde_json::from_str::<Value>(&body).unwrap_or_else(|_| Value::String(body.clone()));
    let result = json!({
        "Headers": headers,
        "ResponseBody": response_body,
        "StatusCode": status.as_u16(),
        "StatusText": status.canonical_reason().unwrap_or_default(),
    });
    if !status.is_success() {
        return Err(StatesError::new(
            format!("States.Http.StatusCode.{}", status.as_u16()),
            result.to_string(),
        ));
    }
    Ok(InvokeOutput {
        status_code: status.as_u16(),
        payload: result.to_string(),
        executed_version: None,
        request_id: uuid::Uuid::new_v4().to_string(),
        headers: Vec::new(),
        mocked: false,
    })
}

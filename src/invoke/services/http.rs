//! The HTTP Task, `arn:aws:states:::http:invoke`: a request to any HTTPS or HTTP API.
//!
//! | parameter | meaning |
//! |---|---|
//! | `ApiEndpoint` | the URL (required) |
//! | `Method` | `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD` or `OPTIONS` (required) |
//! | `Headers`, `QueryParameters` | objects of names and values (a list repeats a query key) |
//! | `RequestBody` | sent as is when text, as JSON otherwise; as a form with `Transform.RequestBodyEncoding: URL_ENCODED` |
//! | `Authentication.ConnectionArn` | accepted; the credentials an EventBridge connection would add go in `Headers` |
//!
//! The result is `{Headers, ResponseBody, StatusCode, StatusText}` (`ResponseBody` parsed when it
//! is JSON). A status outside 2xx raises `States.Http.StatusCode.NNN` with that result as cause;
//! a request that gets no answer raises `States.Http.Socket`.

use serde_json::{json, Map, Value};

use super::super::lambda::{error_chain, read_capped, MAX_RESPONSE_BYTES};
use super::super::{InvokeOutput, Outcome};
use crate::asl::StatesError;

fn runtime(msg: &str) -> StatesError {
    StatesError::runtime(format!("The HTTP Task's parameters are not valid: {msg}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Make the request the parameters describe.
pub async fn invoke(http: &reqwest::Client, payload: &str) -> Outcome {
    let params: Map<String, Value> = serde_json::from_str(payload).unwrap_or_default();
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
    let mut req = http.request(method, url);
    let mut has_content_type = false;
    if let Some(Value::Object(headers)) = params.get("Headers") {
        for (k, v) in headers {
            has_content_type |= k.eq_ignore_ascii_case("content-type");
            req = req.header(k.as_str(), text(v));
        }
    }
    let url_encoded = params
        .get("Transform")
        .and_then(|t| t.get("RequestBodyEncoding"))
        .and_then(Value::as_str)
        == Some("URL_ENCODED");
    match params.get("RequestBody") {
        None | Some(Value::Null) => {}
        Some(Value::Object(form)) if url_encoded => {
            let mut ser =
                reqwest::Url::parse("http://form").map_err(|e| runtime(&e.to_string()))?;
            {
                let mut pairs = ser.query_pairs_mut();
                for (k, v) in form {
                    pairs.append_pair(k, &text(v));
                }
            }
            if !has_content_type {
                req = req.header("content-type", "application/x-www-form-urlencoded");
            }
            req = req.body(ser.query().unwrap_or_default().to_owned());
        }
        Some(Value::String(s)) => req = req.body(s.clone()),
        Some(other) => {
            if !has_content_type {
                req = req.header("content-type", "application/json");
            }
            req = req.body(other.to_string());
        }
    }
    let resp = req.send().await.map_err(|e| {
        StatesError::new(
            "States.Http.Socket",
            format!("The request could not be completed: {}", error_chain(&e)),
        )
    })?;
    let status = resp.status();
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
    let body = read_capped(resp, MAX_RESPONSE_BYTES).await.map_err(|e| {
        StatesError::new(
            "States.Http.Socket",
            format!("The response could not be read: {}", error_chain(&e)),
        )
    })?;
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

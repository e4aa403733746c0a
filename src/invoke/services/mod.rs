//! Calls to the AWS services of [`crate::model::services`]: over the AWS JSON protocol
//! (`POST /` with `X-Amz-Target: PREFIX.Operation`), the AWS Query protocol for SNS
//! (`query`), the REST-JSON protocol for Lambda (`rest`) or the REST-XML one for S3
//! (`s3_sdk`), SigV4-signed for the service.
//!
//! What the state sees, by form:
//!
//! | form | result | service error | no answer |
//! |---|---|---|---|
//! | optimized | the response with `SdkHttpMetadata` and `SdkResponseMetadata` (`events:putEvents`: the response; with failed entries, `EventBridge.FailedEntry`) | `SQS.QueueDoesNotExistException`; codes the SDK does not model: `SQS.AmazonSQSException`; cause `msg (Service: AmazonSQS; Status Code: 400; Error Code: …; Request ID: …; Proxy: null)` | `SQS.SdkClientException` |
//! | AWS SDK | the response, members capitalised, timestamps as ISO 8601 | `Sqs.QueueDoesNotExistException`, cause `msg (Service: Sqs, Status Code: 400, Request ID: …)` | `Sqs.SdkClientException` |

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

mod http;
mod query;
mod rest;
mod s3;
mod s3_sdk;

use super::lambda::{error_chain, metadata, read_capped, SigningKeys, MAX_RESPONSE_BYTES};
use super::{Invocation, InvokeOutput, Invoker, Outcome};
use crate::asl::{catalogue, StatesError};
use crate::model::services::{ServiceCall, SERVICES};

#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Endpoint of each service, by its signing name; AWS's regional one when absent.
    pub endpoints: HashMap<&'static str, String>,
    pub region: String,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub max_concurrency_per_service: usize,
    /// Keys for AWS's endpoints (and others when `sign_everywhere`); placeholder keys sign
    /// the rest.
    pub keys: Option<SigningKeys>,
    pub sign_everywhere: bool,
}

#[derive(Debug)]
pub struct ServiceInvoker {
    http: reqwest::Client,
    settings: ServiceSettings,
    limits: HashMap<&'static str, Arc<Semaphore>>,
    http_task: http::HttpTask,
}

impl ServiceInvoker {
    /// `connections` are the EventBridge connections HTTP Tasks name (they hold secrets, so
    /// they are not part of the settings, which are shown in logs).
    pub fn new(
        settings: ServiceSettings,
        connections: std::collections::BTreeMap<String, crate::invoke::connections::Connection>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.response_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        let limits = SERVICES
            .iter()
            .map(|s| {
                let n = settings.max_concurrency_per_service.max(1);
                (s.signing_name, Arc::new(Semaphore::new(n)))
            })
            .collect();
        Ok(Self {
            http,
            http_task: http::HttpTask::new(connections),
            settings,
            limits,
        })
    }

    /// The endpoint of the service signed as `signing_name`: the configured one, else AWS's.
    fn endpoint(&self, signing_name: &str) -> String {
        match self.settings.endpoints.get(signing_name) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!(
                "https://{signing_name}.{}.amazonaws.com",
                self.settings.region
            ),
        }
    }

    /// The keys a call to `url` is signed with.
    fn keys(&self, url: &str) -> SigningKeys {
        let aws = reqwest::Url::parse(url).is_ok_and(|u| {
            u.scheme() == "https"
                && u.host_str()
                    .is_some_and(|h| h == "amazonaws.com" || h.ends_with(".amazonaws.com"))
        });
        match &self.settings.keys {
            Some(k) if aws || self.settings.sign_everywhere => k.clone(),
            _ => SigningKeys {
                access_key_id: "hourglass".into(),
                secret_access_key: "hourglass".into(),
                session_token: None,
                region: self.settings.region.clone(),
            },
        }
    }

    async fn call(&self, inv: Invocation) -> Outcome {
        if inv.kind == crate::asl::run::CallKind::Http {
            return self.http_task.invoke(&self.http, &inv.payload).await;
        }
        if inv.kind == crate::asl::run::CallKind::ResultWriter {
            let endpoint = self.endpoint("s3");
            let keys = self.keys(&endpoint);
            s3::put_object(&self.http, &endpoint, &keys, &inv.payload).await?;
            return Ok(InvokeOutput {
                status_code: 200,
                payload: String::new(),
                executed_version: None,
                request_id: uuid::Uuid::new_v4().to_string(),
                headers: Vec::new(),
                mocked: false,
            });
        }
        if inv.kind == crate::asl::run::CallKind::ItemReader {
            let endpoint = self.endpoint("s3");
            let keys = self.keys(&endpoint);
            let items = s3::read_items(
                &self.http,
                &endpoint,
                &keys,
                &inv.function_name,
                &inv.payload,
            )
            .await?;
            return Ok(InvokeOutput {
                status_code: 200,
                payload: items.to_string(),
                executed_version: None,
                request_id: uuid::Uuid::new_v4().to_string(),
                headers: Vec::new(),
                mocked: false,
            });
        }
        let Some(call) = ServiceCall::parse(&inv.function_name) else {
            return Err(catalogue::resource_unsupported(&format!(
                "arn:aws:states:::{}",
                inv.function_name
            )));
        };
        let params: Value = serde_json::from_str(&inv.payload).unwrap_or_else(|_| json!({}));
        if call.service.sdk_id == "s3" {
            let endpoint = self.endpoint("s3");
            let keys = self.keys(&endpoint);
            let _permit = match self.limits.get("s3") {
                Some(l) => l.clone().acquire_owned().await.ok(),
                None => None,
            };
            let output = s3_sdk::call(&self.http, &endpoint, &keys, &call, params).await?;
            return Ok(InvokeOutput {
                status_code: 200,
                payload: output.to_string(),
                executed_version: None,
                request_id: uuid::Uuid::new_v4().to_string(),
                headers: Vec::new(),
                mocked: false,
            });
        }
        let Raw {
            status,
            headers,
            request_id,
            answer,
        } = self.send(&call, params).await?;
        if !(200..300).contains(&status) {
            return Err(service_error(&call, status, &answer, &request_id));
        }
        let output = response_output(&call, answer, status, &headers, &request_id)?;
        Ok(InvokeOutput {
            status_code: status,
            payload: output.to_string(),
            executed_version: None,
            request_id,
            headers,
            mocked: false,
        })
    }

    /// A Step Functions action (`StartExecution`) at `integrations.step_functions_endpoint`,
    /// with the API's own (camelCase) members: the answer, or the error as the optimized
    /// integration names it (`StepFunctions.ExecutionAlreadyExistsException`).
    pub async fn step_functions(
        &self,
        operation: &str,
        params: Value,
    ) -> Result<Value, StatesError> {
        let service = SERVICES
            .iter()
            .find(|s| s.signing_name == "states")
            .ok_or_else(|| StatesError::runtime("Step Functions is not in the services table"))?;
        let mut action = operation.to_owned();
        if let Some(first) = action.get_mut(..1) {
            first.make_ascii_lowercase();
        }
        let call = ServiceCall {
            service,
            action,
            sdk: false,
        };
        let raw = self.send(&call, params).await?;
        if !(200..300).contains(&raw.status) {
            return Err(service_error(
                &call,
                raw.status,
                &raw.answer,
                &raw.request_id,
            ));
        }
        Ok(raw.answer)
    }

    /// Send the call and read its answer, whatever its status.
    async fn send(&self, call: &ServiceCall, params: Value) -> Result<Raw, StatesError> {
        let service = call.service;
        let endpoint = self.endpoint(service.signing_name);
        let rest_op = service.rest_operation(&call.action);
        let (method, url, body, mut headers) = if let Some(op) = rest_op {
            let r = rest::request(op, &endpoint, params).map_err(|m| client_error(call, &m))?;
            (r.method, r.url, r.body, r.headers)
        } else if let Some(version) = service.query_version {
            (
                "POST",
                format!("{endpoint}/"),
                query::request(call, version, params),
                vec![(
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
                )],
            )
        } else {
            (
                "POST",
                format!("{endpoint}/"),
                request_body(call, params).to_string(),
                vec![
                    (
                        "content-type".to_owned(),
                        format!("application/x-amz-json-{}", service.json_version),
                    ),
                    (
                        "x-amz-target".to_owned(),
                        format!("{}.{}", service.target_prefix, call.operation()),
                    ),
                ],
            )
        };
        let keys = self.keys(&url);
        if let Err(e) = keys.sign(
            service.signing_name,
            method,
            &url,
            &mut headers,
            body.as_bytes(),
        ) {
            return Err(client_error(
                call,
                &format!("Unable to sign the request: {e}"),
            ));
        }
        let _permit = match self.limits.get(service.signing_name) {
            Some(l) => l.clone().acquire_owned().await.ok(),
            None => None,
        };
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut req = self.http.request(method, &url).body(body);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(client_error(
                    call,
                    &format!("Unable to execute HTTP request: {}", error_chain(&e)),
                ))
            }
        };
        let status = resp.status().as_u16();
        let (headers, mut request_id) = metadata(&resp);
        let raw_headers = resp.headers().clone();
        let text = read_capped(resp, MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| client_error(call, &format!("Unable to read the response: {e}")))?;
        let ok = (200..300).contains(&status);
        let answer: Value = if let Some(op) = rest_op {
            if ok {
                rest::answer(op, status, &raw_headers, &text)
            } else {
                rest::error(&raw_headers, &text)
            }
        } else if service.query_version.is_some() {
            let (answer, id) = query::answer(call, &text);
            if let Some(id) = id {
                request_id = id;
            }
            answer
        } else if text.trim().is_empty() {
            json!({})
        } else {
            // A member sent as null is a member not set, as the AWS SDKs read the JSON
            // protocol (some emulators send `"NextToken": null`, AWS leaves it out).
            serde_json::from_str(&text).map_or_else(|_| json!(text), without_nulls)
        };
        Ok(Raw {
            status,
            headers,
            request_id,
            answer,
        })
    }
}

/// `v` without its objects' null members, at any depth.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// A service's answer before it is shown to the state.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    request_id: String,
    answer: Value,
}

impl Invoker for ServiceInvoker {
    fn invoke(&self, invocation: Invocation) -> Pin<Box<dyn Future<Output = Outcome> + Send + '_>> {
        Box::pin(self.call(invocation))
    }

    fn invoke_traced(
        &self,
        invocation: Invocation,
        reveal_secrets: bool,
    ) -> Pin<Box<dyn Future<Output = (Outcome, Option<Value>)> + Send + '_>> {
        Box::pin(async move {
            if invocation.kind != crate::asl::run::CallKind::Http {
                return (self.call(invocation).await, None);
            }
            let (outcome, trace) = self
                .http_task
                .invoke_traced(&self.http, &invocation.payload, reveal_secrets)
                .await;
            (outcome, Some(trace))
        })
    }
}

/// The request as the service takes it. The optimized integrations send a JSON message body
/// or event detail as its text, as Step Functions does; the SDK form names members
/// capitalised, which camelCase services take lower-cased.
pub(super) fn request_body(call: &ServiceCall, params: Value) -> Value {
    let mut params = params;
    if !call.sdk {
        match call.action.as_str() {
            "sendMessage" => stringify(&mut params, "MessageBody"),
            "publish" => stringify(&mut params, "Message"),
            "putEvents" => {
                if let Some(entries) = params.get_mut("Entries").and_then(Value::as_array_mut) {
                    for e in entries {
                        stringify(e, "Detail");
                    }
                }
            }
            _ => {}
        }
    } else if call.service.signing_name == "states"
        && matches!(
            call.action.as_str(),
            "startExecution" | "startSyncExecution"
        )
    {
        // AWS writes an execution's input given as JSON (not as its text) as its text.
        stringify(&mut params, "Input");
    }
    if call.service.camel_case {
        recase(params, false)
    } else {
        params
    }
}

fn stringify(v: &mut Value, key: &str) {
    if let Some(m) = v.get_mut(key) {
        if !m.is_string() {
            *m = Value::String(m.to_string());
        }
    }
}

/// Keys of every object, first letter upper-cased (`upper`) or lower-cased.
fn recase(v: Value, upper: bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let k = match c.next() {
                        Some(f) if upper => f.to_ascii_uppercase().to_string() + c.as_str(),
                        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
                        None => k,
                    };
                    (k, recase(v, upper))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| recase(v, upper)).collect()),
        other => other,
    }
}

/// Timestamps the JSON protocol sends as epoch seconds (`startDate`), as the AWS SDK form
/// shows them: ISO 8601.
fn timestamps(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n) if k.ends_with("Date") => n
                            .as_f64()
                            .and_then(iso8601)
                            .map_or(Value::Number(n), Value::String),
                        other => timestamps(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(timestamps).collect()),
        other => other,
    }
}

fn iso8601(secs: f64) -> Option<String> {
    let nanos = (secs * 1e9) as i128;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).ok()
}

fn response_output(
    call: &ServiceCall,
    answer: Value,
    status: u16,
    headers: &[(String, String)],
    request_id: &str,
) -> Result<Value, StatesError> {
    if call.sdk {
        return Ok(if call.service.camel_case {
            timestamps(recase(answer, true))
        } else {
            answer
        });
    }
    if call.action == "putEvents" {
        let failed = answer
            .get("FailedEntryCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if failed > 0 {
            return Err(StatesError::new(
                "EventBridge.FailedEntry",
                answer.to_string(),
            ));
        }
        return Ok(answer);
    }
    let mut out = match answer {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("Body".into(), other);
            m
        }
    };
    let mut all = Map::new();
    let mut flat = Map::new();
    for (k, v) in headers {
        all.insert(k.clone(), json!([v]));
        flat.insert(k.clone(), json!(v));
    }
    out.insert(
        "SdkHttpMetadata".into(),
        json!({"AllHttpHeaders": all, "HttpHeaders": flat, "HttpStatusCode": status}),
    );
    out.insert(
        "SdkResponseMetadata".into(),
        json!({ "RequestId": request_id }),
    );
    Ok(Value::Object(out))
}

/// A service's error answer as the state sees it.
fn service_error(call: &ServiceCall, status: u16, answer: &Value, request_id: &str) -> StatesError {
    let service = call.service;
    let code = answer
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t))
        .or_else(|| answer.get("code").and_then(Value::as_str))
        .unwrap_or("UnknownError")
        .to_owned();
    let message = answer
        .get("message")
        .or_else(|| answer.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let exception = if code.ends_with("Exception") {
        code.clone()
    } else {
        format!("{code}Exception")
    };
    if call.sdk {
        return catalogue::service_error_v2(
            &exception,
            &message,
            service.sdk_error_prefix,
            status,
            request_id,
        );
    }
    // Errors SDK v1 does not model surface as the service's base exception.
    let modeled = !code.contains('.') && code != "ValidationException";
    let name = if modeled {
        exception
    } else {
        service.optimized_base_exception.to_owned()
    };
    catalogue::service_error_v1(
        &format!("{}.{name}", service.optimized_error_prefix),
        &message,
        service.optimized_service_name,
        status,
        &code,
        request_id,
    )
}

fn client_error(call: &ServiceCall, cause: &str) -> StatesError {
    let prefix = if call.sdk {
        call.service.sdk_error_prefix
    } else {
        call.service.optimized_error_prefix
    };
    catalogue::sdk_client_error(prefix, cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(resource: &str) -> ServiceCall {
        ServiceCall::parse(resource).expect("a service call")
    }

    #[test]
    fn optimized_calls_send_json_bodies_as_text_and_sdk_calls_recase_for_camel_services() {
        let sent = request_body(
            &call("sqs:sendMessage"),
            json!({"QueueUrl": "q", "MessageBody": {"a": 1}}),
        );
        assert_eq!(sent["MessageBody"], json!(r#"{"a":1}"#));
        let sent = request_body(
            &call("events:putEvents"),
            json!({"Entries": [{"Detail": {"x": true}, "Source": "s"}]}),
        );
        assert_eq!(sent["Entries"][0]["Detail"], json!(r#"{"x":true}"#));
        let sent = request_body(
            &call("aws-sdk:sfn:startExecution"),
            json!({"StateMachineArn": "arn", "Input": "{}"}),
        );
        assert_eq!(sent, json!({"stateMachineArn": "arn", "input": "{}"}));
        let sent = request_body(
            &call("aws-sdk:sfn:startExecution"),
            json!({"StateMachineArn": "arn", "Input": {"key": "value"}}),
        );
        assert_eq!(
            sent,
            json!({"stateMachineArn": "arn", "input": r#"{"key":"value"}"#})
        );
        let shown = response_output(
            &call("aws-sdk:sfn:startExecution"),
            json!({"executionArn": "e", "startDate": 1_700_000_000.5}),
            200,
            &[],
            "r",
        )
        .expect("ok");
        assert_eq!(
            shown,
            json!({"ExecutionArn": "e", "StartDate": "2023-11-14T22:13:20.500Z"})
        );
    }

    #[test]
    fn null_members_of_an_answer_are_members_not_set() {
        let answer = json!({"SecretList": [{"Name": "a", "Tags": null}], "NextToken": null,
                            "Values": [null, 1]});
        assert_eq!(
            without_nulls(answer),
            json!({"SecretList": [{"Name": "a"}], "Values": [null, 1]})
        );
    }

    #[test]
    fn errors_are_named_as_each_form_names_them() {
        let answer = json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                            "message": "Requested resource not found"});
        let e = service_error(&call("aws-sdk:dynamodb:putItem"), 400, &answer, "R");
        assert_eq!(e.error, "DynamoDb.ResourceNotFoundException");
        assert_eq!(
            e.cause.as_deref(),
            Some(
                "Requested resource not found (Service: DynamoDb, Status Code: 400, Request ID: R)"
            )
        );
        let e = service_error(&call("dynamodb:putItem"), 400, &answer, "R");
        assert_eq!(e.error, "DynamoDB.ResourceNotFoundException");
        let invalid =
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"});
        let e = service_error(&call("dynamodb:putItem"), 400, &invalid, "R");
        assert_eq!(e.error, "DynamoDB.AmazonDynamoDBException");
        assert_eq!(
            e.cause.as_deref(),
            Some("bad (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException; Request ID: R; Proxy: null)")
        );
        let missing = json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "no"});
        let e = service_error(&call("sqs:sendMessage"), 400, &missing, "R");
        assert_eq!(e.error, "SQS.QueueDoesNotExistException");
        let failed = response_output(
            &call("events:putEvents"),
            json!({"Entries": [{"ErrorCode": "MalformedDetail"}], "FailedEntryCount": 1}),
            200,
            &[],
            "R",
        )
        .expect_err("a failed entry");
        assert_eq!(failed.error, "EventBridge.FailedEntry");
    }
}

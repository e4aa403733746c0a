//! The Lambda Invoke HTTP API: `POST {endpoint}/2015-03-31/functions/{name}/invocations`,
//! served by real Lambda, `sam local start-lambda` and the Runtime Interface Emulator.
//!
//! One keep-alive client; at most `max_concurrency_per_function` calls in flight per function;
//! connect and response timeouts from config; SigV4 signing when credentials are configured.
//! Answers map to ASL errors as Step Functions maps them:
//!
//! | answer | error | cause |
//! |---|---|---|
//! | 2xx with `X-Amz-Function-Error` | the payload's `errorType`, else `Lambda.Unknown` | the payload |
//! | 4xx/5xx | `Lambda.<x-amzn-ErrorType>` | `<message> (Service: AWSLambda; Status Code: N; Error Code: E; Request ID: R; Proxy: null)` |
//! | no connection, timeout | `Lambda.SdkClientException` | `Unable to execute HTTP request: ...` |

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;

use super::{split_function_name, Invocation, InvokeOutput, Invoker, Outcome};
use crate::asl::{catalogue, StatesError};
use crate::{metrics, sigv4};

/// Functions whose concurrency limits are kept while idle.
const MAX_TRACKED_FUNCTIONS: usize = 1024;

/// Credentials for signing requests to real Lambda.
#[derive(Clone)]
pub struct SigningKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

impl SigningKeys {
    /// Sign a POST of `body` to `url` for `service`, adding the signature's headers.
    pub fn sign_post(
        &self,
        service: &str,
        url: &str,
        headers: &mut Vec<(String, String)>,
        body: &[u8],
    ) -> Result<(), sigv4::Error> {
        self.sign(service, "POST", url, headers, body)
    }

    /// Sign a request of `method` with `body` to `url` for `service`.
    pub fn sign(
        &self,
        service: &str,
        method: &str,
        url: &str,
        headers: &mut Vec<(String, String)>,
        body: &[u8],
    ) -> Result<(), sigv4::Error> {
        let unsigned: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let signed = sigv4::sign(
            sigv4::Keys {
                access_key_id: &self.access_key_id,
                secret_access_key: &self.secret_access_key,
                session_token: self.session_token.as_deref(),
            },
            sigv4::Scope {
                region: &self.region,
                service,
            },
            SystemTime::now(),
            sigv4::Covers::SdkDefault,
            method,
            url,
            &unsigned,
            body,
        )?;
        headers.extend(signed.headers);
        Ok(())
    }
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct LambdaSettings {
    pub endpoint: String,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub max_concurrency_per_function: usize,
    pub signing: Option<SigningKeys>,
}

#[derive(Debug)]
pub struct LambdaInvoker {
    http: reqwest::Client,
    settings: LambdaSettings,
    /// `{endpoint}/2015-03-31/functions/`, parsed once: each call only appends to its path.
    functions: reqwest::Url,
    /// One semaphore per function name, created on first use.
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl LambdaInvoker {
    pub fn new(settings: LambdaSettings) -> anyhow::Result<Self> {
        let functions = reqwest::Url::parse(&format!(
            "{}/2015-03-31/functions/",
            settings.endpoint.trim_end_matches('/')
        ))
        .map_err(|e| anyhow::anyhow!("lambda_endpoint '{}': {e}", settings.endpoint))?;
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.response_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            settings,
            functions,
            limits: Mutex::new(HashMap::new()),
        })
    }

    /// The concurrency limit of one function. `FunctionName.$` lets any input name a function,
    /// so limits of functions with nothing in flight are forgotten once more than
    /// [`MAX_TRACKED_FUNCTIONS`] are held: the map grows only with functions called at once.
    fn limit_for(&self, name: &str) -> Arc<Semaphore> {
        let max = self.settings.max_concurrency_per_function.max(1);
        let mut limits = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        if limits.len() >= MAX_TRACKED_FUNCTIONS && !limits.contains_key(name) {
            limits.retain(|_, s| s.available_permits() < max);
        }
        limits
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(max)))
            .clone()
    }

    async fn call(&self, inv: Invocation) -> Outcome {
        let (name, qualifier) = split_function_name(&inv.function_name);
        let qualifier = inv.qualifier.clone().or(qualifier);
        let permit = self.limit_for(&name).acquire_owned().await;
        let started = std::time::Instant::now();
        let mut url = self.functions.clone();
        url.set_path(&format!(
            "{}{}/invocations",
            self.functions.path(),
            encode_path_segment(&name)
        ));
        if let Some(q) = &qualifier {
            url.set_query(Some(&format!("Qualifier={}", encode_path_segment(q))));
        }
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("x-amz-invocation-type".into(), inv.invocation_type.clone()),
        ];
        if let Some(cc) = &inv.client_context {
            headers.push(("x-amz-client-context".into(), cc.clone()));
        }
        if let Some(lt) = &inv.log_type {
            headers.push(("x-amz-log-type".into(), lt.clone()));
        }
        if let Some(keys) = &self.settings.signing {
            if let Err(e) =
                keys.sign_post("lambda", url.as_str(), &mut headers, inv.payload.as_bytes())
            {
                return Err(catalogue::sdk_client_error(
                    "Lambda",
                    &format!("Unable to sign the request: {e}"),
                ));
            }
        }
        let mut req = self.http.post(url).body(inv.payload.clone());
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let result = match req.send().await {
            Ok(resp) => map_response(resp).await,
            Err(e) => Err(catalogue::sdk_client_error(
                "Lambda",
                &format!("Unable to execute HTTP request: {}", error_chain(&e)),
            )),
        };
        drop(permit);
        metrics::lambda_invocation(&name, result.is_ok(), started.elapsed());
        result
    }

    #[cfg(test)]
    fn tracked_functions(&self) -> usize {
        self.limits.lock().map(|l| l.len()).unwrap_or(0)
    }
}

impl Invoker for LambdaInvoker {
    fn invoke(&self, invocation: Invocation) -> Pin<Box<dyn Future<Output = Outcome> + Send + '_>> {
        Box::pin(self.call(invocation))
    }
}

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The most of a response kept: one byte past the largest result a state may take, so a
/// longer one is still seen as too long (States.DataLimitExceeded) without being held whole.
pub(super) const MAX_RESPONSE_BYTES: usize = crate::asl::MAX_PAYLOAD_BYTES + 1;

/// The response body as text, cut at `cap` bytes (the rest is not read; the connection is
/// dropped with it).
pub(super) async fn read_capped(
    resp: reqwest::Response,
    cap: usize,
) -> Result<String, reqwest::Error> {
    let body = read_capped_bytes(resp, cap).await?;
    Ok(match String::from_utf8(body) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The body as bytes, at most `cap` of them.
pub(super) async fn read_capped_bytes(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

/// HTTP/1 header names arrive lower-cased; Step Functions shows them as Lambda spells them
/// (`X-Amz-Executed-Version`, `x-amzn-RequestId`) in `SdkHttpMetadata`.
fn header_case(lower: &str) -> String {
    match lower {
        "x-amzn-requestid" => "x-amzn-RequestId".into(),
        "x-amzn-remapped-content-length" => "x-amzn-Remapped-Content-Length".into(),
        "x-amzn-trace-id" => "X-Amzn-Trace-Id".into(),
        "x-amz-executed-version" => "X-Amz-Executed-Version".into(),
        "x-amz-function-error" => "X-Amz-Function-Error".into(),
        "x-amz-log-result" => "X-Amz-Log-Result".into(),
        "x-amz-crc32" => "x-amz-crc32".into(),
        _ => lower
            .split('-')
            .map(|part| {
                let mut c = part.chars();
                match c.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// Percent-encode a path segment (function names are plain, but qualifiers hold `$`), or a
/// form field (RFC 3986's unreserved characters stay).
pub(super) fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response's headers as AWS's SDKs spell them (for `SdkHttpMetadata`), and its request id.
pub(super) fn metadata(resp: &reqwest::Response) -> (Vec<(String, String)>, String) {
    let request_id = resp
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((header_case(k.as_str()), v.to_str().ok()?.to_owned())))
        .collect();
    (headers, request_id)
}

async fn map_response(resp: reqwest::Response) -> Outcome {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let function_error = header("x-amz-function-error");
    let error_type = header("x-amzn-errortype");
    let executed_version = header("x-amz-executed-version");
    let (headers, request_id) = metadata(&resp);
    let body = match read_capped(resp, MAX_RESPONSE_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            return Err(catalogue::sdk_client_error(
                "Lambda",
                &format!("Unable to read the response: {}", error_chain(&e)),
            ))
        }
    };
    if (200..300).contains(&status) {
        if function_error.is_some() {
            let error = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("errorType")
                        .and_then(|t| t.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "Lambda.Unknown".to_owned());
            return Err(StatesError::new(error, body));
        }
        return Ok(InvokeOutput {
            status_code: status,
            payload: body,
            executed_version,
            request_id,
            headers,
            mocked: false,
        });
    }
    let exception = error_type
        .as_deref()
        .and_then(|t| t.split(':').next())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| match status {
            404 => "ResourceNotFoundException".into(),
            429 => "TooManyRequestsException".into(),
            400 => "InvalidRequestContentException".into(),
            _ => "ServiceException".into(),
        });
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("Message"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .unwrap_or(body);
    Err(catalogue::service_error_v1(
        &format!("Lambda.{exception}"),
        &message,
        "AWSLambda",
        status,
        &exception,
        &request_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_of_idle_functions_are_forgotten_past_the_cap() {
        let invoker = LambdaInvoker::new(LambdaSettings {
            endpoint: "http://127.0.0.1:1".into(),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            max_concurrency_per_function: 2,
            signing: None,
        })
        .expect("invoker");
        let busy = invoker.limit_for("busy");
        let _held = busy.clone().try_acquire_owned().expect("a permit");
        for i in 0..10 * MAX_TRACKED_FUNCTIONS {
            drop(invoker.limit_for(&format!("f{i}")));
        }
        assert!(invoker.tracked_functions() <= MAX_TRACKED_FUNCTIONS);
        assert!(
            Arc::ptr_eq(&busy, &invoker.limit_for("busy")),
            "a function with a call in flight keeps its limit"
        );
    }
}

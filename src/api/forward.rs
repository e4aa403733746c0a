//! Any node answers any request: a change to an execution whose partition another node holds is
//! forwarded to that node, and its answer returned as is.
//!
//! A forwarded request carries `x-hourglass-forwarded: NODE:TIME:MAC`, an HMAC-SHA256 of the
//! operation, the time and the body with a secret the nodes share (made when the database was
//! first initialised). The receiving node checks it instead of the client's signature (the
//! forwarding node checked that one, and may have added the execution's name to the body), and
//! never forwards the request again: if the partition moved meanwhile it answers 503, which the
//! AWS SDKs retry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ApiError;
use crate::cluster::Directory;
use crate::metrics;
use crate::store::ports::Node;

/// The header a forwarded request carries.
pub const HEADER: &str = "x-hourglass-forwarded";
/// The header of the answer to a forwarded request for a partition the node does not hold.
const NOT_OWNER: &str = "x-hourglass-not-owner";

/// How far a forwarded request's time may be from the receiver's clock.
const MAX_SKEW: Duration = Duration::from_secs(60);

/// Forwarding to the other nodes of a cluster.
#[derive(Debug)]
pub struct Forwarder {
    pub node_id: String,
    secret: String,
    directory: Arc<Directory>,
    http: reqwest::Client,
}

fn mac(secret: &str, target: &str, time: u64, body: &[u8]) -> Option<String> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(target.as_bytes());
    m.update(b"\n");
    m.update(time.to_string().as_bytes());
    m.update(b"\n");
    m.update(body);
    Some(
        m.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Forwarder {
    pub fn new(node_id: String, secret: String, directory: Arc<Directory>) -> anyhow::Result<Self> {
        Ok(Self {
            node_id,
            secret,
            directory,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(60))
                .build()?,
        })
    }

    /// Whether `headers` carry a valid forwarding mark for this body: the request comes from
    /// another node of the cluster.
    pub fn is_forwarded(&self, headers: &HeaderMap, target: &str, body: &[u8]) -> bool {
        let Some(mark) = headers.get(HEADER).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let mut parts = mark.rsplitn(3, ':');
        let (Some(given), Some(time), Some(_node)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(time) = time.parse::<u64>() else {
            return false;
        };
        if now_secs().abs_diff(time) > MAX_SKEW.as_secs() {
            return false;
        }
        mac(&self.secret, target, time, body).is_some_and(|want| {
            want.len() == given.len()
                && want
                    .bytes()
                    .zip(given.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    }

    /// The node holding `partition`, when it is another one (as last read from the leases).
    pub fn owner_elsewhere(&self, partition: i64) -> Option<Node> {
        self.directory
            .owner(partition)
            .filter(|owner| owner.node_id != self.node_id)
    }

    /// Send the request to the node holding `partition` and relay its answer; `NotThere` when
    /// no other node holds it as far as this one knows, when that node did not hold it either
    /// (the leases moved since this node last read them), or when it could not be reached
    /// (nothing was sent): the caller may look again.
    pub async fn forward(&self, partition: i64, target: &str, body: &str) -> Forwarded {
        let Some(owner) = self.owner_elsewhere(partition) else {
            self.directory.refresh();
            return Forwarded::NotThere;
        };
        let time = now_secs();
        let Some(signature) = mac(&self.secret, target, time, body.as_bytes()) else {
            return Forwarded::Answer(
                ApiError::internal(std::io::Error::other("cannot sign a forwarded request"))
                    .into_response(),
            );
        };
        metrics::request_forwarded();
        let sent = self
            .http
            .post(format!("{}/", owner.address.trim_end_matches('/')))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .header(HEADER, format!("{}:{time}:{signature}", self.node_id))
            .body(body.to_owned())
            .send()
            .await;
        let resp = match sent {
            Ok(resp) if resp.headers().contains_key(NOT_OWNER) => {
                self.directory.refresh();
                return Forwarded::NotThere;
            }
            Ok(resp) => resp,
            Err(e) if e.is_connect() => {
                tracing::debug!(node = owner.node_id, error = %e, "the node holding a partition cannot be reached");
                self.directory.refresh();
                return Forwarded::NotThere;
            }
            Err(e) => return Forwarded::Answer(unreachable_owner(&owner.node_id, &e)),
        };
        let status =
            StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/x-amz-json-1.0")
            .to_owned();
        Forwarded::Answer(match resp.bytes().await {
            Ok(bytes) => (status, [("content-type", content_type)], bytes).into_response(),
            Err(e) => unreachable_owner(&owner.node_id, &e),
        })
    }
}

/// What came of forwarding a request.
pub enum Forwarded {
    /// The owner's answer, to relay as is.
    Answer(Response),
    /// Nothing was done: no other node holds the partition now, as far as this one knows.
    NotThere,
}

/// The answer of a node to a forwarded request for a partition it does not hold: 503, with
/// this header, so the forwarding node knows nothing was done and may look again.
pub fn not_owner(partition: i64) -> Response {
    let mut resp = ApiError::Elsewhere(partition).into_response();
    resp.headers_mut()
        .insert(NOT_OWNER, axum::http::HeaderValue::from(partition));
    resp
}

fn unreachable_owner(node: &str, e: &reqwest::Error) -> Response {
    tracing::warn!(node, error = %e, "the node holding a partition did not answer a forwarded request");
    ApiError::Unavailable(format!(
        "The node that holds this execution ({node}) did not answer; retry shortly."
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarding_mark_holds_only_for_its_operation_body_and_time() {
        let f = Forwarder::new("a".into(), "s3cret".into(), Arc::default()).expect("forwarder");
        let target = "AWSStepFunctions.StopExecution";
        let body = br#"{"executionArn":"x"}"#;
        let now = now_secs();
        let mark = |t: u64, secret: &str| {
            let mut h = HeaderMap::new();
            let m = mac(secret, target, t, body).expect("mac");
            h.insert(HEADER, format!("a:{t}:{m}").parse().expect("header"));
            h
        };
        assert!(f.is_forwarded(&mark(now, "s3cret"), target, body));
        assert!(
            !f.is_forwarded(&mark(now, "other"), target, body),
            "another secret"
        );
        assert!(
            !f.is_forwarded(&mark(now - 600, "s3cret"), target, body),
            "stale"
        );
        assert!(
            !f.is_forwarded(
                &mark(now, "s3cret"),
                "AWSStepFunctions.StartExecution",
                body
            ),
            "another operation"
        );
        assert!(
            !f.is_forwarded(&mark(now, "s3cret"), target, b"{}"),
            "another body"
        );
        assert!(!f.is_forwarded(&HeaderMap::new(), target, body), "no mark");
    }
}

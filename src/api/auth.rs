//! Optional SigV4 verification of API requests (`auth.enabled`), for a daemon reachable by
//! more than the machine it runs on.
//!
//! The signature is checked by signing the request again with the `aws-sigv4` crate, the
//! same code the AWS SDKs sign with: the headers the client listed in `SignedHeaders`, its
//! `X-Amz-Date`, the region and service of its credential scope, and the secret configured
//! for its access key. A request whose signature differs is refused, as is one without an
//! `Authorization` header, one whose header cannot be parsed, one from an unknown access key
//! and one whose date is further than `auth.max_skew_secs` from the server's clock. Each
//! gets the error AWS answers with.
//!
//! A signature must also cover what decides what the request does: `host`, `x-amz-date`,
//! `x-amz-target` (the operation: a signature that left it out could be replayed as another
//! operation on the same body), `content-type` and every other `x-amz-*` header sent; and its
//! scope must name this server's region and the `states` service. The Authorization header
//! is never written to the logs.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;

use super::ApiError;
use crate::sigv4;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The signing name of Step Functions.
const SERVICE: &str = "states";
/// Headers every signature must cover, beside every `x-amz-*` header present.
const MUST_SIGN: [&str; 4] = ["host", "x-amz-date", "x-amz-target", "content-type"];

/// Access keys and their secrets, and how far a request's date may stray.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// By access key id, upper-cased (configuration from the environment arrives lower-cased).
    keys: BTreeMap<String, String>,
    /// The region a credential scope must name.
    region: String,
    max_skew: Duration,
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, PartialEq)]
struct Parsed<'a> {
    access_key_id: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl Verifier {
    pub fn new(keys: &BTreeMap<String, String>, region: &str, max_skew: Duration) -> Self {
        Self {
            keys: keys
                .iter()
                .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
                .collect(),
            region: region.to_owned(),
            max_skew,
        }
    }

    /// Check the request's signature; `Err` is the error to answer with.
    pub fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let Some(auth) = headers.get("authorization") else {
            return Err(ApiError::MissingAuthenticationToken);
        };
        let auth = auth.to_str().map_err(|_| {
            ApiError::IncompleteSignature("The Authorization header is not text.".into())
        })?;
        let parsed = parse(auth)?;
        let Some(secret) = self.keys.get(&parsed.access_key_id.to_ascii_uppercase()) else {
            return Err(ApiError::UnrecognizedClient);
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let amz_date = header("x-amz-date").ok_or_else(|| {
            ApiError::IncompleteSignature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            )
        })?;
        let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
            ApiError::IncompleteSignature(format!("Invalid X-Amz-Date header: {amz_date}"))
        })?;
        let skew = now
            .duration_since(signed_at)
            .or_else(|_| signed_at.duration_since(now))
            .unwrap_or_default();
        if skew > self.max_skew {
            return Err(ApiError::InvalidSignature(format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - {} min.)",
                format_amz_date(now - self.max_skew),
                format_amz_date(now),
                self.max_skew.as_secs() / 60
            )));
        }
        if parsed.region != self.region {
            return Err(ApiError::InvalidSignature(format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                parsed.region
            )));
        }
        if parsed.service != SERVICE {
            return Err(ApiError::InvalidSignature(format!(
                "Credential should be scoped to correct service: '{SERVICE}'. "
            )));
        }
        let present = headers
            .keys()
            .map(|name| name.as_str())
            .filter(|name| name.starts_with("x-amz-") && *name != "x-amz-security-token");
        for required in MUST_SIGN.into_iter().chain(present) {
            if !parsed.signed_headers.contains(&required) {
                return Err(ApiError::IncompleteSignature(format!(
                    "'{required}' must be a 'SignedHeader' in the AWS Authorization."
                )));
            }
        }
        let host = header("host").unwrap_or_default();
        let token = header("x-amz-security-token");
        let mut signed: Vec<(&str, &str)> = Vec::with_capacity(parsed.signed_headers.len());
        for name in &parsed.signed_headers {
            // The signer adds the date and the token itself.
            if matches!(*name, "x-amz-date" | "x-amz-security-token") {
                continue;
            }
            let value = header(name).ok_or_else(|| {
                ApiError::IncompleteSignature(format!(
                    "The signed header '{name}' is missing from the request."
                ))
            })?;
            signed.push((name, value));
        }
        let expected = sigv4::sign(
            sigv4::Keys {
                access_key_id: parsed.access_key_id,
                secret_access_key: secret,
                session_token: token,
            },
            sigv4::Scope {
                region: parsed.region,
                service: parsed.service,
            },
            signed_at,
            sigv4::Covers::Exactly,
            method,
            &format!("http://{host}{path_and_query}"),
            &signed,
            body,
        )
        .map_err(|e| ApiError::IncompleteSignature(format!("The request cannot be signed: {e}")))?
        .signature;
        if constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::InvalidSignature(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
                    .into(),
            ))
        }
    }
}

fn parse(header: &str) -> Result<Parsed<'_>, ApiError> {
    let rest = header
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            ApiError::IncompleteSignature(format!(
                "Authorization header requires the algorithm {ALGORITHM}. Authorization={header}"
            ))
        })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let mut missing = Vec::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if v.is_none_or(str::is_empty) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::IncompleteSignature(format!(
            "{} Authorization={header}",
            missing.join(" ")
        )));
    }
    let credential = credential.unwrap_or_default();
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, _date, region, service, "aws4_request"] = scope[..] else {
        return Err(ApiError::IncompleteSignature(format!(
            "Credential should be scoped to a valid region, not a malformed scope: {credential}"
        )));
    };
    Ok(Parsed {
        access_key_id,
        region,
        service,
        signed_headers: signed_headers.unwrap_or_default().split(';').collect(),
        signature: signature.unwrap_or_default(),
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `20261125T064500Z`.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, format).ok()?.assume_utc();
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn format_amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .ok()
        .and_then(|d| d.format(format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers_parse_or_say_what_is_missing() {
        let ok = "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            parse(ok).ok(),
            Some(Parsed {
                access_key_id: "AKID",
                region: "us-east-1",
                service: "states",
                signed_headers: vec!["host", "x-amz-date"],
                signature: "abc",
            })
        );
        for bad in [
            "Basic dXNlcjpwYXNz",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/states/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=abc",
        ] {
            assert!(
                matches!(parse(bad), Err(ApiError::IncompleteSignature(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20261125T064500Z").expect("date");
        assert_eq!(format_amz_date(t), "20261125T064500Z");
        assert_eq!(parse_amz_date("2026-11-25"), None);
    }
}

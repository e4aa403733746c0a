//! The one SigV4 signer, over the `aws-sigv4` crate: signing outgoing calls (Lambda and, later,
//! other services) and signing again an incoming request to check its signature.

use std::time::SystemTime;

use aws_sigv4::http_request::{self, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

/// Who signs.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// What a signature is scoped to.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// Which headers a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    /// What the AWS SDKs sign (all but a few headers proxies rewrite).
    SdkDefault,
    /// Exactly the headers given, whatever they are (checking a client's `SignedHeaders`).
    Exactly,
}

/// A request's signature and the headers to add to it (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` with a session token).
#[derive(Debug)]
pub struct Signed {
    pub headers: Vec<(String, String)>,
    pub signature: String,
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Sign a request made of these parts at `time`.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    keys: Keys<'_>,
    scope: Scope<'_>,
    time: SystemTime,
    covers: Covers,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Signed, Error> {
    let identity = aws_credential_types::Credentials::new(
        keys.access_key_id,
        keys.secret_access_key,
        keys.session_token.map(str::to_owned),
        None,
        "hourglass",
    )
    .into();
    let mut settings = SigningSettings::default();
    if covers == Covers::Exactly {
        settings.excluded_headers = None;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(time)
        .settings(settings)
        .build()?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )?;
    let (instructions, signature) = http_request::sign(signable, &params)?.into_parts();
    Ok(Signed {
        headers: instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        signature,
    })
}

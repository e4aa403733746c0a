//! Reading API errors: the code and message of an SDK error, and a raw POST for the requests
//! the SDK cannot send (unknown operations, bodies that are not JSON).

use std::fmt::Debug;

use aws_sdk_sfn::error::ProvideErrorMetadata;

/// The AWS error code and message of a service error; panics on any other failure.
pub fn code_and_message(err: &(impl ProvideErrorMetadata + Debug)) -> (String, String) {
    let code = err
        .code()
        .unwrap_or_else(|| panic!("expected a service error with a code, got {err:?}"));
    (
        code.to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

/// What the daemon answered a raw request: the HTTP status and the body as JSON.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl RawAnswer {
    /// `ok` for a 200, else the error name.
    pub fn error_type_or_ok(&self) -> String {
        if self.status == 200 {
            "ok".to_owned()
        } else {
            self.error_type().to_owned()
        }
    }

    /// The error name from `__type` without its namespace (`ns#Name` → `Name`).
    pub fn error_type(&self) -> &str {
        let t = self.body["__type"]
            .as_str()
            .unwrap_or_else(|| panic!("no __type in {}", self.body));
        t.rsplit('#').next().unwrap_or(t)
    }
}

/// POST `body` to the daemon at `url` with `X-Amz-Target: <target>`, as AWS JSON 1.0.
pub async fn post_raw(url: &str, target: &str, body: &str) -> RawAnswer {
    post_raw_with(url, target, body, &[]).await
}

/// [`post_raw`] with extra headers.
pub async fn post_raw_with(
    url: &str,
    target: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> RawAnswer {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request
        .body(body.to_owned())
        .send()
        .await
        .expect("send a raw request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("read the raw answer");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {text}"));
    RawAnswer { status, body }
}

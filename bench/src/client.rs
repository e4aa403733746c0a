//! A minimal AWS JSON 1.0 client for Step Functions: enough to create machines, start
//! executions and count finished ones, against hourglass or another server.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::ROLE;

/// A minimal AWS JSON 1.0 client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    /// An `Authorization` header to send: servers that route by the SigV4 credential scope
    /// (moto) need one; hourglass does not check it unless configured to.
    authorization: Option<String>,
}

impl Client {
    pub fn new(url: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1024)
                .build()
                .unwrap_or_default(),
            url: url.to_owned(),
            authorization: None,
        }
    }

    /// A client for another Step Functions server: requests carry a SigV4-shaped
    /// `Authorization` header naming the `states` service (its signature is not checked).
    pub fn foreign(url: &str) -> Self {
        Self {
            authorization: Some(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-target, Signature=0"
                    .to_owned(),
            ),
            ..Self::new(url)
        }
    }

    /// `Ok(Ok(body))` on 200, `Ok(Err(body))` on an AWS error.
    pub async fn call(
        &self,
        op: &str,
        body: &serde_json::Value,
    ) -> Result<std::result::Result<String, String>> {
        let mut req = self
            .http
            .post(format!("{}/", self.url))
            .header("X-Amz-Target", format!("AWSStepFunctions.{op}"))
            .header("Content-Type", "application/x-amz-json-1.0");
        if let Some(a) = &self.authorization {
            req = req.header("Authorization", a);
        }
        let resp = req.body(body.to_string()).send().await?;
        let ok = resp.status().is_success();
        let text = resp.text().await?;
        Ok(if ok { Ok(text) } else { Err(text) })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub async fn create_activity(&self, name: &str) -> Result<String> {
        match self
            .call("CreateActivity", &serde_json::json!({ "name": name }))
            .await?
        {
            Ok(text) => {
                let v: serde_json::Value = serde_json::from_str(&text)?;
                Ok(v["activityArn"].as_str().unwrap_or_default().to_owned())
            }
            Err(e) => bail!("CreateActivity failed: {e}"),
        }
    }

    pub async fn create_state_machine(&self, name: &str, definition: &str) -> Result<String> {
        let body = serde_json::json!({"name": name, "definition": definition, "roleArn": ROLE});
        match self.call("CreateStateMachine", &body).await? {
            Ok(text) => {
                let v: serde_json::Value = serde_json::from_str(&text)?;
                Ok(v["stateMachineArn"].as_str().unwrap_or_default().to_owned())
            }
            Err(e) => bail!("CreateStateMachine failed: {e}"),
        }
    }

    /// How many executions of `sm` have succeeded (ListExecutions, every page).
    pub async fn count_succeeded(&self, sm: &str) -> Result<u64> {
        let mut n = 0;
        let mut token: Option<String> = None;
        loop {
            let mut body = serde_json::json!({
                "stateMachineArn": sm,
                "statusFilter": "SUCCEEDED",
                "maxResults": 1000,
            });
            if let Some(t) = &token {
                body["nextToken"] = serde_json::Value::String(t.clone());
            }
            let page: serde_json::Value = match self.call("ListExecutions", &body).await? {
                Ok(text) => serde_json::from_str(&text)?,
                Err(e) => bail!("ListExecutions failed: {e}"),
            };
            n += page["executions"].as_array().map_or(0, Vec::len) as u64;
            match page["nextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(n),
            }
        }
    }

    pub async fn wait_ready(&self) -> Result<()> {
        for _ in 0..500 {
            if let Ok(r) = self.http.get(format!("{}/ready", self.url)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bail!("daemon never became ready")
    }
}

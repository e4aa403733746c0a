//! The EventBridge connections an HTTP Task names in `Authentication.ConnectionArn`, kept in
//! the daemon's configuration (`[connections."ARN or NAME"]`) instead of in EventBridge and Secrets
//! Manager: the authorization (Basic, API key or OAuth client credentials) and the headers,
//! query parameters and body fields every request through the connection carries.
//!
//! ```toml
//! [connections."arn:aws:events:us-east-1:123456789012:connection/stripe/6f0c..."]
//! api_key = { name = "Authorization", value = "Bearer sk_test_..." }
//! headers = { "Stripe-Version" = "2024-06-20" }
//!
//! [connections.orders]            # matches any connection ARN named `orders`
//! oauth = { authorization_endpoint = "https://auth.example.com/token", client_id = "id",
//!           client_secret = "secret", body = { grant_type = "client_credentials" } }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One connection. At most one of `basic`, `api_key` and `oauth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connection {
    /// `Authorization: Basic base64(username:password)`.
    pub basic: Option<BasicAuth>,
    /// A header `name: value`.
    pub api_key: Option<ApiKey>,
    /// `Authorization: Bearer TOKEN`, the token got from `authorization_endpoint` with the
    /// client's id and secret, kept until it expires or a call answers 401 or 407.
    pub oauth: Option<OAuth>,
    /// Headers of every request; they win over the Task's own (as EventBridge's do).
    #[serde(deserialize_with = "scalars")]
    pub headers: BTreeMap<String, String>,
    /// Query parameters of every request; they win over the Task's.
    #[serde(deserialize_with = "scalars")]
    pub query: BTreeMap<String, String>,
    /// Fields added to every JSON or form body; they win over the Task's.
    #[serde(deserialize_with = "scalars")]
    pub body: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(deserialize_with = "scalar")]
    pub username: String,
    #[serde(deserialize_with = "scalar")]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    #[serde(deserialize_with = "scalar")]
    pub name: String,
    #[serde(deserialize_with = "scalar")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    pub authorization_endpoint: String,
    /// `GET`, `POST` (default) or `PUT`.
    #[serde(default = "post")]
    pub http_method: String,
    #[serde(deserialize_with = "scalar")]
    pub client_id: String,
    #[serde(deserialize_with = "scalar")]
    pub client_secret: String,
    /// Headers, query parameters and form fields of the token request
    /// (`grant_type = "client_credentials"`, a scope, ...).
    #[serde(default, deserialize_with = "scalars")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "scalars")]
    pub query: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "scalars")]
    pub body: BTreeMap<String, String>,
}

/// A text setting that the environment may have given as a number or a boolean (figment
/// reads `HOURGLASS_..._PAGE=9` as the number 9).
fn scalar<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => Ok(v.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected text, got {other}"
        ))),
    }
}

fn scalars<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    struct Text(#[serde(deserialize_with = "scalar")] String);
    let map = BTreeMap::<String, Text>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, Text(v))| (k, v)).collect())
}

fn post() -> String {
    "POST".into()
}

impl Connection {
    /// What is wrong with this connection, if anything.
    pub fn problem(&self) -> Option<String> {
        let kinds = [
            self.basic.is_some(),
            self.api_key.is_some(),
            self.oauth.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Some("give at most one of basic, api_key and oauth".into());
        }
        if let Some(o) = &self.oauth {
            let url_ok = reqwest::Url::parse(&o.authorization_endpoint)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !url_ok {
                return Some(format!(
                    "oauth.authorization_endpoint must be an http:// or https:// URL, got '{}'",
                    o.authorization_endpoint
                ));
            }
            if !matches!(o.http_method.as_str(), "GET" | "POST" | "PUT") {
                return Some(format!(
                    "oauth.http_method must be GET, POST or PUT, got '{}'",
                    o.http_method
                ));
            }
        }
        None
    }
}

/// The connection an ARN names: configured under the ARN itself, or under its name
/// (`arn:aws:events:REGION:ACCOUNT:connection/NAME/ID`).
pub fn find<'a>(
    connections: &'a BTreeMap<String, Connection>,
    arn: &str,
) -> Option<&'a Connection> {
    connections.get(arn).or_else(|| {
        let name = arn.split_once(":connection/")?.1.split('/').next()?;
        connections.get(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_found_by_arn_or_name_and_checked() {
        let mut all = BTreeMap::new();
        let exact = "arn:aws:events:us-east-1:123456789012:connection/a/1111";
        all.insert(
            exact.to_owned(),
            Connection {
                headers: [("x".to_owned(), "exact".to_owned())].into(),
                ..Default::default()
            },
        );
        all.insert(
            "b".to_owned(),
            Connection {
                headers: [("x".to_owned(), "by name".to_owned())].into(),
                ..Default::default()
            },
        );
        assert_eq!(
            find(&all, exact).map(|c| c.headers["x"].as_str()),
            Some("exact")
        );
        assert_eq!(
            find(
                &all,
                "arn:aws:events:us-east-1:123456789012:connection/b/2222"
            )
            .map(|c| c.headers["x"].as_str()),
            Some("by name")
        );
        assert!(find(&all, "arn:aws:events:us-east-1:123456789012:connection/c/3").is_none());
        let two = Connection {
            basic: Some(BasicAuth {
                username: "u".into(),
                password: "p".into(),
            }),
            api_key: Some(ApiKey {
                name: "k".into(),
                value: "v".into(),
            }),
            ..Default::default()
        };
        assert!(two.problem().is_some());
        assert!(Connection::default().problem().is_none());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
    fn connections_are_read_from_the_file_by_arn_and_from_the_environment_by_name() {
        use crate::config::{Config, Overrides};
        figment::Jail::expect_with(|jail| {
            jail.create_dir("config")?;
            jail.create_file(
                "config/hourglass.toml",
                r#"
[connections."arn:aws:events:us-east-1:123456789012:connection/pay/1"]
api_key = { name = "x-api-key", value = "k" }
headers = { "Api-Version" = "2" }
"#,
            )?;
            jail.set_env("HOURGLASS_CONNECTIONS__ORDERS__BASIC__USERNAME", "svc");
            jail.set_env("HOURGLASS_CONNECTIONS__ORDERS__BASIC__PASSWORD", "pw");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let pay = find(
                &c.connections,
                "arn:aws:events:us-east-1:123456789012:connection/pay/1",
            )
            .expect("by ARN");
            assert_eq!(pay.api_key.as_ref().map(|k| k.value.as_str()), Some("k"));
            assert_eq!(
                pay.headers.get("Api-Version").map(String::as_str),
                Some("2")
            );
            let orders = find(
                &c.connections,
                "arn:aws:events:us-east-1:123456789012:connection/orders/9",
            )
            .expect("by name");
            assert_eq!(
                orders.basic.as_ref().map(|b| b.password.as_str()),
                Some("pw")
            );
            jail.set_env("HOURGLASS_CONNECTIONS__ORDERS__API_KEY__NAME", "k");
            jail.set_env("HOURGLASS_CONNECTIONS__ORDERS__API_KEY__VALUE", "v");
            let err = Config::load(None, &Overrides::default()).expect_err("two kinds");
            assert!(err.to_string().contains("connections.\"orders\""), "{err}");
            Ok(())
        });
    }
}

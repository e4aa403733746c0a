//! AWS's REST-JSON protocol (Lambda): the operation's table entry says which members go in
//! the path, the query string and the headers; a `payload` member is the raw body, and the
//! other members make a JSON body. The answer is read back the same way.

use serde_json::{Map, Value};

use super::super::lambda::encode_path_segment as encode;
use crate::model::services::RestOperation;

/// A request ready to sign and send.
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request of `op` with these parameters, to the service at `endpoint`; a member the path
/// needs and the parameters lack is an error, worded as the SDK words it.
pub fn request(op: &RestOperation, endpoint: &str, params: Value) -> Result<Request, String> {
    let mut members = match params {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut path = String::with_capacity(op.path.len());
    let mut rest = op.path;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let value = members
            .remove(name)
            .filter(|v| !v.is_null())
            .ok_or_else(|| format!("Parameter '{name}' must not be null"))?;
        path.push_str(&encode(&text(&value)));
        rest = &rest[open + close + 1..];
    }
    path.push_str(rest);
    let query: Vec<String> = op
        .query
        .iter()
        .filter_map(|(member, key)| {
            let v = members.remove(*member)?;
            Some(format!("{}={}", encode(key), encode(&text(&v))))
        })
        .collect();
    let mut url = format!("{endpoint}{path}");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let mut headers: Vec<(String, String)> = op
        .headers
        .iter()
        .filter_map(|(member, header)| {
            let v = members.remove(*member)?;
            Some((header.to_ascii_lowercase(), text(&v)))
        })
        .collect();
    let body = match op.payload {
        // The SDK sends a blob member as its bytes: text as it is, JSON as its text.
        Some(member) => members.remove(member).map(|v| text(&v)).unwrap_or_default(),
        None if members.is_empty() && matches!(op.method, "GET" | "DELETE") => String::new(),
        None => Value::Object(members).to_string(),
    };
    if !body.is_empty() || op.method != "GET" {
        headers.push(("content-type".into(), "application/json".into()));
    }
    Ok(Request {
        method: op.method,
        url,
        headers,
        body,
    })
}

/// The answer of `op` as members: the JSON body's (or the body as text in the payload member),
/// with the members read from headers and the status code.
pub fn answer(
    op: &RestOperation,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &str,
) -> Value {
    let mut out = match op.response_payload {
        Some(member) => {
            let mut m = Map::new();
            m.insert(member.to_owned(), Value::String(body.to_owned()));
            m
        }
        None => match serde_json::from_str(body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        },
    };
    for (member, header) in op.response_headers {
        if let Some(v) = headers.get(*header).and_then(|v| v.to_str().ok()) {
            out.insert((*member).to_owned(), Value::String(v.to_owned()));
        }
    }
    if let Some(member) = op.response_status {
        out.insert(member.to_owned(), Value::from(status));
    }
    Value::Object(out)
}

/// An error answer as `{"__type", "message"}`: the code is in `x-amzn-ErrorType` (before any
/// `:`), the message in the body.
pub fn error(headers: &reqwest::header::HeaderMap, body: &str) -> Value {
    let mut answer = match serde_json::from_str(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(code) = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split(':').next())
        .filter(|t| !t.is_empty())
    {
        answer.insert("__type".into(), Value::String(code.to_owned()));
    } else if let Some(t) = answer
        .get("Type")
        .cloned()
        .filter(|_| !answer.contains_key("__type"))
    {
        answer.insert("__type".into(), t);
    }
    Value::Object(answer)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::services::{ServiceCall, SERVICES};

    fn op(action: &str) -> &'static RestOperation {
        let lambda = SERVICES
            .iter()
            .find(|s| s.sdk_id == "lambda")
            .expect("lambda");
        lambda.rest_operation(action).expect("an operation")
    }

    #[test]
    fn members_go_to_the_path_query_headers_and_body_the_table_names() {
        let r = request(
            op("invoke"),
            "http://l",
            json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:f", "Qualifier": "$LATEST",
                   "InvocationType": "Event", "Payload": {"a": 1}}),
        )
        .expect("a request");
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.url,
            "http://l/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations?Qualifier=%24LATEST"
        );
        assert!(r
            .headers
            .contains(&("x-amz-invocation-type".into(), "Event".into())));
        assert_eq!(r.body, r#"{"a":1}"#);
        let r = request(
            op("publishVersion"),
            "http://l",
            json!({"FunctionName": "f", "Description": "d"}),
        )
        .expect("a request");
        assert_eq!(
            (r.method, r.body.as_str()),
            ("POST", r#"{"Description":"d"}"#)
        );
        let r = request(op("listFunctions"), "http://l", json!({})).expect("a request");
        assert_eq!(
            (r.url.as_str(), r.body.as_str()),
            ("http://l/2015-03-31/functions/", "")
        );
        let missing = request(op("getFunction"), "http://l", json!({}));
        assert_eq!(
            missing.err().as_deref(),
            Some("Parameter 'FunctionName' must not be null")
        );
        assert!(ServiceCall::parse("aws-sdk:lambda:invoke").is_some());
    }

    #[test]
    fn answers_read_the_body_headers_and_status_back_into_members() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-amz-executed-version",
            "$LATEST".parse().expect("a value"),
        );
        headers.insert(
            "x-amz-function-error",
            "Unhandled".parse().expect("a value"),
        );
        let a = answer(op("invoke"), 200, &headers, r#"{"errorType":"E"}"#);
        assert_eq!(
            a,
            json!({"Payload": r#"{"errorType":"E"}"#, "ExecutedVersion": "$LATEST",
                   "FunctionError": "Unhandled", "StatusCode": 200})
        );
        let a = answer(
            op("getFunction"),
            200,
            &reqwest::header::HeaderMap::new(),
            r#"{"Configuration":{}}"#,
        );
        assert_eq!(a, json!({"Configuration": {}}));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            "ResourceNotFoundException:http://internal.amazon.com/coral/"
                .parse()
                .expect("a value"),
        );
        let e = error(
            &headers,
            r#"{"Type":"User","Message":"Function not found: f"}"#,
        );
        assert_eq!(e["__type"], json!("ResourceNotFoundException"));
    }
}

//! The AWS Query protocol (SNS): a request is the action, the API version and the parameters
//! flattened into form fields; the answer is XML. Only what these calls need is read: the
//! simple members of `<ActionResult>`, and an error's code, message and request id.

use serde_json::{json, Map, Value};

use super::super::lambda::encode_path_segment as encode;
use super::request_body;
use crate::model::services::ServiceCall;

/// The form-encoded request for `call` with these parameters.
pub fn request(call: &ServiceCall, version: &str, params: Value) -> String {
    let mut pairs = vec![
        ("Action".to_owned(), call.operation()),
        ("Version".to_owned(), version.to_owned()),
    ];
    if let Value::Object(members) = request_body(call, params) {
        for (key, value) in members {
            flatten(&key, &value, &mut pairs);
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A member as form fields: maps as `K.entry.N.Name` / `K.entry.N.Value…` (SNS's
/// `MessageAttributes`), lists as `K.member.N`, structures as `K.Field`.
fn flatten(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push((key.to_owned(), s.clone())),
        Value::Object(m) if key.ends_with("Attributes") => {
            for (i, (name, v)) in m.iter().enumerate() {
                let entry = format!("{key}.entry.{}", i + 1);
                out.push((format!("{entry}.Name"), name.clone()));
                flatten(&format!("{entry}.Value"), v, out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{key}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{key}.member.{}", i + 1), v, out);
            }
        }
        other => out.push((key.to_owned(), other.to_string())),
    }
}

/// The answer as JSON: the members of `<ActionResult>` on success, `{"__type", "message"}`
/// for an `<ErrorResponse>`; and the request id it names.
pub fn answer(call: &ServiceCall, xml: &str) -> (Value, Option<String>) {
    let request_id = text_of(xml, "RequestId");
    if xml.contains("<ErrorResponse") {
        let error = json!({
            "__type": text_of(xml, "Code").unwrap_or_default(),
            "message": text_of(xml, "Message").unwrap_or_default(),
        });
        return (error, request_id);
    }
    let tag = format!("{}Result", call.operation());
    let mut out = Map::new();
    if let Some(result) = inner(xml, &tag) {
        let mut rest = result;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('>') else { break };
            let name = &after[..close];
            let body = &after[close + 1..];
            let end = format!("</{name}>");
            let Some(stop) = body.find(&end) else { break };
            if !name.starts_with('/') && !body[..stop].contains('<') {
                out.insert(name.to_owned(), json!(unescape(&body[..stop])));
            }
            rest = &body[stop + end.len()..];
        }
    }
    (Value::Object(out), request_id)
}

/// The text between `<tag>` and `</tag>`, first occurrence.
fn inner<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

pub(super) fn text_of(xml: &str, tag: &str) -> Option<String> {
    inner(xml, tag).map(unescape)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish() -> ServiceCall {
        ServiceCall::parse("sns:publish").expect("in the table")
    }

    #[test]
    fn parameters_are_flattened_into_form_fields() {
        let body = request(
            &publish(),
            "2010-03-31",
            json!({"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": {"a": 1},
                   "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "x y"}}}),
        );
        assert_eq!(
            body,
            "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At\
             &Message=%7B%22a%22%3A1%7D&MessageAttributes.entry.1.Name=kind\
             &MessageAttributes.entry.1.Value.DataType=String\
             &MessageAttributes.entry.1.Value.StringValue=x%20y"
        );
    }

    #[test]
    fn answers_and_errors_are_read_from_the_xml() {
        let ok = r#"<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>"#;
        assert_eq!(
            answer(&publish(), ok),
            (json!({"MessageId": "m-1"}), Some("r-1".to_owned()))
        );
        let err = r#"<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>r-2</RequestId></ErrorResponse>"#;
        assert_eq!(
            answer(&publish(), err),
            (
                json!({"__type": "NotFound", "message": "Topic does not exist"}),
                Some("r-2".to_owned())
            )
        );
    }
}

//! The AWS SDK form of S3 (`aws-sdk:s3:ACTION`): AWS's REST-XML protocol, path-style, at
//! `integrations.s3_endpoint` (`S3_ENDPOINT`). The actions are the table's
//! (`crate::model::services`):
//!
//! | action | request | result |
//! |---|---|---|
//! | `getObject` | `GET /Bucket/Key` | the object's headers as members (`ContentLength`, `ContentType`, `ETag`, `LastModified`, `Metadata`, ...) and `Body`, the object as text |
//! | `putObject` | `PUT /Bucket/Key` with `Body` (JSON written as its text), `ContentType`, `Metadata` | `ETag`, `ServerSideEncryption`, `ChecksumCRC32`, `ChecksumType`, `VersionId` |
//! | `headObject` | `HEAD /Bucket/Key` | as `getObject`, without `Body` |
//! | `deleteObject` | `DELETE /Bucket/Key` | `DeleteMarker`, `VersionId` |
//! | `listObjectsV2` | `GET /Bucket?list-type=2` with `Prefix`, `Delimiter`, `MaxKeys`, `ContinuationToken`, `StartAfter` | `Contents`, `CommonPrefixes`, `KeyCount`, `IsTruncated`, `NextContinuationToken`, ... |
//! | `listObjects` | `GET /Bucket` with `Prefix`, `Delimiter`, `MaxKeys`, `Marker` | `Contents`, `CommonPrefixes`, `IsTruncated`, `NextMarker`, ... |
//! | `listBuckets` | `GET /` | `Buckets` (`Name`, `CreationDate`), `Owner` |
//!
//! As AWS's SDK (v2) does, a `putObject` sends the CRC32 of its body, which S3 answers back.
//! Errors are S3's codes (`S3.NoSuchBucketException`, `S3.NoSuchKeyException`) with the request
//! id and extended request id in the cause; an answer without a body (`headObject`) is named by
//! its status.

use base64::Engine;
use serde_json::{Map, Value};

use super::super::lambda::{encode_path_segment as encode, read_capped, SigningKeys};
use super::query::text_of;
use crate::asl::{catalogue, StatesError};
use crate::model::services::ServiceCall;

/// The most of an object's text a state gets (a state's data is at most 256 KiB anyway).
const MAX_BODY_BYTES: usize = 1 << 20;

/// The response headers `getObject` and `headObject` show, by member; numbers, dates and the
/// metadata are read apart.
const OBJECT_HEADERS: &[(&str, &str)] = &[
    ("AcceptRanges", "accept-ranges"),
    ("CacheControl", "cache-control"),
    ("ContentDisposition", "content-disposition"),
    ("ContentEncoding", "content-encoding"),
    ("ContentLanguage", "content-language"),
    ("ContentRange", "content-range"),
    ("ContentType", "content-type"),
    ("ETag", "etag"),
    ("Expiration", "x-amz-expiration"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
    ("SSEKMSKeyId", "x-amz-server-side-encryption-aws-kms-key-id"),
    ("StorageClass", "x-amz-storage-class"),
    ("VersionId", "x-amz-version-id"),
    ("WebsiteRedirectLocation", "x-amz-website-redirect-location"),
    ("ChecksumCRC32", "x-amz-checksum-crc32"),
    ("ChecksumType", "x-amz-checksum-type"),
];

/// The response headers `putObject` shows.
const PUT_HEADERS: &[(&str, &str)] = &[
    ("ChecksumCRC32", "x-amz-checksum-crc32"),
    ("ChecksumType", "x-amz-checksum-type"),
    ("ETag", "etag"),
    ("Expiration", "x-amz-expiration"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
    ("SSEKMSKeyId", "x-amz-server-side-encryption-aws-kms-key-id"),
    ("VersionId", "x-amz-version-id"),
];

/// Request members sent as headers (`putObject`, and the conditions of a read).
const REQUEST_HEADERS: &[(&str, &str)] = &[
    ("CacheControl", "cache-control"),
    ("ContentDisposition", "content-disposition"),
    ("ContentEncoding", "content-encoding"),
    ("ContentLanguage", "content-language"),
    ("ContentType", "content-type"),
    ("IfMatch", "if-match"),
    ("IfNoneMatch", "if-none-match"),
    ("Range", "range"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
    ("StorageClass", "x-amz-storage-class"),
];

/// Query members of `listObjectsV2`, and `VersionId` of the object actions.
const QUERY: &[(&str, &str)] = &[
    ("ContinuationToken", "continuation-token"),
    ("Delimiter", "delimiter"),
    ("EncodingType", "encoding-type"),
    ("FetchOwner", "fetch-owner"),
    ("Marker", "marker"),
    ("MaxKeys", "max-keys"),
    ("Prefix", "prefix"),
    ("StartAfter", "start-after"),
    ("VersionId", "versionId"),
];

/// A member's text: a string as it is, anything else as its JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Make the call and read its answer as the state sees it.
pub async fn call(
    http: &reqwest::Client,
    endpoint: &str,
    keys: &SigningKeys,
    call: &ServiceCall,
    params: Value,
) -> Result<Value, StatesError> {
    let client = |cause: String| catalogue::sdk_client_error("S3", &cause);
    let mut members = match params {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let action = call.action.as_str();
    let Some(op) = call.service.rest_operation(action) else {
        return Err(catalogue::resource_unsupported(&format!(
            "arn:aws:states:::aws-sdk:s3:{action}"
        )));
    };
    let mut take = |name: &str| -> Result<String, StatesError> {
        members
            .remove(name)
            .filter(|v| !v.is_null())
            .map(|v| text(&v))
            .ok_or_else(|| client(format!("Parameter '{name}' must not be null")))
    };
    let mut url = endpoint.to_owned();
    if op.path.contains("{Bucket}") {
        url.push('/');
        url.push_str(&encode(&take("Bucket")?));
    }
    if op.path.contains("{Key}") {
        let key: Vec<String> = take("Key")?.split('/').map(encode).collect();
        url.push('/');
        url.push_str(&key.join("/"));
    } else if op.path == "/" {
        url.push('/');
    }
    let mut query: Vec<String> = Vec::new();
    if action == "listObjectsV2" {
        query.push("list-type=2".into());
    }
    for (member, key) in QUERY {
        if let Some(v) = members.remove(*member).filter(|v| !v.is_null()) {
            query.push(format!("{key}={}", encode(&text(&v))));
        }
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (member, header) in REQUEST_HEADERS {
        if let Some(v) = members.remove(*member).filter(|v| !v.is_null()) {
            headers.push(((*header).to_owned(), text(&v)));
        }
    }
    if let Some(Value::Object(meta)) = members.remove("Metadata") {
        for (k, v) in meta {
            headers.push((format!("x-amz-meta-{}", k.to_ascii_lowercase()), text(&v)));
        }
    }
    let body = match op.payload {
        Some(member) => members.remove(member).map(|v| text(&v)).unwrap_or_default(),
        None => String::new(),
    };
    if op.payload.is_some() {
        let crc = crc32fast::hash(body.as_bytes()).to_be_bytes();
        headers.push((
            "x-amz-checksum-crc32".into(),
            base64::engine::general_purpose::STANDARD.encode(crc),
        ));
        headers.push(("x-amz-sdk-checksum-algorithm".into(), "CRC32".into()));
        if !headers.iter().any(|(k, _)| k == "content-type") {
            headers.push(("content-type".into(), "binary/octet-stream".into()));
        }
    }
    let resp = super::s3::send_signed(http, keys, op.method, &url, headers, body.into_bytes())
        .await
        .map_err(client)?;
    let status = resp.status().as_u16();
    let answer_headers = resp.headers().clone();
    let header = |name: &str| {
        answer_headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request_id = header("x-amz-request-id").unwrap_or_default();
    let extended = header("x-amz-id-2").unwrap_or_default();
    let body = read_capped(resp, MAX_BODY_BYTES)
        .await
        .map_err(|e| client(format!("Unable to read the response: {e}")))?;
    if !(200..300).contains(&status) {
        return Err(error(status, &body, &request_id, &extended));
    }
    Ok(match action {
        "getObject" | "headObject" => {
            let mut out = object_members(&answer_headers);
            if action == "getObject" {
                out.insert("Body".into(), Value::String(body));
            }
            Value::Object(out)
        }
        "putObject" | "deleteObject" => {
            let mut out = Map::new();
            for (member, name) in PUT_HEADERS {
                if let Some(v) = header(name) {
                    out.insert((*member).to_owned(), Value::String(v));
                }
            }
            if header("x-amz-delete-marker").as_deref() == Some("true") {
                out.insert("DeleteMarker".into(), Value::Bool(true));
            }
            Value::Object(out)
        }
        "listObjects" | "listObjectsV2" => list_objects(&body),
        _ => list_buckets(&body),
    })
}

/// An error answer: the code and message of its XML (`NoSuchBucket`), or its status alone.
fn error(status: u16, body: &str, request_id: &str, extended: &str) -> StatesError {
    let code = text_of(body, "Code").unwrap_or_else(|| match status {
        301 => "PermanentRedirect".into(),
        304 => "NotModified".into(),
        400 => "BadRequest".into(),
        403 => "Forbidden".into(),
        404 => "NotFound".into(),
        412 => "PreconditionFailed".into(),
        _ => "S3".into(),
    });
    let message = text_of(body, "Message").unwrap_or_default();
    let request_id = text_of(body, "RequestId").unwrap_or_else(|| request_id.to_owned());
    let extended = text_of(body, "HostId").unwrap_or_else(|| extended.to_owned());
    let exception = if code.ends_with("Exception") {
        code
    } else {
        format!("{code}Exception")
    };
    catalogue::service_error_s3(&exception, &message, status, &request_id, &extended)
}

/// An object's headers as `getObject` shows them.
fn object_members(headers: &reqwest::header::HeaderMap) -> Map<String, Value> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut out = Map::new();
    for (member, name) in OBJECT_HEADERS {
        if let Some(v) = get(name) {
            out.insert((*member).to_owned(), Value::String(v.to_owned()));
        }
    }
    if let Some(n) = get("content-length").and_then(|v| v.parse::<u64>().ok()) {
        out.insert("ContentLength".into(), Value::from(n));
    }
    if let Some(date) = get("last-modified").and_then(http_date) {
        out.insert("LastModified".into(), Value::String(date));
    }
    let metadata: Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), Value::String(v.to_str().ok()?.to_owned())))
        })
        .collect();
    out.insert("Metadata".into(), Value::Object(metadata));
    out
}

/// An HTTP date (`Wed, 26 Jun 2024 19:06:54 GMT`) as the SDK form shows timestamps.
fn http_date(text: &str) -> Option<String> {
    let t = httpdate::parse_http_date(text).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    iso(i64::try_from(secs).ok()?, 0)
}

/// Seconds and milliseconds since the epoch as `2024-06-26T19:06:54Z` (`.123Z` with ms).
fn iso(secs: i64, ms: u32) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Some(if ms == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{ms:03}Z")
    })
}

/// An ISO 8601 time of S3's XML (`2024-06-26T19:06:54.000Z`) as the SDK form shows it.
fn xml_date(text: &str) -> Value {
    let parsed =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok();
    match parsed.and_then(|t| iso(t.unix_timestamp(), t.millisecond().into())) {
        Some(s) => Value::String(s),
        None => Value::String(text.to_owned()),
    }
}

/// The blocks `<tag>...</tag>` of `xml`, in order.
fn blocks<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let inner = &rest[start + open.len()..];
        let Some(end) = inner.find(&close) else {
            break;
        };
        out.push(&inner[..end]);
        rest = &inner[end + close.len()..];
    }
    out
}

/// The members of `xml` named in `fields`, as strings, numbers (`n`), booleans (`b`) or
/// dates (`d`).
fn fields(xml: &str, fields: &[(&str, char)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, kind) in fields {
        let Some(v) = text_of(xml, name) else {
            continue;
        };
        let value = match kind {
            'n' => v
                .parse::<i64>()
                .map_or(Value::String(v.clone()), Value::from),
            'b' => Value::Bool(v == "true"),
            'd' => xml_date(&v),
            _ => Value::String(v),
        };
        out.insert((*name).to_owned(), value);
    }
    out
}

fn list_objects(xml: &str) -> Value {
    // The listing's own members, wherever they are among its entries.
    let mut own = xml.to_owned();
    for tag in ["Contents", "CommonPrefixes"] {
        for block in blocks(xml, tag) {
            own = own.replacen(&format!("<{tag}>{block}</{tag}>"), "", 1);
        }
    }
    let mut out = fields(
        &own,
        &[
            ("IsTruncated", 'b'),
            ("Name", 's'),
            ("Prefix", 's'),
            ("Delimiter", 's'),
            ("MaxKeys", 'n'),
            ("EncodingType", 's'),
            ("KeyCount", 'n'),
            ("ContinuationToken", 's'),
            ("NextContinuationToken", 's'),
            ("StartAfter", 's'),
            ("Marker", 's'),
            ("NextMarker", 's'),
        ],
    );
    let contents: Vec<Value> = blocks(xml, "Contents")
        .into_iter()
        .map(|c| {
            Value::Object(fields(
                c,
                &[
                    ("Key", 's'),
                    ("LastModified", 'd'),
                    ("ETag", 's'),
                    ("ChecksumAlgorithm", 's'),
                    ("Size", 'n'),
                    ("StorageClass", 's'),
                ],
            ))
        })
        .collect();
    if !contents.is_empty() {
        out.insert("Contents".into(), Value::Array(contents));
    }
    let prefixes: Vec<Value> = blocks(xml, "CommonPrefixes")
        .into_iter()
        .map(|p| Value::Object(fields(p, &[("Prefix", 's')])))
        .collect();
    if !prefixes.is_empty() {
        out.insert("CommonPrefixes".into(), Value::Array(prefixes));
    }
    Value::Object(out)
}

fn list_buckets(xml: &str) -> Value {
    let buckets: Vec<Value> = blocks(xml, "Bucket")
        .into_iter()
        .map(|b| Value::Object(fields(b, &[("Name", 's'), ("CreationDate", 'd')])))
        .collect();
    let mut out = Map::new();
    out.insert("Buckets".into(), Value::Array(buckets));
    if let Some(owner) = blocks(xml, "Owner").first() {
        out.insert(
            "Owner".into(),
            Value::Object(fields(owner, &[("DisplayName", 's'), ("ID", 's')])),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn listings_are_read_from_s3s_xml_with_numbers_booleans_and_dates() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>in/a.json</Key><LastModified>2024-06-26T19:06:54.000Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>11</Size><StorageClass>STANDARD</StorageClass></Contents><Name>b</Name><Prefix>in/</Prefix><MaxKeys>1000</MaxKeys><KeyCount>1</KeyCount><CommonPrefixes><Prefix>in/sub/</Prefix></CommonPrefixes></ListBucketResult>"#;
        assert_eq!(
            list_objects(xml),
            json!({"IsTruncated": false, "Name": "b", "Prefix": "in/", "MaxKeys": 1000,
                   "KeyCount": 1,
                   "Contents": [{"Key": "in/a.json", "LastModified": "2024-06-26T19:06:54Z",
                                 "ETag": "\"e1\"", "Size": 11, "StorageClass": "STANDARD"}],
                   "CommonPrefixes": [{"Prefix": "in/sub/"}]})
        );
        let xml = "<ListAllMyBucketsResult><Owner><DisplayName>me</DisplayName><ID>1</ID></Owner><Buckets><Bucket><Name>b</Name><CreationDate>2024-06-26T19:06:54.250Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>";
        assert_eq!(
            list_buckets(xml),
            json!({"Buckets": [{"Name": "b", "CreationDate": "2024-06-26T19:06:54.250Z"}],
                   "Owner": {"DisplayName": "me", "ID": "1"}})
        );
    }

    #[test]
    fn errors_carry_s3s_code_and_both_request_ids() {
        let xml = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName><RequestId>R1</RequestId><HostId>H1</HostId></Error>";
        let e = error(404, xml, "R0", "H0");
        assert_eq!(e.error, "S3.NoSuchBucketException");
        assert_eq!(
            e.cause.as_deref(),
            Some("The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: R1, Extended Request ID: H1)")
        );
        let e = error(404, "", "R0", "H0");
        assert_eq!(e.error, "S3.NotFoundException");
        assert_eq!(
            http_date("Wed, 26 Jun 2024 19:06:54 GMT").as_deref(),
            Some("2024-06-26T19:06:54Z")
        );
    }
}

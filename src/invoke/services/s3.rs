//! A Map's `ItemReader` over S3 (`integrations.s3_endpoint`, `S3_ENDPOINT`; path-style
//! requests, SigV4-signed for `s3`):
//!
//! | resource | reads | items |
//! |---|---|---|
//! | `arn:aws:states:::s3:getObject` | the object `Bucket`/`Key` | `ReaderConfig.InputType` `JSON` (an array), `JSONL` (one value a line), `CSV` (one object a row, headers from the first row or `CSVHeaders`) |
//! | `arn:aws:states:::s3:listObjectsV2` | the objects under `Prefix` in `Bucket` | `{Key, Size, LastModified, Etag, StorageClass}` each |
//! | `arn:aws:states:::s3:getObject`, `InputType: MANIFEST` | an S3 inventory report's `manifest.json` | the rows of the CSV files it lists (gzipped or not), keyed by its `fileSchema` |
//!
//! `ReaderConfig.MaxItems` (or `MaxItemsPath`, read by the interpreter) keeps the first ones.
//! What cannot be read or parsed raises `States.ItemReaderFailed`.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::super::lambda::{
    encode_path_segment, error_chain, read_capped, read_capped_bytes, SigningKeys,
};
use crate::asl::catalogue;
use crate::asl::errors::names;
use crate::asl::StatesError;

/// The most of an object read: the items become the Map's state.
pub const MAX_OBJECT_BYTES: usize = 16 << 20;

fn failed(cause: impl Into<String>) -> StatesError {
    StatesError::new(names::ITEM_READER_FAILED, cause)
}

/// Read the items `payload` (`{"Parameters", "ReaderConfig"}`) asks `resource` for.
pub async fn read_items(
    http: &reqwest::Client,
    endpoint: &str,
    keys: &SigningKeys,
    resource: &str,
    payload: &str,
) -> Result<Value, StatesError> {
    let request: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let params = &request["Parameters"];
    let config = &request["ReaderConfig"];
    let text = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
    let bucket = text("Bucket");
    if bucket.is_empty() {
        return Err(failed("The ItemReader's Parameters must name a Bucket."));
    }
    let max = config
        .get("MaxItems")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0);
    let mut items = match resource.rsplit(':').next() {
        Some("getObject")
            if config.get("InputType").and_then(Value::as_str) == Some("MANIFEST") =>
        {
            inventory(http, endpoint, keys, bucket, text("Key")).await?
        }
        Some("getObject") => {
            let body = get(http, keys, &object_url(endpoint, bucket, text("Key"))).await?;
            parse(&body, config)?
        }
        Some("listObjectsV2") => list(http, endpoint, keys, bucket, text("Prefix"), max).await?,
        _ => {
            return Err(failed(format!(
                "The ItemReader resource '{resource}' is not supported by this server."
            )))
        }
    };
    if let Some(max) = max {
        items.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
    Ok(Value::Array(items))
}

/// Write an object for a Distributed Map's `ResultWriter`: `payload` is
/// `{"Bucket", "Key", "Body"}`. A refusal raises `States.ResultWriterFailed`.
pub async fn put_object(
    http: &reqwest::Client,
    endpoint: &str,
    keys: &SigningKeys,
    payload: &str,
) -> Result<(), StatesError> {
    let failed = |cause: String| StatesError::new("States.ResultWriterFailed", cause);
    let request: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let text = |k: &str| request.get(k).and_then(Value::as_str).unwrap_or_default();
    let key: Vec<String> = text("Key").split('/').map(encode_path_segment).collect();
    let url = format!(
        "{endpoint}/{}/{}",
        encode_path_segment(text("Bucket")),
        key.join("/")
    );
    let body = text("Body").as_bytes().to_vec();
    let resp = send_signed(http, keys, "PUT", &url, Vec::new(), body)
        .await
        .map_err(failed)?;
    let status = resp.status();
    if !status.is_success() {
        let body = read_capped(resp, 64 << 10).await.unwrap_or_default();
        let code = super::query::text_of(&body, "Code").unwrap_or_else(|| status.to_string());
        let message = super::query::text_of(&body, "Message").unwrap_or_default();
        return Err(failed(format!("S3 answered {code}: {message}")));
    }
    Ok(())
}

async fn get(http: &reqwest::Client, keys: &SigningKeys, url: &str) -> Result<String, StatesError> {
    let body = get_bytes(http, keys, url).await?;
    Ok(match String::from_utf8(body) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Send a request to S3 with `headers`, signed with its body's SHA-256 as S3 asks; what went
/// wrong before an answer, as the cause of the caller's error.
pub(super) async fn send_signed(
    http: &reqwest::Client,
    keys: &SigningKeys,
    method: &str,
    url: &str,
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<reqwest::Response, String> {
    headers.push((
        "x-amz-content-sha256".to_owned(),
        format!("{:x}", Sha256::digest(&body)),
    ));
    keys.sign("s3", method, url, &mut headers, &body)
        .map_err(|e| format!("Unable to sign the request: {e}"))?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = http.request(method, url).body(body);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    req.send()
        .await
        .map_err(|e| format!("Unable to execute HTTP request: {}", error_chain(&e)))
}

/// An object's bytes (up to [`MAX_OBJECT_BYTES`]).
async fn get_bytes(
    http: &reqwest::Client,
    keys: &SigningKeys,
    url: &str,
) -> Result<Vec<u8>, StatesError> {
    let resp = send_signed(http, keys, "GET", url, Vec::new(), Vec::new())
        .await
        .map_err(failed)?;
    let status = resp.status();
    let body = read_capped_bytes(resp, MAX_OBJECT_BYTES + 1)
        .await
        .map_err(|e| failed(format!("Unable to read the response: {e}")))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let code = super::query::text_of(&text, "Code").unwrap_or_else(|| status.to_string());
        let message = super::query::text_of(&text, "Message").unwrap_or_default();
        return Err(failed(format!("S3 answered {code}: {message}")));
    }
    if body.len() > MAX_OBJECT_BYTES {
        return Err(failed(format!(
            "The object is larger than {MAX_OBJECT_BYTES} bytes, the most this server reads."
        )));
    }
    Ok(body)
}

/// The URL of an object, path-style.
fn object_url(endpoint: &str, bucket: &str, key: &str) -> String {
    let key: Vec<String> = key.split('/').map(encode_path_segment).collect();
    format!(
        "{endpoint}/{}/{}",
        encode_path_segment(bucket),
        key.join("/")
    )
}

/// The items of an S3 inventory report (`InputType: MANIFEST`): the manifest at `key` lists
/// CSV files (gzipped when their key ends in `.gz`) in its destination bucket; each row is an
/// item, keyed by the manifest's `fileSchema`.
async fn inventory(
    http: &reqwest::Client,
    endpoint: &str,
    keys: &SigningKeys,
    bucket: &str,
    key: &str,
) -> Result<Vec<Value>, StatesError> {
    let text = get(http, keys, &object_url(endpoint, bucket, key)).await?;
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|e| failed(format!("The manifest is not JSON: {e}")))?;
    let format = manifest["fileFormat"].as_str().unwrap_or("CSV");
    if !format.eq_ignore_ascii_case("CSV") {
        return Err(failed(format!(
            "The inventory's fileFormat '{format}' is not supported by this server (CSV is)."
        )));
    }
    let schema: Vec<Value> = manifest["fileSchema"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .map(|h| Value::String(h.trim().to_owned()))
        .collect();
    let config = json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": schema});
    // `arn:aws:s3:::BUCKET`, or the bucket itself.
    let destination = manifest["destinationBucket"]
        .as_str()
        .map_or(bucket, |b| b.rsplit(":::").next().unwrap_or(b));
    let mut items = Vec::new();
    for file in manifest["files"].as_array().into_iter().flatten() {
        let Some(file_key) = file["key"].as_str() else {
            return Err(failed("A file of the manifest has no key."));
        };
        let bytes = get_bytes(http, keys, &object_url(endpoint, destination, file_key)).await?;
        let body = if file_key.ends_with(".gz") {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut std::io::Read::take(
                    flate2::read::GzDecoder::new(bytes.as_slice()),
                    MAX_OBJECT_BYTES as u64,
                ),
                &mut text,
            )
            .map_err(|e| {
                failed(format!(
                    "The file '{file_key}' could not be decompressed: {e}"
                ))
            })?;
            text
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        items.extend(csv(&body, &config)?);
    }
    Ok(items)
}

/// The objects under `prefix`, page after page (up to `max` when given).
async fn list(
    http: &reqwest::Client,
    endpoint: &str,
    keys: &SigningKeys,
    bucket: &str,
    prefix: &str,
    max: Option<u64>,
) -> Result<Vec<Value>, StatesError> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!(
            "{endpoint}/{}?list-type=2&prefix={}",
            encode_path_segment(bucket),
            encode_path_segment(prefix)
        );
        if let Some(t) = &token {
            url.push_str(&format!("&continuation-token={}", encode_path_segment(t)));
        }
        let xml = get(http, keys, &url).await?;
        let mut rest = xml.as_str();
        while let Some(start) = rest.find("<Contents>") {
            let Some(end) = rest[start..].find("</Contents>") else {
                break;
            };
            let entry = &rest[start..start + end];
            let field = |tag: &str| super::query::text_of(entry, tag).unwrap_or_default();
            items.push(json!({
                "Etag": field("ETag").trim_matches('"'),
                "Key": field("Key"),
                "LastModified": field("LastModified"),
                "Size": field("Size").parse::<u64>().unwrap_or(0),
                "StorageClass": field("StorageClass"),
            }));
            rest = &rest[start + end..];
        }
        let enough = max.is_some_and(|m| items.len() as u64 >= m);
        token = super::query::text_of(&xml, "NextContinuationToken");
        if token.is_none() || enough {
            return Ok(items);
        }
    }
}

/// An object's items, by `ReaderConfig.InputType`.
fn parse(body: &str, config: &Value) -> Result<Vec<Value>, StatesError> {
    let input_type = config
        .get("InputType")
        .and_then(Value::as_str)
        .unwrap_or("JSON");
    match input_type {
        "JSON" => match serde_json::from_str(body) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) => Err(catalogue::not_iterable()),
            Err(e) => Err(failed(format!("The object is not JSON: {e}"))),
        },
        "JSONL" => body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| failed(format!("A line is not JSON: {e}")))
            })
            .collect(),
        "CSV" => csv(body, config),
        other => Err(failed(format!(
            "The ItemReader InputType '{other}' is not supported by this server."
        ))),
    }
}

/// CSV rows as objects of text, keyed by the headers of the first row or `CSVHeaders`.
fn csv(body: &str, config: &Value) -> Result<Vec<Value>, StatesError> {
    let delimiter = match config.get("CSVDelimiter").and_then(Value::as_str) {
        Some("SEMICOLON") => ';',
        Some("TAB") => '\t',
        Some("SPACE") => ' ',
        Some("PIPE") => '|',
        _ => ',',
    };
    let mut rows = body
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| split(l, delimiter));
    let headers: Vec<String> = match config.get("CSVHeaderLocation").and_then(Value::as_str) {
        Some("GIVEN") => config
            .get("CSVHeaders")
            .and_then(Value::as_array)
            .map(|h| {
                h.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        _ => rows.next().unwrap_or_default(),
    };
    let mut seen = std::collections::HashSet::new();
    if !headers.iter().all(|h| seen.insert(h)) {
        return Err(catalogue::csv_duplicate_headers());
    }
    Ok(rows
        .map(|cells| {
            let row: Map<String, Value> = headers
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), json!(cells.get(i).cloned().unwrap_or_default())))
                .collect();
            Value::Object(row)
        })
        .collect())
}

/// One CSV line's cells: quoted cells may hold the delimiter and doubled quotes.
fn split(line: &str, delimiter: char) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_read_as_json_lines_or_csv() {
        assert_eq!(
            parse("[1, 2]", &json!({})).expect("json"),
            [json!(1), json!(2)]
        );
        assert_eq!(
            parse("{\"a\":1}", &json!({})).map_err(|e| e.cause),
            Err(Some("Attempting to map over non-iterable node.".into()))
        );
        assert_eq!(
            parse("{\"a\":1}\n\n{\"a\":2}\n", &json!({"InputType": "JSONL"})).expect("jsonl"),
            [json!({"a": 1}), json!({"a": 2})]
        );
        assert_eq!(
            parse(
                "Col1,Col2\nv1,\"a, b\"\nv3,v4\n",
                &json!({"InputType": "CSV"})
            )
            .expect("csv"),
            [
                json!({"Col1": "v1", "Col2": "a, b"}),
                json!({"Col1": "v3", "Col2": "v4"})
            ]
        );
        let given =
            json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["x", "y"]});
        assert_eq!(
            parse("1,2\n", &given).expect("csv"),
            [json!({"x": "1", "y": "2"})]
        );
        let twice =
            json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["x", "x"]});
        assert_eq!(
            parse("1,2\n", &twice).map_err(|e| e.error),
            Err(names::ITEM_READER_FAILED.to_owned())
        );
    }
}

//! The AWS SDK form of S3 against moto's (`aws-sdk:s3:*`): an object written from a state's
//! JSON, read back with its headers as members, listed, deleted; the buckets listed; and a
//! missing bucket or key failing in AWS's words, caught by its name.

use serde_json::json;

use crate::integrations::{daemon_on, one_task, run};
use crate::support::TestMoto;

#[tokio::test]
async fn objects_are_put_read_listed_and_deleted_in_the_aws_sdk_form() {
    let moto = TestMoto::start().await;
    let daemon = daemon_on(&moto, &[]).await;
    moto.aws(&["s3api", "create-bucket", "--bucket", "reports"]);
    let task = |name: &str, action: &str, parameters: serde_json::Value, next: Option<&str>| {
        let mut state = json!({"Type": "Task", "Resource": format!("arn:aws:states:::aws-sdk:s3:{action}"),
                               "Parameters": parameters, "ResultPath": format!("$.{name}")});
        match next {
            Some(n) => state["Next"] = json!(n),
            None => state["End"] = json!(true),
        }
        state
    };
    let definition = json!({"StartAt": "Put", "States": {
        "Put": task("put", "putObject", json!({"Bucket": "reports", "Key": "daily/2026-12-02.json",
                                               "Body.$": "$.report", "Metadata": {"Owner": "ops"}}), Some("Get")),
        "Get": task("get", "getObject", json!({"Bucket": "reports", "Key": "daily/2026-12-02.json"}), Some("Head")),
        "Head": task("head", "headObject", json!({"Bucket": "reports", "Key": "daily/2026-12-02.json"}), Some("List")),
        "List": task("list", "listObjectsV2", json!({"Bucket": "reports", "Prefix": "daily/"}), Some("Buckets")),
        "Buckets": task("buckets", "listBuckets", json!({}), Some("Delete")),
        "Delete": task("delete", "deleteObject", json!({"Bucket": "reports", "Key": "daily/2026-12-02.json"}), None),
    }});
    let (_, out) = run(
        &daemon,
        "objects",
        &definition.to_string(),
        r#"{"report":{"done":3}}"#,
    )
    .await;
    let put = &out["put"];
    // The MD5 of the body the state's JSON was written as, and the CRC32 sent with it.
    assert_eq!(
        put["ETag"],
        json!("\"b3767cad74f992f8428bcefbb441a2b9\""),
        "{out}"
    );
    assert!(put["ChecksumCRC32"].is_string(), "{out}");
    let get = &out["get"];
    assert_eq!(get["Body"], json!(r#"{"done":3}"#), "{out}");
    assert_eq!(get["ContentLength"], json!(10));
    assert_eq!(get["ETag"], put["ETag"]);
    assert_eq!(get["Metadata"], json!({"owner": "ops"}));
    assert!(
        get["LastModified"]
            .as_str()
            .is_some_and(|d| d.len() == 20 && d.ends_with('Z')),
        "{out}"
    );
    assert!(out["head"].get("Body").is_none());
    assert_eq!(out["head"]["ContentLength"], json!(10));
    assert_eq!(out["list"]["KeyCount"], json!(1), "{out}");
    assert_eq!(out["list"]["IsTruncated"], json!(false));
    assert_eq!(
        out["list"]["Contents"][0]["Key"],
        json!("daily/2026-12-02.json")
    );
    assert_eq!(out["list"]["Contents"][0]["Size"], json!(10));
    assert_eq!(out["buckets"]["Buckets"][0]["Name"], json!("reports"));
    let listed = moto.aws(&["s3api", "list-objects-v2", "--bucket", "reports"]);
    assert!(listed.get("Contents").is_none(), "deleted: {listed}");

    // A missing bucket, and a missing key caught by its name.
    let (_, out) = run(
        &daemon,
        "no-bucket",
        &one_task("aws-sdk:s3:listObjectsV2", json!({"Bucket": "nope"})),
        "{}",
    )
    .await;
    assert_eq!(out["error"], json!("S3.NoSuchBucketException"), "{out}");
    let (_, listed) = run(
        &daemon,
        "no-bucket-v1",
        &one_task("aws-sdk:s3:listObjects", json!({"Bucket": "nope"})),
        "{}",
    )
    .await;
    assert_eq!(listed["error"], out["error"], "{listed}");
    assert!(
        out["cause"].as_str().is_some_and(|c| c.starts_with(
            "The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: "
        ) && c.contains(", Extended Request ID: ")),
        "{out}"
    );
    let definition = json!({"StartAt": "Get", "States": {
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "reports", "Key": "absent.json"},
                "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "Missing"}], "End": true},
        "Missing": {"Type": "Pass", "Result": "missing", "End": true}}});
    let (_, out) = run(&daemon, "no-key", &definition.to_string(), "{}").await;
    assert_eq!(out, json!("missing"));
}

//! Service integrations against moto's emulator of SQS, SNS, DynamoDB and EventBridge: the
//! optimized forms (`sqs:sendMessage`, `sns:publish`, `dynamodb:*Item`, `events:putEvents`) and the AWS SDK
//! forms (`aws-sdk:SERVICE:action`), their results, errors and history, a token sent through a
//! queue, and messages owed across `kill -9`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::{json, Value};

use crate::support::sfn::{create, describe, finished, history, start, types};
use crate::support::{eventually, TestDaemon, TestMoto};

pub(crate) async fn daemon_on(moto: &TestMoto, extra: &[(&str, &str)]) -> TestDaemon {
    let endpoint = moto.endpoint();
    let mut env = vec![
        ("SQS_ENDPOINT", endpoint.as_str()),
        ("SNS_ENDPOINT", endpoint.as_str()),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
        ("EVENTS_ENDPOINT", endpoint.as_str()),
        ("S3_ENDPOINT", endpoint.as_str()),
        ("SECRETSMANAGER_ENDPOINT", endpoint.as_str()),
        ("SSM_ENDPOINT", endpoint.as_str()),
    ];
    env.extend_from_slice(extra);
    TestDaemon::start_with_env(&env).await
}

fn queue(moto: &TestMoto, name: &str) -> String {
    moto.aws(&["sqs", "create-queue", "--queue-name", name])["QueueUrl"]
        .as_str()
        .expect("a queue URL")
        .to_owned()
}

/// The bodies of up to 10 messages waiting on `queue`, hidden from later receives for ten
/// minutes (SQS's JSON protocol, straight to moto).
async fn receive(moto: &TestMoto, queue: &str) -> Vec<String> {
    let body = json!({"QueueUrl": queue, "MaxNumberOfMessages": 10, "VisibilityTimeout": 600});
    let text = moto
        .request("sqs", reqwest::Method::POST, "/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AmazonSQS.ReceiveMessage")
        .body(body.to_string())
        .send()
        .await
        .expect("ReceiveMessage")
        .text()
        .await
        .expect("an answer");
    let answer: Value = serde_json::from_str(&text).expect("a JSON answer");
    answer["Messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["Body"].as_str().map(str::to_owned))
        .collect()
}

/// The ARN of a queue.
fn queue_arn(moto: &TestMoto, queue: &str) -> String {
    moto.aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        queue,
        "--attribute-names",
        "QueueArn",
    ])["Attributes"]["QueueArn"]
        .as_str()
        .expect("the queue's ARN")
        .to_owned()
}

/// The history's TaskScheduled names this resource type and resource.
fn assert_scheduled(
    events: &[aws_sdk_sfn::types::HistoryEvent],
    resource_type: &str,
    resource: &str,
) {
    let scheduled = events
        .iter()
        .find_map(|e| e.task_scheduled_event_details())
        .expect("a TaskScheduled event");
    assert_eq!(
        (scheduled.resource_type(), scheduled.resource()),
        (resource_type, resource)
    );
}

pub(crate) fn one_task(resource: &str, parameters: Value) -> String {
    json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": format!("arn:aws:states:::{resource}"),
        "Parameters": parameters, "End": true}}})
    .to_string()
}

pub(crate) async fn run(
    daemon: &TestDaemon,
    name: &str,
    definition: &str,
    input: &str,
) -> (String, Value) {
    let sfn = daemon.sfn();
    let sm = create(&sfn, name, definition).await;
    let arn = start(&sfn, &sm, "run", input).await;
    let status = finished(&sfn, &arn, Duration::from_secs(20)).await;
    let d = describe(&sfn, &arn).await;
    let shown = match status {
        ExecutionStatus::Succeeded => {
            serde_json::from_str(d.output().unwrap_or("null")).expect("output is JSON")
        }
        _ => json!({"status": status.as_str(), "error": d.error(), "cause": d.cause()}),
    };
    (arn, shown)
}

#[tokio::test]
async fn a_message_sent_after_a_day_arrives_on_its_queue() {
    let moto = TestMoto::start().await;
    // A day scaled to under a second.
    let daemon = daemon_on(&moto, &[("WAIT_TIME_SCALE", "0.00001")]).await;
    let q = queue(&moto, "reminders");
    let definition = json!({"StartAt": "Day", "States": {
        "Day": {"Type": "Wait", "Seconds": 86_400, "Next": "Send"},
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": q, "MessageBody": {"remind.$": "$.who"}}, "End": true}}});
    let (arn, out) = run(
        &daemon,
        "remind",
        &definition.to_string(),
        r#"{"who":"ada"}"#,
    )
    .await;
    assert!(out["MessageId"].is_string(), "{out}");
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    assert!(out["SdkResponseMetadata"]["RequestId"].is_string());
    assert_eq!(
        receive(&moto, &q).await,
        vec![r#"{"remind":"ada"}"#.to_owned()]
    );
    let events = history(&daemon.sfn(), &arn).await;
    assert_eq!(
        types(&events)[3..],
        [
            HistoryEventType::TaskStateEntered,
            HistoryEventType::TaskScheduled,
            HistoryEventType::TaskStarted,
            HistoryEventType::TaskSucceeded,
            HistoryEventType::TaskStateExited,
            HistoryEventType::ExecutionSucceeded,
        ]
    );
    assert_scheduled(&events, "sqs", "sendMessage");

    // The AWS SDK form: the API's own result; errors named as each form names them.
    let (_, out) = run(
        &daemon,
        "sdk-send",
        &one_task(
            "aws-sdk:sqs:sendMessage",
            json!({"QueueUrl": q, "MessageBody": "plain"}),
        ),
        "{}",
    )
    .await;
    assert!(
        out["MessageId"].is_string() && out.get("SdkHttpMetadata").is_none(),
        "{out}"
    );
    assert_eq!(receive(&moto, &q).await, vec!["plain".to_owned()]);
    let missing = format!("{q}-missing");
    let (_, out) = run(
        &daemon,
        "send-missing",
        &one_task(
            "sqs:sendMessage",
            json!({"QueueUrl": missing, "MessageBody": "x"}),
        ),
        "{}",
    )
    .await;
    assert_eq!(
        out["error"],
        json!("SQS.QueueDoesNotExistException"),
        "{out}"
    );
    assert!(out["cause"].as_str().is_some_and(
        |c| c.contains("(Service: AmazonSQS; Status Code: 400; Error Code: QueueDoesNotExist;")
    ));
    let (_, out) = run(
        &daemon,
        "sdk-send-missing",
        &one_task(
            "aws-sdk:sqs:sendMessage",
            json!({"QueueUrl": missing, "MessageBody": "x"}),
        ),
        "{}",
    )
    .await;
    assert_eq!(
        out["error"],
        json!("Sqs.QueueDoesNotExistException"),
        "{out}"
    );
}

#[tokio::test]
async fn a_token_sent_through_a_queue_comes_back_and_completes_the_task() {
    let moto = TestMoto::start().await;
    let daemon = daemon_on(&moto, &[]).await;
    let q = queue(&moto, "approvals");
    let definition = one_task(
        "sqs:sendMessage.waitForTaskToken",
        json!({"QueueUrl": q, "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}}),
    );
    let sfn = daemon.sfn();
    let sm = create(&sfn, "approve", &definition).await;
    let arn = start(&sfn, &sm, "o-1", r#"{"order":7}"#).await;
    let body = eventually("the message", Duration::from_secs(20), || async {
        receive(&moto, &q).await.pop()
    })
    .await;
    let message: Value = serde_json::from_str(&body).expect("a JSON message");
    assert_eq!(message["order"], json!(7));
    sfn.send_task_success()
        .task_token(message["token"].as_str().expect("the token"))
        .output(r#"{"approved":true}"#)
        .send()
        .await
        .expect("SendTaskSuccess");
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    assert_eq!(
        describe(&sfn, &arn).await.output(),
        Some(r#"{"approved":true}"#)
    );
    assert!(types(&history(&sfn, &arn).await).contains(&HistoryEventType::TaskSubmitted));
}

#[tokio::test]
async fn dynamodb_items_are_put_read_updated_and_deleted_in_both_forms() {
    let moto = TestMoto::start().await;
    let daemon = daemon_on(&moto, &[]).await;
    moto.aws(&[
        "dynamodb",
        "create-table",
        "--table-name",
        "orders",
        "--key-schema",
        "AttributeName=id,KeyType=HASH",
        "--attribute-definitions",
        "AttributeName=id,AttributeType=S",
        "--billing-mode",
        "PAY_PER_REQUEST",
    ]);
    let key = json!({"id": {"S": "o-1"}});
    let definition = json!({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "orders", "Item": {"id": {"S": "o-1"}, "state": {"S.$": "$.state"}}},
                "ResultPath": null, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "orders", "Key": key},
                "ResultSelector": {"state.$": "$.Item.state.S"}, "ResultPath": "$.read", "Next": "Update"},
        "Update": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
                   "Parameters": {"TableName": "orders", "Key": key, "UpdateExpression": "SET #s = :s",
                                  "ExpressionAttributeNames": {"#s": "state"},
                                  "ExpressionAttributeValues": {":s": {"S": "shipped"}}, "ReturnValues": "ALL_NEW"},
                   "ResultPath": "$.updated", "End": true}}});
    let (_, out) = run(
        &daemon,
        "orders",
        &definition.to_string(),
        r#"{"state":"new"}"#,
    )
    .await;
    assert_eq!(out["read"], json!({"state": "new"}), "{out}");
    assert_eq!(
        out["updated"]["Attributes"]["state"],
        json!({"S": "shipped"})
    );
    let item = moto.aws(&[
        "dynamodb",
        "get-item",
        "--table-name",
        "orders",
        "--key",
        &key.to_string(),
    ]);
    assert_eq!(item["Item"]["state"], json!({"S": "shipped"}));
    let (_, out) = run(
        &daemon,
        "delete",
        &one_task(
            "dynamodb:deleteItem",
            json!({"TableName": "orders", "Key": key}),
        ),
        "{}",
    )
    .await;
    assert_eq!(
        out["SdkHttpMetadata"]["HttpStatusCode"],
        json!(200),
        "{out}"
    );
    let gone = moto.aws(&[
        "dynamodb",
        "get-item",
        "--table-name",
        "orders",
        "--key",
        &key.to_string(),
    ]);
    assert!(gone.get("Item").is_none(), "{gone}");
    let (_, out) = run(
        &daemon,
        "no-table",
        &one_task(
            "aws-sdk:dynamodb:putItem",
            json!({"TableName": "nope", "Item": key}),
        ),
        "{}",
    )
    .await;
    assert_eq!(
        out["error"],
        json!("DynamoDb.ResourceNotFoundException"),
        "{out}"
    );
    assert!(out["cause"]
        .as_str()
        .is_some_and(|c| c.ends_with(")")
            && c.contains("(Service: DynamoDb, Status Code: 400, Request ID: ")));
}

#[tokio::test]
async fn events_put_on_the_bus_reach_a_rules_queue() {
    let moto = TestMoto::start().await;
    let daemon = daemon_on(&moto, &[]).await;
    let q = queue(&moto, "events");
    let q_arn = queue_arn(&moto, &q);
    moto.aws(&[
        "events",
        "put-rule",
        "--name",
        "orders",
        "--event-pattern",
        r#"{"source":["shop.orders"]}"#,
    ]);
    moto.aws(&[
        "events",
        "put-targets",
        "--rule",
        "orders",
        "--targets",
        &json!([{"Id": "q", "Arn": q_arn}]).to_string(),
    ]);
    let entry =
        |n: i64| json!({"Source": "shop.orders", "DetailType": "placed", "Detail": {"n": n}});
    let (_, out) = run(
        &daemon,
        "put",
        &one_task("events:putEvents", json!({"Entries": [entry(1)]})),
        "{}",
    )
    .await;
    assert_eq!(out["FailedEntryCount"], json!(0), "{out}");
    let (_, out) = run(
        &daemon,
        "sdk-put",
        &one_task(
            "aws-sdk:eventbridge:putEvents",
            json!({"Entries": [
            {"Source": "shop.orders", "DetailType": "placed", "Detail": r#"{"n":2}"#}]}),
        ),
        "{}",
    )
    .await;
    assert_eq!(out["FailedEntryCount"], json!(0), "{out}");
    let mut details = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while details.len() < 2 && std::time::Instant::now() < deadline {
        details.extend(receive(&moto, &q).await.into_iter().filter_map(|b| {
            serde_json::from_str::<Value>(&b)
                .ok()
                .map(|v| v["detail"]["n"].clone())
        }));
    }
    details.sort_by_key(|v| v.as_i64());
    assert_eq!(details, vec![json!(1), json!(2)]);
}

#[tokio::test]
async fn every_message_owed_at_a_sigkill_arrives() {
    const N: usize = 500;
    let moto = TestMoto::start().await;
    let mut daemon = daemon_on(&moto, &[("WAIT_TIME_SCALE", "1")]).await;
    let q = queue(&moto, "owed");
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 2, "Next": "Send"},
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": q, "MessageBody.$": "$.n"}, "End": true}}});
    let sfn = daemon.sfn();
    let sm = create(&sfn, "owed", &definition.to_string()).await;
    for n in 0..N {
        start(
            &sfn,
            &sm,
            &format!("e{n}"),
            &json!({ "n": n.to_string() }).to_string(),
        )
        .await;
    }
    // Killed while the Waits end and the messages go out.
    eventually(
        "the first messages to be sent",
        Duration::from_secs(30),
        || async {
            let counts = moto.aws(&[
                "sqs",
                "get-queue-attributes",
                "--queue-url",
                &q,
                "--attribute-names",
                "ApproximateNumberOfMessages",
            ]);
            let sent: usize = counts["Attributes"]["ApproximateNumberOfMessages"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            (sent > 0).then_some(())
        },
    )
    .await;
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < N && std::time::Instant::now() < deadline {
        for body in receive(&moto, &q).await {
            *seen.entry(body).or_default() += 1;
        }
    }
    let duplicates: usize = seen.values().map(|c| c - 1).sum();
    println!("{} of {N} messages arrived; {duplicates} sent twice (calls whose result was not recorded before the kill)", seen.len());
    assert_eq!(seen.len(), N, "every message arrived");
    eventually(
        "every execution to succeed",
        Duration::from_secs(30),
        || async {
            let succeeded = sfn
                .list_executions()
                .state_machine_arn(&sm)
                .status_filter(ExecutionStatus::Succeeded)
                .max_results(1000)
                .send()
                .await
                .ok()?
                .executions()
                .len();
            (succeeded == N).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_message_published_to_a_topic_fans_out_to_its_subscribed_queue() {
    let moto = TestMoto::start().await;
    let daemon = daemon_on(&moto, &[]).await;
    let topic = moto.aws(&["sns", "create-topic", "--name", "news"])["TopicArn"]
        .as_str()
        .expect("a topic ARN")
        .to_owned();
    let q = queue(&moto, "subscriber");
    let q_arn = queue_arn(&moto, &q);
    moto.aws(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        &q_arn,
        "--attributes",
        "RawMessageDelivery=true",
    ]);
    let (arn, out) = run(
        &daemon,
        "publish",
        &one_task(
            "sns:publish",
            json!({"TopicArn": topic, "Message": {"news": "out"},
                   "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "daily"}}}),
        ),
        "{}",
    )
    .await;
    assert!(out["MessageId"].is_string(), "{out}");
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    let events = history(&daemon.sfn(), &arn).await;
    assert_scheduled(&events, "sns", "publish");
    let (_, out) = run(
        &daemon,
        "sdk-publish",
        &one_task(
            "aws-sdk:sns:publish",
            json!({"TopicArn": topic, "Message": "plain"}),
        ),
        "{}",
    )
    .await;
    assert!(
        out["MessageId"].is_string() && out.get("SdkHttpMetadata").is_none(),
        "{out}"
    );
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.len() < 2 && std::time::Instant::now() < deadline {
        got.extend(receive(&moto, &q).await);
    }
    got.sort();
    assert_eq!(
        got,
        vec!["plain".to_owned(), r#"{"news":"out"}"#.to_owned()]
    );
    let (_, out) = run(
        &daemon,
        "no-topic",
        &one_task(
            "sns:publish",
            json!({"TopicArn": format!("{topic}-gone"), "Message": "x"}),
        ),
        "{}",
    )
    .await;
    assert_eq!(out["error"], json!("SNS.NotFoundException"), "{out}");
    assert!(out["cause"].as_str().is_some_and(
        |c| c.contains("(Service: AmazonSNS; Status Code: 404; Error Code: NotFound;")
    ));
}

#[tokio::test]
async fn lambda_is_called_and_read_in_the_aws_sdk_form() {
    // Invoke, against a Lambda Invoke API: the payload comes back as text, and a function
    // error is a member of the result, not a failure (unlike `lambda:invoke`).
    let lambda = crate::support::FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", endpoint.as_str())]).await;
    let invoke = |function: &str| {
        one_task(
            "aws-sdk:lambda:invoke",
            json!({"FunctionName": function, "Payload": {"n": 1}, "Qualifier": "live"}),
        )
    };
    let (arn, out) = run(&daemon, "sdk-lambda-echo", &invoke("echo"), "{}").await;
    assert_eq!(
        out,
        json!({"ExecutedVersion": "$LATEST", "Payload": r#"{"n":1}"#, "StatusCode": 200})
    );
    let call = lambda.calls_to("echo").pop().expect("echo was called");
    assert_eq!(call.qualifier.as_deref(), Some("live"));
    assert_scheduled(
        &history(&daemon.sfn(), &arn).await,
        "aws-sdk:lambda",
        "invoke",
    );
    let (_, out) = run(&daemon, "sdk-lambda-error", &invoke("fail-typed"), "{}").await;
    assert_eq!(out["FunctionError"], json!("Unhandled"));
    assert_eq!(
        out["Payload"],
        json!(r#"{"errorType":"CustomError","errorMessage":"boom"}"#)
    );
    let (_, out) = run(&daemon, "sdk-lambda-missing", &invoke("nothing"), "{}").await;
    assert_eq!(out["status"], json!("FAILED"));
    assert_eq!(out["error"], json!("Lambda.ResourceNotFoundException"));
    assert!(
        out["cause"].as_str().is_some_and(|c| c.starts_with(
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nothing (Service: Lambda, Status Code: 404, Request ID: "
        )),
        "{out}"
    );

    // Reading functions, against moto's Lambda.
    let moto = TestMoto::start().await;
    let role = moto.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "fn-role",
        "--assume-role-policy-document",
        "{}",
    ])["Role"]["Arn"]
        .as_str()
        .expect("a role ARN")
        .to_owned();
    let zip = tempfile::NamedTempFile::new().expect("a zip file");
    let made = moto
        .python()
        .args([
            "-c",
            "import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w')\nz.writestr('h.py','def h(e,c): return e')\nz.close()\nopen(sys.argv[1],'wb').write(b.getvalue())",
            &zip.path().display().to_string(),
        ])
        .status()
        .expect("python");
    assert!(made.success());
    moto.aws(&[
        "lambda",
        "create-function",
        "--function-name",
        "reader",
        "--runtime",
        "python3.12",
        "--handler",
        "h.h",
        "--role",
        &role,
        "--zip-file",
        &format!("fileb://{}", zip.path().display()),
    ]);
    let endpoint = moto.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", endpoint.as_str())]).await;
    let get = one_task(
        "aws-sdk:lambda:getFunction",
        json!({"FunctionName": "reader"}),
    );
    let (_, out) = run(&daemon, "sdk-lambda-get", &get, "{}").await;
    assert_eq!(out["Configuration"]["FunctionName"], json!("reader"));
    assert_eq!(out["Configuration"]["Handler"], json!("h.h"));
    let list = one_task("aws-sdk:lambda:listFunctions", json!({"MaxItems": 10}));
    let (_, out) = run(&daemon, "sdk-lambda-list", &list, "{}").await;
    let names: Vec<&str> = out["Functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["FunctionName"].as_str())
        .collect();
    assert_eq!(names, ["reader"]);
    let get = one_task(
        "aws-sdk:lambda:getFunction",
        json!({"FunctionName": "absent"}),
    );
    let (_, out) = run(&daemon, "sdk-lambda-get-absent", &get, "{}").await;
    assert_eq!(
        out["error"],
        json!("Lambda.ResourceNotFoundException"),
        "{out}"
    );
}

#[tokio::test]
async fn a_maps_items_are_read_from_s3_as_json_csv_a_listing_or_an_inventory() {
    let moto = TestMoto::start().await;
    moto.aws(&["s3api", "create-bucket", "--bucket", "items"]);
    let dir = tempfile::tempdir().expect("a temp dir");
    for (key, body) in [
        ("orders/all.json", r#"[{"n":1},{"n":2},{"n":3}]"#),
        ("orders/all.csv", "Col1,Col2\na,b\n\"c, d\",e\n"),
        ("orders/not-a-list.json", r#"{"n":1}"#),
    ] {
        let file = dir.path().join("body");
        std::fs::write(&file, body).expect("write the body");
        moto.aws(&[
            "s3api",
            "put-object",
            "--bucket",
            "items",
            "--key",
            key,
            "--body",
            &file.display().to_string(),
        ]);
    }
    let daemon = daemon_on(&moto, &[]).await;
    let map = |reader: Value| {
        json!({"StartAt": "Each", "States": {"Each": {
            "Type": "Map", "ItemReader": reader,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true}}})
        .to_string()
    };
    let json_reader = map(json!({
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON", "MaxItemsPath": "$.max"},
        "Parameters": {"Bucket": "items", "Key.$": "$.key"}}));
    let (_, out) = run(
        &daemon,
        "read-json",
        &json_reader,
        r#"{"key": "orders/all.json", "max": 2}"#,
    )
    .await;
    assert_eq!(out, json!([{"n": 1}, {"n": 2}]));
    let csv_reader = map(json!({
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket": "items", "Key": "orders/all.csv"}}));
    let (_, out) = run(&daemon, "read-csv", &csv_reader, "{}").await;
    assert_eq!(
        out,
        json!([{"Col1": "a", "Col2": "b"}, {"Col1": "c, d", "Col2": "e"}])
    );
    let listing = map(json!({
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "items", "Prefix": "orders/"}}));
    let (_, out) = run(&daemon, "read-listing", &listing, "{}").await;
    let keys: Vec<&str> = out
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["Key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "orders/all.csv",
            "orders/all.json",
            "orders/not-a-list.json"
        ]
    );
    // An S3 inventory report: a manifest naming a gzipped CSV file in another bucket.
    moto.aws(&["s3api", "create-bucket", "--bucket", "inventory"]);
    let gz = dir.path().join("part.csv.gz");
    let made = std::process::Command::new(crate::support::test_venv().join("bin/python"))
        .args([
            "-c",
            "import gzip, sys; open(sys.argv[1], 'wb').write(gzip.compress(sys.argv[2].encode()))",
            &gz.display().to_string(),
            "\"items\",\"orders/all.json\",\"27\"\n\"items\",\"orders/all.csv\",\"19\"\n",
        ])
        .status()
        .expect("python");
    assert!(made.success());
    moto.aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "inventory",
        "--key",
        "report/data/part.csv.gz",
        "--body",
        &gz.display().to_string(),
    ]);
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        json!({"sourceBucket": "items", "destinationBucket": "arn:aws:s3:::inventory",
               "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
               "files": [{"key": "report/data/part.csv.gz", "size": 70}]})
        .to_string(),
    )
    .expect("write the manifest");
    moto.aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "inventory",
        "--key",
        "report/manifest.json",
        "--body",
        &manifest.display().to_string(),
    ]);
    let inventory = map(json!({
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "MANIFEST"},
        "Parameters": {"Bucket": "inventory", "Key": "report/manifest.json"}}));
    let (_, out) = run(&daemon, "read-inventory", &inventory, "{}").await;
    assert_eq!(
        out,
        json!([{"Bucket": "items", "Key": "orders/all.json", "Size": "27"},
               {"Bucket": "items", "Key": "orders/all.csv", "Size": "19"}])
    );
    for (name, key) in [
        ("not-a-list", "orders/not-a-list.json"),
        ("missing", "orders/none.json"),
    ] {
        let (_, out) = run(
            &daemon,
            name,
            &json_reader,
            &json!({"key": key, "max": 0}).to_string(),
        )
        .await;
        assert_eq!(
            out["error"],
            json!("States.ItemReaderFailed"),
            "{name}: {out}"
        );
    }
}

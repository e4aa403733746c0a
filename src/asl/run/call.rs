//! A call the interpreter asks for and what comes back from it: plain data, persisted in the
//! cursor and the `tasks` table, shared by the cursor, the outcomes and the Task state.

use serde::{Deserialize, Serialize};

/// Who takes a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CallKind {
    /// A Lambda function, called by the dispatcher.
    #[default]
    Lambda,
    /// An activity: the call is offered to its workers (GetActivityTask); `function_name`
    /// holds the activity's ARN and `payload` the task's input.
    Activity,
    /// Another execution to start: `payload` holds the Task's parameters (`StateMachineArn`,
    /// `Input`, `Name`) and `invocation_type` the resource (`startExecution.sync`, ...).
    StartExecution,
    /// An AWS service of [`crate::model::services`]: `function_name` holds the resource after
    /// `arn:aws:states:::` (`sqs:sendMessage`, `aws-sdk:dynamodb:query`) and `payload` the
    /// Task's parameters.
    Service,
    /// An HTTP request (`http:invoke`): `payload` holds the Task's parameters.
    Http,
    /// A Map's `ItemReader`: `function_name` holds its resource (`s3:getObject`,
    /// `s3:listObjectsV2`) and `payload` `{"Parameters", "ReaderConfig"}`; the answer is the
    /// items, a JSON array.
    ItemReader,
    /// A Distributed Map's run: `function_name` holds the map run's ARN. The engine starts
    /// and follows the run's child executions; the answer is the Map's result (the outputs
    /// as a JSON array, or where `ResultWriter` wrote them), or the error that failed it.
    MapRun,
    /// An object a Distributed Map's `ResultWriter` writes (`s3:putObject`): `payload` holds
    /// `{"Bucket", "Key", "Body"}`.
    ResultWriter,
}

impl CallKind {
    fn is_lambda(&self) -> bool {
        *self == CallKind::Lambda
    }
}

/// A call the interpreter asks for; persisted until its result is committed, so a call in
/// flight at a crash is made again (at-least-once, as Lambda itself is), and an activity
/// task not yet taken by a worker is offered again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// The id of the Scheduled event; the result must name it to be accepted.
    pub seq: i64,
    /// Name, `name:qualifier`, partial ARN or full ARN, as the state gave it.
    pub function_name: String,
    pub qualifier: Option<String>,
    /// The request body (JSON text).
    pub payload: String,
    /// `RequestResponse` (default), `Event` or `DryRun`.
    pub invocation_type: String,
    /// Base64 `ClientContext`, passed through.
    pub client_context: Option<String>,
    /// `Tail` asks Lambda for the end of the function's log (`LogResult`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    #[serde(default, skip_serializing_if = "CallKind::is_lambda")]
    pub kind: CallKind,
    /// In an execution of a test case: which mocked response answers this call, if the mock
    /// file names the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock: Option<Box<MockCall>>,
}

/// The mocked response a call of a test case asks for: the machine, the test case, the state
/// and the call's index (0 for its first attempt in the execution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockCall {
    pub machine: String,
    pub test_case: String,
    pub state: String,
    pub index: u32,
}

/// What came back from a successful call (HTTP 2xx without a function error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvokeOutput {
    pub status_code: u16,
    /// The response body, as sent (may be empty for `Event` invocations).
    pub payload: String,
    pub executed_version: Option<String>,
    pub request_id: String,
    /// Response headers, for the integration's `SdkHttpMetadata`.
    pub headers: Vec<(String, String)>,
    /// A mocked response: `payload` is the result as the state sees it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mocked: bool,
}

/// A Distributed Map's run to create, in the commit of the step that starts it (the
/// engine's `map_runs` table and one row per item), with the [`CallKind::MapRun`] call that
/// follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunStart {
    /// The id of its `MapRunStarted` event, and of its call.
    pub seq: i64,
    pub arn: String,
    /// The children's state machine: the machine's ARN, `/` and the label.
    pub state_machine_arn: String,
    pub express: bool,
    /// The children's definition (JSON text).
    pub definition: String,
    /// Each child's input (after `ItemSelector` and `ItemBatcher`).
    pub items: Vec<serde_json::Value>,
    /// Children at once; 0 is AWS's most.
    pub max_concurrency: u32,
    pub tolerated_count: Option<f64>,
    pub tolerated_percentage: Option<f64>,
    /// `ResultWriter` with its parameters evaluated: `{"Resource", "Bucket", "Prefix",
    /// "WriterConfig"}`.
    pub result_writer: Option<serde_json::Value>,
}

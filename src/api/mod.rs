//! The AWS JSON 1.0 edge: `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`.
//!
//! Handlers are short: decode and check the request ([`shapes`]), make one engine or store
//! call, encode the answer. They hold no SQL and evaluate no ASL.

mod activities;
pub mod auth;
mod callbacks;
pub mod error;
pub mod executions;
pub mod forward;
mod history;
mod map_runs;
pub mod shapes;
mod state_machines;
mod tags;
mod test_state;
mod versions;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

pub use error::ApiError;

use crate::engine::Engine;
use crate::metrics;
use crate::Db;
use tokio::sync::Semaphore;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct App {
    /// Set once the database is open; until then API requests are answered 503.
    pub engine: Arc<OnceLock<Arc<Engine<Db>>>>,
    /// Set once recovery has finished; `/ready` answers 200 from then on.
    pub ready: Arc<AtomicBool>,
    /// Verifies request signatures when `auth.enabled` is set.
    pub auth: Option<Arc<auth::Verifier>>,
    /// One permit per API request being handled (`limits.max_concurrent_requests`); a request
    /// that finds none is answered ThrottlingException at once.
    pub requests: Arc<Semaphore>,
    /// How long a client waits for an answer (`limits.request_timeout_secs`).
    pub request_timeout: Duration,
    /// In a cluster: forwarding to the node that holds an execution's partition (set once the
    /// database is open).
    pub forwarder: Arc<OnceLock<Arc<forward::Forwarder>>>,
}

/// What a handler works with once recovery is done.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub engine: Arc<Engine<Db>>,
}

/// The operations this server answers, by their `X-Amz-Target` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreateStateMachine,
    DescribeStateMachine,
    UpdateStateMachine,
    DeleteStateMachine,
    ListStateMachines,
    StartExecution,
    StartSyncExecution,
    DescribeExecution,
    StopExecution,
    RedriveExecution,
    ListExecutions,
    GetExecutionHistory,
    DescribeStateMachineForExecution,
    ValidateStateMachineDefinition,
    TagResource,
    UntagResource,
    ListTagsForResource,
    SendTaskSuccess,
    SendTaskFailure,
    SendTaskHeartbeat,
    CreateActivity,
    DescribeActivity,
    DeleteActivity,
    ListActivities,
    GetActivityTask,
    PublishStateMachineVersion,
    ListStateMachineVersions,
    DeleteStateMachineVersion,
    CreateStateMachineAlias,
    DescribeStateMachineAlias,
    UpdateStateMachineAlias,
    DeleteStateMachineAlias,
    ListStateMachineAliases,
    TestState,
    DescribeMapRun,
    ListMapRuns,
    UpdateMapRun,
}

impl Operation {
    const ALL: [Operation; 37] = [
        Operation::CreateStateMachine,
        Operation::DescribeStateMachine,
        Operation::UpdateStateMachine,
        Operation::DeleteStateMachine,
        Operation::ListStateMachines,
        Operation::StartExecution,
        Operation::StartSyncExecution,
        Operation::DescribeExecution,
        Operation::StopExecution,
        Operation::RedriveExecution,
        Operation::ListExecutions,
        Operation::GetExecutionHistory,
        Operation::DescribeStateMachineForExecution,
        Operation::ValidateStateMachineDefinition,
        Operation::TagResource,
        Operation::UntagResource,
        Operation::ListTagsForResource,
        Operation::SendTaskSuccess,
        Operation::SendTaskFailure,
        Operation::SendTaskHeartbeat,
        Operation::CreateActivity,
        Operation::DescribeActivity,
        Operation::DeleteActivity,
        Operation::ListActivities,
        Operation::GetActivityTask,
        Operation::PublishStateMachineVersion,
        Operation::ListStateMachineVersions,
        Operation::DeleteStateMachineVersion,
        Operation::CreateStateMachineAlias,
        Operation::DescribeStateMachineAlias,
        Operation::UpdateStateMachineAlias,
        Operation::DeleteStateMachineAlias,
        Operation::ListStateMachineAliases,
        Operation::TestState,
        Operation::DescribeMapRun,
        Operation::ListMapRuns,
        Operation::UpdateMapRun,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::CreateStateMachine => "CreateStateMachine",
            Operation::DescribeStateMachine => "DescribeStateMachine",
            Operation::UpdateStateMachine => "UpdateStateMachine",
            Operation::DeleteStateMachine => "DeleteStateMachine",
            Operation::ListStateMachines => "ListStateMachines",
            Operation::StartExecution => "StartExecution",
            Operation::StartSyncExecution => "StartSyncExecution",
            Operation::DescribeExecution => "DescribeExecution",
            Operation::StopExecution => "StopExecution",
            Operation::RedriveExecution => "RedriveExecution",
            Operation::ListExecutions => "ListExecutions",
            Operation::GetExecutionHistory => "GetExecutionHistory",
            Operation::DescribeStateMachineForExecution => "DescribeStateMachineForExecution",
            Operation::ValidateStateMachineDefinition => "ValidateStateMachineDefinition",
            Operation::TagResource => "TagResource",
            Operation::UntagResource => "UntagResource",
            Operation::ListTagsForResource => "ListTagsForResource",
            Operation::SendTaskSuccess => "SendTaskSuccess",
            Operation::SendTaskFailure => "SendTaskFailure",
            Operation::SendTaskHeartbeat => "SendTaskHeartbeat",
            Operation::CreateActivity => "CreateActivity",
            Operation::DescribeActivity => "DescribeActivity",
            Operation::DeleteActivity => "DeleteActivity",
            Operation::ListActivities => "ListActivities",
            Operation::GetActivityTask => "GetActivityTask",
            Operation::PublishStateMachineVersion => "PublishStateMachineVersion",
            Operation::ListStateMachineVersions => "ListStateMachineVersions",
            Operation::DeleteStateMachineVersion => "DeleteStateMachineVersion",
            Operation::CreateStateMachineAlias => "CreateStateMachineAlias",
            Operation::DescribeStateMachineAlias => "DescribeStateMachineAlias",
            Operation::UpdateStateMachineAlias => "UpdateStateMachineAlias",
            Operation::DeleteStateMachineAlias => "DeleteStateMachineAlias",
            Operation::ListStateMachineAliases => "ListStateMachineAliases",
            Operation::TestState => "TestState",
            Operation::DescribeMapRun => "DescribeMapRun",
            Operation::ListMapRuns => "ListMapRuns",
            Operation::UpdateMapRun => "UpdateMapRun",
        }
    }

    /// Parse `AWSStepFunctions.<Operation>`.
    pub fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix("AWSStepFunctions.")?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// Largest request body taken: a 1 MiB definition JSON-escaped inside a request, with room.
pub const MAX_REQUEST_BYTES: usize = 4 << 20;

/// How long a request for an execution whose partition no node holds waits for a new owner
/// (a lease expiring after its node died, a partition passing to a node that joined) before
/// it is answered 503, and how often it looks meanwhile.
const HANDOFF_WAIT: Duration = Duration::from_secs(2);
const HANDOFF_POLL: Duration = Duration::from_millis(100);

pub fn router(app: App) -> Router {
    Router::new()
        .route(
            "/",
            post(dispatch).layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
        )
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .with_state(app)
}

async fn health() -> &'static str {
    "ok"
}

/// 200 once recovery is done and, in a cluster, while this node holds a partition.
async fn ready(State(app): State<App>) -> Response {
    let Some(engine) = app
        .engine
        .get()
        .filter(|_| app.ready.load(Ordering::Acquire))
    else {
        return (StatusCode::SERVICE_UNAVAILABLE, "recovering").into_response();
    };
    if engine.ownership().holds_any() {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "holding no partition").into_response()
    }
}

async fn metrics_text() -> Response {
    (
        [(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics::render(),
    )
        .into_response()
}

async fn dispatch(
    State(app): State<App>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let started = Instant::now();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let op = Operation::from_target(target);
    let response = answer(app, uri, &headers, body, op).await;
    if let Some(op) = op {
        metrics::record_request(op.name(), response.status().as_u16(), started.elapsed());
    }
    response
}

async fn answer(
    app: App,
    uri: axum::http::Uri,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    op: Option<Operation>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return ApiError::ValidationMessage(format!(
                "The request body could not be read: {e} (the most accepted is {MAX_REQUEST_BYTES} bytes)"
            ))
            .into_response()
        }
    };
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // A request another node forwarded was authenticated there, and is not forwarded again.
    let forwarded = app
        .forwarder
        .get()
        .is_some_and(|f| f.is_forwarded(headers, target, &body));
    if let (Some(verifier), false) = (&app.auth, forwarded) {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        if let Err(e) = verifier.verify("POST", path, headers, &body, std::time::SystemTime::now())
        {
            tracing::info!(error = e.type_name(), "refused an unauthenticated request");
            return e.into_response();
        }
    }
    run_operation(app, op, target, &body, forwarded).await
}

/// An operation the console asks for, run as an authenticated API request is: the same
/// request permits, shape checks, engine call and, in a cluster, forwarding to the node that
/// holds the execution. The answer's JSON, or the error's `__type` and message.
pub async fn perform(app: &App, op: Operation, req: &Value) -> Result<Value, (String, String)> {
    let target = format!("AWSStepFunctions.{}", op.name());
    let body = req.to_string();
    let response = run_operation(app.clone(), Some(op), &target, body.as_bytes(), false).await;
    let ok = response.status().is_success();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_REQUEST_BYTES)
        .await
        .unwrap_or_default();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if ok {
        return Ok(answer);
    }
    let field = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default();
    let kind = field("__type")
        .rsplit('#')
        .next()
        .unwrap_or_default()
        .to_owned();
    Err((kind, field("message").to_owned()))
}

/// Everything after authentication: permits, decoding, the engine (or the node holding the
/// execution), encoding.
async fn run_operation(
    app: App,
    op: Option<Operation>,
    target: &str,
    body: &[u8],
    forwarded: bool,
) -> Response {
    let Some(op) = op else {
        return ApiError::UnknownOperation(String::new()).into_response();
    };
    // A long poll waits on its activity, bounded by the activity's pollers, not by the
    // request permits (1,000 idle workers must not starve the rest of the API).
    let long_poll = op == Operation::GetActivityTask;
    let permit = match app.requests.clone().try_acquire_owned() {
        _ if long_poll => None,
        Ok(p) => Some(p),
        Err(_) => return ApiError::Throttling.into_response(),
    };
    let engine = match app.engine.get() {
        Some(engine) if app.ready.load(Ordering::Acquire) => engine.clone(),
        _ => {
            return ApiError::Unavailable(
                "The service is starting (recovering its pending work); retry shortly.".into(),
            )
            .into_response()
        }
    };
    let mut req = match decode(body) {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    // An execution started without a name gets one here, so its partition (a hash of its ARN)
    // is known, and a node it is forwarded to starts it under the same name.
    let starts = matches!(
        op,
        Operation::StartExecution | Operation::StartSyncExecution
    );
    if starts && req.get("name").is_none_or(Value::is_null) {
        req["name"] = Value::String(crate::model::Name::random().into_string());
    }
    let cluster = app.forwarder.get().cloned();
    // In a cluster the request is kept as text: to forward it, or to run it again.
    let text = cluster.as_ref().map(|_| req.to_string());
    let target = target.to_owned();
    let answer = if long_poll {
        // A long poll runs in the connection's own future, so a worker that hangs up stops
        // waiting at once (the start of a task it takes runs on a task of its own). It goes
        // straight to its handler: a waiting poll holds that handler's state, not the state of
        // the largest of all operations.
        let wait = app
            .request_timeout
            .max(crate::engine::POLL_WAIT + Duration::from_secs(5));
        let poll = Box::pin(activities::get_activity_task(Ctx { engine }, req));
        tokio::time::timeout(wait, poll)
            .await
            .map(|r| Ok(Answer::Here(r)))
    } else {
        // The request runs on its own task, holding its permit to the end: a client that
        // hangs up or times out cannot cut an engine change short between its commit and its
        // effects, and the work it leaves behind still counts against the limit.
        let work = async move {
            let answer =
                run_here_or_there(engine, op, req, cluster, text, &target, forwarded).await;
            drop(permit);
            answer
        };
        // A synchronous execution answers when it ends, within an Express workflow's limit.
        let limit = match op {
            Operation::StartSyncExecution => app
                .request_timeout
                .max(executions::SYNC_LIMIT + Duration::from_secs(5)),
            _ => app.request_timeout,
        };
        tokio::time::timeout(limit, tokio::spawn(work)).await
    };
    let answer = match answer {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => Answer::Here(Err(ApiError::internal(e))),
        Err(_) => Answer::Here(Err(ApiError::Unavailable(format!(
            "The request did not complete within {} s; it may still take effect.",
            app.request_timeout.as_secs()
        )))),
    };
    match answer {
        Answer::There(resp) => resp,
        // Written straight into bytes: through `Display` (`to_string`), each of serde_json's
        // small writes went through a formatter into a string grown from empty.
        Answer::Here(Ok(v)) => match serde_json::to_vec(&v) {
            Ok(body) => (
                StatusCode::OK,
                [("content-type", "application/x-amz-json-1.0")],
                body,
            )
                .into_response(),
            Err(e) => error_response(op, ApiError::internal(e)),
        },
        Answer::Here(Err(ApiError::Elsewhere(partition))) if forwarded => {
            forward::not_owner(partition)
        }
        Answer::Here(Err(e)) => error_response(op, e),
    }
}

/// The response to a request that failed. The request's span is at debug level (at info,
/// creating and entering it took about a tenth of a start's CPU), so an internal failure is
/// logged inside a span of its own that names the operation.
fn error_response(op: Operation, e: ApiError) -> Response {
    let _request = matches!(e, ApiError::Internal(_))
        .then(|| tracing::error_span!("handle", operation = op.name()).entered());
    e.into_response()
}

/// Where a request was answered.
enum Answer {
    Here(Result<Value, ApiError>),
    /// By the node holding the execution, to relay as is.
    There(Response),
}

/// Run the request on this node; in a cluster, when another node holds the execution's
/// partition, forward it there. When no node holds it (its owner died, or it is passing to a
/// node that joined), nothing was done: look again every `HANDOFF_POLL` for `HANDOFF_WAIT`.
/// A request forwarded here for a partition that has moved on is answered at once, for the
/// node it came from to look again.
async fn run_here_or_there(
    engine: Arc<Engine<Db>>,
    op: Operation,
    req: Value,
    cluster: Option<Arc<forward::Forwarder>>,
    text: Option<String>,
    target: &str,
    forwarded: bool,
) -> Answer {
    let handoff = tokio::time::Instant::now() + HANDOFF_WAIT;
    let mut req = Some(req);
    loop {
        let this = match (req.take(), text.as_deref()) {
            (Some(r), _) => r,
            (None, Some(t)) => match serde_json::from_str(t) {
                Ok(r) => r,
                Err(e) => return Answer::Here(Err(ApiError::internal(e))),
            },
            (None, None) => {
                return Answer::Here(Err(ApiError::internal(std::io::Error::other(
                    "no request to run again",
                ))))
            }
        };
        let result = handle(
            &Ctx {
                engine: engine.clone(),
            },
            op,
            this,
        )
        .await;
        let (Err(ApiError::Elsewhere(p)), Some(f), Some(body)) = (&result, &cluster, &text) else {
            return Answer::Here(result);
        };
        if forwarded {
            return Answer::Here(result);
        }
        // `NotThere` (no other owner known, or the one known did not hold it) has the
        // directory read again; the next poll sees the new owner.
        if let forward::Forwarded::Answer(resp) = f.forward(*p, target, body).await {
            return Answer::There(resp);
        }
        if tokio::time::Instant::now() >= handoff {
            return Answer::Here(result);
        }
        tokio::time::sleep(HANDOFF_POLL).await;
    }
}

/// The body must be a JSON object; an empty body counts as `{}` (as AWS treats it).
fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::Serialization(
            "Start of structure or map expected".into(),
        )),
        Err(e) => Err(ApiError::Serialization(format!(
            "Could not parse the request body as JSON: {e}"
        ))),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(operation = op.name()))]
async fn handle(app: &Ctx, op: Operation, req: Value) -> Result<Value, ApiError> {
    // Each operation's future is boxed, so this one (and the task each request runs on) is as
    // small as a pointer rather than as large as the largest operation's, and spawning a
    // request does not copy kilobytes.
    let work: Pin<Box<dyn Future<Output = Result<Value, ApiError>> + Send + '_>> = match op {
        Operation::CreateStateMachine => Box::pin(state_machines::create_state_machine(app, req)),
        Operation::DescribeStateMachine => {
            Box::pin(state_machines::describe_state_machine(app, req))
        }
        Operation::UpdateStateMachine => Box::pin(state_machines::update_state_machine(app, req)),
        Operation::DeleteStateMachine => Box::pin(state_machines::delete_state_machine(app, req)),
        Operation::ListStateMachines => Box::pin(state_machines::list_state_machines(app, req)),
        Operation::ValidateStateMachineDefinition => Box::pin(std::future::ready(
            state_machines::validate_state_machine_definition(req),
        )),
        Operation::StartExecution => Box::pin(executions::start_execution(app, req)),
        Operation::StartSyncExecution => Box::pin(executions::start_sync_execution(app, req)),
        Operation::DescribeExecution => Box::pin(executions::describe_execution(app, req)),
        Operation::StopExecution => Box::pin(executions::stop_execution(app, req)),
        Operation::RedriveExecution => Box::pin(executions::redrive_execution(app, req)),
        Operation::ListExecutions => Box::pin(executions::list_executions(app, req)),
        Operation::DescribeStateMachineForExecution => {
            Box::pin(executions::describe_state_machine_for_execution(app, req))
        }
        Operation::GetExecutionHistory => Box::pin(history::get_execution_history(app, req)),
        Operation::TagResource => Box::pin(tags::tag_resource(app, req)),
        Operation::UntagResource => Box::pin(tags::untag_resource(app, req)),
        Operation::ListTagsForResource => Box::pin(tags::list_tags_for_resource(app, req)),
        Operation::SendTaskSuccess => Box::pin(callbacks::send_task_success(app, req)),
        Operation::SendTaskFailure => Box::pin(callbacks::send_task_failure(app, req)),
        Operation::SendTaskHeartbeat => Box::pin(callbacks::send_task_heartbeat(app, req)),
        Operation::CreateActivity => Box::pin(activities::create_activity(app, req)),
        Operation::DescribeActivity => Box::pin(activities::describe_activity(app, req)),
        Operation::DeleteActivity => Box::pin(activities::delete_activity(app, req)),
        Operation::ListActivities => Box::pin(activities::list_activities(app, req)),
        Operation::GetActivityTask => Box::pin(activities::get_activity_task(app.clone(), req)),
        Operation::PublishStateMachineVersion => {
            Box::pin(versions::publish_state_machine_version(app, req))
        }
        Operation::ListStateMachineVersions => {
            Box::pin(versions::list_state_machine_versions(app, req))
        }
        Operation::DeleteStateMachineVersion => {
            Box::pin(versions::delete_state_machine_version(app, req))
        }
        Operation::CreateStateMachineAlias => {
            Box::pin(versions::create_state_machine_alias(app, req))
        }
        Operation::DescribeStateMachineAlias => {
            Box::pin(versions::describe_state_machine_alias(app, req))
        }
        Operation::UpdateStateMachineAlias => {
            Box::pin(versions::update_state_machine_alias(app, req))
        }
        Operation::DeleteStateMachineAlias => {
            Box::pin(versions::delete_state_machine_alias(app, req))
        }
        Operation::ListStateMachineAliases => {
            Box::pin(versions::list_state_machine_aliases(app, req))
        }
        Operation::TestState => Box::pin(test_state::test_state(app, req)),
        Operation::DescribeMapRun => Box::pin(map_runs::describe_map_run(app, req)),
        Operation::ListMapRuns => Box::pin(map_runs::list_map_runs(app, req)),
        Operation::UpdateMapRun => Box::pin(map_runs::update_map_run(app, req)),
    };
    work.await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log lines written into a buffer the test reads.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `error_response` logs at the default level, and the status it answers.
    fn logged(op: Operation, e: ApiError) -> (String, StatusCode) {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let status =
            tracing::subscriber::with_default(subscriber, || error_response(op, e).status());
        let text = lines.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (String::from_utf8_lossy(&text).into_owned(), status)
    }

    #[test]
    fn an_internal_failure_is_logged_with_its_operation() {
        let (log, status) = logged(
            Operation::StartExecution,
            ApiError::internal(std::io::Error::other("the disk vanished")),
        );
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(log.contains("internal failure"), "{log}");
        assert!(log.contains("the disk vanished"), "{log}");
        assert!(log.contains("operation=\"StartExecution\""), "{log}");
    }

    #[test]
    fn a_client_error_is_answered_without_a_log_line() {
        let (log, status) = logged(
            Operation::DescribeExecution,
            ApiError::ExecutionDoesNotExist("arn:aws:states:us-east-1:1:execution:m:e".into()),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(log, "");
    }
}

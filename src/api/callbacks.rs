//! SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: the answers of the outside world
//! to a Task state waiting for its token.

use serde_json::{json, Value};

use super::executions::MAX_PAYLOAD;
use super::shapes::{Checks, Req};
use super::{ApiError, Ctx};
use crate::engine::Callback;

/// The `taskToken` member: required, 1 to 2,048 characters.
fn token<'a>(req: &'a Req, checks: &mut Checks) -> Result<Option<&'a str>, ApiError> {
    let token = checks.required("taskToken", req.str("taskToken")?);
    checks.length("taskToken", token, 1, 2048);
    Ok(token)
}

pub async fn send_task_success(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let token = token(&req, &mut checks)?;
    let output = checks.required("output", req.str("output")?);
    checks.byte_length_sensitive("output", output, 0, MAX_PAYLOAD);
    checks.done()?;
    let output: Value = serde_json::from_str(output.unwrap_or_default())
        .map_err(|_| ApiError::InvalidOutput("Invalid output.".into()))?;
    app.engine
        .send_task(token.unwrap_or_default(), Callback::Success(output))
        .await?;
    Ok(json!({}))
}

pub async fn send_task_failure(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let token = token(&req, &mut checks)?;
    let error = req.str("error")?;
    let cause = req.str("cause")?;
    checks.length_sensitive("error", error, 0, 256);
    checks.length_sensitive("cause", cause, 0, 32_768);
    checks.done()?;
    let callback = Callback::Failure {
        error: error.map(str::to_owned),
        cause: cause.map(str::to_owned),
    };
    app.engine
        .send_task(token.unwrap_or_default(), callback)
        .await?;
    Ok(json!({}))
}

pub async fn send_task_heartbeat(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let token = token(&req, &mut checks)?;
    checks.done()?;
    app.engine
        .send_task(token.unwrap_or_default(), Callback::Heartbeat)
        .await?;
    Ok(json!({}))
}

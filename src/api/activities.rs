//! CreateActivity, DescribeActivity, DeleteActivity, ListActivities and GetActivityTask.

use serde_json::{json, Value};

use super::shapes::{self, Checks, Req};
use super::{ApiError, Ctx};
use crate::store::ActivityRow;

fn activity_member(req: &Req) -> Result<String, ApiError> {
    shapes::activity_arn(shapes::arn_text(req, "activityArn")?)
}

fn listed(a: &ActivityRow) -> Value {
    json!({
        "activityArn": a.arn,
        "name": a.name,
        "creationDate": shapes::epoch_seconds(a.creation_date_ms),
    })
}

pub async fn create_activity(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let name = checks.required("name", req.str("name")?);
    // A name with a character AWS does not allow is refused after the model's constraints.
    let name = name
        .map(|n| shapes::name("name", n, &mut checks))
        .transpose();
    let tags = req.tags("tags", &mut checks)?;
    checks.done()?;
    let name = name?.flatten();
    let Some(name) = name else {
        return Err(ApiError::Validation(vec![]));
    };
    if tags.len() > crate::engine::MAX_TAGS {
        return Err(ApiError::TooManyTags(format!(
            "a resource can have at most {} tags",
            crate::engine::MAX_TAGS
        )));
    }
    let a = app.engine.create_activity(name.as_str(), tags).await?;
    Ok(json!({
        "activityArn": a.arn,
        "creationDate": shapes::epoch_seconds(a.creation_date_ms),
    }))
}

pub async fn describe_activity(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let arn = activity_member(&Req::new(req))?;
    Ok(listed(&app.engine.activity(&arn).await?))
}

pub async fn delete_activity(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let arn = activity_member(&Req::new(req))?;
    app.engine.delete_activity(&arn).await?;
    Ok(json!({}))
}

pub async fn list_activities(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let (limit, after) = shapes::page_request(&req, "activity")?;
    let page = app.engine.list_activities(after, limit).await?;
    let items: Vec<Value> = page.items.iter().map(listed).collect();
    let mut out = json!({ "activities": items });
    if let Some(next) = page.next {
        out["nextToken"] = json!(shapes::encode_token("activity", &next));
    }
    Ok(out)
}

/// GetActivityTask: a long poll of up to 60 seconds. With no task by then the answer has no
/// token, as AWS's does.
pub async fn get_activity_task(app: Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = activity_member(&req)?;
    let mut checks = Checks::new();
    let worker = req.str("workerName")?;
    checks.length("workerName", worker, 1, 80);
    checks.done()?;
    let task = app
        .engine
        .get_activity_task(&arn, worker.map(str::to_owned), crate::engine::POLL_WAIT)
        .await?;
    Ok(match task {
        Some(t) => json!({ "taskToken": t.token, "input": t.input }),
        None => json!({}),
    })
}

//! TagResource, UntagResource, ListTagsForResource (state machines).

use serde_json::{json, Value};

use super::shapes::{Checks, Req};
use super::{ApiError, Ctx};
use crate::model::arn::{self, Resource};

/// AWS allows at most 50 tags on a resource.
const MAX_TAGS: usize = 50;

async fn tagged_resource(app: &Ctx, req: &Req) -> Result<String, ApiError> {
    let mut checks = Checks::new();
    let arn = checks.required("resourceArn", req.str("resourceArn")?);
    checks.length("resourceArn", arn, 1, 256);
    checks.done()?;
    let arn = arn.unwrap_or_default();
    match arn::parse(arn) {
        Ok(Resource::StateMachine { .. }) => {}
        Ok(_) => return Err(ApiError::ResourceNotFound(arn.to_owned())),
        Err(e) => return Err(ApiError::InvalidArn(e.0)),
    }
    if app.engine.store().state_machine(arn).await?.is_none() {
        return Err(ApiError::ResourceNotFound(arn.to_owned()));
    }
    Ok(arn.to_owned())
}

pub async fn tag_resource(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    checks.required("tags", req.array("tags")?);
    let tags = req.tags("tags", &mut checks)?;
    checks.done()?;
    let arn = tagged_resource(app, &req).await?;
    let existing = app.engine.store().tags(&arn).await?;
    let mut keys: std::collections::BTreeSet<&str> =
        existing.iter().map(|(k, _)| k.as_str()).collect();
    keys.extend(tags.iter().map(|(k, _)| k.as_str()));
    if keys.len() > MAX_TAGS {
        return Err(ApiError::TooManyTags(format!(
            "a resource can have at most {MAX_TAGS} tags"
        )));
    }
    app.engine.put_tags(&arn, tags).await?;
    Ok(json!({}))
}

pub async fn untag_resource(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    checks.required("tagKeys", req.array("tagKeys")?);
    checks.done()?;
    let keys = req.string_list("tagKeys")?;
    let arn = tagged_resource(app, &req).await?;
    app.engine.delete_tags(&arn, keys).await?;
    Ok(json!({}))
}

pub async fn list_tags_for_resource(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = tagged_resource(app, &req).await?;
    let tags: Vec<Value> = app
        .engine
        .store()
        .tags(&arn)
        .await?
        .into_iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    Ok(json!({ "tags": tags }))
}

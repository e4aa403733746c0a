//! TagResource, UntagResource, ListTagsForResource (state machines and activities).

use serde_json::{json, Value};

use super::shapes::{self, Checks, Req};
use super::{ApiError, Ctx};
use crate::engine::Tagged;
use crate::model::arn::{self, Resource};
use crate::model::StateMachineArn;

/// The resource ARN of a tag request: a state machine's or an activity's (others name no
/// resource here).
fn tagged_resource(req: &Req) -> Result<Tagged, ApiError> {
    let arn = shapes::arn_text(req, "resourceArn")?;
    // A version or alias of a machine takes no tags: AWS answers that there is no such resource.
    if let Ok((_, Some(_))) = super::versions::qualified_arn(arn) {
        return Err(ApiError::ResourceNotFound(arn.to_owned()));
    }
    match arn::parse(arn) {
        Ok(Resource::StateMachine { .. }) => StateMachineArn::parse(arn)
            .map(Tagged::Machine)
            .map_err(|e| ApiError::InvalidArn(e.0)),
        Ok(Resource::Activity { .. }) => Ok(Tagged::Activity(arn.to_owned())),
        Ok(_) => Err(ApiError::ResourceNotFound(arn.to_owned())),
        Err(e) => Err(ApiError::InvalidArn(e.0)),
    }
}

pub async fn tag_resource(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    checks.required("tags", req.array("tags")?);
    let tags = req.tags("tags", &mut checks)?;
    checks.done()?;
    let arn = tagged_resource(&req)?;
    app.engine.tag(&arn, tags).await?;
    Ok(json!({}))
}

pub async fn untag_resource(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    checks.required("tagKeys", req.array("tagKeys")?);
    checks.done()?;
    let keys = req.string_list("tagKeys")?;
    let arn = tagged_resource(&req)?;
    app.engine.untag(&arn, keys).await?;
    Ok(json!({}))
}

pub async fn list_tags_for_resource(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = tagged_resource(&req)?;
    let tags: Vec<Value> = app
        .engine
        .tags(&arn)
        .await?
        .into_iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    Ok(json!({ "tags": tags }))
}

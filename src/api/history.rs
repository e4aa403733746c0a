//! GetExecutionHistory.

use serde_json::{json, Map, Value};

use super::shapes::{self, Checks, Req};
use super::{ApiError, Ctx};
use crate::asl::history::strip_execution_data;

pub async fn get_execution_history(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let arn = checks.required("executionArn", req.str("executionArn")?);
    checks.length("executionArn", arn, 1, 256);
    let limit = shapes::page_size(&req, &mut checks)?;
    let token = req.str("nextToken")?;
    checks.length("nextToken", token, 1, 1024);
    checks.done()?;
    let arn = shapes::execution_arn(arn.unwrap_or_default())?;
    let reverse = req.bool("reverseOrder")?.unwrap_or(false);
    let include_data = req.bool("includeExecutionData")?.unwrap_or(true);
    let after = shapes::decode_token("ev", token)?
        .map(|t| {
            t.parse::<i64>()
                .map_err(|_| ApiError::InvalidToken("Invalid Token".into()))
        })
        .transpose()?;
    let page = app.engine.history(&arn, after, limit, reverse).await?;
    let next = page
        .next
        .map(|id| shapes::encode_token("ev", &id.to_string()));
    let rows = page.items;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let mut event = Map::new();
        event.insert("timestamp".into(), shapes::epoch_seconds(r.timestamp_ms));
        event.insert("type".into(), json!(r.event_type.as_str()));
        event.insert("id".into(), json!(r.id));
        event.insert("previousEventId".into(), json!(r.previous_id));
        if let Some(text) = r.details {
            let mut details: Value = serde_json::from_str(&text)
                .map_err(|e| ApiError::internal(crate::store::Error::Json(e)))?;
            if !include_data {
                strip_execution_data(&mut details);
            }
            if let Value::Object(m) = details {
                event.extend(m);
            }
        }
        events.push(Value::Object(event));
    }
    let mut out = json!({ "events": events });
    if let Some(t) = next {
        out["nextToken"] = json!(t);
    }
    Ok(out)
}

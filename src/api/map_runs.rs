//! DescribeMapRun, ListMapRuns and UpdateMapRun: the runs of Distributed Map states.

use serde_json::{json, Value};

use super::shapes::{self, Checks, Req};
use super::{ApiError, Ctx};
use crate::model::arn;
use crate::store::MapRunRow;

/// The `mapRunArn` member, checked.
pub fn map_run_arn(req: &Req) -> Result<String, ApiError> {
    let mut checks = Checks::new();
    let arn = checks.required("mapRunArn", req.str("mapRunArn")?);
    checks.length("mapRunArn", arn, 1, 2000);
    checks.done()?;
    let arn = arn.unwrap_or_default();
    match arn::parse(arn) {
        Ok(arn::Resource::Other(kind)) if kind == "mapRun" && arn.matches(':').count() == 7 => {
            Ok(arn.to_owned())
        }
        Ok(_) => Err(ApiError::InvalidArn(format!(
            "Resource type not valid in this context: {}",
            arn.split(':').nth(5).unwrap_or_default()
        ))),
        Err(e) => Err(ApiError::InvalidArn(e.0)),
    }
}

/// The children counts of a run, as `itemCounts` and `executionCounts` show them.
fn counts(run: &MapRunRow) -> Value {
    let ended = run.succeeded + run.failed + run.timed_out + run.aborted;
    json!({
        "pending": run.item_count - run.started,
        "running": run.started - ended,
        "succeeded": run.succeeded,
        "failed": run.failed,
        "timedOut": run.timed_out,
        "aborted": run.aborted,
        "total": run.item_count,
        "resultsWritten": if run.result_writer.is_some() && run.stop_ms.is_some() { ended } else { 0 },
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    })
}

pub async fn describe_map_run(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = map_run_arn(&req)?;
    let run = app.engine.map_run(&arn).await?;
    let mut out = json!({
        "mapRunArn": run.arn,
        "executionArn": run.execution_arn,
        "status": run.status,
        "startDate": shapes::epoch_seconds(run.start_ms),
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_percentage.unwrap_or(0.0),
        "toleratedFailureCount": run.tolerated_count.map_or(0, |c| c as i64),
        "itemCounts": counts(&run),
        "executionCounts": counts(&run),
        "redriveCount": run.redrive_count,
    });
    if let Some(stop) = run.stop_ms {
        out["stopDate"] = shapes::epoch_seconds(stop);
    }
    Ok(out)
}

pub async fn list_map_runs(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let execution = shapes::execution_arn(shapes::arn_text(&req, "executionArn")?)?;
    let (limit, after) = shapes::page_request(&req, "maprun")?;
    let runs = app.engine.map_runs_of(&execution).await?;
    let start = after
        .and_then(|a| runs.iter().position(|r| r.arn == a).map(|p| p + 1))
        .unwrap_or(0);
    let limit = usize::try_from(limit).unwrap_or(100);
    let rest: Vec<&MapRunRow> = runs.iter().skip(start).collect();
    let next = (rest.len() > limit).then(|| rest[limit - 1].arn.clone());
    let shown: Vec<Value> = rest
        .iter()
        .take(limit)
        .map(|r| {
            // The run's own machine: the parent's ARN, `/` and the Map state's label.
            let mut item = json!({
                "executionArn": r.execution_arn,
                "mapRunArn": r.arn,
                "stateMachineArn": r.state_machine_arn,
                "startDate": shapes::epoch_seconds(r.start_ms),
            });
            if let Some(stop) = r.stop_ms {
                item["stopDate"] = shapes::epoch_seconds(stop);
            }
            item
        })
        .collect();
    let mut out = json!({ "mapRuns": shown });
    if let Some(next) = next {
        out["nextToken"] = json!(shapes::encode_token("maprun", &next));
    }
    Ok(out)
}

pub async fn update_map_run(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = map_run_arn(&req)?;
    let mut checks = Checks::new();
    let max = req.int("maxConcurrency")?;
    checks.range("maxConcurrency", max, 0, i64::from(i32::MAX));
    let count = req.int("toleratedFailureCount")?;
    checks.range("toleratedFailureCount", count, 0, i64::MAX);
    let pct = req.float("toleratedFailurePercentage")?;
    checks.done()?;
    if let Some(p) = pct.filter(|p| !(0.0..=100.0).contains(p)) {
        return Err(ApiError::ValidationMessage(format!(
            "1 validation error detected: Value '{p}' at 'toleratedFailurePercentage' failed to \
             satisfy constraint: Member must have value between 0 and 100"
        )));
    }
    if max.is_none() && count.is_none() && pct.is_none() {
        return Err(ApiError::ValidationMessage(
            "Must specify at least one of maxConcurrency, toleratedFailurePercentage or \
             toleratedFailureCount"
                .into(),
        ));
    }
    app.engine
        .update_map_run(&arn, max, count.map(|c| c as f64), pct)
        .await?;
    Ok(json!({}))
}

//! StartExecution, StartSyncExecution, DescribeExecution, StopExecution, ListExecutions,
//! DescribeStateMachineForExecution.

use std::time::Duration;

use serde_json::{json, Value};

use super::shapes::{self, Checks, Req};
use super::state_machines;
use super::{ApiError, Ctx};
use crate::engine::MachineForExecution;
use crate::model::{ExecutionArn, ExecutionStatus, Name, StateMachineArn, StateMachineType};

/// AWS's limit on execution input: 256 KiB.
pub const MAX_PAYLOAD: usize = 262_144;

/// AWS's message when an operation is not for a machine of its type.
const NOT_FOR_THIS_TYPE: &str = "This operation is not supported by this type of state machine";

/// The longest a synchronous (Express) execution may run: AWS's five minutes.
pub const SYNC_LIMIT: Duration = Duration::from_secs(300);

/// What StartExecution and StartSyncExecution are asked to start.
struct Start {
    machine: StateMachineArn,
    /// A version (`N`) or an alias (`NAME`) of the machine the start goes through.
    qualifier: Option<String>,
    /// Step Functions Local's `stateMachineArn#TestCase`: a test case of the mock file.
    test_case: Option<String>,
    name: Name,
    input_text: String,
    input: Value,
}

fn start_request(req: &Req, mut checks: Checks) -> Result<Start, ApiError> {
    let sm_arn = checks.required("stateMachineArn", req.str("stateMachineArn")?);
    checks.length("stateMachineArn", sm_arn, 1, 256);
    // A name with a character AWS does not allow is refused after the model's constraints.
    let name = req
        .str("name")?
        .map(|n| shapes::name("name", n, &mut checks))
        .transpose();
    let input_text = req.str("input")?;
    checks.byte_length_sensitive("input", input_text, 0, MAX_PAYLOAD);
    let trace_header = req.str("traceHeader")?;
    checks.length("traceHeader", trace_header, 0, 256);
    checks.pattern(
        "traceHeader",
        trace_header,
        r"\p{ASCII}*",
        trace_header.is_none_or(|t| t.is_ascii()),
    );
    checks.done()?;
    let name = name?.flatten();
    let (sm_arn, test_case) = match sm_arn.unwrap_or_default().split_once('#') {
        Some((arn, case)) => (arn, Some(case.to_owned())),
        None => (sm_arn.unwrap_or_default(), None),
    };
    let (machine, qualifier) = super::versions::qualified_arn(sm_arn)?;
    let qualifier = qualifier.map(str::to_owned);
    let input_text = input_text.unwrap_or("{}").to_owned();
    // Jackson's message for a syntax error; an input with no value at all (empty, blanks) is
    // AWS's own "Invalid execution input.".
    let input: Value = serde_json::from_str(&input_text).map_err(|e| {
        ApiError::InvalidExecutionInput(match input_text.trim().is_empty() {
            true => "Invalid execution input.".into(),
            false => crate::asl::jackson::message(&input_text, &e),
        })
    })?;
    Ok(Start {
        machine,
        qualifier,
        test_case,
        name: name.unwrap_or_else(Name::random),
        input_text,
        input,
    })
}

async fn start(app: &Ctx, s: Start) -> Result<crate::engine::StartedExecution, ApiError> {
    Ok(match (&s.test_case, &s.qualifier) {
        (Some(case), _) => {
            app.engine
                .start_test_case(&s.machine, case, s.name, &s.input_text, s.input)
                .await?
        }
        (None, Some(q)) => {
            app.engine
                .start_execution_through(&s.machine, q, s.name, &s.input_text, s.input)
                .await?
        }
        (None, None) => {
            app.engine
                .start_execution(&s.machine, s.name, &s.input_text, s.input)
                .await?
        }
    })
}

pub async fn start_execution(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let s = start_request(&req, Checks::new())?;
    let started = start(app, s).await?;
    Ok(json!({
        "executionArn": started.shown_arn(),
        "startDate": shapes::epoch_seconds(started.start_ms),
    }))
}

/// StartSyncExecution: start an execution of an Express machine and answer when it ends, with
/// its output, status, error and billing details. An execution still running after
/// [`SYNC_LIMIT`] is stopped with `States.Timeout`.
pub async fn start_sync_execution(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let all = shapes::included_data(&req, &mut checks)?;
    let s = start_request(&req, checks)?;
    let sm = app.engine.state_machine(&s.machine).await?;
    if sm.machine_type != StateMachineType::Express {
        return Err(ApiError::StateMachineTypeNotSupported(
            NOT_FOR_THIS_TYPE.into(),
        ));
    }
    let started = start(app, s).await?;
    let arn = shapes::execution_arn(&started.execution_arn)?;
    let deadline = tokio::time::Instant::now() + SYNC_LIMIT;
    let mut pause = Duration::from_millis(2);
    let e = loop {
        let e = app.engine.execution(&arn).await?;
        if e.status.is_terminal() {
            break e;
        }
        if tokio::time::Instant::now() >= deadline {
            app.engine
                .stop_execution(
                    &arn,
                    Some("States.Timeout".into()),
                    Some(
                        "The execution ran longer than an Express workflow may (5 minutes).".into(),
                    ),
                )
                .await?;
            break app.engine.execution(&arn).await?;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    };
    let stop_ms = e.stop_ms.unwrap_or(e.start_ms);
    // Billed as AWS bills Express workflows: in 100 ms steps of 64 MB.
    let billed_ms = ((stop_ms - e.start_ms).max(1) + 99) / 100 * 100;
    let mut out = json!({
        "executionArn": started.shown_arn(),
        "stateMachineArn": e.state_machine_arn,
        "name": e.name,
        "startDate": shapes::epoch_seconds(e.start_ms),
        "stopDate": shapes::epoch_seconds(stop_ms),
        "status": e.status,
        "inputDetails": {"included": all},
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed_ms},
    });
    if all {
        out["input"] = json!(e.input);
    }
    if let Some(o) = e.output.as_ref().filter(|_| all) {
        out["output"] = json!(o);
        out["outputDetails"] = json!({"included": true});
    }
    if let Some(err) = &e.error {
        out["error"] = json!(err);
    }
    if let Some(c) = e.cause.as_ref().filter(|_| all) {
        out["cause"] = json!(c);
    }
    if let Some(t) = req.str("traceHeader")? {
        out["traceHeader"] = json!(t);
    }
    Ok(out)
}

fn execution_arn_member(req: &Req) -> Result<ExecutionArn, ApiError> {
    shapes::execution_arn(shapes::arn_text(req, "executionArn")?)
}

/// The `executionArn` of a Describe request, and its `includedData` checked.
fn described_arn(req: &Req) -> Result<ExecutionArn, ApiError> {
    let arn = execution_arn_member(req)?;
    let mut checks = Checks::new();
    shapes::included_data(req, &mut checks)?;
    checks.done()?;
    Ok(arn)
}

pub async fn describe_execution(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = described_arn(&req)?;
    let described = app.engine.described(&arn).await?;
    let through = described.through();
    let e = described.row;
    let redrive = app.engine.redrive_info(&e).await?;
    let mut out = json!({
        "executionArn": e.arn,
        "stateMachineArn": e.state_machine_arn,
        "name": e.name,
        "status": e.status,
        "startDate": shapes::epoch_seconds(e.start_ms),
        "input": e.input,
        "inputDetails": {"included": true},
        "redriveCount": redrive.count,
        "redriveStatus": if redrive.not_redrivable.is_some() { "NOT_REDRIVABLE" } else { "REDRIVABLE" },
    });
    if let Some(reason) = &redrive.not_redrivable {
        out["redriveStatusReason"] = json!(reason);
    }
    if let Some(ms) = redrive.last_ms {
        out["redriveDate"] = shapes::epoch_seconds(ms);
    }
    if let Some(stop) = e.stop_ms {
        out["stopDate"] = shapes::epoch_seconds(stop);
    }
    if let Some(run) = app.engine.map_run_of_child(&e).await? {
        out["mapRunArn"] = json!(run);
    }
    if let Some((version, alias)) = through {
        out["stateMachineVersionArn"] = json!(version);
        if let Some(alias) = alias {
            out["stateMachineAliasArn"] = json!(alias);
        }
    }
    if let Some(o) = &e.output {
        out["output"] = json!(o);
        out["outputDetails"] = json!({"included": true});
    }
    if let Some(err) = &e.error {
        out["error"] = json!(err);
    }
    if let Some(c) = &e.cause {
        out["cause"] = json!(c);
    }
    Ok(out)
}

/// RedriveExecution. A `clientToken` is taken (AWS uses it to make retries of one request
/// idempotent); a second redrive of a running execution is refused as not redrivable.
pub async fn redrive_execution(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = execution_arn_member(&req)?;
    let mut checks = Checks::new();
    let token = req.str("clientToken")?;
    checks.length("clientToken", token, 1, 64);
    checks.pattern(
        "clientToken",
        token,
        "[!-~]+",
        token.is_none_or(|t| t.bytes().all(|b| (b'!'..=b'~').contains(&b))),
    );
    checks.done()?;
    let ms = app.engine.redrive_execution(&arn).await?;
    Ok(json!({ "redriveDate": shapes::epoch_seconds(ms) }))
}

pub async fn stop_execution(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = execution_arn_member(&req)?;
    let mut checks = Checks::new();
    let error = req.str("error")?;
    let cause = req.str("cause")?;
    checks.length_sensitive("error", error, 0, 256);
    checks.length_sensitive("cause", cause, 0, 32_768);
    checks.done()?;
    let stop_ms = app
        .engine
        .stop_execution(&arn, error.map(str::to_owned), cause.map(str::to_owned))
        .await?;
    Ok(json!({ "stopDate": shapes::epoch_seconds(stop_ms) }))
}

pub async fn list_executions(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let sm_arn = req.str("stateMachineArn")?;
    checks.length("stateMachineArn", sm_arn, 1, 256);
    let status = req.str("statusFilter")?;
    let statuses = ExecutionStatus::MODEL_ORDER.map(ExecutionStatus::as_str);
    checks.one_of("statusFilter", status, &statuses);
    let redrive_filter = req.str("redriveFilter")?;
    checks.one_of(
        "redriveFilter",
        redrive_filter,
        &["REDRIVEN", "NOT_REDRIVEN"],
    );
    let limit = shapes::page_size(&req, &mut checks)?;
    let token = req.str("nextToken")?;
    checks.length("nextToken", token, 1, 3096);
    checks.done()?;
    let map_run = match req.str("mapRunArn")? {
        Some(_) => Some(super::map_runs::map_run_arn(&req)?),
        None => None,
    };
    let sm_arn = match (sm_arn, &map_run) {
        (Some(_), Some(_)) => {
            return Err(ApiError::ValidationMessage(
                "Must provide only one of StateMachine ARN or MapRun ARN".into(),
            ))
        }
        (None, None) => {
            return Err(ApiError::ValidationMessage(
                "Must provide a StateMachine ARN or MapRun ARN".into(),
            ))
        }
        (Some(a), None) => a,
        (None, Some(_)) => "",
    };
    let qualified = sm_arn;
    let (sm_arn, qualifier) = match &map_run {
        Some(_) => (None, None),
        None => {
            let (arn, q) = super::versions::qualified_arn(sm_arn)?;
            (Some(arn), q)
        }
    };
    let after = match shapes::decode_token("ex", token)? {
        None => None,
        Some(t) => {
            let (s, i) = t
                .split_once('.')
                .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)))
                .ok_or_else(|| ApiError::InvalidToken("Invalid Token".into()))?;
            Some((s, i))
        }
    };
    // AWS keeps no list of an Express machine's executions, and refuses to list them (through
    // a version or an alias too). They are still described here by their ARNs.
    if let Some(arn) = &sm_arn {
        if let Ok(sm) = app.engine.state_machine(arn).await {
            if sm.machine_type == StateMachineType::Express {
                return Err(ApiError::StateMachineTypeNotSupported(
                    NOT_FOR_THIS_TYPE.into(),
                ));
            }
        }
    }
    let status = status.and_then(ExecutionStatus::parse);
    let page = match (&map_run, &sm_arn, qualifier) {
        (Some(run), _, _) => {
            app.engine
                .list_map_run_executions(run, status, after, limit)
                .await?
        }
        (None, Some(sm_arn), None) => {
            app.engine
                .list_executions(sm_arn, status, after, limit)
                .await?
        }
        _ => {
            app.engine
                .list_executions_through(qualified, status, after, limit)
                .await?
        }
    };
    // Executions show the version and alias they were started through, however listed (a map
    // run's children are started through neither).
    let mut through = std::collections::HashMap::new();
    if map_run.is_none() {
        let ids: Vec<i64> = page.items.iter().map(|e| e.id).collect();
        through = app.engine.execution_versions(&ids).await?;
    }
    let next = page
        .next
        .map(|(start_ms, id)| shapes::encode_token("ex", &format!("{start_ms}.{id}")));
    let items: Vec<Value> = page
        .items
        .iter()
        .filter_map(|e| {
            let (redriven, redrive_ms) = crate::engine::redrive::redrive_count(e);
            match redrive_filter {
                Some("REDRIVEN") if redriven == 0 => return None,
                Some("NOT_REDRIVEN") if redriven > 0 => return None,
                _ => {}
            }
            Some((e, redriven, redrive_ms))
        })
        .map(|(e, redriven, redrive_ms)| {
            let mut item = json!({
                "executionArn": e.arn,
                "stateMachineArn": e.state_machine_arn,
                "name": e.name,
                "status": e.status,
                "startDate": shapes::epoch_seconds(e.start_ms),
            });
            if let Some(stop) = e.stop_ms {
                item["stopDate"] = shapes::epoch_seconds(stop);
            }
            if let Some(run) = &map_run {
                item["mapRunArn"] = json!(run);
                item["itemCount"] = json!(items_in(&e.input));
            }
            // AWS lists the count for every execution, 0 for one never redriven.
            item["redriveCount"] = json!(redriven);
            if let Some(ms) = redrive_ms.filter(|_| redriven > 0) {
                item["redriveDate"] = shapes::epoch_seconds(ms);
            }
            if let Some((version, alias)) = through.get(&e.id) {
                item["stateMachineVersionArn"] = json!(version);
                if let Some(alias) = alias {
                    item["stateMachineAliasArn"] = json!(alias);
                }
            }
            item
        })
        .collect();
    let mut out = json!({ "executions": items });
    if let Some(t) = next {
        out["nextToken"] = json!(t);
    }
    Ok(out)
}

/// How many items a child of a map run processed: a batch's (`{"Items", "BatchInput"}`), or one.
fn items_in(input: &str) -> usize {
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(input) else {
        return 1;
    };
    let batch = m.keys().all(|k| k == "Items" || k == "BatchInput");
    match m.get("Items") {
        Some(Value::Array(items)) if batch => items.len(),
        _ => 1,
    }
}

pub async fn describe_state_machine_for_execution(
    app: &Ctx,
    req: Value,
) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = described_arn(&req)?;
    let MachineForExecution {
        machine: base,
        revision: rev,
    } = app.engine.machine_for_execution(&arn).await?;
    let full = state_machines::describe(&base);
    let execution = app.engine.execution(&arn).await?;
    let map_run = app.engine.map_run_of_child(&execution).await?;
    let mut out = json!({
        "stateMachineArn": base.arn,
        "name": base.name,
        "definition": rev.definition,
        "roleArn": rev.role_arn,
        "updateDate": shapes::epoch_seconds(rev.created_ms),
        "loggingConfiguration": full.get("loggingConfiguration").cloned().unwrap_or(Value::Null),
        "tracingConfiguration": full.get("tracingConfiguration").cloned().unwrap_or(Value::Null),
        "encryptionConfiguration": full.get("encryptionConfiguration").cloned().unwrap_or(Value::Null),
    });
    // The machine's first revision has no revision ID on AWS (null until an update).
    if rev.created_ms != base.creation_date_ms {
        out["revisionId"] = json!(rev.revision_id);
    }
    if let Some(m) = out.as_object_mut() {
        state_machines::insert_variable_references(m, &rev.definition);
    }
    if let Some(run) = map_run {
        out["mapRunArn"] = json!(run);
        let label = base.name.rsplit_once('/').map_or("", |(_, l)| l);
        out["label"] = json!(label);
    }
    Ok(out)
}

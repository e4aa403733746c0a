//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition.

use serde_json::{json, Map, Value};

use super::shapes::{self, Checks, Req};
use super::{ApiError, Ctx};
use crate::asl::validate;
use crate::engine::{CreateStateMachine, UpdateStateMachine};
use crate::model::{StateMachineArn, StateMachineType};
use crate::store::StateMachineRow;

const TYPES: [&str; 2] = [
    StateMachineType::Standard.as_str(),
    StateMachineType::Express.as_str(),
];
const LOG_LEVELS: &[&str] = &["ALL", "ERROR", "FATAL", "OFF"];
/// AWS's limit on a definition: 1 MiB.
const MAX_DEFINITION: usize = 1_048_576;

/// Check a definition; `Err(InvalidDefinition)` with AWS's message when it is not valid.
fn check_definition(definition: &str, machine_type: StateMachineType) -> Result<(), ApiError> {
    let mut diags = validate::validate_definition(definition);
    if diags.is_empty() && machine_type == StateMachineType::Express {
        diags = validate::express_diagnostics(definition);
    }
    if diags.is_empty() {
        match crate::asl::definition::label_problem(definition) {
            Some(problem) => Err(ApiError::InvalidDefinition(problem)),
            None => Ok(()),
        }
    } else {
        Err(ApiError::InvalidDefinition(
            validate::invalid_definition_message(&diags),
        ))
    }
}

/// The logging configuration as stored (JSON text), after AWS's checks.
fn logging_configuration(req: &Req, checks: &mut Checks) -> Result<Option<String>, ApiError> {
    let Some(cfg) = req.object("loggingConfiguration")? else {
        return Ok(None);
    };
    let cfg_req = Req::new(Value::Object(cfg.clone()));
    let level = cfg_req.str("level")?;
    checks.one_of("loggingConfiguration.level", level, LOG_LEVELS);
    let destinations = cfg_req.array("destinations")?.map_or(0, Vec::len);
    if level.is_some_and(|l| l != "OFF") && destinations != 1 {
        return Err(ApiError::InvalidLoggingConfiguration(
            "Must specify exactly one Log Destination.".into(),
        ));
    }
    Ok(Some(Value::Object(cfg.clone()).to_string()))
}

fn tracing_configuration(req: &Req) -> Result<Option<String>, ApiError> {
    Ok(req
        .object("tracingConfiguration")?
        .map(|m| Value::Object(m.clone()).to_string()))
}

fn stored_json(text: Option<&str>, default: Value) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(default)
}

fn default_logging() -> Value {
    json!({"level": "OFF", "includeExecutionData": false})
}

/// A logging configuration as AWS shows it: what was given, with the level and
/// `includeExecutionData` it leaves out filled with their defaults.
fn logging_shown(stored: Option<&str>) -> Value {
    let mut shown = stored_json(stored, default_logging());
    if let (Value::Object(m), Value::Object(defaults)) = (&mut shown, default_logging()) {
        for (k, v) in defaults {
            m.entry(k).or_insert(v);
        }
    }
    shown
}

fn default_tracing() -> Value {
    json!({"enabled": false})
}

pub async fn create_state_machine(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let name = checks.required("name", req.str("name")?);
    let definition = checks.required("definition", req.str("definition")?);
    let role_arn = checks.required("roleArn", req.str("roleArn")?);
    checks.byte_length_sensitive("definition", definition, 1, MAX_DEFINITION);
    checks.length("roleArn", role_arn, 1, 256);
    let machine_type = req.str("type")?;
    checks.one_of("type", machine_type, &TYPES);
    // A name with a character AWS does not allow is refused after the model's constraints.
    let name = name
        .map(|n| shapes::name("name", n, &mut checks))
        .transpose();
    let tags = req.tags("tags", &mut checks)?;
    let logging = logging_configuration(&req, &mut checks)?;
    let tracing = tracing_configuration(&req)?;
    checks.length_sensitive("versionDescription", req.str("versionDescription")?, 0, 256);
    checks.done()?;
    let name = name?.flatten();
    if req.str("versionDescription")?.is_some() && req.bool("publish")? != Some(true) {
        return Err(ApiError::ValidationMessage(
            "Version description can only be set when publish is true".into(),
        ));
    }
    let (Some(name), Some(definition), Some(role_arn)) = (name, definition, role_arn) else {
        return Err(ApiError::Validation(vec![]));
    };
    let machine_type = machine_type
        .and_then(StateMachineType::parse)
        .unwrap_or(StateMachineType::Standard);
    check_definition(definition, machine_type)?;
    let sm = app
        .engine
        .create_state_machine(CreateStateMachine {
            name,
            definition: definition.to_owned(),
            role_arn: role_arn.to_owned(),
            machine_type,
            logging_configuration: logging,
            tracing_configuration: tracing,
            tags,
        })
        .await?;
    let mut out = json!({
        "stateMachineArn": sm.arn,
        "creationDate": shapes::epoch_seconds(sm.creation_date_ms),
    });
    if req.bool("publish")? == Some(true) {
        let arn = shapes::state_machine_arn(&sm.arn)?;
        let description = req.str("versionDescription")?;
        out["stateMachineVersionArn"] = json!(publish(app, &arn, &sm, description).await?);
    }
    Ok(out)
}

/// `publish: true`: the revision just written as a version; its ARN.
async fn publish(
    app: &Ctx,
    arn: &StateMachineArn,
    sm: &StateMachineRow,
    description: Option<&str>,
) -> Result<String, ApiError> {
    let v = app
        .engine
        .publish_version(
            arn,
            Some(sm.revision_id.as_str()),
            description.map(str::to_owned),
        )
        .await?;
    Ok(v.arn)
}

/// DescribeStateMachine's answer (also the base of DescribeStateMachineForExecution's).
pub fn describe(sm: &StateMachineRow) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stateMachineArn".into(), json!(sm.arn));
    m.insert("name".into(), json!(sm.name));
    m.insert("status".into(), json!(sm.status.as_str()));
    m.insert("definition".into(), json!(sm.definition));
    m.insert("roleArn".into(), json!(sm.role_arn));
    m.insert("type".into(), json!(sm.machine_type.as_str()));
    m.insert(
        "creationDate".into(),
        shapes::epoch_seconds(sm.creation_date_ms),
    );
    m.insert(
        "loggingConfiguration".into(),
        logging_shown(sm.logging_configuration.as_deref()),
    );
    m.insert(
        "tracingConfiguration".into(),
        stored_json(sm.tracing_configuration.as_deref(), default_tracing()),
    );
    if sm.update_date_ms.is_some() {
        m.insert("revisionId".into(), json!(sm.revision_id));
    }
    if let Some(d) = &sm.description {
        m.insert("description".into(), json!(d));
    }
    // Data at rest is not encrypted with a key of the caller's: AWS shows its own key's type.
    m.insert(
        "encryptionConfiguration".into(),
        json!({"type": "AWS_OWNED_KEY"}),
    );
    insert_variable_references(&mut m, &sm.definition);
    m
}

/// `variableReferences`, when a state of `definition` reads variables.
pub fn insert_variable_references(m: &mut Map<String, Value>, definition: &str) {
    let references = crate::asl::definition::variable_references(definition);
    if !references.is_empty() {
        m.insert("variableReferences".into(), json!(references));
    }
}

fn arn_member(req: &Req, field: &str) -> Result<StateMachineArn, ApiError> {
    shapes::state_machine_arn(shapes::arn_text(req, field)?)
}

/// UpdateStateMachine's `stateMachineArn`. A version or alias is not a machine that can be
/// updated: AWS answers that no such state machine exists.
fn updated_arn(req: &Req) -> Result<StateMachineArn, ApiError> {
    let arn = shapes::arn_text(req, "stateMachineArn")?;
    if let Ok((_, Some(_))) = super::versions::qualified_arn(arn) {
        return Err(ApiError::StateMachineDoesNotExist(arn.to_owned()));
    }
    shapes::state_machine_arn(arn)
}

pub async fn describe_state_machine(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = shapes::arn_text(&req, "stateMachineArn")?;
    let mut checks = Checks::new();
    shapes::included_data(&req, &mut checks)?;
    checks.done()?;
    // A version is described as the machine with the version's revision.
    if let (_, Some(q)) = super::versions::qualified_arn(arn)? {
        if !q.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::InvalidArn(arn.to_owned()));
        }
        let (sm, _) = app.engine.described_version(arn).await?;
        return Ok(Value::Object(describe(&sm)));
    }
    let arn = shapes::state_machine_arn(arn)?;
    let sm = app.engine.state_machine(&arn).await?;
    Ok(Value::Object(describe(&sm)))
}

pub async fn update_state_machine(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = updated_arn(&req)?;
    let mut checks = Checks::new();
    let definition = req.str("definition")?;
    let role_arn = req.str("roleArn")?;
    checks.byte_length_sensitive("definition", definition, 1, MAX_DEFINITION);
    checks.length("roleArn", role_arn, 1, 256);
    let logging = logging_configuration(&req, &mut checks)?;
    let tracing = tracing_configuration(&req)?;
    checks.length_sensitive("versionDescription", req.str("versionDescription")?, 0, 256);
    checks.done()?;
    if definition.is_none() && role_arn.is_none() && logging.is_none() && tracing.is_none() {
        return Err(ApiError::MissingRequiredParameter(
            "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified".into(),
        ));
    }
    if let Some(d) = definition {
        check_definition(d, StateMachineType::Standard)?;
        // An Express machine refuses on update what it refuses on create. A machine that does
        // not exist is answered by the update below.
        if let Ok(sm) = app.engine.state_machine(&arn).await {
            if sm.machine_type == StateMachineType::Express {
                check_definition(d, StateMachineType::Express)?;
            }
        }
    }
    let publish_too = req.bool("publish")? == Some(true);
    let version_description = req.str("versionDescription")?;
    if version_description.is_some() && !publish_too {
        return Err(ApiError::ValidationMessage(
            "Version description can only be set when publish is true".into(),
        ));
    }
    let sm = app
        .engine
        .update_state_machine(UpdateStateMachine {
            arn: arn.clone(),
            definition: definition.map(str::to_owned),
            role_arn: role_arn.map(str::to_owned),
            logging_configuration: logging,
            tracing_configuration: tracing,
        })
        .await?;
    let mut out = json!({
        "updateDate": shapes::epoch_seconds(sm.update_date_ms.unwrap_or(sm.creation_date_ms)),
        "revisionId": sm.revision_id,
    });
    if publish_too {
        out["stateMachineVersionArn"] = json!(publish(app, &arn, &sm, version_description).await?);
    }
    Ok(out)
}

pub async fn delete_state_machine(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = arn_member(&req, "stateMachineArn")?;
    app.engine.delete_state_machine(&arn).await?;
    Ok(json!({}))
}

pub async fn list_state_machines(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let (limit, after) = shapes::page_request(&req, "sm")?;
    let page = app.engine.list_state_machines(after, limit).await?;
    let next = page.next.map(|arn| shapes::encode_token("sm", &arn));
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|sm| {
            json!({
                "stateMachineArn": sm.arn,
                "name": sm.name,
                "type": sm.machine_type.as_str(),
                "creationDate": shapes::epoch_seconds(sm.creation_date_ms),
            })
        })
        .collect();
    let mut out = json!({ "stateMachines": items });
    if let Some(t) = next {
        out["nextToken"] = json!(t);
    }
    Ok(out)
}

pub fn validate_state_machine_definition(req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let definition = checks.required("definition", req.str("definition")?);
    checks.byte_length_sensitive("definition", definition, 1, MAX_DEFINITION);
    let machine_type = req.str("type")?;
    checks.one_of("type", machine_type, &TYPES);
    checks.one_of("severity", req.str("severity")?, &["ERROR", "WARNING"]);
    let max = req.int("maxResults")?;
    checks.range("maxResults", max, 0, 100);
    checks.done()?;
    let max = match max {
        Some(n) if n > 0 => n as usize,
        _ => 100,
    };
    let mut diags = validate::validate_definition(definition.unwrap_or_default());
    if diags.is_empty() && machine_type == Some(StateMachineType::Express.as_str()) {
        diags = validate::express_diagnostics(definition.unwrap_or_default());
    }
    let truncated = diags.len() > max;
    let shown: Vec<Value> = diags
        .iter()
        .take(max)
        .map(|d| {
            let mut v = json!({
                "severity": d.severity.as_str(),
                "code": d.code,
                "message": d.message,
            });
            // AWS leaves location out where there is none (MISSING_END_STATE).
            if !d.location.is_empty() {
                v["location"] = json!(d.location);
            }
            v
        })
        .collect();
    Ok(json!({
        "result": if diags.is_empty() { "OK" } else { "FAIL" },
        "diagnostics": shown,
        "truncated": truncated,
    }))
}

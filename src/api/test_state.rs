//! TestState: run one state, given alone or by `stateName` within a whole machine, on an
//! input, with variables and a context object, its work made for real or mocked; nothing is
//! created. `inspectionLevel` DEBUG and TRACE add what each stage of the data flow made.

use serde_json::{json, Map, Value};

use super::shapes::{Checks, Req};
use super::{ApiError, Ctx};
use crate::asl::definition::{Definition, Kind, State};
use crate::asl::run::probe::{Probe, Report};
use crate::asl::timestamp;
use crate::asl::validate;
use crate::engine::test_state::Mocked;
use crate::invoke::output_shapes;

/// The name a state given alone runs under (its `$$.State.Name`), as AWS shows it.
const LONE_STATE: &str = "StateName";

/// The states a lone state's transitions name, as placeholders, so it parses as a machine.
fn targets(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            out.push(s.to_owned());
        }
    };
    push(state.get("Next"));
    push(state.get("Default"));
    for list in ["Choices", "Catch"] {
        for item in state
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            push(item.get("Next"));
        }
    }
    out
}

/// A machine holding `state` alone, as `LONE_STATE`.
fn machine_of(state: &Value) -> Value {
    let mut states = Map::new();
    for t in targets(state) {
        states.insert(t, json!({"Type": "Succeed"}));
    }
    states.insert(LONE_STATE.into(), state.clone());
    json!({"StartAt": LONE_STATE, "States": states})
}

/// The state named `name` anywhere in `def` (inside Parallel branches and Map processors).
fn find<'d>(def: &'d Definition, name: &str) -> Option<&'d State> {
    if let Some(s) = def.state(name) {
        return Some(s);
    }
    def.states.values().find_map(|s| match &s.kind {
        Kind::Parallel { branches } => branches.iter().find_map(|b| find(b, name)),
        Kind::Map(spec) => find(&spec.processor, name),
        _ => None,
    })
}

fn json_member(req: &Req, field: &str) -> Result<Option<Value>, ApiError> {
    match req.str(field)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(text).map(Some).map_err(|e| {
            ApiError::ValidationMessage(format!("The value of '{field}' is not valid JSON: {e}"))
        }),
    }
}

/// The request's `mock`, read once: its answer, the text of its result (shown as written),
/// and how strictly the result is checked.
struct MockRequest {
    answer: Option<Mocked>,
    text: Option<String>,
    mode: output_shapes::Mode,
}

fn mock_request(req: &Req) -> Result<MockRequest, ApiError> {
    let Some(mock) = req.object("mock")? else {
        return Ok(MockRequest {
            answer: None,
            text: None,
            mode: output_shapes::Mode::None,
        });
    };
    let mock = Req::new(Value::Object(mock.clone()));
    let mode = output_shapes::Mode::parse(mock.str("fieldValidationMode")?).ok_or_else(|| {
        ApiError::ValidationMessage(
            "mock.fieldValidationMode must be one of STRICT, PRESENT or NONE".into(),
        )
    })?;
    let answer = match (json_member(&mock, "result")?, mock.object("errorOutput")?) {
        (Some(result), _) => Some(Mocked::Result(result)),
        (None, Some(e)) => {
            let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(Mocked::Error(crate::asl::StatesError {
                error: text("error").unwrap_or_default(),
                cause: text("cause"),
            }))
        }
        (None, None) => None,
    };
    Ok(MockRequest {
        answer,
        text: mock.str("result")?.map(str::to_owned),
        mode,
    })
}

/// The context object a state tested alone sees: an Express execution made up for it.
fn context(
    state: &State,
    input: &Value,
    role_arn: Option<&str>,
    now_ms: i64,
    region: &str,
    account: &str,
) -> Value {
    let id = uuid::Uuid::new_v4();
    let machine = format!("TestState-{}", uuid::Uuid::new_v4().simple());
    // AWS names the state `StateName` here, whatever it is called in the definition.
    let mut s = json!({"Name": LONE_STATE, "EnteredTime": timestamp::format_ms(now_ms)});
    if matches!(
        state.kind,
        Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_)
    ) {
        s["RetryCount"] = json!(0);
    }
    json!({
        "Execution": {
            "Id": format!("arn:aws:states:{region}:{account}:express:{machine}:{id}"),
            "Input": input,
            "Name": id.to_string(),
            "RoleArn": role_arn,
            "StartTime": timestamp::format_ms(now_ms),
        },
        "StateMachine": {
            "Id": format!("arn:aws:states:{region}:{account}:stateMachine:{machine}"),
            "Name": machine,
        },
        "State": s,
    })
}

/// The fields a context object may hold, as AWS checks a given one.
fn check_context(ctx: &Value) -> Result<(), ApiError> {
    const ALLOWED: &[(&str, &[&str])] = &[
        (
            "Execution",
            &[
                "Id",
                "Input",
                "Name",
                "RoleArn",
                "StartTime",
                "RedriveCount",
                "RedriveTime",
            ],
        ),
        ("State", &["EnteredTime", "Name", "RetryCount"]),
        ("StateMachine", &["Id", "Name"]),
        ("Task", &["Token"]),
        ("Map", &["Item"]),
    ];
    let not_allowed = |f: &str| {
        ApiError::ValidationMessage(format!(
            "Invalid Context object provided: Field '{f}' is not allowed"
        ))
    };
    let Some(top) = ctx.as_object() else {
        return Err(ApiError::ValidationMessage(
            "Invalid Context object provided: it must be a JSON object".into(),
        ));
    };
    for (k, v) in top {
        let Some((_, fields)) = ALLOWED.iter().find(|(name, _)| name == k) else {
            return Err(not_allowed(k));
        };
        if let Some(inner) = v.as_object() {
            if let Some(f) = inner.keys().find(|f| !fields.contains(&f.as_str())) {
                return Err(not_allowed(f));
            }
        }
    }
    Ok(())
}

/// JSON text with a space after each `,` and `:`, as AWS writes `afterItemsPath`.
fn spaced(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(spaced).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), spaced(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// A stage's value as the API shows it: JSON text, except the counts and error details.
fn shown(key: &str, v: &Value, given: &[&str]) -> Value {
    match key {
        "maxConcurrency"
        | "toleratedFailureCount"
        | "toleratedFailurePercentage"
        | "errorDetails"
        | "request"
        | "response" => v.clone(),
        "afterItemsPath" => Value::String(spaced(v)),
        _ => Value::String(text_of(v, given)),
    }
}

/// The text of `given` (the request's mocked result, then its input) where a value is one
/// of them unchanged (AWS passes them on as written), else the value as JSON text.
fn text_of(v: &Value, given: &[&str]) -> String {
    given
        .iter()
        .find(|text| serde_json::from_str::<Value>(text).is_ok_and(|g| &g == v))
        .map_or_else(|| v.to_string(), |text| (*text).to_owned())
}

/// Which states take a mock, and what a mock must be, as AWS checks them.
fn check_mock(state: &State, mock: Option<&Mocked>) -> Result<(), ApiError> {
    match (&state.kind, mock) {
        (Kind::Map(_) | Kind::Parallel { .. }, None) => Err(ApiError::InvalidDefinition(
            "TestState API does not support Map or Parallel states. Supported state types \
             include: [Task, Wait, Pass, Succeed, Fail, Choice]"
                .into(),
        )),
        (Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }, _) | (_, None) => {
            if let (Kind::Parallel { branches }, Some(Mocked::Result(v))) = (&state.kind, mock) {
                let Some(items) = v.as_array() else {
                    return Err(ApiError::ValidationMessage(
                        "Mocked result must be an array.".into(),
                    ));
                };
                if items.len() != branches.len() {
                    return Err(ApiError::ValidationMessage(
                        "Mocked result must contain the same number of items as number of \
                         Parallel branches."
                            .into(),
                    ));
                }
            }
            Ok(())
        }
        (_, Some(_)) => Err(ApiError::ValidationMessage(format!(
            "State type '{}' is not supported when a mock is specified",
            state.type_name
        ))),
    }
}

/// The answer; `given` are the texts of the request's input and mocked result, shown as
/// written where a value is one of them unchanged.
fn answer(report: Report, inspect: bool, given: &[&str]) -> Value {
    let mut out = json!({ "status": report.status.as_str() });
    if let Some(o) = &report.output {
        out["output"] = json!(text_of(o, given));
    }
    if let Some(e) = &report.error {
        out["error"] = json!(e.error);
        if let Some(c) = &e.cause {
            out["cause"] = json!(c);
        }
    }
    if let Some(n) = &report.next_state {
        out["nextState"] = json!(n);
    }
    if inspect {
        let data: Map<String, Value> = report
            .inspection
            .iter()
            .map(|(k, v)| (k.clone(), shown(k, v, given)))
            .collect();
        out["inspectionData"] = Value::Object(data);
    }
    out
}

pub async fn test_state(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let mut checks = Checks::new();
    let definition = checks.required("definition", req.str("definition")?);
    checks.length("definition", definition, 1, 1_048_576);
    let role_arn = req.str("roleArn")?;
    checks.length("roleArn", role_arn, 1, 256);
    let level = req.str("inspectionLevel")?;
    checks.one_of("inspectionLevel", level, &["INFO", "DEBUG", "TRACE"]);
    let state_name = req.str("stateName")?;
    checks.length("stateName", state_name, 1, 80);
    let reveal_secrets = req.bool("revealSecrets")?.unwrap_or(false);
    checks.done()?;
    if reveal_secrets && level != Some("TRACE") {
        return Err(ApiError::ValidationMessage(
            "revealSecrets can only be true when inspectionLevel is TRACE".into(),
        ));
    }
    let text = definition.unwrap_or_default();
    let parsed: Value = serde_json::from_str(text).map_err(|e| {
        ApiError::InvalidDefinition(format!(
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"
        ))
    })?;
    let whole = parsed.get("States").is_some() && parsed.get("StartAt").is_some();
    let machine_text = if whole {
        text.to_owned()
    } else {
        machine_of(&parsed).to_string()
    };
    let diags = validate::validate_definition(&machine_text);
    if !diags.is_empty() {
        return Err(ApiError::InvalidDefinition(
            validate::invalid_definition_message(&diags),
        ));
    }
    let def = Definition::parse(&machine_text).map_err(ApiError::InvalidDefinition)?;
    let name = match (whole, state_name) {
        (true, Some(n)) => n.to_owned(),
        (true, None) => def.start_at.clone(),
        (false, _) => LONE_STATE.to_owned(),
    };
    let state = find(&def, &name)
        .ok_or_else(|| ApiError::ValidationMessage("State not found in definition".into()))?;
    let MockRequest {
        answer: mock,
        text: mock_text,
        mode,
    } = mock_request(&req)?;
    check_mock(state, mock.as_ref())?;
    if let (Kind::Task(spec), Some(Mocked::Result(v))) = (&state.kind, &mock) {
        output_shapes::check(&spec.resource, &spec.resource_text, v, mode)
            .map_err(ApiError::ValidationMessage)?;
    }
    let input = json_member(&req, "input")?.unwrap_or_else(|| json!({}));
    let variables = match json_member(&req, "variables")? {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::ValidationMessage(
                "The value of 'variables' must be a JSON object".into(),
            ))
        }
    };
    let engine = &app.engine;
    let config = engine.config();
    let now_ms = {
        use crate::timer::clock::Clock;
        crate::timer::clock::SystemClock.now_ms()
    };
    if matches!(state.kind, Kind::Task(_)) && mock.is_none() && role_arn.is_none() {
        return Err(ApiError::ValidationMessage(
            "RoleArn must be specified when testing a Task state".into(),
        ));
    }
    // A context object given replaces the made-up one.
    let ctx = match json_member(&req, "context")? {
        Some(given) => {
            check_context(&given)?;
            given
        }
        None => context(
            state,
            &input,
            role_arn,
            now_ms,
            &config.region,
            &config.account_id,
        ),
    };
    let configuration = req.object("stateConfiguration")?;
    let number = |k: &str| {
        configuration
            .and_then(|c| c.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let probe = Probe {
        state,
        input,
        variables,
        context: ctx,
        now_ms,
        retries_made: u32::try_from(number("retrierRetryCount")).unwrap_or(u32::MAX),
        failed_iterations: number("mapIterationFailureCount"),
    };
    let given_variables = (!probe.variables.is_empty()).then(|| probe.variables.clone());
    let trace = (level == Some("TRACE")).then_some(reveal_secrets);
    let mut report = engine.test_state(&probe, mock, trace).await?;
    if let Some(v) = given_variables {
        report
            .inspection
            .insert("variables".into(), Value::Object(v));
    }
    let given: Vec<&str> = [mock_text.as_deref(), req.str("input")?]
        .into_iter()
        .flatten()
        .collect();
    Ok(answer(
        report,
        matches!(level, Some("DEBUG" | "TRACE")),
        &given,
    ))
}

//! The one pass over a definition. Each machine and state is visited once; what it reads
//! becomes both the typed [`Definition`] and the findings [`Findings`] turns into diagnostics.
//!
//! Nested machines get the checks AWS gives them:
//!
//! | nested machine | schema checks and typed build | query-language and graph checks |
//! |---|---|---|
//! | a Parallel's `Branches[i]` | yes | yes |
//! | a Map's `ItemProcessor` (else `Iterator`) | yes | yes |
//! | any other `Branches[i]`, `ItemProcessor`, `Iterator` object | no | yes |

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::diagnostics::{diag, invalid_json, Diagnostic, Findings, SCHEMA};
use super::fields::{self, str_field};
use super::graph::Graph;
use super::{language, schema};
use super::{Definition, Distributed, Kind, MapSpec, State, TaskResource, TaskSpec, Transition};
use crate::asl::catalogue::definition as msg;
use crate::asl::expr::choice::{self, ChoiceRule};

/// What one pass over a definition's text gives.
#[derive(Debug)]
pub struct Parsed {
    /// The typed definition, or the first reason the interpreter cannot run it.
    pub definition: Result<Definition, String>,
    /// What validation reports, in AWS's order; empty when the definition is valid.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse a definition given as the text the API received.
pub fn parse(text: &str) -> Parsed {
    if text.trim().is_empty() {
        return Parsed {
            definition: Err(msg::blank()),
            diagnostics: vec![super::diagnostics::missing_description()],
        };
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Parsed {
                definition: Err(e.to_string()),
                diagnostics: vec![invalid_json(text, &e)],
            }
        }
    };
    let Some(top) = value.as_object() else {
        return Parsed {
            definition: Err(msg::not_an_object("The definition")),
            diagnostics: vec![diag(SCHEMA, msg::expected("an object"), "/")],
        };
    };
    let mut found = Findings::default();
    let built = machine(&mut found, top, "", false, Checks::ALL);
    let definition = match (built, found.unusable_reason()) {
        (Some(d), None) => Ok(d),
        (_, reason) => Err(reason.map_or_else(msg::unusable, str::to_owned)),
    };
    Parsed {
        definition,
        diagnostics: found.into_diagnostics(),
    }
}

/// Which checks a machine gets beyond the query-language and graph checks every one gets.
#[derive(Debug, Clone, Copy)]
struct Checks {
    /// AWS's schema checks.
    schema: bool,
    /// The typed build (and its reasons the interpreter cannot run a shape).
    build: bool,
}

impl Checks {
    const ALL: Self = Self {
        schema: true,
        build: true,
    };

    fn only(self, applies: bool) -> Self {
        Self {
            schema: self.schema && applies,
            build: self.build && applies,
        }
    }
}

/// A machine at `at` (`""` at the top); `inherited` is its parent's query language.
fn machine(
    found: &mut Findings,
    m: &Map<String, Value>,
    at: &str,
    inherited: bool,
    checks: Checks,
) -> Option<Definition> {
    let jsonata = language::is_jsonata(m, inherited);
    let state_checks = Checks {
        schema: checks.schema && schema::machine(found, m, at),
        ..checks
    };
    let start_at = if checks.build {
        found.built(str_field(m, "StartAt").and_then(|s| s.ok_or_else(|| msg::missing("StartAt"))))
    } else {
        None
    };
    let Some(states_json) = m.get("States").and_then(Value::as_object) else {
        if checks.build {
            found.unusable(msg::missing("States"));
        }
        return None;
    };
    let mut graph = Graph::new(at, m, states_json);
    let mut states = HashMap::with_capacity(states_json.len());
    for (name, body) in states_json {
        let loc = format!("{at}/States/{name}");
        if state_checks.schema {
            schema::state_name(found, name, &loc);
        }
        let Some(s) = body.as_object() else {
            if state_checks.schema {
                found.schema(msg::expected("an object"), loc);
            }
            if checks.build {
                found.unusable(msg::not_an_object(&format!("The state {name}")));
            }
            continue;
        };
        let at_state = StateAt {
            name,
            loc: &loc,
            machine_jsonata: jsonata,
        };
        if let Some(state) = state(found, s, body, &at_state, state_checks) {
            states.insert(name.clone(), state);
        }
        graph.state(name, &loc, s);
    }
    graph.finish(found);
    if !checks.build {
        return None;
    }
    let start_at = start_at?;
    if !states.contains_key(&start_at) {
        found.unusable(msg::start_at_names_no_state(&start_at));
        return None;
    }
    Some(Definition {
        start_at,
        states,
        timeout_seconds: m.get("TimeoutSeconds").and_then(Value::as_u64),
        jsonata,
    })
}

/// Where a state sits.
struct StateAt<'a> {
    name: &'a str,
    loc: &'a str,
    machine_jsonata: bool,
}

fn state(
    found: &mut Findings,
    s: &Map<String, Value>,
    body: &Value,
    at: &StateAt<'_>,
    checks: Checks,
) -> Option<State> {
    let (name, loc) = (at.name, at.loc);
    let jsonata = language::is_jsonata(s, at.machine_jsonata);
    let type_text = s.get("Type").and_then(Value::as_str).unwrap_or_default();
    // Choice rules are parsed once, for the schema check and the build.
    let rules: Vec<Result<ChoiceRule, String>> = match (type_text, s.get("Choices")) {
        ("Choice", Some(Value::Array(list))) => list.iter().map(choice::parse_rule).collect(),
        _ => Vec::new(),
    };
    let schema_rest = checks.schema && schema::state(found, s, loc, &rules);
    language::state(found, s, body, loc, jsonata, at.machine_jsonata);

    let type_name = if checks.build {
        found.built(str_field(s, "Type").and_then(|t| t.ok_or(format!("state {name} has no Type"))))
    } else {
        None
    };
    let next = if checks.build {
        found.built(str_field(s, "Next")).flatten()
    } else {
        None
    };
    let transition = match (next, s.get("End").and_then(Value::as_bool)) {
        (Some(next), _) => Some(Transition::Next(next)),
        (None, Some(true)) => Some(Transition::End),
        _ => None,
    };
    let mut parameters = s.get("Parameters").cloned();
    let head = if checks.build {
        kind_head(found, s, type_text, jsonata, rules)
    } else {
        None
    };
    // Branches and processors take their machine's query language, not their state's.
    let nested = nested(found, s, loc, at.machine_jsonata, type_text, checks);
    if schema_rest {
        for (field, need_next) in [("Retry", false), ("Catch", true)] {
            let Some(list) = s.get(field) else { continue };
            let Some(list) = list.as_array() else {
                found.schema(msg::expected("an array"), format!("{loc}/{field}"));
                continue;
            };
            for (i, r) in list.iter().enumerate() {
                let rl = format!("{loc}/{field}[{i}]");
                schema::handler(found, r, &rl, field, i + 1 == list.len(), need_next);
            }
        }
    }
    if !checks.build {
        return None;
    }
    let kind = match (head, type_text) {
        (Some(kind), _) => kind,
        (None, "Parallel") => Kind::Parallel {
            branches: nested.branches,
        },
        (None, _) => Kind::Map(Box::new(MapSpec {
            processor: nested.processor?,
            items_path: found.built(fields::path_field(s, "ItemsPath"))?,
            items: s.get("Items").cloned(),
            item_selector: s.get("ItemSelector").cloned().or_else(|| parameters.take()),
            max_concurrency: found.built(fields::count(s, "MaxConcurrency"))?,
            tolerated_count: found.built(fields::count(s, "ToleratedFailureCount"))?,
            tolerated_percentage: found.built(fields::count(s, "ToleratedFailurePercentage"))?,
            item_reader: s.get("ItemReader").cloned(),
            item_batcher: s.get("ItemBatcher").cloned(),
            distributed: distributed(s, at.machine_jsonata),
        })),
    };
    let input_path = found.built(fields::path_field(s, "InputPath"));
    let output_path = found.built(fields::path_field(s, "OutputPath"));
    let result_path = found.built(fields::path_field(s, "ResultPath"));
    let retry = handlers(found, s, "Retry", fields::retrier);
    let catch = handlers(found, s, "Catch", fields::catcher);
    Some(State {
        name: name.to_owned(),
        type_name: type_name?,
        kind,
        transition,
        input_path: input_path?,
        output_path: output_path?,
        result_path: result_path?,
        parameters,
        result_selector: s.get("ResultSelector").cloned(),
        retry: retry?,
        catch: catch?,
        jsonata,
        assign: s.get("Assign").cloned(),
        output: s.get("Output").cloned(),
        arguments: s.get("Arguments").cloned(),
        needs_context: fields::reads_context(&body.to_string()),
    })
}

/// The typed kind of every state but Parallel and Map (`None` for those: they need their
/// nested machines first), recording what cannot be built.
fn kind_head(
    found: &mut Findings,
    s: &Map<String, Value>,
    type_text: &str,
    jsonata: bool,
    rules: Vec<Result<ChoiceRule, String>>,
) -> Option<Kind> {
    Some(match type_text {
        "Pass" => Kind::Pass {
            result: s.get("Result").cloned(),
        },
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: found.built(str_field(s, "Error")).flatten(),
            error_path: found.built(str_field(s, "ErrorPath")).flatten(),
            cause: found.built(str_field(s, "Cause")).flatten(),
            cause_path: found.built(str_field(s, "CausePath")).flatten(),
        },
        "Choice" => {
            let rules = match s.get("Choices") {
                Some(Value::Array(_)) => rules.into_iter().collect(),
                _ => Err(msg::not_an_array("Choices")),
            };
            Kind::Choice {
                rules: found.built(rules).unwrap_or_default(),
                default: found.built(str_field(s, "Default")).flatten(),
            }
        }
        "Wait" => match found.built(fields::wait_for(s, jsonata)) {
            Some(w) => Kind::Wait(w),
            None => Kind::Unsupported,
        },
        "Task" => {
            let resource_text = found
                .built(str_field(s, "Resource"))
                .flatten()
                .unwrap_or_default();
            let resource = TaskResource::parse(&resource_text);
            Kind::Task(TaskSpec {
                wait_for_token: matches!(
                    resource,
                    TaskResource::LambdaInvoke
                        | TaskResource::StartExecution(_)
                        | TaskResource::Service { .. }
                ) && resource_text.ends_with(super::WAIT_FOR_TASK_TOKEN),
                resource,
                resource_text,
                timeout: found
                    .built(fields::seconds(s, "TimeoutSeconds", "TimeoutSecondsPath"))
                    .flatten(),
                heartbeat: found
                    .built(fields::seconds(
                        s,
                        "HeartbeatSeconds",
                        "HeartbeatSecondsPath",
                    ))
                    .flatten(),
            })
        }
        "Parallel" | "Map" => return None,
        _ => Kind::Unsupported,
    })
}

/// The machines a state holds, walked in document order: each `Branches` entry, then
/// `ItemProcessor`, then `Iterator` (see the module docs for which get which checks).
struct Nested {
    branches: Vec<Definition>,
    processor: Option<Definition>,
}

fn nested(
    found: &mut Findings,
    s: &Map<String, Value>,
    loc: &str,
    jsonata: bool,
    type_text: &str,
    checks: Checks,
) -> Nested {
    let mut out = Nested {
        branches: Vec::new(),
        processor: None,
    };
    let parallel = type_text == "Parallel";
    match s.get("Branches").and_then(Value::as_array) {
        Some(list) => {
            if parallel && list.is_empty() && checks.schema {
                found.schema(msg::value_empty(), format!("{loc}/Branches"));
            }
            for (i, b) in list.iter().enumerate() {
                let at = format!("{loc}/Branches[{i}]");
                if let Some(d) = nested_machine(found, b, &at, jsonata, checks.only(parallel)) {
                    out.branches.push(d);
                }
            }
        }
        None if parallel => {
            if checks.schema {
                found.require(s, &["Branches"], loc);
            }
            if checks.build {
                found.unusable(msg::parallel_without_branches());
            }
        }
        None => {}
    }
    let map = type_text == "Map";
    let processor = ["ItemProcessor", "Iterator"]
        .into_iter()
        .find(|f| s.contains_key(*f));
    if map && processor.is_none() {
        if checks.schema {
            found.require(s, &["ItemProcessor"], loc);
        }
        if checks.build {
            found.unusable(msg::map_without_processor());
        }
    }
    for field in ["ItemProcessor", "Iterator"] {
        let Some(p) = s.get(field) else { continue };
        let applies = map && processor == Some(field);
        let at = format!("{loc}/{field}");
        if applies && p.get("QueryLanguage").is_some() {
            found.language(msg::processor_query_language(), &at);
        }
        let d = nested_machine(found, p, &at, jsonata, checks.only(applies));
        if applies {
            out.processor = d;
        }
    }
    out
}

fn nested_machine(
    found: &mut Findings,
    v: &Value,
    at: &str,
    jsonata: bool,
    checks: Checks,
) -> Option<Definition> {
    match v.as_object() {
        Some(m) => machine(found, m, at, jsonata, checks),
        None => {
            if checks.schema {
                found.schema(msg::expected("an object"), at);
            }
            if checks.build {
                found.unusable(msg::not_an_object("The definition"));
            }
            None
        }
    }
}

/// `Retry` or `Catch`, each entry read with `read`.
fn handlers<T>(
    found: &mut Findings,
    s: &Map<String, Value>,
    field: &str,
    read: fn(&Value) -> Result<T, String>,
) -> Option<Vec<T>> {
    let Some(list) = s.get(field) else {
        return Some(Vec::new());
    };
    let Some(list) = list.as_array() else {
        found.unusable(msg::not_an_array(field));
        return None;
    };
    let mut out = Vec::with_capacity(list.len());
    for entry in list {
        out.push(found.built(read(entry))?);
    }
    Some(out)
}

/// The Distributed Map part of a Map state, when its processor runs in that mode.
fn distributed(s: &Map<String, Value>, jsonata: bool) -> Option<Distributed> {
    let processor = s
        .get("ItemProcessor")
        .or_else(|| s.get("Iterator"))?
        .as_object()?;
    let config = processor.get("ProcessorConfig")?;
    if config.get("Mode").and_then(Value::as_str) != Some("DISTRIBUTED") {
        return None;
    }
    let mut machine = processor.clone();
    machine.remove("ProcessorConfig");
    if jsonata && !machine.contains_key("QueryLanguage") {
        machine.insert("QueryLanguage".into(), Value::String("JSONata".into()));
    }
    Some(Distributed {
        express: config.get("ExecutionType").and_then(Value::as_str) == Some("EXPRESS"),
        label: s.get("Label").and_then(Value::as_str).map(str::to_owned),
        result_writer: s.get("ResultWriter").cloned(),
        processor_text: Value::Object(machine).to_string(),
    })
}

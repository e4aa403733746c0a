//! The typed form of a definition, built once per revision from JSON that passed
//! [`super::validate`]. Building never panics: a shape the interpreter cannot use is an `Err`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::expr::choice::{self, ChoiceRule};
use super::task::{self, Catcher, Retrier, TaskResource};
use super::timestamp;

/// A parsed state machine.
#[derive(Debug)]
pub struct Definition {
    pub start_at: String,
    pub states: HashMap<String, State>,
    /// The execution's own deadline (`TimeoutSeconds` at the top level).
    pub timeout_seconds: Option<u64>,
    /// `QueryLanguage: JSONata` at the top: the default of every state inside.
    pub jsonata: bool,
}

/// Where a state goes when it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

/// A path-valued field: absent (the default applies), JSON `null`, or a path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PathField {
    #[default]
    Absent,
    Null,
    Path(String),
}

impl PathField {
    fn from_json(v: Option<&Value>) -> Result<Self, String> {
        match v {
            None => Ok(Self::Absent),
            Some(Value::Null) => Ok(Self::Null),
            Some(Value::String(s)) => Ok(Self::Path(s.clone())),
            Some(other) => Err(format!("expected a path string, found {other}")),
        }
    }
}

/// One state of the machine.
#[derive(Debug)]
pub struct State {
    pub name: String,
    /// The `Type` field as written (`Pass`, `Wait`, ...), used in history event names.
    pub type_name: String,
    pub kind: Kind,
    /// `None` for Choice, Succeed and Fail, which do not use Next/End.
    pub transition: Option<Transition>,
    pub input_path: PathField,
    pub output_path: PathField,
    pub result_path: PathField,
    pub parameters: Option<Value>,
    pub result_selector: Option<Value>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// The state's query language is JSONata (its own `QueryLanguage`, or the machine's).
    pub jsonata: bool,
    /// `Assign`: variables to set when the state completes.
    pub assign: Option<Value>,
    /// JSONata `Output`.
    pub output: Option<Value>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// Whether anything in the state can read the context object (`$$`, `$states` as a
    /// whole or its `context`, or an intrinsic seeded by it); when not, the interpreter does
    /// not build it.
    pub needs_context: bool,
}

/// A count given as a number, a JSONPath, or a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    Fixed(f64),
    Path(String),
    Expr(String),
}

/// The Map-specific fields.
#[derive(Debug)]
pub struct MapSpec {
    /// `ItemProcessor` (or the older `Iterator`).
    pub processor: Definition,
    pub items_path: PathField,
    /// JSONata `Items`: an array or an expression.
    pub items: Option<Value>,
    /// `ItemSelector` (or the older `Parameters`).
    pub item_selector: Option<Value>,
    pub max_concurrency: Option<Count>,
    pub tolerated_count: Option<Count>,
    pub tolerated_percentage: Option<Count>,
}

/// A duration given as a number of seconds or as a path to one.
#[derive(Debug, Clone, PartialEq)]
pub enum Seconds {
    Fixed(u64),
    Path(String),
    /// A JSONata expression.
    Expr(String),
}

/// The Task-specific fields.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub resource: TaskResource,
    /// The `Resource` text as written.
    pub resource_text: String,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
}

/// What a Wait state waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(String),
    /// UTC milliseconds.
    Timestamp(i64),
    TimestampPath(String),
    /// JSONata `Seconds` / `Timestamp` given as an expression.
    SecondsExpr(String),
    TimestampExpr(String),
}

/// The type-specific part of a state.
#[derive(Debug)]
pub enum Kind {
    Pass {
        result: Option<Value>,
    },
    Succeed,
    Fail {
        error: Option<String>,
        error_path: Option<String>,
        cause: Option<String>,
        cause_path: Option<String>,
    },
    Choice {
        rules: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Task(TaskSpec),
    Parallel {
        branches: Vec<Definition>,
    },
    Map(Box<MapSpec>),
    /// A state type this build cannot run yet; the definition is still accepted.
    Unsupported,
}

impl Definition {
    /// Build from a definition that passed validation.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Self::from_json(&v)
    }

    pub fn from_json(v: &Value) -> Result<Self, String> {
        Self::nested(v, false)
    }

    /// Build a machine, a Parallel branch or a Map processor; `jsonata` is the language its
    /// states default to.
    fn nested(v: &Value, jsonata: bool) -> Result<Self, String> {
        let top = v.as_object().ok_or("definition is not an object")?;
        let jsonata = match top.get("QueryLanguage").and_then(Value::as_str) {
            Some(q) => q == "JSONata",
            None => jsonata,
        };
        let start_at = str_field(top, "StartAt")?.ok_or("StartAt is missing")?;
        let states_json = top
            .get("States")
            .and_then(Value::as_object)
            .ok_or("States is missing")?;
        let mut states = HashMap::with_capacity(states_json.len());
        for (name, body) in states_json {
            states.insert(name.clone(), State::from_json(name, body, jsonata)?);
        }
        let timeout_seconds = top.get("TimeoutSeconds").and_then(Value::as_u64);
        if !states.contains_key(&start_at) {
            return Err(format!("StartAt '{start_at}' names no state"));
        }
        Ok(Self {
            start_at,
            states,
            timeout_seconds,
            jsonata,
        })
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.get(name)
    }
}

impl State {
    fn from_json(name: &str, v: &Value, machine_jsonata: bool) -> Result<Self, String> {
        let m = v
            .as_object()
            .ok_or_else(|| format!("state {name} is not an object"))?;
        let jsonata = match m.get("QueryLanguage").and_then(Value::as_str) {
            Some(q) => q == "JSONata",
            None => machine_jsonata,
        };
        let mut parameters = m.get("Parameters").cloned();
        let type_name = str_field(m, "Type")?.ok_or_else(|| format!("state {name} has no Type"))?;
        let transition = match (str_field(m, "Next")?, m.get("End").and_then(Value::as_bool)) {
            (Some(next), _) => Some(Transition::Next(next)),
            (None, Some(true)) => Some(Transition::End),
            _ => None,
        };
        let kind = match type_name.as_str() {
            "Pass" => Kind::Pass {
                result: m.get("Result").cloned(),
            },
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail {
                error: str_field(m, "Error")?,
                error_path: str_field(m, "ErrorPath")?,
                cause: str_field(m, "Cause")?,
                cause_path: str_field(m, "CausePath")?,
            },
            "Choice" => Kind::Choice {
                rules: choice::parse_choices(m.get("Choices").unwrap_or(&Value::Null))?,
                default: str_field(m, "Default")?,
            },
            "Wait" => Kind::Wait(wait_for(m, jsonata)?),
            "Task" => {
                let resource_text = str_field(m, "Resource")?.unwrap_or_default();
                Kind::Task(TaskSpec {
                    resource: TaskResource::parse(&resource_text),
                    resource_text,
                    timeout: seconds(m, "TimeoutSeconds", "TimeoutSecondsPath")?,
                    heartbeat: seconds(m, "HeartbeatSeconds", "HeartbeatSecondsPath")?,
                })
            }
            "Parallel" => Kind::Parallel {
                branches: m
                    .get("Branches")
                    .and_then(Value::as_array)
                    .ok_or("Parallel needs Branches")?
                    .iter()
                    .map(|b| Definition::nested(b, jsonata))
                    .collect::<Result<_, _>>()?,
            },
            "Map" => {
                let processor = m
                    .get("ItemProcessor")
                    .or_else(|| m.get("Iterator"))
                    .ok_or("Map needs an ItemProcessor")?;
                Kind::Map(Box::new(MapSpec {
                    processor: Definition::nested(processor, jsonata)?,
                    items_path: PathField::from_json(m.get("ItemsPath"))?,
                    items: m.get("Items").cloned(),
                    item_selector: m.get("ItemSelector").cloned().or_else(|| parameters.take()),
                    max_concurrency: count(m, "MaxConcurrency")?,
                    tolerated_count: count(m, "ToleratedFailureCount")?,
                    tolerated_percentage: count(m, "ToleratedFailurePercentage")?,
                }))
            }
            _ => Kind::Unsupported,
        };
        Ok(Self {
            name: name.to_owned(),
            type_name,
            kind,
            transition,
            input_path: PathField::from_json(m.get("InputPath"))?,
            output_path: PathField::from_json(m.get("OutputPath"))?,
            result_path: PathField::from_json(m.get("ResultPath"))?,
            parameters,
            result_selector: m.get("ResultSelector").cloned(),
            retry: task::parse_retry(m.get("Retry"))?,
            catch: task::parse_catch(m.get("Catch"))?,
            jsonata,
            assign: m.get("Assign").cloned(),
            output: m.get("Output").cloned(),
            arguments: m.get("Arguments").cloned(),
            needs_context: reads_context(&v.to_string()),
        })
    }
}

/// Conservative: true when the state's text could read the context object.
fn reads_context(text: &str) -> bool {
    if text.contains("$$") || text.contains("States.UUID") || text.contains("States.MathRandom") {
        return true;
    }
    // JSONata reads it through `$states.context`, or through `$states` as a whole.
    text.match_indices("$states").any(|(i, m)| {
        let rest = &text[i + m.len()..];
        !(rest.starts_with(".input")
            || rest.starts_with(".result")
            || rest.starts_with(".errorOutput"))
    })
}

fn wait_for(m: &Map<String, Value>, jsonata: bool) -> Result<WaitFor, String> {
    if jsonata {
        if let Some(Value::String(e)) = m.get("Seconds") {
            return Ok(WaitFor::SecondsExpr(e.clone()));
        }
        if let Some(Value::String(e)) = m.get("Timestamp") {
            if super::expr::jsonata::expression(e).is_some() {
                return Ok(WaitFor::TimestampExpr(e.clone()));
            }
        }
    }
    if let Some(s) = m.get("Seconds") {
        return s
            .as_u64()
            .map(WaitFor::Seconds)
            .ok_or_else(|| "Seconds must be a non-negative integer".to_owned());
    }
    if let Some(p) = str_field(m, "SecondsPath")? {
        return Ok(WaitFor::SecondsPath(p));
    }
    if let Some(t) = str_field(m, "Timestamp")? {
        return timestamp::parse_rfc3339_ms(&t)
            .map(WaitFor::Timestamp)
            .ok_or_else(|| "Timestamp is not RFC 3339".to_owned());
    }
    if let Some(p) = str_field(m, "TimestampPath")? {
        return Ok(WaitFor::TimestampPath(p));
    }
    Err("Wait needs Seconds, SecondsPath, Timestamp or TimestampPath".to_owned())
}

fn count(m: &Map<String, Value>, key: &str) -> Result<Option<Count>, String> {
    if let Some(v) = m.get(key) {
        return match v {
            Value::Number(n) => Ok(Some(Count::Fixed(n.as_f64().unwrap_or(0.0)))),
            Value::String(e) => Ok(Some(Count::Expr(e.clone()))),
            _ => Err(format!("{key} must be a number")),
        };
    }
    Ok(str_field(m, &format!("{key}Path"))?.map(Count::Path))
}

fn seconds(m: &Map<String, Value>, fixed: &str, path: &str) -> Result<Option<Seconds>, String> {
    if let Some(Value::String(e)) = m.get(fixed) {
        return Ok(Some(Seconds::Expr(e.clone())));
    }
    if let Some(v) = m.get(fixed) {
        return v
            .as_u64()
            .map(|n| Some(Seconds::Fixed(n)))
            .ok_or_else(|| format!("{fixed} must be a positive integer"));
    }
    Ok(str_field(m, path)?.map(Seconds::Path))
}

fn str_field(m: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} must be a string, found {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::reads_context;

    #[test]
    fn a_state_reads_the_context_when_its_text_can() {
        let cases = [
            (r#"{"Type":"Pass","End":true}"#, false),
            (r#"{"Parameters":{"x.$":"$.a"}}"#, false),
            (r#"{"Parameters":{"x.$":"$$.Execution.Id"}}"#, true),
            (r#"{"Parameters":{"x.$":"States.UUID()"}}"#, true),
            (r#"{"Parameters":{"x.$":"States.MathRandom(1, 9)"}}"#, true),
            (r#"{"Output":"{% $states.input.a %}"}"#, false),
            (r#"{"Output":"{% $states.result %}"}"#, false),
            (r#"{"Output":"{% $states.context.Execution.Id %}"}"#, true),
            (r#"{"Output":"{% $states %}"}"#, true),
            (r#"{"Output":"{% $keys($states) %}"}"#, true),
        ];
        for (text, want) in cases {
            assert_eq!(reads_context(text), want, "{text}");
        }
    }
}

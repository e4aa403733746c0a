//! JSONata's data flow: `Arguments` → the state's work → `Output`, each a template of
//! `{% %}` expressions over `$states`; `Assign` sees `$states.result` (or
//! `$states.errorOutput` in a Catch).

use serde_json::{Map, Value};

use super::{Flow, Io};
use crate::asl::catalogue;
use crate::asl::definition::{Catcher, MapSpec, Seconds};
use crate::asl::errors::StatesError;
use crate::asl::expr::choice::{self, ChoiceRule};
use crate::asl::expr::jsonata::{self, expression};
use crate::asl::run::context;
use crate::asl::run::outcome::Exit;

pub struct Jsonata;

impl Flow for Jsonata {
    fn input(&self, io: &Io<'_>) -> Result<Value, StatesError> {
        Ok(io.raw.clone())
    }

    fn arguments(&self, io: &Io<'_>) -> Result<Value, StatesError> {
        match &io.state.arguments {
            Some(a) => io.jsonata(a, "Arguments", None, None),
            None => Ok(io.raw.clone()),
        }
    }

    fn output(&self, io: &Io<'_>, template: Option<&Value>) -> Result<Value, StatesError> {
        match template {
            Some(o) => io.jsonata(o, "Output", None, None),
            None => Ok(io.raw.clone()),
        }
    }

    fn assign(
        &self,
        io: &Io<'_>,
        template: Option<&Value>,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Map<String, Value>, StatesError> {
        let Some(t) = template else {
            return Ok(Map::new());
        };
        match io.jsonata(t, "Assign", result, error_output)? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }

    fn pass(&self, io: &Io<'_>, _result: Option<&Value>) -> Result<Exit, StatesError> {
        exit(self, io, None, io.raw.clone())
    }

    fn waited(&self, io: &Io<'_>) -> Result<Exit, StatesError> {
        exit(self, io, None, io.raw.clone())
    }

    fn settle(&self, io: &Io<'_>, result: Value) -> Result<Exit, StatesError> {
        exit(self, io, Some(&result), result.clone())
    }

    fn caught(
        &self,
        io: &Io<'_>,
        catcher: &Catcher,
        error_output: &Value,
    ) -> Result<Value, StatesError> {
        match &catcher.output {
            Some(o) => io.jsonata(o, "Output", None, Some(error_output)),
            None => Ok(error_output.clone()),
        }
    }

    fn choose<'r>(
        &self,
        io: &Io<'_>,
        rules: &'r [ChoiceRule],
    ) -> Result<Option<&'r ChoiceRule>, StatesError> {
        let states = context::states(&io.raw, &io.context, None, None);
        choice::first_true(rules, &io.bindings(&states))
    }

    fn items(&self, io: &Io<'_>, spec: &MapSpec) -> Result<Vec<Value>, StatesError> {
        let items = match &spec.items {
            Some(Value::String(s)) if expression(s).is_some() => {
                let expr = expression(s).unwrap_or_default();
                let states = context::states(&io.raw, &io.context, None, None);
                let v = jsonata::evaluate_field(expr, "Items", &io.bindings(&states))?;
                if !v.is_array() {
                    return Err(jsonata::unexpected_type(expr, "Items", "array", &v));
                }
                v
            }
            Some(literal) => io.jsonata(literal, "Items", None, None)?,
            None => io.raw.clone(),
        };
        match items {
            Value::Array(items) => Ok(items),
            other => Err(catalogue::map_input_not_array(&other, true)),
        }
    }

    fn select_item(
        &self,
        io: &Io<'_>,
        selector: &Value,
        context: &Value,
    ) -> Result<Value, StatesError> {
        io.jsonata_in(context, selector, "ItemSelector", None, None)
    }

    fn text(
        &self,
        io: &Io<'_>,
        written: Option<&String>,
        field: &str,
    ) -> Result<Option<String>, StatesError> {
        match written {
            Some(s) if expression(s).is_some() => {
                let v = io.jsonata(&Value::String(s.clone()), field, None, None)?;
                Ok(Some(
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                ))
            }
            other => Ok(other.cloned()),
        }
    }

    fn seconds(
        &self,
        io: &Io<'_>,
        spec: Option<&Seconds>,
        name: &str,
    ) -> Result<Option<u64>, StatesError> {
        match spec {
            None | Some(Seconds::Path(_)) => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n)),
            Some(Seconds::Expr(e)) => {
                let v = io.jsonata(&Value::String(e.clone()), name, None, None)?;
                match v.as_u64() {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(catalogue::jsonata_not_positive(name, &v)),
                }
            }
        }
    }
}

/// `Output` (or `default` without one) and `Assign`, both seeing `result` when there is one.
fn exit(
    flow: &Jsonata,
    io: &Io<'_>,
    result: Option<&Value>,
    default: Value,
) -> Result<Exit, StatesError> {
    let output = match &io.state.output {
        Some(o) => io.jsonata(o, "Output", result, None)?,
        None => default,
    };
    let assigned = flow.assign(io, io.state.assign.as_ref(), result, None)?;
    Ok(Exit { output, assigned })
}

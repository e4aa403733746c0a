//! JSONPath's data flow: `InputPath` → `Parameters` → the state's work → `ResultSelector` →
//! `ResultPath` → `OutputPath`, with `Assign` reading the result as `$`.

use serde_json::{Map, Value};

use super::{Flow, Io};
use crate::asl::catalogue;
use crate::asl::definition::{Catcher, MapSpec, PathField, Seconds};
use crate::asl::errors::StatesError;
use crate::asl::expr::choice::{self, ChoiceRule};
use crate::asl::expr::{path, template, Scope};
use crate::asl::run::outcome::Exit;

pub struct JsonPath;

impl Flow for JsonPath {
    fn input(&self, io: &Io<'_>) -> Result<Value, StatesError> {
        select(io, &io.state.input_path, &io.raw)
    }

    fn arguments(&self, io: &Io<'_>) -> Result<Value, StatesError> {
        let effective = io.input()?;
        match &io.state.parameters {
            Some(t) => template::render(t, &with_input(io, effective)),
            None => Ok(effective.clone()),
        }
    }

    fn output(&self, io: &Io<'_>, _template: Option<&Value>) -> Result<Value, StatesError> {
        select(io, &io.state.output_path, io.input()?)
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
        let input = result.or(error_output).unwrap_or(&io.raw);
        match template::render(t, &with_input(io, input))? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }

    fn pass(&self, io: &Io<'_>, result: Option<&Value>) -> Result<Exit, StatesError> {
        let arguments = self.arguments(io)?;
        let result = result.cloned().unwrap_or(arguments);
        placed(self, io, result)
    }

    fn waited(&self, io: &Io<'_>) -> Result<Exit, StatesError> {
        let effective = io.input()?;
        let assigned = self.assign(io, io.state.assign.as_ref(), Some(effective), None)?;
        let output = select(io, &io.state.output_path, effective)?;
        Ok(Exit { output, assigned })
    }

    fn settle(&self, io: &Io<'_>, result: Value) -> Result<Exit, StatesError> {
        let result = match &io.state.result_selector {
            Some(selector) => template::render(selector, &with_input(io, &result))?,
            None => result,
        };
        placed(self, io, result)
    }

    fn caught(
        &self,
        io: &Io<'_>,
        catcher: &Catcher,
        error_output: &Value,
    ) -> Result<Value, StatesError> {
        match &catcher.result_path {
            None => Ok(error_output.clone()),
            Some(None) => Ok(io.raw.clone()),
            Some(Some(p)) => path::apply_result_path(io.raw.clone(), Some(p), error_output.clone()),
        }
    }

    fn choose<'r>(
        &self,
        io: &Io<'_>,
        rules: &'r [ChoiceRule],
    ) -> Result<Option<&'r ChoiceRule>, StatesError> {
        choice::first_match(rules, &with_input(io, io.input()?))
    }

    fn items(&self, io: &Io<'_>, spec: &MapSpec) -> Result<Vec<Value>, StatesError> {
        match select(io, &spec.items_path, io.input()?)? {
            Value::Array(items) => Ok(items),
            other => Err(catalogue::map_input_not_array(&other, false)),
        }
    }

    fn select_item(
        &self,
        io: &Io<'_>,
        selector: &Value,
        context: &Value,
    ) -> Result<Value, StatesError> {
        template::render(
            selector,
            &Scope {
                input: io.input()?,
                context,
                variables: &io.vars,
            },
        )
    }

    fn text(
        &self,
        _io: &Io<'_>,
        written: Option<&String>,
        _field: &str,
    ) -> Result<Option<String>, StatesError> {
        Ok(written.cloned())
    }

    fn seconds(
        &self,
        io: &Io<'_>,
        spec: Option<&Seconds>,
        name: &str,
    ) -> Result<Option<u64>, StatesError> {
        let field = format!("{name}Path");
        match spec {
            None => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n)),
            Some(Seconds::Expr(e)) => Err(catalogue::seconds_expr_in_jsonpath(&field, e)),
            Some(Seconds::Path(p)) => {
                let v = io.query(p, io.input()?)?;
                match v.as_u64() {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(catalogue::seconds_path_not_positive(&field, &v, p)),
                }
            }
        }
    }
}

/// The result through ResultSelector (when `select`), then through ResultPath.
pub(super) fn stages(
    io: &Io<'_>,
    result: Value,
    select: bool,
) -> Result<Map<String, Value>, StatesError> {
    let selected = match (&io.state.result_selector, select) {
        (Some(selector), true) => template::render(selector, &with_input(io, &result))?,
        _ => result,
    };
    let placed = with_result(io, selected.clone())?;
    let mut m = Map::new();
    m.insert("afterResultSelector".into(), selected);
    m.insert("afterResultPath".into(), placed);
    Ok(m)
}

/// Assign (`$` is the result), then ResultPath and OutputPath.
fn placed(flow: &JsonPath, io: &Io<'_>, result: Value) -> Result<Exit, StatesError> {
    let assigned = flow.assign(io, io.state.assign.as_ref(), Some(&result), None)?;
    let output = select(io, &io.state.output_path, &with_result(io, result)?)?;
    Ok(Exit { output, assigned })
}

/// ResultPath: the raw input with `result` placed in it (or instead of it).
fn with_result(io: &Io<'_>, result: Value) -> Result<Value, StatesError> {
    match &io.state.result_path {
        PathField::Absent => Ok(result),
        PathField::Null => Ok(io.raw.clone()),
        PathField::Path(p) => path::apply_result_path(io.raw.clone(), Some(p), result),
    }
}

/// InputPath-style selection from `value`: absent → all of it, null → `{}`, else the path's
/// value.
fn select(io: &Io<'_>, field: &PathField, value: &Value) -> Result<Value, StatesError> {
    match field {
        PathField::Absent => Ok(value.clone()),
        PathField::Null => Ok(Value::Object(Map::new())),
        PathField::Path(p) => io.query(p, value),
    }
}

/// The state's scope with `input` in place of its raw input.
fn with_input<'s>(io: &'s Io<'_>, input: &'s Value) -> Scope<'s> {
    Scope {
        input,
        ..io.scope()
    }
}

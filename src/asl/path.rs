//! Placeholder until the JSONPath module lands.
use super::errors::StatesError;
use super::scope::Scope;
use serde_json::Value;
#[derive(Debug)]
pub struct PathError {
    pub path: String,
}
pub fn query(path: &str, scope: &Scope<'_>) -> Result<Value, PathError> {
    let (root, p) = if let Some(rest) = path.strip_prefix("$$") {
        (scope.context, format!("${rest}"))
    } else {
        (scope.input, path.to_owned())
    };
    let jp = serde_json_path::JsonPath::parse(&p).map_err(|_| PathError { path: path.into() })?;
    jp.query(root)
        .exactly_one()
        .cloned()
        .map_err(|_| PathError { path: path.into() })
}
pub fn apply_result_path(
    _input: Value,
    _p: Option<&str>,
    result: Value,
) -> Result<Value, StatesError> {
    Ok(result)
}
pub fn render_template(t: &Value, _scope: &Scope<'_>) -> Result<Value, StatesError> {
    Ok(t.clone())
}

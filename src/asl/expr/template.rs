//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` and JSONPath `Assign`.
//!
//! A template is JSON copied as written, except that a key ending in `.$` takes the value of
//! the path or intrinsic function call it holds, under the key without `.$`:
//!
//! ```text
//! {"id.$": "$.order.id", "greeting.$": "States.Format('Hi {}', $.name)", "fixed": 1}
//!   with input {"order": {"id": 7}, "name": "Ann"}  →  {"id": 7, "greeting": "Hi Ann", "fixed": 1}
//! ```
//!
//! A `.$` value that selects nothing is a `States.Runtime` error naming the field and the input.
//! JSONata templates (`{% %}` strings) are [`super::jsonata::render`]'s, not this module's.

use serde_json::{Map, Value};

use super::{intrinsics, path, Scope};
use crate::asl::catalogue;
use crate::asl::errors::StatesError;

/// Render a payload template against the scope (see the module docs).
pub fn render(template: &Value, scope: &Scope<'_>) -> Result<Value, StatesError> {
    match template {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (key, value) in m {
                match key.strip_suffix(".$") {
                    Some(bare) => {
                        out.insert(bare.to_owned(), dynamic_value(key, value, scope)?);
                    }
                    None => {
                        out.insert(key.clone(), render(value, scope)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| render(v, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// The value of a `key.$` entry: its path or intrinsic function, evaluated.
fn dynamic_value(key: &str, value: &Value, scope: &Scope<'_>) -> Result<Value, StatesError> {
    let Value::String(expr) = value else {
        return Err(catalogue::not_a_path(key));
    };
    if intrinsics::is_intrinsic(expr) {
        return intrinsics::evaluate(expr, scope);
    }
    path::query(expr, scope).map_err(|_| catalogue::path_not_found(expr, key, scope.input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates() {
        let input = json!({"name": "n", "list": [1, 2]});
        let context = json!({"Execution": {"Id": "arn"}});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &context,
            variables: &vars,
        };
        let t = json!({"fixed": 1, "from.$": "$.name", "nested": {"ctx.$": "$$.Execution.Id", "arr": [{"l.$": "$.list[0]"}]}});
        assert_eq!(
            render(&t, &scope).expect("render"),
            json!({"fixed": 1, "from": "n", "nested": {"ctx": "arn", "arr": [{"l": 1}]}})
        );
        let err = render(&json!({"x.$": "$.missing"}), &scope).expect_err("missing");
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause.as_deref(),
            Some("The JSONPath '$.missing' specified for the field 'x.$' could not be found in the input '{\"name\":\"n\",\"list\":[1,2]}'")
        );
    }
}

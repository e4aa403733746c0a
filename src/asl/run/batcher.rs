//! A Map's `ItemBatcher`: its items grouped into batches, each iteration's input being
//! `{"BatchInput", "Items"}`.

use serde_json::{Map, Value};

use super::io::Io;
use crate::asl::errors::StatesError;

/// A Map's items in batches (`ItemBatcher`): at most `MaxItemsPerBatch` (or its path) items
/// and `MaxInputBytesPerBatch` bytes each, with `BatchInput` beside them.
pub(super) fn batches(
    io: &Io<'_>,
    batcher: &Value,
    items: Vec<Value>,
) -> Result<Vec<Value>, StatesError> {
    let number = |field: &str| -> Result<Option<u64>, StatesError> {
        if let Some(n) = batcher.get(field).and_then(Value::as_u64) {
            return Ok(Some(n));
        }
        match batcher.get(format!("{field}Path")).and_then(Value::as_str) {
            Some(p) => Ok(io.query(p, io.input()?)?.as_u64()),
            None => Ok(None),
        }
    };
    let per_batch = number("MaxItemsPerBatch")?.filter(|n| *n > 0);
    let max_bytes = number("MaxInputBytesPerBatch")?.filter(|n| *n > 0);
    let batch_input = match batcher.get("BatchInput") {
        None => None,
        Some(t) if io.state.jsonata => Some(io.jsonata(t, "BatchInput", None, None)?),
        Some(t) => Some(io.select_item(t, &io.context)?),
    };
    let wrap = |items: Vec<Value>| {
        let mut batch = Map::new();
        if let Some(b) = &batch_input {
            batch.insert("BatchInput".into(), b.clone());
        }
        batch.insert("Items".into(), Value::Array(items));
        Value::Object(batch)
    };
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = 0usize;
    for item in items {
        let size = item.to_string().len();
        let full_count = per_batch.is_some_and(|n| current.len() as u64 >= n);
        let full_bytes =
            max_bytes.is_some_and(|m| !current.is_empty() && (bytes + size) as u64 > m);
        if full_count || full_bytes {
            out.push(wrap(std::mem::take(&mut current)));
            bytes = 0;
        }
        bytes += size;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(wrap(current));
    }
    Ok(out)
}

//! Placeholder until the intrinsics module lands.
use super::errors::StatesError;
use super::scope::Scope;
use serde_json::Value;
pub fn is_intrinsic(s: &str) -> bool {
    s.starts_with("States.")
}
pub fn evaluate(_expr: &str, _scope: &Scope<'_>) -> Result<Value, StatesError> {
    Err(StatesError::intrinsic("unsupported"))
}

//! Placeholder until the Choice module lands.
use super::errors::StatesError;
use super::scope::Scope;
use serde_json::Value;
#[derive(Debug)]
pub struct ChoiceRule {
    next: String,
}
pub fn parse_choices(choices: &Value) -> Result<Vec<ChoiceRule>, String> {
    Ok(choices
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| ChoiceRule {
                    next: c["Next"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default())
}
impl ChoiceRule {
    pub fn next(&self) -> &str {
        &self.next
    }
}
pub fn choose<'r>(
    _rules: &'r [ChoiceRule],
    default: Option<&'r str>,
    _scope: &Scope<'_>,
) -> Result<&'r str, StatesError> {
    default.ok_or_else(|| StatesError::new("States.NoChoiceMatched", "none"))
}

//! Placeholder until the validation module lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub location: String,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}
impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}
pub fn validate_definition(text: &str) -> Vec<Diagnostic> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(_) => vec![],
        Err(e) => vec![Diagnostic {
            severity: Severity::Error,
            code: "INVALID_JSON_DESCRIPTION".into(),
            message: e.to_string(),
            location: String::new(),
        }],
    }
}
pub fn invalid_definition_message(diags: &[Diagnostic]) -> String {
    let inner: Vec<String> = diags
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    format!("Invalid State Machine Definition: '{}'", inner.join(", "))
}

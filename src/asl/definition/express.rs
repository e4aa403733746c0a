//! What an Express state machine may not contain: activities and the integration patterns
//! that wait (`.sync`, `.waitForTaskToken`), which AWS refuses at creation.

use serde_json::Value;

use super::diagnostics::{Diagnostic, Severity};
use crate::asl::catalogue::definition as msg;

/// The diagnostics of a definition (already valid for a Standard machine) as an Express one.
pub fn express_diagnostics(text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Ok(def) = serde_json::from_str::<Value>(text) {
        states(&def, "", &mut out);
    }
    out
}

fn states(def: &Value, at: &str, out: &mut Vec<Diagnostic>) {
    let Some(all) = def.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, s) in all {
        let loc = format!("{at}/States/{name}");
        if let Some(resource) = s.get("Resource").and_then(Value::as_str) {
            if let Some(message) = refused(resource) {
                out.push(Diagnostic {
                    severity: Severity::Error,
                    code: "SCHEMA_VALIDATION_FAILED".into(),
                    message,
                    location: format!("{loc}/Resource"),
                });
            }
        }
        for (i, branch) in s
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            states(branch, &format!("{loc}/Branches[{i}]"), out);
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = s.get(key) {
                states(p, &format!("{loc}/{key}"), out);
            }
        }
    }
}

fn refused(resource: &str) -> Option<String> {
    if resource.starts_with("arn:") && resource.contains(":activity:") {
        return Some(msg::express_activity());
    }
    [".sync", ".sync:2", ".waitForTaskToken"]
        .into_iter()
        .find(|suffix| resource.ends_with(suffix))
        .map(|suffix| {
            let pattern = suffix.split(':').next().unwrap_or(suffix);
            msg::express_pattern(pattern)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_and_waiting_integrations_are_refused_anywhere_in_the_machine() {
        let def = r#"{"StartAt":"A","States":{
            "A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:1:activity:x","Next":"P"},
            "P":{"Type":"Parallel","Branches":[{"StartAt":"S","States":{
                "S":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","End":true}}}],
                "Next":"L"},
            "L":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}"#;
        let found: Vec<(String, String)> = express_diagnostics(def)
            .into_iter()
            .map(|d| (d.message, d.location))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "Express state machine does not support Activity ARN".to_owned(),
                    "/States/A/Resource".to_owned()
                ),
                (
                    "Express state machine does not support '.sync' service integration "
                        .to_owned(),
                    "/States/P/Branches[0]/States/S/Resource".to_owned()
                ),
            ]
        );
    }
}

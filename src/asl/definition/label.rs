//! A Distributed Map's `Label`: at most 40 characters, none of them whitespace, a control
//! character or one of `<>{}[]*?"#%\^|~`$&,;:/`. AWS refuses a machine with a bad one with a
//! message of its own form, quoting the definition:
//! `Error=ValueError Args=["Label contains invalid character: '['"] in definition '…'.`

use crate::asl::catalogue::definition as msg;
use serde_json::Value;

const MAX_CHARS: usize = 40;
const FORBIDDEN: &str = "<>{}[]*?\"#%\\^|~`$&,;:/";

/// What is wrong with the first bad `Label` in `definition` (JSON text), worded as AWS words it.
pub fn label_problem(definition: &str) -> Option<String> {
    let parsed: Value = serde_json::from_str(definition).ok()?;
    let problem = first_problem(&parsed)?;
    Some(format!(
        "Error=ValueError Args=[{}] in definition '{definition}'.",
        py_repr(&problem)
    ))
}

fn first_problem(machine: &Value) -> Option<String> {
    let states = machine.get("States")?.as_object()?;
    for state in states.values() {
        if let Some(label) = state.get("Label").and_then(Value::as_str) {
            if let Some(c) = label.chars().find(|c| bad(*c)) {
                return Some(msg::label_invalid_character(&py_repr(&c.to_string())));
            }
            if label.chars().count() > MAX_CHARS {
                return Some(msg::label_too_long(MAX_CHARS));
            }
        }
        let nested = ["ItemProcessor", "Iterator"]
            .iter()
            .filter_map(|k| state.get(*k))
            .chain(
                state
                    .get("Branches")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        for m in nested {
            if let Some(p) = first_problem(m) {
                return Some(p);
            }
        }
    }
    None
}

fn bad(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || FORBIDDEN.contains(c)
}

/// A string as Python's `repr` writes it (the form AWS's message quotes values in).
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{a0}').contains(&c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(label: &str) -> String {
        serde_json::json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": label,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P",
                              "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}})
        .to_string()
    }

    #[test]
    fn bad_labels_are_named_as_aws_names_them() {
        assert_eq!(label_problem(&machine("fine-label_1")), None);
        let d = machine("label_[");
        assert_eq!(
            label_problem(&d),
            Some(format!(
                "Error=ValueError Args=[\"Label contains invalid character: '['\"] in definition '{d}'."
            ))
        );
        let d = machine("label_\u{1}");
        assert!(label_problem(&d)
            .is_some_and(|m| m.contains(r#"Args=["Label contains invalid character: '\\x01'"]"#)));
        let d = machine("label_\\");
        assert!(label_problem(&d)
            .is_some_and(|m| m.contains(r#"Args=["Label contains invalid character: '\\\\'"]"#)));
        let d = machine(&"1".repeat(41));
        assert!(label_problem(&d)
            .is_some_and(|m| m.contains("Args=['Label cannot exceed 40 characters']")));
    }
}

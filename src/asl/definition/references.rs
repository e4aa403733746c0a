//! `variableReferences` of DescribeStateMachine: for each state that reads variables, their
//! names, sorted. States inside a Map's processor or a Parallel's branches are listed under
//! their own names beside the others; a state that reads none is left out (and a machine whose
//! states read none has no `variableReferences` at all).
//!
//! What counts as a read, as AWS lists them:
//! - JSONPath: a path that starts at a variable (`$name`, `$name.field`) in a path field
//!   (`InputPath`, `OutputPath`, `ItemsPath`, `SecondsPath`, `TimestampPath`, `ErrorPath`,
//!   `CausePath`, a Map's `...Path` counts, `ReaderConfig.MaxItemsPath`, a Choice rule's
//!   `Variable` and `...Path` operands) or as the value of a `.$` member (`Parameters`,
//!   `ResultSelector`, `ItemSelector`, `Assign`, ...), and the variables an intrinsic function
//!   takes as arguments (`States.Format('{}', $name)`). `$.field` and `$$.Context` are not
//!   variables, and a member without `.$` is a literal.
//! - JSONata: a `$name` in a `{% %}` expression that is not `$states`, a function called
//!   (`$not(...)`), or a name the expression binds itself (`$x := ...`, `function($x)`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// The path fields of a state, wherever they are in it.
const PATH_FIELDS: &[&str] = &[
    "InputPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "MaxItemsPath",
    "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatchPath",
    "Variable",
];

/// Members that hold other states: their states are listed on their own.
const NESTED: &[&str] = &["States", "Branches", "ItemProcessor", "Iterator"];

/// The variables each state of `definition` reads; empty when none does (or the text is not
/// a definition).
pub fn variable_references(definition: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    if let Ok(Value::Object(root)) = serde_json::from_str::<Value>(definition) {
        let jsonata = root.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
        states(&root, jsonata, &mut out);
    }
    out
}

/// The states of a machine, a branch or a processor, and the ones nested in them.
fn states(machine: &Map<String, Value>, jsonata: bool, out: &mut BTreeMap<String, Vec<String>>) {
    let Some(Value::Object(members)) = machine.get("States") else {
        return;
    };
    for (name, state) in members {
        let Value::Object(state) = state else {
            continue;
        };
        let jsonata = match state.get("QueryLanguage").and_then(Value::as_str) {
            Some(language) => language == "JSONata",
            None => jsonata,
        };
        let mut found = BTreeSet::new();
        read(state, jsonata, &mut found);
        if !found.is_empty() {
            out.insert(name.clone(), found.into_iter().collect());
        }
        for processor in ["ItemProcessor", "Iterator"] {
            if let Some(Value::Object(p)) = state.get(processor) {
                states(p, jsonata, out);
            }
        }
        if let Some(Value::Array(branches)) = state.get("Branches") {
            for b in branches.iter().filter_map(Value::as_object) {
                states(b, jsonata, out);
            }
        }
    }
}

/// The variables one state's own members read.
fn read(node: &Map<String, Value>, jsonata: bool, found: &mut BTreeSet<String>) {
    for (key, value) in node {
        if NESTED.contains(&key.as_str()) {
            continue;
        }
        match value {
            Value::String(text) if jsonata => jsonata_text(text, found),
            Value::String(text) if key.ends_with(".$") || PATH_FIELDS.contains(&key.as_str()) => {
                path_reads(text, found);
            }
            Value::String(text) if key.ends_with("Path") && is_comparison(key) => {
                path_reads(text, found);
            }
            Value::Object(inner) => read(inner, jsonata, found),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(inner) => read(inner, jsonata, found),
                        Value::String(text) if jsonata => jsonata_text(text, found),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// A JSONata state's text: the variables of its `{% %}` expression, if it is one.
fn jsonata_text(text: &str, found: &mut BTreeSet<String>) {
    if let Some(expr) = text
        .trim()
        .strip_prefix("{%")
        .and_then(|t| t.strip_suffix("%}"))
    {
        jsonata_reads(expr, found);
    }
}

/// A Choice rule's operand given as a path (`StringEqualsPath`, `NumericLessThanPath`, ...).
fn is_comparison(key: &str) -> bool {
    ["String", "Numeric", "Boolean", "Timestamp"]
        .iter()
        .any(|t| key.starts_with(t))
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The name that starts `text` (after its `$`), if it is one.
fn leading_name(text: &str) -> Option<&str> {
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// A JSONPath value: a path from a variable, or an intrinsic function's variable arguments.
fn path_reads(text: &str, found: &mut BTreeSet<String>) {
    let text = text.trim();
    if text.starts_with("States.") {
        scan(text, found, |_, _| true);
    } else if let Some(rest) = text.strip_prefix('$') {
        if let Some(name) = leading_name(rest) {
            found.insert(name.to_owned());
        }
    }
}

/// Every `$name` of `text` outside its quoted strings that `keep` accepts (given the name and
/// the text after it); `$$` and `$.` are not names.
fn scan(text: &str, found: &mut BTreeSet<String>, keep: impl Fn(&str, &str) -> bool) {
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' => {
                let rest = &text[i + 1..];
                if rest.starts_with('$') {
                    chars.next();
                    continue;
                }
                if let Some(name) = leading_name(rest) {
                    let after = &rest[name.len()..];
                    if keep(name, after) {
                        found.insert(name.to_owned());
                    }
                    for _ in 0..name.chars().count() {
                        chars.next();
                    }
                }
            }
            None => {}
        }
    }
}

/// The variables a JSONata expression reads from outside itself.
fn jsonata_reads(expr: &str, found: &mut BTreeSet<String>) {
    let mut bound = BTreeSet::new();
    scan(expr, &mut bound, |_, after| {
        after.trim_start().starts_with(":=")
    });
    // The parameters of the functions it defines.
    let mut rest = expr;
    while let Some(at) = rest.find("function") {
        let after = rest[at + "function".len()..].trim_start();
        if let Some(params) = after
            .strip_prefix('(')
            .and_then(|p| p.split_once(')'))
            .map(|(p, _)| p)
        {
            scan(params, &mut bound, |_, _| true);
        }
        rest = &rest[at + "function".len()..];
    }
    let mut read = BTreeSet::new();
    scan(expr, &mut read, |name, after| {
        name != "states" && !after.trim_start().starts_with('(')
    });
    found.extend(read.into_iter().filter(|n| !bound.contains(n)));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refs(definition: Value) -> Value {
        json!(variable_references(&definition.to_string()))
    }

    #[test]
    fn jsonpath_reads_are_paths_from_variables_in_path_fields_dollar_members_and_intrinsics() {
        let d = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Parameters": {"literal": "$result"},
                  "Assign": {"result": "foobar", "copy.$": "$.input"}, "Next": "B"},
            "B": {"Type": "Pass", "InputPath": "$answer", "OutputPath": "$answer.x",
                  "Parameters": {"r.$": "$result", "f.$": "States.Format('{} $no', $name, $$.Map.Item.Value, $.place)"},
                  "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "D"},
                                                 {"Not": {"Variable": "$.x", "IsPresent": true}, "Next": "D"}],
                  "Default": "D"},
            "D": {"Type": "Map", "ItemsPath": "$list", "MaxConcurrencyPath": "$max",
                  "ItemSelector": {"v.$": "$$.Map.Item.Value", "bucket": "$bucket"},
                  "ItemProcessor": {"StartAt": "E", "States": {
                      "E": {"Type": "Pass", "Parameters": {"q.$": "$question"}, "End": true}}},
                  "Next": "F"},
            "F": {"Type": "Fail", "CausePath": "$causeVar", "ErrorPath": "$errorVar"}}});
        assert_eq!(
            refs(d),
            json!({"B": ["answer", "name", "result"], "C": ["answer", "guess"],
                   "D": ["list", "max"], "E": ["question"], "F": ["causeVar", "errorVar"]})
        );
    }

    #[test]
    fn jsonata_reads_leave_out_states_functions_and_names_bound_inside() {
        let d = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Choice", "Choices": [
                    {"Condition": "{% $not($states.input.done) and $limit > 3 %}", "Next": "B"},
                    {"Condition": true, "Next": "B"}]},
            "B": {"Type": "Pass", "Output": {"x": "{% ($t := $total; $map($items, function($v) { $v * $t + $bias })) %}",
                                             "s": "{% 'a $quoted' %}"},
                  "End": true}}});
        assert_eq!(
            refs(d),
            json!({"A": ["limit"], "B": ["bias", "items", "total"]})
        );
        let none = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
        assert!(variable_references(&none.to_string()).is_empty());
    }
}

//! JSONPath as Step Functions applies it: reading a path, placing a result (`ResultPath`).
//!
//! - `$...` reads the state's input, `$$...` the context object, `$name...` a variable.
//! - A *definite* path (names and indices only) selects one value; selecting nothing is an
//!   error. An indefinite path (wildcards, slices, unions, filters, descent) selects an array
//!   of every match, possibly empty.
//! - Evaluation is RFC 9535 (the `serde_json_path` crate). Step Functions' Jayway dialect is
//!   bridged where the two differ: filters written `[?(@.x > 1)]` are accepted as they are
//!   (a parenthesised RFC 9535 filter), and a trailing `.length()` gives an array's length.
//!
//! Reads only: nothing here evaluates intrinsic functions or templates (see
//! [`super::template`]), so this module depends on no other expression module.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use super::Scope;
use crate::asl::catalogue;
use crate::asl::errors::StatesError;

/// A path that could not be evaluated, with the text AWS uses to say why
/// (`No results for path: $['x']`, `Missing property in path $['a']`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

impl PathError {
    fn new(path: &str, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Which document a path reads and the RFC 9535 path to read it with.
fn root_of<'a>(path: &str, scope: &Scope<'a>) -> Result<(&'a Value, String), PathError> {
    if let Some(rest) = path.strip_prefix("$$") {
        return Ok((scope.context, format!("${rest}")));
    }
    let Some(rest) = path.strip_prefix('$') else {
        return Err(PathError::new(path, format!("Invalid path: {path}")));
    };
    match rest.chars().next() {
        None | Some('.') | Some('[') => Ok((scope.input, path.to_owned())),
        Some(_) => {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let (name, tail) = rest.split_at(end);
            let value = scope
                .variables
                .get(name)
                .ok_or_else(|| PathError::new(path, format!("Variable ${name} is not defined")))?;
            Ok((value, format!("${tail}")))
        }
    }
}

/// True when the path names one location: no wildcard, slice, union, filter or descent.
pub fn is_definite(path: &str) -> bool {
    let mut in_quote: Option<char> = None;
    let mut depth = 0;
    let mut prev = '\0';
    for c in path.chars() {
        match in_quote {
            Some(q) => {
                if c == q && prev != '\\' {
                    in_quote = None;
                }
            }
            None => match c {
                '\'' | '"' => in_quote = Some(c),
                '[' => depth += 1,
                ']' => depth -= 1,
                '*' | '?' => return false,
                ',' | ':' if depth > 0 => return false,
                '.' if prev == '.' => return false,
                _ => {}
            },
        }
        prev = c;
    }
    true
}

/// Evaluate `path` against the scope (see the module docs).
pub fn query(path: &str, scope: &Scope<'_>) -> Result<Value, PathError> {
    if let Some(prefix) = path.strip_suffix(".length()") {
        return match query(prefix, scope)? {
            Value::Array(a) => Ok(Value::from(a.len())),
            _ => Err(PathError::new(path, format!("No results for path: {path}"))),
        };
    }
    let (root, rfc_path) = root_of(path, scope)?;
    if rfc_path == "$" {
        return Ok(root.clone());
    }
    let rfc_path = bracket_unusual_names(&rfc_path);
    let compiled = JsonPath::parse(&rfc_path)
        .map_err(|e| PathError::new(path, format!("Invalid path '{path}': {e}")))?;
    let nodes = compiled.query_located(root);
    if is_definite(path) {
        match nodes.iter().next() {
            Some(node) => Ok(node.node().clone()),
            None => Err(PathError::new(path, missing_reason(root, &rfc_path))),
        }
    } else {
        Ok(Value::Array(nodes.nodes().cloned().collect()))
    }
}

/// Jayway accepts dotted names that RFC 9535 does not (`$.input-value`, `$.a b`); rewrite
/// those segments as bracketed names (`$['input-value']`). Brackets and filters are copied.
fn bracket_unusual_names(path: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_alphanumeric() || c == '_' || c == '*';
    let mut out = String::with_capacity(path.len() + 8);
    let mut depth = 0usize;
    let mut chars = path.char_indices().peekable();
    let mut changed = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '[' => {
                depth += 1;
                out.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                out.push(c);
            }
            '.' if depth == 0 && !path[i + 1..].starts_with('.') && !out.ends_with('.') => {
                let rest = &path[i + 1..];
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let name = &rest[..end];
                if !name.is_empty() && !name.chars().all(plain) && !name.ends_with("()") {
                    out.push_str(&format!(
                        "['{}']",
                        name.replace('\\', "\\\\").replace('\'', "\\'")
                    ));
                    for _ in 0..name.chars().count() {
                        chars.next();
                    }
                    changed = true;
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

/// The segments of a simple reference path (`$.a.b`, `$['a'][0]`), or `None` when the path
/// has other syntax.
fn reference_segments(path: &str) -> Option<Vec<Segment>> {
    let mut rest = path.strip_prefix('$')?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.contains('*') {
                return None;
            }
            out.push(Segment::Key(name.to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = r[..close].trim();
            if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            {
                out.push(Segment::Key(q.to_owned()));
            } else {
                out.push(Segment::Index(inner.parse().ok()?));
            }
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn bracketed(segments: &[Segment]) -> String {
    let mut s = String::from("$");
    for seg in segments {
        match seg {
            Segment::Key(k) => s.push_str(&format!("['{k}']")),
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Why a definite path found nothing, in Jayway's words: a missing leaf is "No results for
/// path", a missing step on the way is "Missing property in path".
fn missing_reason(root: &Value, rfc_path: &str) -> String {
    let Some(segments) = reference_segments(rfc_path) else {
        return format!("No results for path: {rfc_path}");
    };
    let mut cur = root;
    for (i, seg) in segments.iter().enumerate() {
        let next = match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => m.get(k),
            (Segment::Index(n), Value::Array(a)) => a.get(*n),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None if i + 1 == segments.len() => {
                return format!("No results for path: {}", bracketed(&segments))
            }
            None => return format!("Missing property in path {}", bracketed(&segments[..=i])),
        }
    }
    format!("No results for path: {}", bracketed(&segments))
}

/// Place `result` into `input` at `result_path` (`ResultPath`): absent → the result replaces
/// the input; `$` → the same; `$.a.b` → set there, creating objects on the way.
pub fn apply_result_path(
    input: Value,
    result_path: Option<&str>,
    result: Value,
) -> Result<Value, StatesError> {
    let Some(path) = result_path else {
        return Ok(result);
    };
    if path == "$" {
        return Ok(result);
    }
    let Some(segments) = reference_segments(path) else {
        return Err(catalogue::result_path_unapplicable(path, Some(&input)));
    };
    let mut doc = input;
    {
        let mut cur = &mut doc;
        for seg in &segments[..segments.len().saturating_sub(1)] {
            cur = match (seg, cur) {
                (Segment::Key(k), Value::Object(m)) => m
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new())),
                (Segment::Index(i), Value::Array(a)) if *i < a.len() => &mut a[*i],
                _ => return Err(catalogue::result_path_unapplicable(path, None)),
            };
        }
        match (segments.last(), cur) {
            (Some(Segment::Key(k)), Value::Object(m)) => {
                m.insert(k.clone(), result);
            }
            (Some(Segment::Index(i)), Value::Array(a)) if *i < a.len() => a[*i] = result,
            _ => return Err(catalogue::result_path_unapplicable(path, None)),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope_eval(path: &str, input: &Value) -> Result<Value, PathError> {
        let context = json!({"Execution": {"Name": "e"}});
        let vars = Map::from_iter([("v".to_owned(), json!({"k": 9}))]);
        query(
            path,
            &Scope {
                input,
                context: &context,
                variables: &vars,
            },
        )
    }

    #[test]
    fn queries() {
        let input =
            json!({"a": {"b": 1}, "items": [{"x": 1}, {"x": 2}, {"x": 3}], "k e": true, "k-d": 5});
        let cases: Vec<(&str, &str, Result<Value, &str>)> = vec![
            ("root", "$", Ok(input.clone())),
            ("field", "$.a.b", Ok(json!(1))),
            ("bracket", "$['k e']", Ok(json!(true))),
            ("index", "$.items[1].x", Ok(json!(2))),
            ("wildcard", "$.items[*].x", Ok(json!([1, 2, 3]))),
            ("slice", "$.items[1:].x", Ok(json!([2, 3]))),
            ("jayway filter", "$.items[?(@.x > 1)].x", Ok(json!([2, 3]))),
            ("descent", "$..x", Ok(json!([1, 2, 3]))),
            ("length", "$.items.length()", Ok(json!(3))),
            ("context", "$$.Execution.Name", Ok(json!("e"))),
            ("dashed name", "$.k-d", Ok(json!(5))),
            ("variable", "$v.k", Ok(json!(9))),
            ("empty wildcard", "$.nothing[*]", Ok(json!([]))),
            (
                "missing leaf",
                "$.a.c",
                Err("No results for path: $['a']['c']"),
            ),
            (
                "missing step",
                "$.no.such.path",
                Err("Missing property in path $['no']"),
            ),
        ];
        for (name, path, want) in cases {
            let got = scope_eval(path, &input).map_err(|e| e.reason);
            assert_eq!(got, want.map_err(str::to_owned), "{name}");
        }
    }

    #[test]
    fn result_paths() {
        let cases = [
            ("absent", None, json!({"a": 1}), json!(5), Ok(json!(5))),
            ("root", Some("$"), json!({"a": 1}), json!(5), Ok(json!(5))),
            (
                "new field",
                Some("$.r"),
                json!({"a": 1}),
                json!(5),
                Ok(json!({"a": 1, "r": 5})),
            ),
            (
                "nested, created",
                Some("$.x.y"),
                json!({}),
                json!(5),
                Ok(json!({"x": {"y": 5}})),
            ),
            (
                "replace",
                Some("$.a"),
                json!({"a": 1}),
                json!(5),
                Ok(json!({"a": 5})),
            ),
            (
                "into a number",
                Some("$.a.b"),
                json!({"a": 1}),
                json!(5),
                Err(()),
            ),
        ];
        for (name, path, input, result, want) in cases {
            let got = apply_result_path(input, path, result).map_err(|_| ());
            assert_eq!(got, want, "{name}");
        }
    }
}

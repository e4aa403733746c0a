//! A state machine's definition as a graph for the page to lay out (with ELK, in the browser)
//! and draw: one node per state, Parallel branches and Map iterations as nested boxes, edges
//! for `Next`, Choice rules (labelled with the rule), `Default`, `Catch` and `Retry`.
//!
//! The graph is in ELK's JSON format. Node sizes are estimated from their text here, so the
//! page need not measure text before laying out.

use serde_json::{json, Map, Value};

/// Width of a character of a node's name, and of its smaller second line, in pixels.
const NAME_CHAR: f64 = 7.6;
const SUB_CHAR: f64 = 6.4;
const LABEL_CHAR: f64 = 6.2;
/// Longest edge label and second line, in characters.
const MAX_LABEL: usize = 44;

/// The graph of a definition (its JSON text). A definition that is not an object of states
/// gives an empty graph.
pub fn of(definition: &str) -> Value {
    let def: Value = serde_json::from_str(definition).unwrap_or(Value::Null);
    let mut root = Scope::default();
    root.children.push(marker("start", "Start"));
    root.children.push(marker("end", "End"));
    if let Some(start) = def.get("StartAt").and_then(Value::as_str) {
        root.edge("start", &id("", start), "next", None);
    }
    let states = def.get("States").and_then(Value::as_object);
    if let Some(states) = states {
        root.states("", states, Some("end"));
    }
    json!({
        "id": "root",
        "layoutOptions": {
            "elk.algorithm": "layered",
            "elk.json.shapeCoords": "ROOT",
            "elk.json.edgeCoords": "ROOT",
            "elk.direction": "DOWN",
            "elk.hierarchyHandling": "INCLUDE_CHILDREN",
            "elk.layered.spacing.nodeNodeBetweenLayers": "36",
            "elk.spacing.nodeNode": "28",
            "elk.spacing.edgeLabel": "4",
            "elk.edgeLabels.inline": "false",
            "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF"
        },
        "children": root.children,
        "edges": root.edges,
    })
}

/// A node's id: its scope's path and its name.
fn id(scope: &str, name: &str) -> String {
    format!("{scope}/{name}")
}

fn marker(id: &str, label: &str) -> Value {
    json!({"id": id, "kind": "marker", "label": label, "width": 64, "height": 28})
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// The nodes and edges of one level of nesting.
#[derive(Default)]
struct Scope {
    children: Vec<Value>,
    edges: Vec<Value>,
}

impl Scope {
    fn edge(&mut self, from: &str, to: &str, kind: &str, label: Option<String>) {
        let n = self.edges.len();
        let labels: Vec<Value> = label
            .map(|l| clip(&l, MAX_LABEL))
            .into_iter()
            .map(|l| {
                let w = (l.chars().count() as f64 * LABEL_CHAR).ceil() + 6.0;
                json!({"text": l, "width": w, "height": 14})
            })
            .collect();
        self.edges.push(json!({
            "id": format!("{from}>{to}#{n}"),
            "sources": [from],
            "targets": [to],
            "kind": kind,
            "labels": labels,
        }));
    }

    /// The states of a scope (`path`), with an edge to `end` from each state that ends it.
    fn states(&mut self, path: &str, states: &Map<String, Value>, end: Option<&str>) {
        for (name, state) in states {
            let me = id(path, name);
            let kind = state.get("Type").and_then(Value::as_str).unwrap_or("?");
            self.children.push(node(&me, name, kind, state));
            let target = |n: &str| id(path, n);
            if let Some(next) = state.get("Next").and_then(Value::as_str) {
                self.edge(&me, &target(next), "next", None);
            }
            let ends = state.get("End").and_then(Value::as_bool) == Some(true)
                || matches!(kind, "Succeed" | "Fail");
            if let (true, Some(end)) = (ends, end) {
                self.edge(&me, end, "next", None);
            }
            if kind == "Choice" {
                for rule in state
                    .get("Choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(next) = rule.get("Next").and_then(Value::as_str) {
                        self.edge(&me, &target(next), "choice", Some(rule_text(rule)));
                    }
                }
                if let Some(d) = state.get("Default").and_then(Value::as_str) {
                    self.edge(&me, &target(d), "default", Some("Default".into()));
                }
            }
            for catcher in state
                .get("Catch")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(next) = catcher.get("Next").and_then(Value::as_str) {
                    let label = format!("Catch {}", errors(catcher));
                    self.edge(&me, &target(next), "catch", Some(label));
                }
            }
            let retriers = state.get("Retry").and_then(Value::as_array);
            if let Some(retriers) = retriers.filter(|r| !r.is_empty()) {
                let label = retriers
                    .iter()
                    .map(|r| {
                        let attempts = r.get("MaxAttempts").and_then(Value::as_i64).unwrap_or(3);
                        format!("{} ×{attempts}", errors(r))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                self.edge(&me, &me, "retry", Some(format!("Retry {label}")));
            }
        }
    }
}

/// A retrier's or catcher's `ErrorEquals`, joined.
fn errors(r: &Value) -> String {
    r.get("ErrorEquals")
        .and_then(Value::as_array)
        .map(|e| {
            e.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// One state's node; a Parallel's holds a box per branch, a Map's a box of its iteration.
fn node(me: &str, name: &str, kind: &str, state: &Value) -> Value {
    let sub = match kind {
        "Task" => state
            .get("Resource")
            .and_then(Value::as_str)
            .map(resource)
            .unwrap_or_else(|| "Task".into()),
        "Map" => match state
            .pointer("/ItemProcessor/ProcessorConfig/Mode")
            .or_else(|| state.pointer("/Iterator/ProcessorConfig/Mode"))
            .and_then(Value::as_str)
        {
            Some("DISTRIBUTED") => "Map (distributed)".into(),
            _ => "Map".into(),
        },
        k => k.to_owned(),
    };
    let sub = clip(&sub, MAX_LABEL);
    let width = (name.chars().count() as f64 * NAME_CHAR)
        .max(sub.chars().count() as f64 * SUB_CHAR)
        .ceil()
        + 28.0;
    let mut node = json!({
        "id": me,
        "state": name,
        "kind": kind,
        "label": name,
        "sub": sub,
    });
    let mut inner = Scope::default();
    match kind {
        "Parallel" => {
            let branches = state.get("Branches").and_then(Value::as_array);
            for (i, branch) in branches.into_iter().flatten().enumerate() {
                inner.children.push(scope_box(
                    &format!("{me}#{i}"),
                    &format!("Branch {}", i + 1),
                    branch,
                ));
            }
        }
        "Map" => {
            let processor = state.get("ItemProcessor").or_else(|| state.get("Iterator"));
            if let Some(p) = processor {
                inner
                    .children
                    .push(scope_box(&format!("{me}#it"), "Each item", p));
            }
        }
        _ => {}
    }
    if inner.children.is_empty() {
        node["width"] = json!(width.clamp(110.0, 360.0));
        node["height"] = json!(44);
    } else {
        node["children"] = json!(inner.children);
        node["layoutOptions"] = json!({
            "elk.padding": "[top=44,left=14,bottom=14,right=14]",
            "elk.nodeSize.minimum": format!("({}, 60)", width.clamp(110.0, 360.0)),
            "elk.nodeSize.constraints": "MINIMUM_SIZE",
        });
    }
    node
}

/// The box of a branch or an iteration: its states, linked.
fn scope_box(path: &str, label: &str, scope: &Value) -> Value {
    let mut inner = Scope::default();
    if let Some(states) = scope.get("States").and_then(Value::as_object) {
        inner.states(path, states, None);
    }
    json!({
        "id": path,
        "kind": "scope",
        "label": label,
        "children": inner.children,
        "edges": inner.edges,
        "layoutOptions": {"elk.padding": "[top=28,left=12,bottom=12,right=12]"},
    })
}

/// A Task's resource, short: `lambda:invoke`, `function my-fn`, `activity worker`.
fn resource(arn: &str) -> String {
    if let Some((_, service)) = arn.split_once(":::") {
        return service.to_owned();
    }
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        [.., kind, name] if *kind == "function" || *kind == "activity" => format!("{kind} {name}"),
        [.., kind, name, _version] if *kind == "function" => format!("function {name}"),
        _ => arn.rsplit(':').next().unwrap_or(arn).to_owned(),
    }
}

/// A Choice rule, short: its JSONata `Condition`, or its JSONPath comparison.
fn rule_text(rule: &Value) -> String {
    if let Some(c) = rule.get("Condition").and_then(Value::as_str) {
        return c
            .trim_start_matches("{%")
            .trim_end_matches("%}")
            .trim()
            .to_owned();
    }
    comparison(rule)
}

fn comparison(rule: &Value) -> String {
    let Some(obj) = rule.as_object() else {
        return String::new();
    };
    let joined = |key: &str, op: &str| -> Option<String> {
        let parts = obj.get(key)?.as_array()?;
        Some(
            parts
                .iter()
                .map(|p| format!("({})", comparison(p)))
                .collect::<Vec<_>>()
                .join(op),
        )
    };
    if let Some(s) = joined("And", " and ").or_else(|| joined("Or", " or ")) {
        return s;
    }
    if let Some(n) = obj.get("Not") {
        return format!("not ({})", comparison(n));
    }
    let variable = obj.get("Variable").and_then(Value::as_str).unwrap_or("?");
    for (key, value) in obj {
        if matches!(
            key.as_str(),
            "Variable" | "Next" | "Comment" | "Assign" | "Output"
        ) {
            continue;
        }
        let (op_key, is_path) = match key.strip_suffix("Path") {
            Some(k) if !k.is_empty() && !k.starts_with("Is") => (k, true),
            _ => (key.as_str(), false),
        };
        let op = if let Some(test) = op_key.strip_prefix("Is") {
            let yes = value.as_bool() != Some(false);
            let what = test.to_ascii_lowercase();
            return match yes {
                true => format!("{variable} is {what}"),
                false => format!("{variable} is not {what}"),
            };
        } else if op_key.ends_with("GreaterThanEquals") {
            ">="
        } else if op_key.ends_with("LessThanEquals") {
            "<="
        } else if op_key.ends_with("GreaterThan") {
            ">"
        } else if op_key.ends_with("LessThan") {
            "<"
        } else if op_key.ends_with("Equals") {
            "=="
        } else if op_key.ends_with("Matches") {
            "matches"
        } else {
            op_key
        };
        let value = match (is_path, value) {
            (true, Value::String(p)) => p.clone(),
            (_, v) => v.to_string(),
        };
        return format!("{variable} {op} {value}");
    }
    variable.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
        if v.get("id").and_then(Value::as_str) == Some(id) {
            return Some(v);
        }
        v.get("children")?
            .as_array()?
            .iter()
            .find_map(|c| find(c, id))
    }

    fn edges(v: &Value, out: &mut Vec<(String, String, String, String)>) {
        for e in v
            .get("edges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| e[k][0].as_str().unwrap_or_default().to_owned();
            let label = e["labels"][0]["text"].as_str().unwrap_or_default();
            let kind = e["kind"].as_str().unwrap_or_default();
            out.push((s("sources"), s("targets"), kind.into(), label.into()));
        }
        for c in v
            .get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            edges(c, out);
        }
    }

    #[test]
    fn choices_catches_retries_branches_and_iterations_become_labelled_edges_and_boxes() {
        let def = json!({
            "StartAt": "Pick",
            "States": {
                "Pick": {"Type": "Choice", "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Fan"},
                    {"And": [{"Variable": "$.s", "StringEquals": "x"},
                             {"Variable": "$.b", "IsPresent": false}], "Next": "Each"}
                ], "Default": "Call"},
                "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                         "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
                         "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
                         "End": true},
                "Oops": {"Type": "Fail"},
                "Fan": {"Type": "Parallel", "End": true, "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
                ]},
                "Each": {"Type": "Map", "End": true, "ItemProcessor": {
                    "StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}}}
            }
        });
        let g = of(&def.to_string());
        let mut es = Vec::new();
        edges(&g, &mut es);
        let has = |from: &str, to: &str, kind: &str, label: &str| {
            es.iter()
                .any(|e| e.0 == from && e.1 == to && e.2 == kind && e.3 == label)
        };
        assert!(has("start", "/Pick", "next", ""), "{es:?}");
        assert!(has("/Pick", "/Fan", "choice", "$.n > 5"), "{es:?}");
        assert!(
            has(
                "/Pick",
                "/Each",
                "choice",
                "($.s == \"x\") and ($.b is not present)"
            ),
            "{es:?}"
        );
        assert!(has("/Pick", "/Call", "default", "Default"));
        assert!(has("/Call", "/Oops", "catch", "Catch States.ALL"));
        assert!(has("/Call", "/Call", "retry", "Retry States.Timeout ×2"));
        assert!(has("/Oops", "end", "next", ""));
        assert_eq!(find(&g, "/Call").unwrap()["sub"], "lambda:invoke");
        assert_eq!(find(&g, "/Fan#1/B").unwrap()["state"], "B");
        assert_eq!(find(&g, "/Each#it/Item").unwrap()["state"], "Item");
        assert_eq!(find(&g, "/Fan#0").unwrap()["label"], "Branch 1");
    }

    #[test]
    fn a_definition_that_is_not_json_gives_only_the_markers() {
        let g = of("not json");
        assert_eq!(g["children"].as_array().map(Vec::len), Some(2));
    }
}

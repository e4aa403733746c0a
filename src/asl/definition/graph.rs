//! The transition graph of one machine (the top level, a branch or a processor): targets that
//! name no state, whether any state can end the workflow, and states never reached from
//! `StartAt`.
//!
//! ```text
//!   StartAt ──> A ──Next──> B ──Catch──> C (End)      D: not reachable
//! ```
//!
//! Missing targets are reported in document order with the location of the field naming them;
//! then `MISSING_END_STATE` if no state is terminal (`Succeed`, `Fail`, or `End: true`), else
//! each unreachable state in document order. Nested machines are checked on their own and
//! report before the machine holding them.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

use super::diagnostics::{diag, Findings, NO_END, TARGET};
use crate::asl::catalogue::definition as msg;

pub struct Graph<'a> {
    at: &'a str,
    states: &'a Map<String, Value>,
    start: &'a str,
    missing: Vec<super::Diagnostic>,
    edges: HashMap<&'a str, Vec<&'a str>>,
    terminal: bool,
}

impl<'a> Graph<'a> {
    /// The graph of the machine at `at` (`""` for the top level).
    pub fn new(at: &'a str, m: &'a Map<String, Value>, states: &'a Map<String, Value>) -> Self {
        let start = m.get("StartAt").and_then(Value::as_str).unwrap_or_default();
        let mut graph = Self {
            at,
            states,
            start,
            missing: Vec::new(),
            edges: HashMap::new(),
            terminal: false,
        };
        if !states.contains_key(start) {
            graph.missing.push(diag(
                TARGET,
                msg::missing_target(start),
                format!("{at}/StartAt"),
            ));
        }
        graph
    }

    /// Add a state's edges: `Next`, `Default`, and the `Next` of each Choice rule and Catch.
    pub fn state(&mut self, name: &'a str, loc: &str, s: &'a Map<String, Value>) {
        let mut targets: Vec<(&'a str, String)> = Vec::new();
        if let Some(n) = s.get("Next").and_then(Value::as_str) {
            targets.push((n, format!("{loc}/Next")));
        }
        if let Some(d) = s.get("Default").and_then(Value::as_str) {
            targets.push((d, format!("{loc}/Default")));
        }
        for field in ["Choices", "Catch"] {
            let rules = s.get(field).and_then(Value::as_array).into_iter().flatten();
            for (i, r) in rules.enumerate() {
                if let Some(n) = r.get("Next").and_then(Value::as_str) {
                    targets.push((n, format!("{loc}/{field}[{i}]/Next")));
                }
            }
        }
        for (t, at) in &targets {
            if !self.states.contains_key(*t) {
                self.missing
                    .push(diag(TARGET, msg::missing_target(t), at.clone()));
            }
        }
        let kind = s.get("Type").and_then(Value::as_str).unwrap_or_default();
        if matches!(kind, "Succeed" | "Fail") || s.get("End").and_then(Value::as_bool) == Some(true)
        {
            self.terminal = true;
        }
        self.edges
            .insert(name, targets.into_iter().map(|(t, _)| t).collect());
    }

    /// Report what the machine's states showed.
    pub fn finish(self, found: &mut Findings) {
        for d in self.missing {
            found.graph(d);
        }
        if !self.terminal {
            found.graph(diag(NO_END, msg::no_terminal_state(), ""));
            return;
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = VecDeque::new();
        if self.states.contains_key(self.start) {
            queue.push_back(self.start);
            seen.insert(self.start);
        }
        while let Some(n) = queue.pop_front() {
            for t in self.edges.get(n).into_iter().flatten() {
                if self.states.contains_key(*t) && seen.insert(t) {
                    queue.push_back(t);
                }
            }
        }
        for name in self.states.keys() {
            if !seen.contains(name.as_str()) {
                found.graph(diag(
                    TARGET,
                    msg::unreachable(name),
                    format!("{}/States/{name}", self.at),
                ));
            }
        }
    }
}

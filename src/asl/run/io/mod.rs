//! Data flow: how a state's input becomes what it works on, and its result becomes its output
//! and variables. The only module that tells the two query languages apart; every handler
//! goes through [`Io`], and [`Io::new`] picks the language once.
//!
//! ```text
//!              JSONPath                                JSONata
//!  raw input ─ InputPath ─ Parameters ──> work     raw input ─ Arguments ──> work
//!  result ─ ResultSelector ─ ResultPath            result ─ Output ──> output
//!         ─ OutputPath ──> output                  Assign sees $states.input/result
//!  Assign sees the result as `$`                   (and $states.errorOutput in a Catch)
//! ```
//!
//! [`Io`] is built right before a state's fields are evaluated and holds copies of what they
//! read; JSONata's `$random()` and `$uuid()` are seeded with the id of the last event
//! written at that moment.

use std::cell::OnceCell;

use serde_json::{Map, Value};

use super::context;
use super::outcome::Exit;
use crate::asl::catalogue;
use crate::asl::definition::{Catcher, MapSpec, Seconds, State};
use crate::asl::errors::StatesError;
use crate::asl::expr::choice::ChoiceRule;
use crate::asl::expr::jsonata::{render, Bindings};
use crate::asl::expr::{path, Scope};

mod jsonata;
mod jsonpath;

/// One query language's side of each step of the data flow.
trait Flow: Sync {
    /// What the state's path fields read: InputPath's selection, or the raw input.
    fn input(&self, io: &Io<'_>) -> Result<Value, StatesError>;
    /// What a Task or Parallel works on: Parameters over [`Flow::input`], or Arguments.
    fn arguments(&self, io: &Io<'_>) -> Result<Value, StatesError>;
    /// The output of a state without a result (Succeed, Choice); `template` is the JSONata
    /// `Output` that applies.
    fn output(&self, io: &Io<'_>, template: Option<&Value>) -> Result<Value, StatesError>;
    /// The variables `template` (an `Assign`) sets.
    fn assign(
        &self,
        io: &Io<'_>,
        template: Option<&Value>,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Map<String, Value>, StatesError>;
    /// A Pass state's exit; `result` is its `Result` field.
    fn pass(&self, io: &Io<'_>, result: Option<&Value>) -> Result<Exit, StatesError>;
    /// A Wait state's exit once the wait is over.
    fn waited(&self, io: &Io<'_>) -> Result<Exit, StatesError>;
    /// The exit of a state that produced `result` (Task, Parallel, Map).
    fn settle(&self, io: &Io<'_>, result: Value) -> Result<Exit, StatesError>;
    /// The output a Catch passes to its Next state.
    fn caught(
        &self,
        io: &Io<'_>,
        catcher: &Catcher,
        error_output: &Value,
    ) -> Result<Value, StatesError>;
    /// The first Choice rule that matches.
    fn choose<'r>(
        &self,
        io: &Io<'_>,
        rules: &'r [ChoiceRule],
    ) -> Result<Option<&'r ChoiceRule>, StatesError>;
    /// A Map's items, before ItemSelector.
    fn items(&self, io: &Io<'_>, spec: &MapSpec) -> Result<Vec<Value>, StatesError>;
    /// One item's input through ItemSelector; `context` holds `$$.Map.Item`.
    fn select_item(
        &self,
        io: &Io<'_>,
        selector: &Value,
        context: &Value,
    ) -> Result<Value, StatesError>;
    /// A Fail state's `Error` or `Cause` written in the state.
    fn text(
        &self,
        io: &Io<'_>,
        written: Option<&String>,
        field: &str,
    ) -> Result<Option<String>, StatesError>;
    /// A Task's `TimeoutSeconds` or `HeartbeatSeconds` (`name`) and its `...Path` form.
    fn seconds(
        &self,
        io: &Io<'_>,
        spec: Option<&Seconds>,
        name: &str,
    ) -> Result<Option<u64>, StatesError>;
}

/// What one state reads while it runs.
pub struct Io<'a> {
    pub state: &'a State,
    /// The state's raw input, as its StateEntered event shows it.
    pub raw: Value,
    /// The context object; `null` when nothing in the state can read it.
    pub context: Value,
    /// The variables in scope.
    pub vars: Map<String, Value>,
    now_ms: i64,
    seed: u64,
    flow: &'static dyn Flow,
    /// [`Flow::input`], once computed.
    input: OnceCell<Value>,
}

impl<'a> Io<'a> {
    pub fn new(
        state: &'a State,
        raw: Value,
        context: Value,
        vars: Map<String, Value>,
        now_ms: i64,
        seed: u64,
    ) -> Self {
        let flow: &'static dyn Flow = if state.jsonata {
            &jsonata::Jsonata
        } else {
            &jsonpath::JsonPath
        };
        Self {
            state,
            raw,
            context,
            vars,
            now_ms,
            seed,
            flow,
            input: OnceCell::new(),
        }
    }

    /// The raw input, the context object and the variables.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            input: &self.raw,
            context: &self.context,
            variables: &self.vars,
        }
    }

    /// Evaluate a JSONata field: `{% %}` strings inside `template` are expressions over
    /// `$states` (with `result` or `error_output` when the field sees one).
    pub fn jsonata(
        &self,
        template: &Value,
        field: &str,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Value, StatesError> {
        self.jsonata_in(&self.context, template, field, result, error_output)
    }

    /// [`Io::jsonata`] with another context object (a Map item's).
    pub fn jsonata_in(
        &self,
        context: &Value,
        template: &Value,
        field: &str,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Value, StatesError> {
        let states = context::states(&self.raw, context, result, error_output);
        render(template, field, &self.bindings(&states))
    }

    pub fn bindings<'b>(&'b self, states: &'b Value) -> Bindings<'b> {
        Bindings {
            states,
            variables: &self.vars,
            now_ms: self.now_ms,
            seed: self.seed,
        }
    }

    /// The value at `p` in `input` (or a variable, or the context object); a path that
    /// selects nothing is `States.Runtime`.
    pub fn query(&self, p: &str, input: &Value) -> Result<Value, StatesError> {
        path::query(
            p,
            &Scope {
                input,
                ..self.scope()
            },
        )
        .map_err(|e| catalogue::invalid_path(p, &e.reason))
    }

    /// See [`Flow::input`]; computed once, then borrowed (a Map reads it for every item).
    pub fn input(&self) -> Result<&Value, StatesError> {
        if let Some(v) = self.input.get() {
            return Ok(v);
        }
        let v = self.flow.input(self)?;
        Ok(self.input.get_or_init(|| v))
    }

    pub fn arguments(&self) -> Result<Value, StatesError> {
        self.flow.arguments(self)
    }

    pub fn output(&self, template: Option<&Value>) -> Result<Value, StatesError> {
        self.flow.output(self, template)
    }

    pub fn assign(
        &self,
        template: Option<&Value>,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Map<String, Value>, StatesError> {
        self.flow.assign(self, template, result, error_output)
    }

    pub fn pass(&self, result: Option<&Value>) -> Result<Exit, StatesError> {
        self.flow.pass(self, result)
    }

    pub fn waited(&self) -> Result<Exit, StatesError> {
        self.flow.waited(self)
    }

    pub fn settle(&self, result: Value) -> Result<Exit, StatesError> {
        self.flow.settle(self, result)
    }

    /// JSONPath's stages after a Task's, Map's or Parallel's work, as TestState shows them:
    /// the result through ResultSelector, then through ResultPath.
    pub fn selected_stages(&self, result: Value) -> Result<Map<String, Value>, StatesError> {
        jsonpath::stages(self, result, true)
    }

    /// The same for a Pass state's result, which has no ResultSelector.
    pub fn placed_stages(&self, result: Value) -> Result<Map<String, Value>, StatesError> {
        jsonpath::stages(self, result, false)
    }

    pub fn caught(&self, catcher: &Catcher, error_output: &Value) -> Result<Value, StatesError> {
        self.flow.caught(self, catcher, error_output)
    }

    pub fn choose<'r>(
        &self,
        rules: &'r [ChoiceRule],
    ) -> Result<Option<&'r ChoiceRule>, StatesError> {
        self.flow.choose(self, rules)
    }

    pub fn items(&self, spec: &MapSpec) -> Result<Vec<Value>, StatesError> {
        self.flow.items(self, spec)
    }

    pub fn select_item(&self, selector: &Value, context: &Value) -> Result<Value, StatesError> {
        self.flow.select_item(self, selector, context)
    }

    pub fn text(
        &self,
        written: Option<&String>,
        field: &str,
    ) -> Result<Option<String>, StatesError> {
        self.flow.text(self, written, field)
    }

    pub fn seconds(&self, spec: Option<&Seconds>, name: &str) -> Result<Option<u64>, StatesError> {
        self.flow.seconds(self, spec, name)
    }
}

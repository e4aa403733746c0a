//! A definition, parsed once per revision: the typed [`Definition`] the interpreter runs and the
//! [`Diagnostic`]s `ValidateStateMachineDefinition` and `CreateStateMachine` report, both from
//! the same single pass over the JSON ([`parse`]), so what validation accepts is what runs.
//!
//! | module | owns |
//! |---|---|
//! | `parse` | the pass: each machine and state visited once ([`parse()`]) |
//! | `schema` | AWS's schema checks of a machine's and a state's own fields |
//! | `language` | each state uses its query language's fields; JSONata expressions parse |
//! | `fields` | reading one field into its typed form |
//! | `graph` | transition targets, terminal states, reachability |
//! | [`diagnostics`] | diagnostic codes, the order AWS reports them in, `InvalidDefinition`'s message |
//!
//! Nothing here evaluates an expression; it only checks that paths, intrinsic calls and JSONata
//! expressions are written so the interpreter can evaluate them.

use std::collections::HashMap;

use serde_json::Value;

use super::expr::choice::ChoiceRule;

pub mod diagnostics;
mod express;
mod fields;
mod graph;
mod label;
mod language;
mod parse;
mod references;
mod schema;
#[cfg(test)]
mod tests;

pub use diagnostics::{invalid_definition_message, Diagnostic, Severity};
pub use express::express_diagnostics;
pub use label::label_problem;
pub use parse::{parse, Parsed};
pub use references::variable_references;

/// A parsed state machine: the top level, a Parallel branch or a Map processor.
#[derive(Debug)]
pub struct Definition {
    pub start_at: String,
    pub states: HashMap<String, State>,
    /// The execution's own deadline (`TimeoutSeconds` at the top level).
    pub timeout_seconds: Option<u64>,
    /// `QueryLanguage: JSONata` at the top: the default of every state inside.
    pub jsonata: bool,
}

impl Definition {
    /// The typed definition, or why the interpreter cannot run it. A definition that passes
    /// validation always builds; one that does not may still build (the engine runs stored
    /// revisions, which were validated when they were created).
    pub fn parse(text: &str) -> Result<Self, String> {
        parse(text).definition
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.get(name)
    }

    /// Whether one step of this machine is cheap however it runs: no JSONata (an expression may
    /// run for a second), no Parallel or Map (a step may run many branches), and no loop in its
    /// transitions (a step may run up to its transition budget). Such a step visits each state
    /// once at most, so its cost is bounded by the definition and the payload limit, and it can
    /// run where it is asked for instead of on a pool for long work.
    pub fn has_short_steps(&self) -> bool {
        let simple = self.states.values().all(|s| {
            !s.jsonata
                && !matches!(
                    s.kind,
                    Kind::Parallel { .. } | Kind::Map(_) | Kind::Unsupported
                )
        });
        simple && !self.has_loop()
    }

    /// Whether some Task, here or in a branch or iteration, waits for a task token (its
    /// executions need a token key).
    pub fn waits_for_tokens(&self) -> bool {
        self.states.values().any(|s| match &s.kind {
            Kind::Task(spec) => spec.awaits_callback(),
            Kind::Parallel { branches, .. } => branches.iter().any(Definition::waits_for_tokens),
            Kind::Map(m) => m.processor.waits_for_tokens(),
            _ => false,
        })
    }

    /// Whether some state can be reached again from itself.
    fn has_loop(&self) -> bool {
        fn next_of(s: &State) -> Vec<&str> {
            let mut out: Vec<&str> = s.catch.iter().map(|c| c.next.as_str()).collect();
            if let Some(Transition::Next(n)) = &s.transition {
                out.push(n);
            }
            if let Kind::Choice { rules, default } = &s.kind {
                out.extend(rules.iter().map(|r| r.next()));
                out.extend(default.as_deref());
            }
            out
        }
        // Depth-first search for a back edge: 1 = on the current path, 2 = done.
        let mut mark: HashMap<&str, u8> = HashMap::new();
        let mut stack: Vec<(&str, usize)> = vec![(self.start_at.as_str(), 0)];
        while let Some((name, i)) = stack.pop() {
            let Some(state) = self.states.get(name) else {
                continue;
            };
            let next = next_of(state);
            if i == 0 {
                mark.insert(name, 1);
            }
            if let Some(&n) = next.get(i) {
                stack.push((name, i + 1));
                match mark.get(n) {
                    Some(1) => return true,
                    Some(_) => {}
                    None => stack.push((n, 0)),
                }
            } else {
                mark.insert(name, 2);
            }
        }
        false
    }
}

/// Check a definition given as the text the API received; empty means valid.
pub fn validate_definition(text: &str) -> Vec<Diagnostic> {
    parse(text).diagnostics
}

/// Where a state goes when it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

/// A path-valued field: absent (the default applies), JSON `null`, or a path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PathField {
    #[default]
    Absent,
    Null,
    Path(String),
}

/// One state of the machine.
#[derive(Debug)]
pub struct State {
    pub name: String,
    /// The `Type` field as written (`Pass`, `Wait`, ...), used in history event names.
    pub type_name: String,
    pub kind: Kind,
    /// `None` for Choice, Succeed and Fail, which do not use Next/End.
    pub transition: Option<Transition>,
    pub input_path: PathField,
    pub output_path: PathField,
    pub result_path: PathField,
    pub parameters: Option<Value>,
    pub result_selector: Option<Value>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// The state's query language is JSONata (its own `QueryLanguage`, or the machine's).
    pub jsonata: bool,
    /// `Assign`: variables to set when the state completes.
    pub assign: Option<Value>,
    /// JSONata `Output`.
    pub output: Option<Value>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// Whether anything in the state can read the context object (`$$`, `$states` as a
    /// whole or its `context`, or an intrinsic seeded by it); when not, the interpreter does
    /// not build it.
    pub needs_context: bool,
}

/// The type-specific part of a state.
#[derive(Debug)]
pub enum Kind {
    Pass {
        result: Option<Value>,
    },
    Succeed,
    Fail {
        error: Option<String>,
        error_path: Option<String>,
        cause: Option<String>,
        cause_path: Option<String>,
    },
    Choice {
        rules: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Task(TaskSpec),
    Parallel {
        branches: Vec<Definition>,
    },
    Map(Box<MapSpec>),
    /// A state type this build cannot run; the definition is still accepted.
    Unsupported,
}

/// What a Wait state waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(String),
    /// UTC milliseconds.
    Timestamp(i64),
    TimestampPath(String),
    /// JSONata `Seconds` / `Timestamp` given as an expression.
    SecondsExpr(String),
    TimestampExpr(String),
}

/// The Task-specific fields.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub resource: TaskResource,
    /// The `Resource` text as written.
    pub resource_text: String,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
    /// `.waitForTaskToken`: after the call is made the state waits for `SendTaskSuccess` or
    /// `SendTaskFailure` with the token it handed out as `$$.Task.Token`.
    pub wait_for_token: bool,
}

impl TaskSpec {
    /// Whether the call is made and answered first (TaskSubmitted), then the attempt waits:
    /// `.waitForTaskToken` and `startExecution.sync`.
    pub fn submits(&self) -> bool {
        self.awaits_callback() && !matches!(self.resource, TaskResource::Activity { .. })
    }

    /// Whether an attempt ends with a callback (SendTaskSuccess or SendTaskFailure) rather
    /// than with the call's answer: `.waitForTaskToken` and activities.
    pub fn awaits_callback(&self) -> bool {
        self.wait_for_token
            || match &self.resource {
                TaskResource::Activity { .. } => true,
                TaskResource::StartExecution(mode) => mode.waits_for_end(),
                _ => false,
            }
    }
}

/// The suffix of a service integration's resource that waits for a callback.
pub const WAIT_FOR_TASK_TOKEN: &str = ".waitForTaskToken";

/// What a Task state's `Resource` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskResource {
    /// `arn:aws:states:::lambda:invoke`: the function and payload come from Parameters.
    LambdaInvoke,
    /// A function ARN; `function` is the whole resource string as written.
    LambdaFunction { function: String },
    /// An activity, `arn:aws:states:REGION:ACCOUNT:activity:NAME`: its workers take the task
    /// with GetActivityTask and answer with SendTaskSuccess or SendTaskFailure.
    Activity { arn: String },
    /// `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`: start
    /// another execution (and, with `.sync`, wait for its end).
    StartExecution(StartMode),
    /// `arn:aws:states:::http:invoke`: a request to an HTTP API.
    Http,
    /// An AWS service of [`crate::model::services`], optimized or through the AWS SDK form.
    Service {
        call: crate::model::services::ServiceCall,
        /// The `resourceType` and `resource` of its history events.
        resource_type: String,
        resource: String,
    },
    /// Anything else (other AWS services): not runnable here.
    Other(String),
}

/// How a Task that starts an execution waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// Only the start.
    Start,
    /// `.sync`: until the child ends; its input and output as JSON text.
    Sync,
    /// `.sync:2`: until the child ends; its input and output as JSON.
    Sync2,
    /// `.waitForTaskToken`: until SendTaskSuccess or SendTaskFailure.
    Token,
}

impl StartMode {
    /// The `resource` of the Task's history events.
    pub fn resource(self) -> &'static str {
        match self {
            StartMode::Start => "startExecution",
            StartMode::Sync => "startExecution.sync",
            StartMode::Sync2 => "startExecution.sync:2",
            StartMode::Token => "startExecution.waitForTaskToken",
        }
    }

    /// Whether the Task waits for the child's end.
    pub fn waits_for_end(self) -> bool {
        matches!(self, StartMode::Sync | StartMode::Sync2)
    }
}

impl TaskResource {
    pub fn parse(resource: &str) -> Self {
        let base = resource
            .strip_suffix(WAIT_FOR_TASK_TOKEN)
            .unwrap_or(resource);
        if base == "arn:aws:states:::lambda:invoke" {
            TaskResource::LambdaInvoke
        } else if resource == "arn:aws:states:::http:invoke" {
            TaskResource::Http
        } else if let Some(mode) = resource.strip_prefix("arn:aws:states:::states:startExecution") {
            match mode {
                "" => TaskResource::StartExecution(StartMode::Start),
                ".sync" => TaskResource::StartExecution(StartMode::Sync),
                ".sync:2" => TaskResource::StartExecution(StartMode::Sync2),
                WAIT_FOR_TASK_TOKEN => TaskResource::StartExecution(StartMode::Token),
                _ => TaskResource::Other(resource.to_owned()),
            }
        } else if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
            TaskResource::LambdaFunction {
                function: resource.to_owned(),
            }
        } else if matches!(
            crate::model::arn::parse(resource),
            Ok(crate::model::arn::Resource::Activity { .. })
        ) {
            TaskResource::Activity {
                arn: resource.to_owned(),
            }
        } else if let Some(call) = resource
            .strip_prefix("arn:aws:states:::")
            .map(|r| r.strip_suffix(WAIT_FOR_TASK_TOKEN).unwrap_or(r))
            .and_then(crate::model::services::ServiceCall::parse)
        {
            let wait = if resource.ends_with(WAIT_FOR_TASK_TOKEN) {
                WAIT_FOR_TASK_TOKEN
            } else {
                ""
            };
            TaskResource::Service {
                resource_type: call.resource_type(),
                resource: format!("{}{wait}", call.action),
                call,
            }
        } else {
            TaskResource::Other(resource.to_owned())
        }
    }
}

/// A duration given as a number of seconds, a path to one, or a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Seconds {
    Fixed(u64),
    Path(String),
    Expr(String),
}

/// The Map-specific fields.
#[derive(Debug)]
pub struct MapSpec {
    /// `ItemProcessor` (or the older `Iterator`).
    pub processor: Definition,
    pub items_path: PathField,
    /// JSONata `Items`: an array or an expression.
    pub items: Option<Value>,
    /// `ItemSelector` (or the older `Parameters`).
    pub item_selector: Option<Value>,
    pub max_concurrency: Option<Count>,
    pub tolerated_count: Option<Count>,
    pub tolerated_percentage: Option<Count>,
    /// `ItemReader`: the items come from S3 (read by a call), not from the input.
    pub item_reader: Option<Value>,
    /// `ItemBatcher`: each iteration gets a batch of items, `{"Items", "BatchInput"}`.
    pub item_batcher: Option<Value>,
    /// `ProcessorConfig.Mode: DISTRIBUTED`: each iteration is a child execution of a map run.
    pub distributed: Option<Distributed>,
}

/// What a Distributed Map needs beyond an inline one.
#[derive(Debug)]
pub struct Distributed {
    /// `ProcessorConfig.ExecutionType: EXPRESS` (STANDARD otherwise).
    pub express: bool,
    /// `Label`, which names the map run and its children's state machine.
    pub label: Option<String>,
    /// `ResultWriter`: the results go to S3 rather than into the state's output.
    pub result_writer: Option<Value>,
    /// The children's state machine: `ItemProcessor` as JSON text, without its
    /// `ProcessorConfig`, with the query language it inherits.
    pub processor_text: String,
}

/// A count given as a number, a JSONPath, or a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    Fixed(f64),
    Path(String),
    Expr(String),
}

/// One `Retry` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

/// One `Catch` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    /// `None`: absent (the error object replaces the input); `Some(None)`: null.
    pub result_path: Option<Option<String>>,
    /// JSONata `Output` of the catcher.
    pub output: Option<Value>,
    /// `Assign` of the catcher.
    pub assign: Option<Value>,
}

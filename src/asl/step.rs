//! The interpreter: apply one event to an execution and run it to its next blocking point.
//!
//! `step` is pure. It mutates the [`ExecutionState`] it is given and returns the history events
//! it appended and the [`Effect`]s its caller performs *after* committing both (write-ahead):
//!
//! ```text
//!  Event::Start ──> ExecutionStarted, <S>StateEntered, ... ──> blocks on a Wait ──> Effect::ArmTimer
//!  Event::TimerFired ──> WaitStateExited, ... ──> ExecutionSucceeded   (status becomes terminal)
//! ```
//!
//! An execution is a tree of [`Frame`]s, each a thread of control running one set of states:
//! the machine at the root, and under a Parallel or Map state in progress one frame per
//! running branch or iteration ([`Fanout`]). The whole tree is persisted with the execution,
//! so a Wait or a Task inside a branch survives a restart like one at the top.
//!
//! Timers and Lambda calls are named by a sequence number the interpreter chooses: the id of
//! the history event that armed them (`WaitStateEntered`, `TaskScheduled`, ...), or
//! [`EXECUTION_TIMEOUT_SEQ`] for the execution's `TimeoutSeconds`. Ids are unique across the
//! tree, so an event finds its frame by its sequence; one that no frame waits for is stale
//! and ignored (a timer that fires after a StopExecution changes nothing).
//!
//! Each state reads its data with JSONPath (`InputPath`, `Parameters`, `ResultSelector`,
//! `ResultPath`, `OutputPath`) or, under `QueryLanguage: JSONata`, with `Arguments` and
//! `Output` expressions over `$states`. Either way `Assign` sets variables, which nested
//! frames can read and which do not leak out of a branch or iteration.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::definition::{
    Count, Definition, Kind, MapSpec, PathField, Seconds, State, TaskResource, TaskSpec,
    Transition, WaitFor,
};
use super::errors::{names, StatesError};
use super::expr::jsonata::{self, Bindings};
use super::expr::{choice, intrinsics, path, template, Scope};
use super::history::{self, HistoryEvent};
use super::task::{self, Invocation, InvokeOutput};
use super::timestamp;

/// Sequence number of the execution-timeout timer (history event ids start at 1).
pub const EXECUTION_TIMEOUT_SEQ: i64 = 0;

/// Longest a single `step` call runs states in one frame without blocking before it fails,
/// so a Pass/Choice loop cannot spin forever inside one request.
const MAX_TRANSITIONS_PER_STEP: usize = 10_000;

/// AWS's limit on a state's input or output, and on a task's result: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// The longest delay AWS accepts in a Wait state: 2^31 - 1 seconds (about 68 years).
const MAX_WAIT_MS: i64 = i32::MAX as i64 * 1000;

/// An execution's status, with AWS's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RUNNING" => Status::Running,
            "SUCCEEDED" => Status::Succeeded,
            "FAILED" => Status::Failed,
            "TIMED_OUT" => Status::TimedOut,
            "ABORTED" => Status::Aborted,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        self != Status::Running
    }
}

/// A timer the execution is blocked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub seq: i64,
    pub due_ms: i64,
}

/// Where an execution stands between two steps. Persisted as JSON (the executions' `cursor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionState {
    pub status: Status,
    /// The machine's own thread of control.
    #[serde(flatten)]
    pub root: Frame,
    /// The execution's TimeoutSeconds deadline, while it is armed.
    pub timeout_due_ms: Option<i64>,
    /// Id of the last history event written.
    pub last_event_id: i64,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// One thread of control: the machine, a Parallel branch or a Map iteration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Frame {
    /// The state being run; `None` before the start and after the end.
    pub current: Option<String>,
    /// The raw input of `current`, as its StateEntered event shows it.
    pub input: Value,
    /// When `current` was entered (UTC ms), for `$$.State.EnteredTime`.
    pub entered_ms: i64,
    /// The Wait timer `current` is blocked on.
    pub waiting: Option<Waiting>,
    /// Id of the event the next StateEntered chains to.
    pub chain_id: i64,
    /// Id of `current`'s StateEntered event, quoted in runtime error causes.
    #[serde(default)]
    pub entered_event_id: i64,
    /// The Task `current` is running.
    #[serde(default)]
    pub task: Option<TaskProgress>,
    /// Retry bookkeeping of `current`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryProgress>,
    /// Variables assigned in this frame (outer frames' variables are visible too).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// The branches or iterations of the Parallel or Map state `current` is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<Box<Fanout>>,
}

/// A Task state between its Scheduled event and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// The call to make (its `seq` is that of the latest attempt).
    pub invocation: Invocation,
    /// The effective parameters, shown again in every attempt's Scheduled event.
    pub parameters: Value,
    /// The Scheduled event id of the attempt in flight.
    pub in_flight: Option<i64>,
    /// The attempt's TimeoutSeconds timer.
    pub timeout: Option<Waiting>,
    pub timeout_secs: Option<u64>,
    pub heartbeat_secs: Option<u64>,
}

/// Retries of the current state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RetryProgress {
    /// Attempts made under each Retry rule.
    pub attempts: Vec<u32>,
    /// Retries so far, for `$$.State.RetryCount`.
    pub count: u32,
    /// The back-off timer before the next attempt.
    pub backoff: Option<Waiting>,
}

/// The branches of a Parallel state, or the iterations of a Map state, in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fanout {
    /// The input of each branch or iteration.
    pub inputs: Vec<Value>,
    /// The index of the next one to start.
    pub next: usize,
    /// How many may run at once; 0 means all.
    pub max_concurrency: usize,
    pub running: Vec<Child>,
    /// Outputs by index (`null` until one finishes).
    pub results: Vec<Value>,
    pub failures: usize,
    /// Failures a Map tolerates; `None` when it tolerates none and fails with the first error.
    pub tolerated: Option<usize>,
    /// The error that fails the state once the running ones are stopped.
    pub error: Option<StatesError>,
}

/// A running branch or iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Child {
    pub index: usize,
    pub frame: Frame,
}

impl ExecutionState {
    /// A new execution that has not run yet.
    pub fn new(input: Value) -> Self {
        Self {
            status: Status::Running,
            root: Frame {
                input,
                ..Frame::default()
            },
            timeout_due_ms: None,
            last_event_id: 0,
            output: None,
            error: None,
            cause: None,
        }
    }
}

/// Facts about the execution that do not change while it runs (the `$$.Execution` and
/// `$$.StateMachine` parts of the context object).
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    pub arn: String,
    pub name: String,
    pub role_arn: String,
    pub start_ms: i64,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    /// The execution's input, for `$$.Execution.Input`.
    pub input: Value,
    /// The region named in TaskScheduled events.
    pub region: String,
}

/// Knobs that change how the interpreter computes deadlines.
#[derive(Debug, Clone, Copy)]
pub struct StepConfig {
    /// Multiplies every Wait duration when its deadline is computed; 0 means no waiting.
    pub wait_time_scale: f64,
    /// Most events in one execution's history (0: no cap). The last one may only be the
    /// execution's end; an execution that would write more fails, as on AWS.
    pub max_history_events: i64,
}

impl Default for StepConfig {
    fn default() -> Self {
        Self {
            wait_time_scale: 1.0,
            max_history_events: 25_000,
        }
    }
}

/// What happened to the execution from outside.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The execution was just created.
    Start,
    /// The timer with this sequence number is due.
    TimerFired { seq: i64 },
    /// A Lambda call finished: its output, or the error it maps to.
    TaskResult {
        seq: i64,
        result: Result<InvokeOutput, StatesError>,
    },
    /// StopExecution.
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// Work for the caller once the step's events are committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Persist (in the same commit) and arm a timer.
    ArmTimer { seq: i64, due_ms: i64 },
    /// Remove (in the same commit) and disarm a timer.
    CancelTimer { seq: i64 },
    /// Persist (in the same commit) and make a Lambda call; its result comes back as
    /// [`Event::TaskResult`] with the same `seq`.
    Invoke(Invocation),
}

/// The result of one `step`.
#[derive(Debug, Default)]
pub struct Step {
    pub events: Vec<HistoryEvent>,
    pub effects: Vec<Effect>,
}

/// Apply `event` to `exec` and run until the execution blocks or ends.
pub fn step(
    def: &Definition,
    exec: &mut ExecutionState,
    info: &ExecutionInfo,
    event: Event,
    now_ms: i64,
    cfg: &StepConfig,
) -> Step {
    if exec.status.is_terminal() {
        return Step::default();
    }
    let mut run = Run {
        info,
        now_ms,
        cfg,
        out: Step::default(),
        last_event_id: exec.last_event_id,
        overflowed: false,
    };
    let mut root = std::mem::take(&mut exec.root);
    let top = Map::new();
    let end = match event {
        Event::Start => {
            let input = root.input.clone();
            run.push(
                "ExecutionStarted",
                0,
                history::execution_started(&input, &info.role_arn),
            );
            root.chain_id = 0;
            if let Some(secs) = def.timeout_seconds {
                let due_ms = info
                    .start_ms
                    .saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX));
                exec.timeout_due_ms = Some(due_ms);
                run.out.effects.push(Effect::ArmTimer {
                    seq: EXECUTION_TIMEOUT_SEQ,
                    due_ms,
                });
            }
            run.run_from(def, &mut root, &top, def.start_at.clone(), input)
        }
        Event::TimerFired { seq } if seq == EXECUTION_TIMEOUT_SEQ => {
            if exec.timeout_due_ms.take().is_some() {
                End::TimedOut
            } else {
                End::Blocked
            }
        }
        Event::TimerFired { seq } => run
            .deliver(def, &mut root, &top, &Delivery::Timer(seq))
            .unwrap_or(End::Blocked),
        Event::TaskResult { seq, result } => run
            .deliver(def, &mut root, &top, &Delivery::Task(seq, result))
            .unwrap_or(End::Blocked),
        Event::Stop { error, cause } => End::Aborted(error, cause),
    };
    let end = if run.overflowed {
        // Whatever this step did past the cap is dropped with the execution.
        run.out.effects.retain(|e| !matches!(e, Effect::Invoke(_)));
        End::Failed(StatesError::runtime(format!(
            "The execution reached the maximum number of history events ({}).",
            cfg.max_history_events
        )))
    } else {
        end
    };
    let prev = run.last_event_id;
    let status = match end {
        End::Blocked => None,
        End::Succeeded(output) => {
            run.push(
                "ExecutionSucceeded",
                prev,
                history::execution_succeeded(&output),
            );
            exec.output = Some(output);
            Some(Status::Succeeded)
        }
        End::Failed(err) => {
            let error = (!err.error.is_empty()).then_some(err.error);
            run.push(
                "ExecutionFailed",
                prev,
                history::execution_failed(error.as_deref(), err.cause.as_deref()),
            );
            exec.error = error;
            exec.cause = err.cause;
            Some(Status::Failed)
        }
        End::Aborted(error, cause) => {
            run.push(
                "ExecutionAborted",
                prev,
                history::execution_aborted(error.as_deref(), cause.as_deref()),
            );
            exec.error = error;
            exec.cause = cause;
            Some(Status::Aborted)
        }
        End::TimedOut => {
            run.push(
                "ExecutionTimedOut",
                prev,
                history::execution_timed_out(Some(names::TIMEOUT), None),
            );
            exec.error = Some(names::TIMEOUT.to_owned());
            Some(Status::TimedOut)
        }
    };
    if let Some(status) = status {
        // The execution ended: disarm whatever timers it still holds.
        exec.status = status;
        run.cancel_frame(&mut root);
        if exec.timeout_due_ms.take().is_some() {
            run.out.effects.push(Effect::CancelTimer {
                seq: EXECUTION_TIMEOUT_SEQ,
            });
        }
        root.current = None;
    }
    exec.root = root;
    exec.last_event_id = run.last_event_id;
    run.out
}

struct Run<'a> {
    info: &'a ExecutionInfo,
    now_ms: i64,
    cfg: &'a StepConfig,
    out: Step,
    last_event_id: i64,
    /// An event was refused because the history is full; the execution fails.
    overflowed: bool,
}

/// How a frame's run ended for now.
enum End {
    Succeeded(Value),
    Failed(StatesError),
    Blocked,
    /// Only at the root: StopExecution.
    Aborted(Option<String>, Option<String>),
    /// Only at the root: the execution's TimeoutSeconds passed.
    TimedOut,
}

/// What running one state led to.
enum Outcome {
    /// Go on to the named state with this input.
    Next(String, Value),
    /// The frame ends successfully with this output.
    Succeed(Value),
    /// The frame fails.
    Fail(StatesError),
    /// The frame is blocked (a timer was armed, a call made, or branches are running).
    Blocked,
}

/// An event from outside, on its way to the frame that waits for it.
enum Delivery {
    Timer(i64),
    Task(i64, Result<InvokeOutput, StatesError>),
}

/// The data one state reads: its raw input, the context object and the variables in scope.
struct Data {
    raw: Value,
    context: Value,
    vars: Map<String, Value>,
}

impl Data {
    fn scope(&self) -> Scope<'_> {
        Scope {
            input: &self.raw,
            context: &self.context,
            variables: &self.vars,
        }
    }
}

/// Variables visible in a frame: the outer ones, overridden by the frame's own.
fn visible(outer: &Map<String, Value>, frame: &Frame) -> Map<String, Value> {
    if frame.variables.is_empty() {
        return outer.clone();
    }
    let mut all = outer.clone();
    for (k, v) in &frame.variables {
        all.insert(k.clone(), v.clone());
    }
    all
}

impl Run<'_> {
    /// Run states from `name` until the frame blocks or ends.
    fn run_from(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        mut name: String,
        mut input: Value,
    ) -> End {
        for _ in 0..MAX_TRANSITIONS_PER_STEP {
            match self.enter(def, f, outer, &name, input) {
                Outcome::Next(next, next_input) => {
                    name = next;
                    input = next_input;
                }
                Outcome::Succeed(output) => {
                    f.current = None;
                    return End::Succeeded(output);
                }
                Outcome::Fail(err) => {
                    f.current = None;
                    return End::Failed(err);
                }
                Outcome::Blocked => return End::Blocked,
            }
        }
        End::Failed(StatesError::runtime(format!(
            "The execution made more than {MAX_TRANSITIONS_PER_STEP} transitions without waiting."
        )))
    }

    fn continue_with(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        outcome: Result<Outcome, StatesError>,
    ) -> End {
        match outcome {
            Ok(Outcome::Next(next, input)) => self.run_from(def, f, outer, next, input),
            Ok(Outcome::Succeed(output)) => {
                f.current = None;
                End::Succeeded(output)
            }
            Ok(Outcome::Fail(e)) | Err(e) => {
                f.current = None;
                End::Failed(e)
            }
            Ok(Outcome::Blocked) => End::Blocked,
        }
    }

    /// Enter a state and run it as far as it goes now.
    fn enter(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        name: &str,
        input: Value,
    ) -> Outcome {
        let Some(state) = def.state(name) else {
            return Outcome::Fail(StatesError::runtime(format!(
                "The state '{name}' does not exist."
            )));
        };
        f.current = Some(name.to_owned());
        f.entered_ms = self.now_ms;
        f.retry = None;
        f.task = None;
        f.fanout = None;
        let prev = f.chain_id;
        self.push(
            &format!("{}StateEntered", state.type_name),
            prev,
            history::state_entered(name, &input),
        );
        f.entered_event_id = self.last_event_id;
        f.input = input;
        match self.run_state(state, f, outer) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Fail(in_state(f, e)),
        }
    }

    fn data(&self, state: &State, f: &Frame, outer: &Map<String, Value>) -> Data {
        Data {
            raw: f.input.clone(),
            context: if state.needs_context {
                self.context(state, f, None)
            } else {
                Value::Null
            },
            vars: visible(outer, f),
        }
    }

    /// `$states` for a JSONata expression.
    fn states(d: &Data, result: Option<&Value>, error_output: Option<&Value>) -> Value {
        let mut m = Map::new();
        m.insert("input".into(), d.raw.clone());
        m.insert("context".into(), d.context.clone());
        if let Some(r) = result {
            m.insert("result".into(), r.clone());
        }
        if let Some(e) = error_output {
            m.insert("errorOutput".into(), e.clone());
        }
        Value::Object(m)
    }

    fn bindings<'b>(&self, states: &'b Value, d: &'b Data) -> Bindings<'b> {
        Bindings {
            states,
            variables: &d.vars,
            now_ms: self.now_ms,
            seed: crate::arn::stable_hash(&self.info.arn) ^ self.last_event_id as u64,
        }
    }

    /// Evaluate a JSONata field that may be a literal or a `{% %}` string.
    fn jsonata_value(
        &self,
        d: &Data,
        template: &Value,
        field: &str,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Value, StatesError> {
        let states = Self::states(d, result, error_output);
        jsonata::render(template, field, &self.bindings(&states, d))
    }

    fn run_state(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        let d = self.data(state, f, outer);
        match &state.kind {
            Kind::Pass { result } => {
                if state.jsonata {
                    let input = d.raw.clone();
                    return self.settle_jsonata(state, f, &d, None, input);
                }
                let scope = d.scope();
                let effective = select(&state.input_path, &scope, "InputPath")?;
                let effective = parameters(state, effective, &scope)?;
                let result = result.clone().unwrap_or(effective);
                self.settle_jsonpath(state, f, &d, result)
            }
            Kind::Succeed => {
                let output = if state.jsonata {
                    match &state.output {
                        Some(o) => self.jsonata_value(&d, o, "Output", None, None)?,
                        None => d.raw.clone(),
                    }
                } else {
                    let effective = select(&state.input_path, &d.scope(), "InputPath")?;
                    output_path(state, &effective, &d.context, &d.vars)?
                };
                self.exit_event(state, f, &output);
                Ok(Outcome::Succeed(output))
            }
            Kind::Fail {
                error,
                error_path,
                cause,
                cause_path,
            } => {
                let scope = d.scope();
                let text = |run: &Self, v: &Option<String>, field: &str| match v {
                    Some(s) if state.jsonata && jsonata::expression(s).is_some() => run
                        .jsonata_value(&d, &Value::String(s.clone()), field, None, None)
                        .map(|v| Some(v.as_str().map_or_else(|| v.to_string(), str::to_owned))),
                    other => Ok(other.clone()),
                };
                let error = match error_path {
                    Some(p) => Some(string_from_path(p, &scope, "ErrorPath")?),
                    None => text(self, error, "Error")?,
                };
                let cause = match cause_path {
                    Some(p) => Some(string_from_path(p, &scope, "CausePath")?),
                    None => text(self, cause, "Cause")?,
                };
                Ok(Outcome::Fail(StatesError {
                    error: error.unwrap_or_default(),
                    cause,
                }))
            }
            Kind::Choice { rules, default } => {
                let (next, output, assign) = if state.jsonata {
                    let states = Self::states(&d, None, None);
                    let chosen = choice::first_true(rules, &self.bindings(&states, &d))?;
                    let (next, out_t, assign) = match chosen {
                        Some(r) => (
                            r.next().to_owned(),
                            r.output.as_ref().or(state.output.as_ref()),
                            r.assign.as_ref().or(state.assign.as_ref()),
                        ),
                        None => (
                            default.clone().ok_or_else(choice::no_match)?,
                            state.output.as_ref(),
                            state.assign.as_ref(),
                        ),
                    };
                    let output = match out_t {
                        Some(o) => self.jsonata_value(&d, o, "Output", None, None)?,
                        None => d.raw.clone(),
                    };
                    (next, output, assign)
                } else {
                    let effective = select(&state.input_path, &d.scope(), "InputPath")?;
                    let scope = Scope {
                        input: &effective,
                        ..d.scope()
                    };
                    let chosen = choice::first_match(rules, &scope)?;
                    let (next, assign) = match chosen {
                        Some(r) => (
                            r.next().to_owned(),
                            r.assign.as_ref().or(state.assign.as_ref()),
                        ),
                        None => (
                            default.clone().ok_or_else(choice::no_match)?,
                            state.assign.as_ref(),
                        ),
                    };
                    let output = output_path(state, &effective, &d.context, &d.vars)?;
                    (next, output, assign)
                };
                let assigned = self.assign(state.jsonata, assign, &d, None, None)?;
                f.variables.extend(assigned);
                self.exit_event(state, f, &output);
                Ok(Outcome::Next(next, output))
            }
            Kind::Wait(wait_for) => {
                let due_ms = if state.jsonata {
                    self.jsonata_deadline(wait_for, &d)?
                } else {
                    let effective = select(&state.input_path, &d.scope(), "InputPath")?;
                    self.deadline(
                        wait_for,
                        &Scope {
                            input: &effective,
                            ..d.scope()
                        },
                    )?
                };
                if due_ms <= self.now_ms {
                    return self.finish_wait(state, f, outer);
                }
                let seq = self.last_event_id;
                f.waiting = Some(Waiting { seq, due_ms });
                self.out.effects.push(Effect::ArmTimer { seq, due_ms });
                Ok(Outcome::Blocked)
            }
            Kind::Task(spec) => {
                let (params, timeout_secs, heartbeat_secs) = if state.jsonata {
                    let params = match &state.arguments {
                        Some(a) => self.jsonata_value(&d, a, "Arguments", None, None)?,
                        None => d.raw.clone(),
                    };
                    let t = self.jsonata_seconds(spec.timeout.as_ref(), &d, "TimeoutSeconds")?;
                    let h =
                        self.jsonata_seconds(spec.heartbeat.as_ref(), &d, "HeartbeatSeconds")?;
                    (params, t, h)
                } else {
                    let scope = d.scope();
                    let effective = select(&state.input_path, &scope, "InputPath")?;
                    let params = parameters(state, effective.clone(), &scope)?;
                    let t = seconds(
                        spec.timeout.as_ref(),
                        &effective,
                        &scope,
                        "TimeoutSecondsPath",
                    )?;
                    let h = seconds(
                        spec.heartbeat.as_ref(),
                        &effective,
                        &scope,
                        "HeartbeatSecondsPath",
                    )?;
                    (params, t, h)
                };
                let invocation = invocation_for(spec, &params)?;
                f.task = Some(TaskProgress {
                    invocation,
                    parameters: params,
                    in_flight: None,
                    timeout: None,
                    timeout_secs,
                    heartbeat_secs,
                });
                self.schedule(state, f);
                Ok(Outcome::Blocked)
            }
            Kind::Parallel { .. } | Kind::Map(_) => self.start_fanout(state, f, outer, &d),
            Kind::Unsupported => Err(StatesError::runtime(format!(
                "The state type '{}' of state '{}' is not supported by this server.",
                state.type_name, state.name
            ))),
        }
    }

    /// The Wait is over: Output, Assign, and exit.
    fn finish_wait(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        let d = self.data(state, f, outer);
        if state.jsonata {
            let input = d.raw.clone();
            return self.settle_jsonata(state, f, &d, None, input);
        }
        let effective = select(&state.input_path, &d.scope(), "InputPath")?;
        let assigned = self.assign(
            state.jsonata,
            state.assign.as_ref(),
            &d,
            Some(&effective),
            None,
        )?;
        let output = output_path(state, &effective, &d.context, &d.vars)?;
        Ok(self.exit(state, f, output, assigned))
    }

    /// Evaluate `Assign`: every value is computed before any is set. Under JSONPath, `$` is
    /// `result` (or the state input); under JSONata, `$states.result` is.
    fn assign(
        &self,
        jsonata: bool,
        assign: Option<&Value>,
        d: &Data,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Result<Map<String, Value>, StatesError> {
        let Some(template) = assign else {
            return Ok(Map::new());
        };
        let rendered = if jsonata {
            self.jsonata_value(d, template, "Assign", result, error_output)?
        } else {
            let input = result.or(error_output).unwrap_or(&d.raw);
            template::render(
                template,
                &Scope {
                    input,
                    context: &d.context,
                    variables: &d.vars,
                },
            )?
        };
        match rendered {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }

    /// An event from outside: find the frame that waits for it and go on from there.
    /// `None` when no frame in this tree waits for it.
    fn deliver(
        &mut self,
        def: &Definition,
        f: &mut Frame,
        outer: &Map<String, Value>,
        ev: &Delivery,
    ) -> Option<End> {
        let state = def.state(f.current.as_deref()?)?;
        match ev {
            Delivery::Timer(seq) => {
                if f.waiting.map(|w| w.seq) == Some(*seq) {
                    f.waiting = None;
                    let outcome = self
                        .finish_wait(state, f, outer)
                        .map_err(|e| in_state(f, e));
                    return Some(self.continue_with(def, f, outer, outcome));
                }
                let backoff = f.retry.as_ref().and_then(|r| r.backoff);
                if backoff.map(|w| w.seq) == Some(*seq) {
                    if let Some(r) = f.retry.as_mut() {
                        r.backoff = None;
                    }
                    let outcome = self.reattempt(state, f, outer).map_err(|e| in_state(f, e));
                    return Some(self.continue_with(def, f, outer, outcome));
                }
                if f.task.as_ref().and_then(|t| t.timeout).map(|w| w.seq) == Some(*seq) {
                    if let Some(t) = f.task.as_mut() {
                        t.timeout = None;
                        t.in_flight = None;
                    }
                    let outcome = self.task_timed_out(state, f, outer);
                    return Some(self.continue_with(def, f, outer, outcome));
                }
            }
            Delivery::Task(seq, result) => {
                if f.task.as_ref().and_then(|t| t.in_flight) == Some(*seq) {
                    let outcome = self.task_result(state, f, outer, *seq, result.clone());
                    return Some(self.continue_with(def, f, outer, outcome));
                }
            }
        }
        // Not this frame's: one of its branches or iterations, if any.
        let vars = visible(outer, f);
        let fan = f.fanout.as_mut()?;
        let mut ended = None;
        for i in 0..fan.running.len() {
            let index = fan.running[i].index;
            let child_def = child_definition(state, index)?;
            if let Some(end) = self.deliver(child_def, &mut fan.running[i].frame, &vars, ev) {
                match end {
                    End::Blocked => return Some(End::Blocked),
                    other => {
                        fan.running.remove(i);
                        ended = Some((index, other));
                        break;
                    }
                }
            }
        }
        let (index, end) = ended?;
        self.child_ended(state, f, index, end);
        let outcome = self.pump(state, f, outer).map_err(|e| in_state(f, e));
        Some(self.continue_with(def, f, outer, outcome))
    }

    /// Start a Parallel state's branches or a Map state's iterations.
    fn start_fanout(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        d: &Data,
    ) -> Result<Outcome, StatesError> {
        let (inputs, max_concurrency, tolerated) = match &state.kind {
            Kind::Parallel { branches } => {
                let input = if state.jsonata {
                    match &state.arguments {
                        Some(a) => self.jsonata_value(d, a, "Arguments", None, None)?,
                        None => d.raw.clone(),
                    }
                } else {
                    let scope = d.scope();
                    let effective = select(&state.input_path, &scope, "InputPath")?;
                    parameters(state, effective, &scope)?
                };
                (vec![input; branches.len()], 0, None)
            }
            Kind::Map(spec) => self.map_inputs(state, spec, f, d)?,
            _ => return Ok(Outcome::Blocked),
        };
        let prev = self.last_event_id;
        if matches!(state.kind, Kind::Map(_)) {
            self.push(
                "MapStateStarted",
                prev,
                history::map_state_started(inputs.len()),
            );
        } else {
            self.push("ParallelStateStarted", prev, None);
        }
        let n = inputs.len();
        f.fanout = Some(Box::new(Fanout {
            inputs,
            next: 0,
            max_concurrency,
            running: Vec::new(),
            results: vec![Value::Null; n],
            failures: 0,
            tolerated,
            error: None,
        }));
        self.pump(state, f, outer)
    }

    /// A Map's iteration inputs (after ItemSelector), its concurrency and its tolerance.
    fn map_inputs(
        &self,
        state: &State,
        spec: &MapSpec,
        f: &Frame,
        d: &Data,
    ) -> Result<(Vec<Value>, usize, Option<usize>), StatesError> {
        let (items, effective) = if state.jsonata {
            let items = match &spec.items {
                Some(Value::String(s)) if jsonata::expression(s).is_some() => {
                    let expr = jsonata::expression(s).unwrap_or_default();
                    let states = Self::states(d, None, None);
                    let v = match jsonata::evaluate(expr, &self.bindings(&states, d)) {
                        Ok(Some(v)) => v,
                        Ok(None) => {
                            return Err(jsonata::Failure::Undefined.into_error(expr, "Items"))
                        }
                        Err(e) => return Err(e.into_error(expr, "Items")),
                    };
                    if !v.is_array() {
                        return Err(jsonata::unexpected_type(expr, "Items", "array", &v));
                    }
                    v
                }
                Some(literal) => self.jsonata_value(d, literal, "Items", None, None)?,
                None => d.raw.clone(),
            };
            (items, d.raw.clone())
        } else {
            let scope = d.scope();
            let effective = select(&state.input_path, &scope, "InputPath")?;
            let items = select(
                &spec.items_path,
                &Scope {
                    input: &effective,
                    ..scope
                },
                "ItemsPath",
            )?;
            (items, effective)
        };
        let Value::Array(items) = items else {
            let error = if state.jsonata {
                names::QUERY_EVALUATION_ERROR
            } else {
                names::RUNTIME
            };
            return Err(StatesError::new(
                error,
                format!("Map state input must be an array but was: {items}"),
            ));
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let Some(selector) = &spec.item_selector else {
                inputs.push(item);
                continue;
            };
            let context = self.context(state, f, Some((index, &item)));
            let input = if state.jsonata {
                let dd = Data {
                    raw: d.raw.clone(),
                    context,
                    vars: d.vars.clone(),
                };
                self.jsonata_value(&dd, selector, "ItemSelector", None, None)?
            } else {
                template::render(
                    selector,
                    &Scope {
                        input: &effective,
                        context: &context,
                        variables: &d.vars,
                    },
                )?
            };
            inputs.push(input);
        }
        let count = |c: &Option<Count>, field: &str| -> Result<Option<f64>, StatesError> {
            match c {
                None => Ok(None),
                Some(Count::Fixed(n)) => Ok(Some(*n)),
                Some(Count::Path(p)) => {
                    let v = query(
                        p,
                        &Scope {
                            input: &effective,
                            ..d.scope()
                        },
                        field,
                    )?;
                    // A numeric string counts, as AWS reads it.
                    let n = v.as_f64().or_else(|| {
                        v.as_str()
                            .and_then(|s| s.trim().parse::<u64>().ok())
                            .map(|n| n as f64)
                    });
                    match n {
                        Some(n) if n >= 0.0 => Ok(Some(n)),
                        _ => Err(StatesError::runtime(format!(
                            "The {field}Path field refers to value {} which is not a valid integer: {p}",
                            if v.is_string() { v.to_string() } else { format!("\"{v}\"") }
                        ))),
                    }
                }
                Some(Count::Expr(e)) => {
                    let v = self.jsonata_value(d, &Value::String(e.clone()), field, None, None)?;
                    v.as_f64().map(Some).ok_or_else(|| {
                        StatesError::new(
                            names::QUERY_EVALUATION_ERROR,
                            format!("The {field} field must be a number but was: {v}"),
                        )
                    })
                }
            }
        };
        let max = count(&spec.max_concurrency, "MaxConcurrency")?.unwrap_or(0.0);
        let tol_count = count(&spec.tolerated_count, "ToleratedFailureCount")?;
        let tol_pct = count(&spec.tolerated_percentage, "ToleratedFailurePercentage")?;
        let n = inputs.len();
        let tolerated = match (tol_count, tol_pct) {
            (None, None) => None,
            (c, p) => {
                let by_count = c.map(|c| c as usize);
                let by_pct = p.map(|p| ((p / 100.0) * n as f64).floor() as usize);
                Some(by_count.into_iter().chain(by_pct).max().unwrap_or(0))
            }
        };
        Ok((inputs, max as usize, tolerated))
    }

    /// Start what may start, and settle the state when all have finished or it has failed.
    fn pump(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        let vars = visible(outer, f);
        let is_map = matches!(state.kind, Kind::Map(_));
        loop {
            let Some(fan) = f.fanout.as_mut() else {
                return Ok(Outcome::Blocked);
            };
            if fan.error.is_some() {
                break;
            }
            let room = fan.max_concurrency == 0 || fan.running.len() < fan.max_concurrency;
            if fan.next >= fan.inputs.len() || !room {
                break;
            }
            let index = fan.next;
            fan.next += 1;
            let input = std::mem::take(&mut fan.inputs[index]);
            let prev = self.last_event_id;
            if is_map {
                self.push(
                    "MapIterationStarted",
                    prev,
                    history::map_iteration("Started", &state.name, index),
                );
            }
            let Some(child_def) = child_definition(state, index) else {
                break;
            };
            let mut child = Frame {
                chain_id: self.last_event_id,
                ..Frame::default()
            };
            let end = self.run_from(
                child_def,
                &mut child,
                &vars,
                child_def.start_at.clone(),
                input,
            );
            match end {
                End::Blocked => {
                    if let Some(fan) = f.fanout.as_mut() {
                        fan.running.push(Child {
                            index,
                            frame: child,
                        });
                    }
                }
                other => self.child_ended(state, f, index, other),
            }
        }
        let Some(fan) = f.fanout.as_mut() else {
            return Ok(Outcome::Blocked);
        };
        if let Some(err) = fan.error.clone() {
            // Stop the branches still running, then fail the state.
            let running = std::mem::take(&mut fan.running);
            for mut c in running {
                self.cancel_frame(&mut c.frame);
                if is_map {
                    let prev = self.last_event_id;
                    self.push(
                        "MapIterationAborted",
                        prev,
                        history::map_iteration("Aborted", &state.name, c.index),
                    );
                }
            }
            f.fanout = None;
            let prev = self.last_event_id;
            let kind = if is_map {
                "MapStateFailed"
            } else {
                "ParallelStateFailed"
            };
            // No details: the error shows in the next event (a Catch, or ExecutionFailed).
            self.push(kind, prev, None);
            return self.state_error(state, f, outer, err);
        }
        if fan.next < fan.inputs.len() || !fan.running.is_empty() {
            return Ok(Outcome::Blocked);
        }
        let results = std::mem::take(&mut fan.results);
        f.fanout = None;
        let prev = self.last_event_id;
        let kind = if is_map {
            "MapStateSucceeded"
        } else {
            "ParallelStateSucceeded"
        };
        self.push(kind, prev, None);
        self.complete(state, f, outer, Value::Array(results))
    }

    /// Record how a branch or iteration ended.
    fn child_ended(&mut self, state: &State, f: &mut Frame, index: usize, end: End) {
        let is_map = matches!(state.kind, Kind::Map(_));
        let Some(fan) = f.fanout.as_mut() else {
            return;
        };
        let prev = self.last_event_id;
        match end {
            End::Succeeded(output) => {
                if let Some(slot) = fan.results.get_mut(index) {
                    *slot = output;
                }
                if is_map {
                    self.push(
                        "MapIterationSucceeded",
                        prev,
                        history::map_iteration("Succeeded", &state.name, index),
                    );
                }
            }
            End::Failed(err) => {
                fan.failures += 1;
                if is_map {
                    self.push(
                        "MapIterationFailed",
                        prev,
                        history::map_iteration("Failed", &state.name, index),
                    );
                }
                match fan.tolerated {
                    None => {
                        if fan.error.is_none() {
                            fan.error = Some(err);
                        }
                    }
                    Some(t) if fan.failures > t => {
                        fan.error = Some(StatesError::new(
                            names::EXCEEDED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        ));
                    }
                    Some(_) => {
                        if let Some(slot) = fan.results.get_mut(index) {
                            *slot = task::error_output(&err);
                        }
                    }
                }
            }
            End::Blocked | End::Aborted(..) | End::TimedOut => {}
        }
    }

    /// Run the state again after a retry's back-off.
    fn reattempt(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        match &state.kind {
            Kind::Task(_) => {
                self.schedule(state, f);
                Ok(Outcome::Blocked)
            }
            Kind::Parallel { .. } | Kind::Map(_) => {
                let d = self.data(state, f, outer);
                self.start_fanout(state, f, outer, &d)
            }
            _ => Ok(Outcome::Blocked),
        }
    }

    /// Write the Scheduled and Started events of a new attempt and ask for the call.
    fn schedule(&mut self, state: &State, f: &mut Frame) {
        let Kind::Task(spec) = &state.kind else {
            return;
        };
        let Some(tp) = f.task.clone() else {
            return;
        };
        let prev = self.last_event_id;
        match &spec.resource {
            TaskResource::LambdaInvoke => {
                let details = history::task_scheduled(
                    "lambda",
                    "invoke",
                    &self.info.region,
                    &tp.parameters,
                    tp.timeout_secs,
                    tp.heartbeat_secs,
                );
                self.push("TaskScheduled", prev, details);
                let seq = self.last_event_id;
                self.push(
                    "TaskStarted",
                    seq,
                    history::task_started("lambda", "invoke"),
                );
            }
            _ => {
                let details =
                    history::lambda_scheduled(&spec.resource_text, &tp.parameters, tp.timeout_secs);
                self.push("LambdaFunctionScheduled", prev, details);
                let seq = self.last_event_id;
                self.push("LambdaFunctionStarted", seq, None);
            }
        }
        let seq = self.last_event_id - 1;
        let mut invocation = tp.invocation.clone();
        invocation.seq = seq;
        let timeout = tp.timeout_secs.map(|t| Waiting {
            seq,
            due_ms: self.now_ms.saturating_add(
                i64::try_from(t)
                    .unwrap_or(i64::MAX / 1000)
                    .saturating_mul(1000),
            ),
        });
        if let Some(w) = timeout {
            self.out.effects.push(Effect::ArmTimer {
                seq: w.seq,
                due_ms: w.due_ms,
            });
        }
        self.out.effects.push(Effect::Invoke(invocation.clone()));
        if let Some(t) = f.task.as_mut() {
            t.invocation = invocation;
            t.in_flight = Some(seq);
            t.timeout = timeout;
        }
    }

    fn task_result(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        seq: i64,
        result: Result<InvokeOutput, StatesError>,
    ) -> Result<Outcome, StatesError> {
        let timeout = f.task.as_mut().and_then(|t| {
            t.in_flight = None;
            t.timeout.take()
        });
        if timeout.is_some() {
            self.out.effects.push(Effect::CancelTimer { seq });
        }
        let Kind::Task(spec) = &state.kind else {
            return Ok(Outcome::Blocked);
        };
        let result = result
            .map_err(|e| integration_error(spec, e))
            .and_then(|out| task_output(spec, &out));
        let prev = self.last_event_id;
        let outcome = match result {
            Ok(output) => {
                match spec.resource {
                    TaskResource::LambdaInvoke => self.push(
                        "TaskSucceeded",
                        prev,
                        history::task_succeeded("lambda", "invoke", &output),
                    ),
                    _ => self.push(
                        "LambdaFunctionSucceeded",
                        prev,
                        history::lambda_succeeded(&output),
                    ),
                }
                f.task = None;
                self.complete(state, f, outer, output)
            }
            Err(err) => {
                match spec.resource {
                    TaskResource::LambdaInvoke => self.push(
                        "TaskFailed",
                        prev,
                        history::task_failed(
                            "lambda",
                            "invoke",
                            Some(&err.error),
                            err.cause.as_deref(),
                        ),
                    ),
                    _ => self.push(
                        "LambdaFunctionFailed",
                        prev,
                        history::lambda_failed(Some(&err.error), err.cause.as_deref()),
                    ),
                }
                self.state_error(state, f, outer, err)
            }
        };
        outcome.map_err(|e| in_state(f, e))
    }

    fn task_timed_out(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
    ) -> Result<Outcome, StatesError> {
        let Kind::Task(spec) = &state.kind else {
            return Ok(Outcome::Blocked);
        };
        let err = StatesError {
            error: names::TIMEOUT.to_owned(),
            cause: None,
        };
        let prev = self.last_event_id;
        match spec.resource {
            TaskResource::LambdaInvoke => self.push(
                "TaskTimedOut",
                prev,
                history::task_timed_out("lambda", "invoke", Some(names::TIMEOUT), None),
            ),
            _ => self.push(
                "LambdaFunctionTimedOut",
                prev,
                history::lambda_timed_out(Some(names::TIMEOUT), None),
            ),
        }
        self.state_error(state, f, outer, err)
            .map_err(|e| in_state(f, e))
    }

    /// A Task, Parallel or Map state produced `result`: ResultSelector, Assign, ResultPath
    /// and OutputPath (or JSONata's Output and Assign), then exit.
    fn complete(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        result: Value,
    ) -> Result<Outcome, StatesError> {
        f.task = None;
        f.retry = None;
        let d = self.data(state, f, outer);
        if state.jsonata {
            return self.settle_jsonata(state, f, &d, Some(&result), result.clone());
        }
        let result = match &state.result_selector {
            Some(selector) => template::render(
                selector,
                &Scope {
                    input: &result,
                    context: &d.context,
                    variables: &d.vars,
                },
            )?,
            None => result,
        };
        self.settle_jsonpath(state, f, &d, result)
    }

    /// JSONPath: Assign (`$` is the result), ResultPath and OutputPath, then exit.
    fn settle_jsonpath(
        &mut self,
        state: &State,
        f: &mut Frame,
        d: &Data,
        result: Value,
    ) -> Result<Outcome, StatesError> {
        let assigned = self.assign(false, state.assign.as_ref(), d, Some(&result), None)?;
        let output = result_and_output(state, d.raw.clone(), result, &d.context, &d.vars)?;
        Ok(self.exit(state, f, output, assigned))
    }

    /// JSONata: Output (or `default` without one) and Assign, both seeing `$states.result`
    /// when there is one, then exit.
    fn settle_jsonata(
        &mut self,
        state: &State,
        f: &mut Frame,
        d: &Data,
        result: Option<&Value>,
        default: Value,
    ) -> Result<Outcome, StatesError> {
        let output = match &state.output {
            Some(o) => self.jsonata_value(d, o, "Output", result, None)?,
            None => default,
        };
        let assigned = self.assign(true, state.assign.as_ref(), d, result, None)?;
        Ok(self.exit(state, f, output, assigned))
    }

    /// The state failed with `err`: retry, catch, or fail the frame.
    fn state_error(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        err: StatesError,
    ) -> Result<Outcome, StatesError> {
        if let Some(outcome) = self.retry(state, f, outer, &err) {
            return outcome;
        }
        f.task = None;
        f.retry = None;
        self.catch(state, f, outer, err)
    }

    /// Apply the first Retry rule that matches, if it has attempts left.
    fn retry(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        err: &StatesError,
    ) -> Option<Result<Outcome, StatesError>> {
        let (index, retrier) = state
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| task::matches(&r.error_equals, &err.error))?;
        let failed_seq = self.last_event_id;
        let scale = self.scale();
        let progress = f.retry.get_or_insert_with(|| RetryProgress {
            attempts: vec![0; state.retry.len()],
            count: 0,
            backoff: None,
        });
        let made = progress.attempts.get(index).copied().unwrap_or(u32::MAX);
        if made >= retrier.max_attempts {
            return None;
        }
        let seed = crate::arn::stable_hash(&self.info.arn) ^ failed_seq as u64;
        let delay_ms = (retrier.delay_ms(made, task::jitter(seed)) as f64 * scale).ceil() as i64;
        if let Some(a) = progress.attempts.get_mut(index) {
            *a += 1;
        }
        progress.count += 1;
        if delay_ms <= 0 {
            return Some(self.reattempt(state, f, outer));
        }
        let w = Waiting {
            seq: failed_seq,
            due_ms: self.now_ms.saturating_add(delay_ms),
        };
        progress.backoff = Some(w);
        self.out.effects.push(Effect::ArmTimer {
            seq: w.seq,
            due_ms: w.due_ms,
        });
        Some(Ok(Outcome::Blocked))
    }

    /// Route `err` through the state's Catch rules, or fail the frame with it.
    fn catch(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        err: StatesError,
    ) -> Result<Outcome, StatesError> {
        let Some(catcher) = state
            .catch
            .iter()
            .find(|c| task::matches(&c.error_equals, &err.error))
        else {
            return Ok(Outcome::Fail(err));
        };
        let d = self.data(state, f, outer);
        let error_output = task::error_output(&err);
        let output = if state.jsonata {
            match &catcher.output {
                Some(o) => self.jsonata_value(&d, o, "Output", None, Some(&error_output))?,
                None => error_output.clone(),
            }
        } else {
            match &catcher.result_path {
                None => error_output.clone(),
                Some(None) => d.raw.clone(),
                Some(Some(p)) => {
                    path::apply_result_path(d.raw.clone(), Some(p), error_output.clone())?
                }
            }
        };
        let assigned = self.assign(
            state.jsonata,
            catcher.assign.as_ref(),
            &d,
            None,
            Some(&error_output),
        )?;
        f.variables.extend(assigned);
        let prev = self.last_event_id;
        self.push(
            &format!("{}StateExited", state.type_name),
            prev,
            history::state_exited(&state.name, &output),
        );
        f.chain_id = self.last_event_id;
        Ok(Outcome::Next(catcher.next.clone(), output))
    }

    fn scale(&self) -> f64 {
        if self.cfg.wait_time_scale.is_finite() && self.cfg.wait_time_scale >= 0.0 {
            self.cfg.wait_time_scale
        } else {
            1.0
        }
    }

    /// Set the assigned variables, write the StateExited event and follow the state's
    /// transition. An output over AWS's payload limit fails the frame instead.
    fn exit(
        &mut self,
        state: &State,
        f: &mut Frame,
        output: Value,
        assigned: Map<String, Value>,
    ) -> Outcome {
        if history::to_text(&output).len() > MAX_PAYLOAD_BYTES {
            return Outcome::Fail(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                ),
            ));
        }
        f.variables.extend(assigned);
        self.exit_event(state, f, &output);
        match &state.transition {
            Some(Transition::Next(next)) => Outcome::Next(next.clone(), output),
            Some(Transition::End) | None => Outcome::Succeed(output),
        }
    }

    fn exit_event(&mut self, state: &State, f: &mut Frame, output: &Value) {
        let prev = self.last_event_id;
        self.push(
            &format!("{}StateExited", state.type_name),
            prev,
            history::state_exited(&state.name, output),
        );
        f.chain_id = self.last_event_id;
    }

    fn jsonata_seconds(
        &self,
        spec: Option<&Seconds>,
        d: &Data,
        field: &str,
    ) -> Result<Option<u64>, StatesError> {
        match spec {
            None => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n)),
            Some(Seconds::Path(_)) => Ok(None),
            Some(Seconds::Expr(e)) => {
                let v = self.jsonata_value(d, &Value::String(e.clone()), field, None, None)?;
                match v.as_u64() {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(StatesError::new(
                        names::QUERY_EVALUATION_ERROR,
                        format!("The {field} field must be a positive integer but was: {v}"),
                    )),
                }
            }
        }
    }

    /// The deadline of a JSONata Wait.
    fn jsonata_deadline(&self, wait_for: &WaitFor, d: &Data) -> Result<i64, StatesError> {
        match wait_for {
            WaitFor::SecondsExpr(e) => {
                let v = self.jsonata_value(d, &Value::String(e.clone()), "Seconds", None, None)?;
                match v.as_i64() {
                    Some(s) if s >= 0 => self.deadline(&WaitFor::Seconds(s as u64), &d.scope()),
                    _ => Err(StatesError::new(
                        names::QUERY_EVALUATION_ERROR,
                        format!("The Seconds field must be a non-negative integer but was: {v}"),
                    )),
                }
            }
            WaitFor::TimestampExpr(e) => {
                let v =
                    self.jsonata_value(d, &Value::String(e.clone()), "Timestamp", None, None)?;
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                let t = v
                    .as_str()
                    .and_then(timestamp::parse_rfc3339_ms)
                    .ok_or_else(|| {
                        StatesError::new(
                            names::QUERY_EVALUATION_ERROR,
                            format!("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {shown}"),
                        )
                    })?;
                self.deadline(&WaitFor::Timestamp(t), &d.scope())
            }
            other => self.deadline(other, &d.scope()),
        }
    }

    fn deadline(&self, wait_for: &WaitFor, scope: &Scope<'_>) -> Result<i64, StatesError> {
        let now = self.now_ms;
        let scale = self.scale();
        let after = |delta_ms: f64| -> i64 {
            let scaled = (delta_ms * scale).ceil();
            // Saturate far-future deadlines instead of overflowing.
            if scaled >= (i64::MAX - now) as f64 {
                i64::MAX
            } else {
                now + scaled as i64
            }
        };
        let delay_ms = match wait_for {
            WaitFor::Seconds(s) => i64::try_from(*s).unwrap_or(i64::MAX).saturating_mul(1000),
            WaitFor::SecondsPath(p) => {
                let v = path::query(p, scope).map_err(|_| {
                    StatesError::runtime(format!(
                        "The SecondsPath parameter does not reference an input value: {p}"
                    ))
                })?;
                match v.as_i64() {
                    Some(s) if s >= 0 => s.saturating_mul(1000),
                    _ => {
                        return Err(StatesError::runtime(format!(
                            "The SecondsPath parameter references an invalid value: {p} == {v}"
                        )))
                    }
                }
            }
            WaitFor::Timestamp(t) => t.saturating_sub(now).max(0),
            WaitFor::TimestampPath(p) => {
                let v = path::query(p, scope).map_err(|_| {
                    StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference an input value: {p}"
                    ))
                })?;
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                let t = v
                    .as_str()
                    .and_then(timestamp::parse_rfc3339_ms)
                    .ok_or_else(|| {
                        StatesError::runtime(format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {shown}"
                        ))
                    })?;
                t.saturating_sub(now).max(0)
            }
            WaitFor::SecondsExpr(_) | WaitFor::TimestampExpr(_) => 0,
        };
        if delay_ms > MAX_WAIT_MS {
            return Err(StatesError::runtime("Wait state delay is too long."));
        }
        Ok(after(delay_ms as f64))
    }

    /// The context object (`$$`) while `state` runs in `f`; `item` adds `$$.Map.Item` for a
    /// Map's ItemSelector.
    fn context(&self, state: &State, f: &Frame, item: Option<(usize, &Value)>) -> Value {
        let mut state_part = json!({
            "EnteredTime": timestamp::format_ms(f.entered_ms),
            "Name": state.name,
        });
        // AWS shows RetryCount only in the states that can retry.
        if matches!(
            state.kind,
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_)
        ) {
            state_part["RetryCount"] = json!(f.retry.as_ref().map_or(0, |r| r.count));
        }
        let mut context = json!({
            "Execution": {
                "Id": self.info.arn,
                "Input": self.info.input,
                "Name": self.info.name,
                "RoleArn": self.info.role_arn,
                "StartTime": timestamp::format_ms(self.info.start_ms),
                "RedriveCount": 0,
            },
            "State": state_part,
            "StateMachine": {
                "Id": self.info.state_machine_arn,
                "Name": self.info.state_machine_name,
            },
        });
        if let Some((index, value)) = item {
            context["Map"] = json!({"Item": {"Index": index, "Value": value}});
        }
        context
    }

    /// Disarm every timer a frame and its branches hold (the frame is being abandoned).
    fn cancel_frame(&mut self, f: &mut Frame) {
        if let Some(w) = f.waiting.take() {
            self.out.effects.push(Effect::CancelTimer { seq: w.seq });
        }
        if let Some(w) = f.task.take().and_then(|t| t.timeout) {
            self.out.effects.push(Effect::CancelTimer { seq: w.seq });
        }
        if let Some(w) = f.retry.take().and_then(|r| r.backoff) {
            self.out.effects.push(Effect::CancelTimer { seq: w.seq });
        }
        if let Some(mut fan) = f.fanout.take() {
            for c in &mut fan.running {
                self.cancel_frame(&mut c.frame);
            }
        }
    }

    fn push(&mut self, event_type: &str, previous_id: i64, details: Option<String>) {
        let cap = self.cfg.max_history_events;
        let is_end = matches!(
            event_type,
            "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut"
        );
        if !is_end && (self.overflowed || (cap > 0 && self.last_event_id + 1 >= cap)) {
            self.overflowed = true;
            return;
        }
        self.last_event_id += 1;
        self.out.events.push(HistoryEvent {
            id: self.last_event_id,
            previous_id,
            timestamp_ms: self.now_ms,
            event_type: event_type.to_owned(),
            details,
        });
    }
}

/// AWS prefixes the cause of a runtime error with where it happened.
fn in_state(f: &Frame, mut e: StatesError) -> StatesError {
    const PREFIX: &str = "An error occurred while executing the state";
    let located = matches!(
        e.error.as_str(),
        names::RUNTIME | names::QUERY_EVALUATION_ERROR
    );
    if located {
        let detail = e.cause.take().unwrap_or_default();
        if detail.starts_with(PREFIX) {
            e.cause = Some(detail);
        } else {
            e.cause = Some(format!(
                "{PREFIX} '{}' (entered at the event id #{}). {detail}",
                f.current.as_deref().unwrap_or_default(),
                f.entered_event_id
            ));
        }
    }
    e
}

/// The definition branch `index` of a Parallel runs, or a Map's processor.
fn child_definition(state: &State, index: usize) -> Option<&Definition> {
    match &state.kind {
        Kind::Parallel { branches } => branches.get(index),
        Kind::Map(spec) => Some(&spec.processor),
        _ => None,
    }
}

fn result_and_output(
    state: &State,
    raw: Value,
    result: Value,
    context: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, StatesError> {
    let with_result = match &state.result_path {
        PathField::Absent => result,
        PathField::Null => raw,
        PathField::Path(p) => path::apply_result_path(raw, Some(p), result)?,
    };
    output_path(state, &with_result, context, vars)
}

/// The state's `Parameters` rendered against its effective input, or that input unchanged.
fn parameters(state: &State, effective: Value, scope: &Scope<'_>) -> Result<Value, StatesError> {
    match &state.parameters {
        Some(template) => template::render(
            template,
            &Scope {
                input: &effective,
                ..*scope
            },
        ),
        None => Ok(effective),
    }
}

/// Resolve TimeoutSeconds / TimeoutSecondsPath (and the heartbeat pair).
fn seconds(
    spec: Option<&Seconds>,
    effective: &Value,
    scope: &Scope<'_>,
    field: &str,
) -> Result<Option<u64>, StatesError> {
    match spec {
        None => Ok(None),
        Some(Seconds::Fixed(n)) => Ok(Some(*n)),
        Some(Seconds::Expr(e)) => Err(StatesError::runtime(format!(
            "The {field} value '{e}' is not a positive integer."
        ))),
        Some(Seconds::Path(p)) => {
            let v = query(
                p,
                &Scope {
                    input: effective,
                    ..*scope
                },
                field,
            )?;
            match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(StatesError::runtime(format!(
                    "The {field} field refers to value {v} which is not a valid positive integer: {p}"
                ))),
            }
        }
    }
}

/// The Lambda call a Task state makes with these effective parameters.
fn invocation_for(spec: &TaskSpec, params: &Value) -> Result<Invocation, StatesError> {
    match &spec.resource {
        TaskResource::LambdaInvoke => {
            let field = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_owned);
            let function_name = field("FunctionName").ok_or_else(|| {
                StatesError::runtime(
                    "The field 'FunctionName' is required by the lambda:invoke integration.",
                )
            })?;
            let payload = match params.get("Payload") {
                None => "{}".to_owned(),
                // A string payload is sent as the text it holds, as the SDK does.
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            Ok(Invocation {
                seq: 0,
                function_name,
                qualifier: field("Qualifier"),
                payload,
                invocation_type: field("InvocationType")
                    .unwrap_or_else(|| "RequestResponse".into()),
                client_context: field("ClientContext"),
            })
        }
        TaskResource::LambdaFunction { function } => Ok(Invocation {
            seq: 0,
            function_name: function.clone(),
            qualifier: None,
            payload: params.to_string(),
            invocation_type: "RequestResponse".into(),
            client_context: None,
        }),
        TaskResource::Other(r) => Err(StatesError::runtime(format!(
            "The resource '{r}' is not supported by this server: only Lambda tasks run here."
        ))),
    }
}

/// A function error as the state sees it: the `lambda:invoke` integration re-serialises the
/// error document compactly for the cause, while a function ARN passes it on as sent.
fn integration_error(spec: &TaskSpec, mut e: StatesError) -> StatesError {
    if spec.resource == TaskResource::LambdaInvoke {
        if let Some(parsed) = e
            .cause
            .as_deref()
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
            .filter(Value::is_object)
        {
            e.cause = Some(parsed.to_string());
        }
    }
    e
}

/// The task's result as the state sees it, or DataLimitExceeded when it is too large.
fn task_output(spec: &TaskSpec, out: &InvokeOutput) -> Result<Value, StatesError> {
    if out.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit.",
        ));
    }
    let payload = if out.payload.trim().is_empty() {
        Value::String(String::new())
    } else {
        serde_json::from_str(&out.payload).unwrap_or_else(|_| Value::String(out.payload.clone()))
    };
    Ok(match spec.resource {
        TaskResource::LambdaInvoke => {
            let mut all = Map::new();
            let mut flat = Map::new();
            for (k, v) in &out.headers {
                all.insert(k.clone(), json!([v]));
                flat.insert(k.clone(), json!(v));
            }
            json!({
                "ExecutedVersion": out.executed_version.clone().unwrap_or_else(|| "$LATEST".into()),
                "Payload": payload,
                "SdkHttpMetadata": {
                    "AllHttpHeaders": all,
                    "HttpHeaders": flat,
                    "HttpStatusCode": out.status_code,
                },
                "SdkResponseMetadata": {"RequestId": out.request_id},
                "StatusCode": out.status_code,
            })
        }
        _ => payload,
    })
}

/// InputPath-style selection: absent → the whole input, null → `{}`, else the path's value.
fn select(field: &PathField, scope: &Scope<'_>, field_name: &str) -> Result<Value, StatesError> {
    match field {
        PathField::Absent => Ok(scope.input.clone()),
        PathField::Null => Ok(Value::Object(Map::new())),
        PathField::Path(p) => query(p, scope, field_name),
    }
}

fn output_path(
    state: &State,
    value: &Value,
    context: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, StatesError> {
    select(
        &state.output_path,
        &Scope {
            input: value,
            context,
            variables: vars,
        },
        "OutputPath",
    )
}

fn query(p: &str, scope: &Scope<'_>, _field_name: &str) -> Result<Value, StatesError> {
    path::query(p, scope)
        .map_err(|e| StatesError::runtime(format!("Invalid path '{p}' : {}", e.reason)))
}

fn string_from_path(p: &str, scope: &Scope<'_>, field_name: &str) -> Result<String, StatesError> {
    let v = if intrinsics::is_intrinsic(p) {
        intrinsics::evaluate(p, scope)?
    } else {
        path::query(p, scope).map_err(|_| {
            StatesError::runtime(format!(
                "The JSONPath '{p}' specified for the field '{field_name}' could not be found in the input '{}'",
                scope.input
            ))
        })?
    };
    match v {
        Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::driver::info;
    use super::*;

    fn run(
        def: &str,
        input: Value,
        events: &[(Event, i64)],
    ) -> (ExecutionState, Vec<String>, Vec<Effect>) {
        let def = Definition::parse(def).expect("definition");
        let mut state = ExecutionState::new(input);
        let mut types = Vec::new();
        let mut effects = Vec::new();
        for (event, now) in events {
            let s = step(
                &def,
                &mut state,
                &info(),
                event.clone(),
                *now,
                &StepConfig::default(),
            );
            types.extend(s.events.iter().map(|e| e.event_type.clone()));
            effects.extend(s.effects);
        }
        (state, types, effects)
    }

    const WAIT_THEN_SUCCEED: &str = r#"{"StartAt":"W","States":{
        "W":{"Type":"Wait","Seconds":10,"Next":"S"},
        "S":{"Type":"Succeed"}}}"#;

    #[test]
    fn lifecycles() {
        type Case<'a> = (&'a str, &'a str, Vec<(Event, i64)>, Status, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (
                "wait blocks, then fires",
                WAIT_THEN_SUCCEED,
                vec![
                    (Event::Start, 1_000),
                    (Event::TimerFired { seq: 2 }, 11_000),
                ],
                Status::Succeeded,
                vec![
                    "ExecutionStarted",
                    "WaitStateEntered",
                    "WaitStateExited",
                    "SucceedStateEntered",
                    "SucceedStateExited",
                    "ExecutionSucceeded",
                ],
            ),
            (
                "a stale timer changes nothing",
                WAIT_THEN_SUCCEED,
                vec![
                    (Event::Start, 1_000),
                    (Event::TimerFired { seq: 7 }, 11_000),
                ],
                Status::Running,
                vec!["ExecutionStarted", "WaitStateEntered"],
            ),
            (
                "stop while waiting",
                WAIT_THEN_SUCCEED,
                vec![
                    (Event::Start, 1_000),
                    (
                        Event::Stop {
                            error: Some("E".into()),
                            cause: None,
                        },
                        2_000,
                    ),
                    (Event::TimerFired { seq: 2 }, 11_000),
                ],
                Status::Aborted,
                vec!["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"],
            ),
            (
                "execution timeout during a wait",
                r#"{"StartAt":"W","TimeoutSeconds":5,"States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}"#,
                vec![
                    (Event::Start, 1_000),
                    (
                        Event::TimerFired {
                            seq: EXECUTION_TIMEOUT_SEQ,
                        },
                        6_000,
                    ),
                ],
                Status::TimedOut,
                vec!["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"],
            ),
            (
                "fail state",
                r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}"#,
                vec![(Event::Start, 1_000)],
                Status::Failed,
                vec!["ExecutionStarted", "FailStateEntered", "ExecutionFailed"],
            ),
            (
                "zero-second wait does not block",
                r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":0,"End":true}}}"#,
                vec![(Event::Start, 1_000)],
                Status::Succeeded,
                vec![
                    "ExecutionStarted",
                    "WaitStateEntered",
                    "WaitStateExited",
                    "ExecutionSucceeded",
                ],
            ),
        ];
        for (name, def, events, want_status, want_types) in cases {
            let (state, types, _) = run(def, json!({"a": 1}), &events);
            assert_eq!(state.status, want_status, "{name}");
            assert_eq!(types, want_types, "{name}");
        }
    }

    #[test]
    fn timers_are_armed_and_cancelled() {
        let def = r#"{"StartAt":"W","TimeoutSeconds":100,"States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}"#;
        let (_, _, effects) = run(def, json!({}), &[(Event::Start, 1_000)]);
        assert_eq!(
            effects,
            vec![
                Effect::ArmTimer {
                    seq: 0,
                    due_ms: 101_000
                },
                Effect::ArmTimer {
                    seq: 2,
                    due_ms: 11_000
                }
            ]
        );
        let (_, _, effects) = run(
            def,
            json!({}),
            &[
                (Event::Start, 1_000),
                (Event::TimerFired { seq: 2 }, 11_000),
            ],
        );
        assert_eq!(effects.last(), Some(&Effect::CancelTimer { seq: 0 }));
    }

    #[test]
    fn wait_time_scale_shrinks_deadlines() {
        let def = Definition::parse(WAIT_THEN_SUCCEED).expect("definition");
        for (scale, want_due) in [(1.0, 11_000), (0.001, 1_010), (0.5, 6_000)] {
            let mut state = ExecutionState::new(json!({}));
            let s = step(
                &def,
                &mut state,
                &info(),
                Event::Start,
                1_000,
                &StepConfig {
                    wait_time_scale: scale,
                    ..StepConfig::default()
                },
            );
            assert_eq!(
                s.effects,
                vec![Effect::ArmTimer {
                    seq: 2,
                    due_ms: want_due
                }],
                "scale {scale}"
            );
        }
        let mut state = ExecutionState::new(json!({}));
        let s = step(
            &def,
            &mut state,
            &info(),
            Event::Start,
            1_000,
            &StepConfig {
                wait_time_scale: 0.0,
                ..StepConfig::default()
            },
        );
        assert!(s.effects.is_empty(), "scale 0 does not wait");
        assert_eq!(state.status, Status::Succeeded);
    }

    #[test]
    fn wait_runtime_errors_name_the_state() {
        let cases = [
            (
                "seconds path missing",
                r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#,
                json!({}),
                "An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter does not reference an input value: $.s",
            ),
            (
                "timestamp without offset",
                r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}"#,
                json!({"t": "2016-12-05T21:29:29"}),
                "An error occurred while executing the state 'W' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == 2016-12-05T21:29:29",
            ),
            (
                "too far ahead",
                r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}"#,
                json!({"t": "2094-12-14T01:11:51.000Z"}),
                "An error occurred while executing the state 'W' (entered at the event id #2). Wait state delay is too long.",
            ),
        ];
        for (name, def, input, cause) in cases {
            let (state, _, _) = run(def, input, &[(Event::Start, 1_700_000_000_000)]);
            assert_eq!(state.status, Status::Failed, "{name}");
            assert_eq!(state.error.as_deref(), Some("States.Runtime"), "{name}");
            assert_eq!(state.cause.as_deref(), Some(cause), "{name}");
        }
    }

    #[test]
    fn history_ids_chain_like_aws() {
        let def = Definition::parse(WAIT_THEN_SUCCEED).expect("definition");
        let mut state = ExecutionState::new(json!({}));
        let mut all = step(
            &def,
            &mut state,
            &info(),
            Event::Start,
            1_000,
            &StepConfig::default(),
        )
        .events;
        all.extend(
            step(
                &def,
                &mut state,
                &info(),
                Event::TimerFired { seq: 2 },
                11_000,
                &StepConfig::default(),
            )
            .events,
        );
        let ids: Vec<(i64, i64)> = all.iter().map(|e| (e.id, e.previous_id)).collect();
        assert_eq!(ids, vec![(1, 0), (2, 0), (3, 2), (4, 3), (5, 4), (6, 5)]);
    }

    /// Drive an execution to its end: echo each call, or fail it when its payload says
    /// `"fail"`.
    fn drive(def: &str, input: Value) -> (ExecutionState, Vec<HistoryEvent>) {
        let def = Definition::parse(def).expect("definition");
        super::super::driver::drive(&def, input, &StepConfig::default(), 10_000, |inv| {
            if inv.payload.contains("\"fail\"") {
                Err(StatesError::new("Boom", "asked to fail"))
            } else {
                Ok(super::super::driver::echo(inv))
            }
        })
    }

    #[test]
    fn parallel_map_variables_and_jsonata_give_aws_outputs() {
        let fn_arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
        /// (name, definition, input, output or (error, cause))
        type Case<'a> = (&'a str, String, Value, Result<Value, (&'a str, &'a str)>);
        let cases: Vec<Case> = vec![
            (
                "parallel branches see one input and give an array",
                r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
                    {"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},
                    {"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":5,"End":true}}}]}}}"#
                    .into(),
                json!({"x": 1}),
                Ok(json!([1, {"x": 1}])),
            ),
            (
                "a failing branch fails the execution with its error",
                r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
                    {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}},
                    {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}]}}}"#
                    .into(),
                json!({}),
                Err(("E", "C")),
            ),
            (
                "map with item selector, concurrency 1 and a wait in each iteration",
                r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"MaxConcurrency":1,
                    "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},
                    "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}}}}"#
                    .into(),
                json!(["a", "b", "c"]),
                Ok(json!([{"v": "a", "i": 0}, {"v": "b", "i": 1}, {"v": "c", "i": 2}])),
            ),
            (
                "map iterations call a function; results keep item order",
                format!(
                    r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","ItemsPath":"$.xs","End":true,
                    "ItemProcessor":{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{fn_arn}","End":true}}}}}}}}}}}}"#
                ),
                json!({"xs": [{"n": 1}, {"n": 2}]}),
                Ok(json!([{"n": 1}, {"n": 2}])),
            ),
            (
                "a tolerated failure keeps the map going",
                format!(
                    r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","End":true,"ToleratedFailureCount":1,
                    "ItemProcessor":{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{fn_arn}","End":true}}}}}}}}}}}}"#
                ),
                json!(["ok", "fail"]),
                Ok(json!(["ok", {"Error": "Boom", "Cause": "asked to fail"}])),
            ),
            (
                "failures past the tolerance fail the map",
                format!(
                    r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","End":true,"ToleratedFailurePercentage":40,
                    "ItemProcessor":{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{fn_arn}","End":true}}}}}}}}}}}}"#
                ),
                json!(["fail", "fail", "ok"]),
                Err((
                    "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded",
                )),
            ),
            (
                "a map that retries runs every iteration again",
                r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
                    "Retry":[{"ErrorEquals":["E"],"MaxAttempts":2,"IntervalSeconds":1}],
                    "Catch":[{"ErrorEquals":["E"],"Next":"C"}],
                    "ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}},
                    "C":{"Type":"Pass","End":true}}}"#
                    .into(),
                json!([1]),
                Ok(json!({"Error": "E", "Cause": ""})),
            ),
            (
                "an empty map succeeds at once",
                r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
                    "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}"#
                    .into(),
                json!([]),
                Ok(json!([])),
            ),
            (
                "a map over a non-array fails",
                r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
                    "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}"#
                    .into(),
                json!({"a": 1}),
                Err((
                    "States.Runtime",
                    "An error occurred while executing the state 'M' (entered at the event id #2). Map state input must be an array but was: {\"a\":1}",
                )),
            ),
            (
                "variables flow into branches and do not leak out of them",
                r#"{"StartAt":"S","States":{
                    "S":{"Type":"Pass","Assign":{"x":1},"Next":"M"},
                    "M":{"Type":"Map","Next":"R",
                      "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"x":99,"y":2},
                        "Parameters":{"outer.$":"$x"},"End":true}}}},
                    "R":{"Type":"Pass","Parameters":{"x.$":"$x","seen.$":"$"},"End":true}}}"#
                    .into(),
                json!([0]),
                Ok(json!({"x": 1, "seen": [{"outer": 1}]})),
            ),
            (
                "jsonata output, arguments, assign and condition",
                format!(
                    r#"{{"QueryLanguage":"JSONata","StartAt":"T","States":{{
                    "T":{{"Type":"Task","Resource":"{fn_arn}","Arguments":{{"n":"{{% $states.input.n * 2 %}}"}},
                        "Assign":{{"got":"{{% $states.result.n %}}"}},"Output":"{{% $states.result %}}","Next":"C"}},
                    "C":{{"Type":"Choice","Choices":[{{"Condition":"{{% $got > 5 %}}","Next":"Big"}}],"Default":"Small"}},
                    "Big":{{"Type":"Pass","Output":{{"big":"{{% $got %}}"}},"End":true}},
                    "Small":{{"Type":"Pass","Output":{{"small":"{{% $got %}}"}},"End":true}}}}}}"#
                ),
                json!({"n": 4}),
                Ok(json!({"big": 8})),
            ),
            (
                "jsonata map items and parallel arguments",
                r#"{"QueryLanguage":"JSONata","StartAt":"M","States":{
                    "M":{"Type":"Map","Items":"{% $states.input.xs %}","Next":"P",
                      "ItemSelector":{"i":"{% $states.context.Map.Item.Index %}","v":"{% $states.context.Map.Item.Value %}"},
                      "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Output":"{% $states.input.v * 10 + $states.input.i %}","End":true}}}},
                    "P":{"Type":"Parallel","Arguments":{"sum":"{% $sum($states.input) %}"},"End":true,
                      "Output":"{% $states.result[0] %}",
                      "Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]}}}"#
                    .into(),
                json!({"xs": [1, 2]}),
                Ok(json!({"sum": 31})),
            ),
            (
                "an undefined jsonata result is a query evaluation error",
                r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"r":"{% $nope %}"},"End":true}}}"#
                    .into(),
                json!({}),
                Err((
                    "States.QueryEvaluationError",
                    "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$nope' specified for the field 'Output/r' returned nothing (undefined).",
                )),
            ),
            (
                "jsonata catch output sees the error",
                r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{
                    "P":{"Type":"Parallel","Next":"X","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C",
                        "Output":{"e":"{% $states.errorOutput.Error %}","in":"{% $states.input %}"}}],
                      "Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad"}}}]},
                    "X":{"Type":"Succeed"},"C":{"Type":"Succeed"}}}"#
                    .into(),
                json!({"k": 1}),
                Ok(json!({"e": "Bad", "in": {"k": 1}})),
            ),
        ];
        for (name, def, input, want) in cases {
            let (state, history) = drive(&def, input);
            let ids: Vec<i64> = history.iter().map(|e| e.id).collect();
            assert_eq!(
                ids,
                (1..=history.len() as i64).collect::<Vec<_>>(),
                "{name}: ids"
            );
            match want {
                Ok(output) => {
                    assert_eq!(state.status, Status::Succeeded, "{name}: {state:?}");
                    assert_eq!(state.output, Some(output), "{name}");
                }
                Err((error, cause)) => {
                    assert_eq!(state.status, Status::Failed, "{name}");
                    assert_eq!(state.error.as_deref(), Some(error), "{name}");
                    assert_eq!(state.cause.as_deref(), Some(cause), "{name}");
                }
            }
        }
    }

    #[test]
    fn map_concurrency_bounds_the_timers_armed_at_once_and_stop_cancels_them() {
        let def = Definition::parse(
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"MaxConcurrency":2,
                "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":9,"End":true}}}}}}"#,
        )
        .expect("definition");
        let mut state = ExecutionState::new(json!([1, 2, 3, 4, 5]));
        let cfg = StepConfig::default();
        let out = step(&def, &mut state, &info(), Event::Start, 1_000, &cfg);
        let armed: Vec<i64> = out
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::ArmTimer { seq, .. } => Some(*seq),
                _ => None,
            })
            .collect();
        assert_eq!(armed.len(), 2, "{:?}", out.effects);
        let out = step(
            &def,
            &mut state,
            &info(),
            Event::TimerFired { seq: armed[0] },
            10_000,
            &cfg,
        );
        // One iteration finished and the next one started: one new timer.
        let newly: Vec<i64> = out
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::ArmTimer { seq, .. } => Some(*seq),
                _ => None,
            })
            .collect();
        assert_eq!(newly.len(), 1);
        let out = step(
            &def,
            &mut state,
            &info(),
            Event::Stop {
                error: None,
                cause: None,
            },
            11_000,
            &cfg,
        );
        let mut cancelled: Vec<i64> = out
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::CancelTimer { seq } => Some(*seq),
                _ => None,
            })
            .collect();
        cancelled.sort_unstable();
        let mut want = vec![armed[1], newly[0]];
        want.sort_unstable();
        assert_eq!(cancelled, want);
        assert_eq!(state.status, Status::Aborted);
    }

    #[test]
    fn an_execution_that_would_pass_the_history_cap_fails_with_the_last_event() {
        // A Pass loop that waits 1 s per turn writes 4 events a turn forever.
        let def = Definition::parse(
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":1,"Next":"P"}}}"#,
        )
        .expect("definition");
        let cfg = StepConfig {
            max_history_events: 20,
            ..StepConfig::default()
        };
        let mut state = ExecutionState::new(json!({}));
        let mut all = Vec::new();
        let mut now = 1_000;
        let mut out = step(&def, &mut state, &info(), Event::Start, now, &cfg);
        loop {
            all.extend(out.events);
            let armed = out.effects.iter().find_map(|e| match e {
                Effect::ArmTimer { seq, .. } => Some(*seq),
                _ => None,
            });
            let Some(seq) = armed else { break };
            now += 1_000;
            out = step(
                &def,
                &mut state,
                &info(),
                Event::TimerFired { seq },
                now,
                &cfg,
            );
        }
        assert_eq!(state.status, Status::Failed);
        assert_eq!(state.error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            state.cause.as_deref(),
            Some("The execution reached the maximum number of history events (20).")
        );
        assert_eq!(all.len(), 20);
        assert_eq!(
            all.last().map(|e| e.event_type.as_str()),
            Some("ExecutionFailed")
        );
        let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    }
}

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
//! Timers are named by a sequence number the interpreter chooses: the id of the history event
//! that armed them (`WaitStateEntered`), or [`EXECUTION_TIMEOUT_SEQ`] for the execution's
//! `TimeoutSeconds`. A firing whose sequence is not the one the state waits for is stale and
//! ignored, so a timer that fires after a StopExecution changes nothing.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::choice;
use super::definition::{
    Definition, Kind, PathField, Seconds, State, TaskSpec, Transition, WaitFor,
};
use super::errors::{names, StatesError};
use super::history::{self, HistoryEvent};
use super::intrinsics;
use super::path;
use super::scope::Scope;
use super::task::{self, Invocation, InvokeOutput, TaskResource};
use super::timestamp;

/// Sequence number of the execution-timeout timer (history event ids start at 1).
pub const EXECUTION_TIMEOUT_SEQ: i64 = 0;

/// Longest a single `step` call runs states without blocking before it fails the execution,
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
    /// The state being run; `None` before the start and after the end.
    pub current: Option<String>,
    /// The raw input of `current`, as its StateEntered event shows it.
    pub input: Value,
    /// When `current` was entered (UTC ms), for `$$.State.EnteredTime`.
    pub entered_ms: i64,
    /// The Wait timer `current` is blocked on.
    pub waiting: Option<Waiting>,
    /// The execution's TimeoutSeconds deadline, while it is armed.
    pub timeout_due_ms: Option<i64>,
    /// Id of the last history event written.
    pub last_event_id: i64,
    /// Id of the last event the next StateEntered chains to (AWS chains the first one to 0).
    pub chain_id: i64,
    /// Id of `current`'s StateEntered event, quoted in runtime error causes.
    #[serde(default)]
    pub entered_event_id: i64,
    /// The Task `current` is running, with its retry bookkeeping.
    #[serde(default)]
    pub task: Option<TaskProgress>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
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
    /// The back-off timer before the next attempt.
    pub backoff: Option<Waiting>,
    pub timeout_secs: Option<u64>,
    pub heartbeat_secs: Option<u64>,
    /// Attempts made under each Retry rule.
    pub attempts: Vec<u32>,
    /// Retries so far, for `$$.State.RetryCount`.
    pub retry_count: u32,
}

impl ExecutionState {
    /// A new execution that has not run yet.
    pub fn new(input: Value) -> Self {
        Self {
            status: Status::Running,
            current: None,
            input,
            entered_ms: 0,
            waiting: None,
            timeout_due_ms: None,
            last_event_id: 0,
            chain_id: 0,
            entered_event_id: 0,
            task: None,
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
}

impl Default for StepConfig {
    fn default() -> Self {
        Self {
            wait_time_scale: 1.0,
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
    let mut run = Run {
        def,
        exec,
        info,
        now_ms,
        cfg,
        out: Step::default(),
    };
    run.apply(event);
    run.out
}

struct Run<'a> {
    def: &'a Definition,
    exec: &'a mut ExecutionState,
    info: &'a ExecutionInfo,
    now_ms: i64,
    cfg: &'a StepConfig,
    out: Step,
}

/// What running one state led to.
enum Outcome {
    /// Go on to the named state with this input.
    Next(String, Value),
    /// The execution ends successfully with this output.
    Succeed(Value),
    /// The execution fails.
    Fail(StatesError),
    /// The execution is blocked (a timer was armed).
    Blocked,
}

impl Run<'_> {
    fn apply(&mut self, event: Event) {
        if self.exec.status.is_terminal() {
            return;
        }
        match event {
            Event::Start => self.start(),
            Event::TimerFired { seq } if seq == EXECUTION_TIMEOUT_SEQ => {
                if self.exec.timeout_due_ms.is_some() {
                    self.exec.timeout_due_ms = None;
                    self.time_out();
                }
            }
            Event::TimerFired { seq } => {
                if self.exec.waiting.map(|w| w.seq) == Some(seq) {
                    self.exec.waiting = None;
                    self.resume_wait();
                } else if let Some(tp) = self.exec.task.as_mut() {
                    if tp.timeout.map(|w| w.seq) == Some(seq) {
                        tp.timeout = None;
                        tp.in_flight = None;
                        self.task_timed_out();
                    } else if tp.backoff.map(|w| w.seq) == Some(seq) {
                        tp.backoff = None;
                        self.with_current(|run, state| {
                            run.schedule(state);
                            Ok(Outcome::Blocked)
                        });
                    }
                }
            }
            Event::TaskResult { seq, result } => {
                let current = self.exec.task.as_ref().and_then(|t| t.in_flight);
                if current == Some(seq) {
                    self.task_result(seq, result);
                }
            }
            Event::Stop { error, cause } => self.abort(error, cause),
        }
    }

    fn start(&mut self) {
        let input = self.exec.input.clone();
        self.push(
            "ExecutionStarted",
            0,
            history::execution_started(&input, &self.info.role_arn),
        );
        self.exec.chain_id = 0;
        if let Some(secs) = self.def.timeout_seconds {
            let due_ms = self
                .info
                .start_ms
                .saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX));
            self.exec.timeout_due_ms = Some(due_ms);
            self.out.effects.push(Effect::ArmTimer {
                seq: EXECUTION_TIMEOUT_SEQ,
                due_ms,
            });
        }
        let start_at = self.def.start_at.clone();
        self.run_from(start_at, input);
    }

    /// Run states from `name` until the execution blocks or ends.
    fn run_from(&mut self, mut name: String, mut input: Value) {
        for _ in 0..MAX_TRANSITIONS_PER_STEP {
            let outcome = self.enter(&name, input);
            match outcome {
                Outcome::Next(next, next_input) => {
                    name = next;
                    input = next_input;
                }
                Outcome::Succeed(output) => return self.succeed(output),
                Outcome::Fail(err) => return self.fail(err),
                Outcome::Blocked => return,
            }
        }
        self.fail(StatesError::runtime(format!(
            "The execution made more than {MAX_TRANSITIONS_PER_STEP} transitions without waiting."
        )));
    }

    /// Enter a state and run it as far as it goes now.
    fn enter(&mut self, name: &str, input: Value) -> Outcome {
        let def = self.def;
        let Some(state) = def.state(name) else {
            return Outcome::Fail(StatesError::runtime(format!(
                "The state '{name}' does not exist."
            )));
        };
        self.exec.current = Some(name.to_owned());
        self.exec.entered_ms = self.now_ms;
        let prev = self.exec.chain_id;
        self.push(
            &format!("{}StateEntered", state.type_name),
            prev,
            history::state_entered(name, &input),
        );
        self.exec.entered_event_id = self.exec.last_event_id;
        self.exec.input = input;
        match self.run_state(state) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Fail(self.in_state(e)),
        }
    }

    /// AWS prefixes the cause of a runtime error with where it happened.
    fn in_state(&self, mut e: StatesError) -> StatesError {
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
                    self.exec.current.as_deref().unwrap_or_default(),
                    self.exec.entered_event_id
                ));
            }
        }
        e
    }

    fn run_state(&mut self, state: &State) -> Result<Outcome, StatesError> {
        let raw = self.exec.input.clone();
        let context = self.context(state);
        let vars = Map::new();
        let scope = Scope {
            input: &raw,
            context: &context,
            variables: &vars,
        };
        match &state.kind {
            Kind::Pass { result } => {
                let effective = select(&state.input_path, &scope, "InputPath")?;
                let effective = parameters(state, effective, &scope)?;
                let result = result.clone().unwrap_or(effective);
                let output = self.result_and_output(state, raw.clone(), result, &context)?;
                Ok(self.exit(state, output))
            }
            Kind::Succeed => {
                let effective = select(&state.input_path, &scope, "InputPath")?;
                let output = output_path(state, &effective, &context)?;
                self.exit_event(state, &output);
                Ok(Outcome::Succeed(output))
            }
            Kind::Fail {
                error,
                error_path,
                cause,
                cause_path,
            } => {
                let error = match error_path {
                    Some(p) => Some(string_from_path(p, &scope, "ErrorPath")?),
                    None => error.clone(),
                };
                let cause = match cause_path {
                    Some(p) => Some(string_from_path(p, &scope, "CausePath")?),
                    None => cause.clone(),
                };
                Ok(Outcome::Fail(StatesError {
                    error: error.unwrap_or_default(),
                    cause,
                }))
            }
            Kind::Choice { rules, default } => {
                let effective = select(&state.input_path, &scope, "InputPath")?;
                let next = choice::choose(
                    rules,
                    default.as_deref(),
                    &Scope {
                        input: &effective,
                        ..scope
                    },
                )?
                .to_owned();
                let output = output_path(state, &effective, &context)?;
                self.exit_event(state, &output);
                Ok(Outcome::Next(next, output))
            }
            Kind::Wait(wait_for) => {
                let effective = select(&state.input_path, &scope, "InputPath")?;
                let due_ms = self.deadline(
                    wait_for,
                    &Scope {
                        input: &effective,
                        ..scope
                    },
                )?;
                if due_ms <= self.now_ms {
                    let output = output_path(state, &effective, &context)?;
                    return Ok(self.exit(state, output));
                }
                let seq = self.exec.last_event_id;
                self.exec.waiting = Some(Waiting { seq, due_ms });
                self.out.effects.push(Effect::ArmTimer { seq, due_ms });
                Ok(Outcome::Blocked)
            }
            Kind::Task(spec) => {
                let effective = select(&state.input_path, &scope, "InputPath")?;
                let params = parameters(state, effective.clone(), &scope)?;
                let timeout_secs = seconds(
                    spec.timeout.as_ref(),
                    &effective,
                    &scope,
                    "TimeoutSecondsPath",
                )?;
                let heartbeat_secs = seconds(
                    spec.heartbeat.as_ref(),
                    &effective,
                    &scope,
                    "HeartbeatSecondsPath",
                )?;
                let invocation = invocation_for(spec, &params)?;
                self.exec.task = Some(TaskProgress {
                    invocation,
                    parameters: params,
                    in_flight: None,
                    timeout: None,
                    backoff: None,
                    timeout_secs,
                    heartbeat_secs,
                    attempts: vec![0; state.retry.len()],
                    retry_count: 0,
                });
                self.schedule(state);
                Ok(Outcome::Blocked)
            }
            Kind::Unsupported => Err(StatesError::runtime(format!(
                "The state type '{}' of state '{}' is not supported by this server yet.",
                state.type_name, state.name
            ))),
        }
    }

    /// The Wait state's timer fired: finish the state and go on.
    fn resume_wait(&mut self) {
        let Some(name) = self.exec.current.clone() else {
            return;
        };
        let def = self.def;
        let Some(state) = def.state(&name) else {
            return self.fail(StatesError::runtime(format!(
                "The state '{name}' does not exist."
            )));
        };
        let raw = self.exec.input.clone();
        let context = self.context(state);
        let vars = Map::new();
        let scope = Scope {
            input: &raw,
            context: &context,
            variables: &vars,
        };
        let outcome = select(&state.input_path, &scope, "InputPath")
            .and_then(|effective| output_path(state, &effective, &context))
            .map(|output| self.exit(state, output))
            .map_err(|e| self.in_state(e));
        self.continue_with(outcome);
    }

    /// Run `f` on the current state and follow what it leads to.
    fn with_current(&mut self, f: impl FnOnce(&mut Self, &State) -> Result<Outcome, StatesError>) {
        let Some(name) = self.exec.current.clone() else {
            return;
        };
        let def = self.def;
        let Some(state) = def.state(&name) else {
            return self.fail(StatesError::runtime(format!(
                "The state '{name}' does not exist."
            )));
        };
        let outcome = f(self, state).map_err(|e| self.in_state(e));
        self.continue_with(outcome);
    }

    /// Write the Scheduled and Started events of a new attempt and ask for the call.
    fn schedule(&mut self, state: &State) {
        let Kind::Task(spec) = &state.kind else {
            return;
        };
        let Some(tp) = self.exec.task.clone() else {
            return;
        };
        let prev = self.exec.last_event_id;
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
                let seq = self.exec.last_event_id;
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
                let seq = self.exec.last_event_id;
                self.push("LambdaFunctionStarted", seq, None);
            }
        }
        let seq = self.exec.last_event_id - 1;
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
        if let Some(t) = self.exec.task.as_mut() {
            t.invocation = invocation;
            t.in_flight = Some(seq);
            t.timeout = timeout;
        }
    }

    fn task_result(&mut self, seq: i64, result: Result<InvokeOutput, StatesError>) {
        let timeout = self.exec.task.as_mut().and_then(|t| {
            t.in_flight = None;
            t.timeout.take()
        });
        if timeout.is_some() {
            self.out.effects.push(Effect::CancelTimer { seq });
        }
        self.with_current(|run, state| {
            let Kind::Task(spec) = &state.kind else {
                return Ok(Outcome::Blocked);
            };
            let result = result
                .map_err(|e| integration_error(spec, e))
                .and_then(|out| task_output(spec, &out));
            let prev = run.exec.last_event_id;
            match result {
                Ok(output) => {
                    match spec.resource {
                        TaskResource::LambdaInvoke => run.push(
                            "TaskSucceeded",
                            prev,
                            history::task_succeeded("lambda", "invoke", &output),
                        ),
                        _ => run.push(
                            "LambdaFunctionSucceeded",
                            prev,
                            history::lambda_succeeded(&output),
                        ),
                    }
                    run.task_done(state, output)
                }
                Err(err) => {
                    match spec.resource {
                        TaskResource::LambdaInvoke => run.push(
                            "TaskFailed",
                            prev,
                            history::task_failed(
                                "lambda",
                                "invoke",
                                Some(&err.error),
                                err.cause.as_deref(),
                            ),
                        ),
                        _ => run.push(
                            "LambdaFunctionFailed",
                            prev,
                            history::lambda_failed(Some(&err.error), err.cause.as_deref()),
                        ),
                    }
                    run.task_error(state, err)
                }
            }
        });
    }

    fn task_timed_out(&mut self) {
        self.with_current(|run, state| {
            let Kind::Task(spec) = &state.kind else {
                return Ok(Outcome::Blocked);
            };
            let err = StatesError {
                error: names::TIMEOUT.to_owned(),
                cause: None,
            };
            let prev = run.exec.last_event_id;
            match spec.resource {
                TaskResource::LambdaInvoke => run.push(
                    "TaskTimedOut",
                    prev,
                    history::task_timed_out("lambda", "invoke", Some(names::TIMEOUT), None),
                ),
                _ => run.push(
                    "LambdaFunctionTimedOut",
                    prev,
                    history::lambda_timed_out(Some(names::TIMEOUT), None),
                ),
            }
            run.task_error(state, err)
        });
    }

    /// The task produced `result`: ResultSelector, ResultPath, OutputPath, then exit.
    fn task_done(&mut self, state: &State, result: Value) -> Result<Outcome, StatesError> {
        self.exec.task = None;
        let raw = self.exec.input.clone();
        let context = self.context(state);
        let vars = Map::new();
        let result = match &state.result_selector {
            Some(selector) => path::render_template(
                selector,
                &Scope {
                    input: &result,
                    context: &context,
                    variables: &vars,
                },
            )?,
            None => result,
        };
        let output = self.result_and_output(state, raw, result, &context)?;
        Ok(self.exit(state, output))
    }

    /// The task failed with `err`: retry, catch, or fail the execution.
    fn task_error(&mut self, state: &State, err: StatesError) -> Result<Outcome, StatesError> {
        if let Some(outcome) = self.retry(state, &err) {
            return Ok(outcome);
        }
        self.exec.task = None;
        self.catch(state, err)
    }

    /// Apply the first Retry rule that matches, if it has attempts left.
    fn retry(&mut self, state: &State, err: &StatesError) -> Option<Outcome> {
        let (index, retrier) = state
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| task::matches(&r.error_equals, &err.error))?;
        let failed_seq = self.exec.last_event_id;
        let scale = self.scale();
        let tp = self.exec.task.as_mut()?;
        let made = tp.attempts.get(index).copied().unwrap_or(u32::MAX);
        if made >= retrier.max_attempts {
            return None;
        }
        let seed = crate::arn::stable_hash(&self.info.arn) ^ failed_seq as u64;
        let delay_ms = (retrier.delay_ms(made, task::jitter(seed)) as f64 * scale).ceil() as i64;
        if let Some(a) = tp.attempts.get_mut(index) {
            *a += 1;
        }
        tp.retry_count += 1;
        if delay_ms <= 0 {
            self.schedule(state);
        } else {
            let w = Waiting {
                seq: failed_seq,
                due_ms: self.now_ms.saturating_add(delay_ms),
            };
            tp.backoff = Some(w);
            self.out.effects.push(Effect::ArmTimer {
                seq: w.seq,
                due_ms: w.due_ms,
            });
        }
        Some(Outcome::Blocked)
    }

    /// Route `err` through the state's Catch rules, or fail the execution with it.
    fn catch(&mut self, state: &State, err: StatesError) -> Result<Outcome, StatesError> {
        let Some(catcher) = state
            .catch
            .iter()
            .find(|c| task::matches(&c.error_equals, &err.error))
        else {
            return Ok(Outcome::Fail(err));
        };
        let raw = self.exec.input.clone();
        let error_output = task::error_output(&err);
        let output = match &catcher.result_path {
            None => error_output,
            Some(None) => raw,
            Some(Some(p)) => path::apply_result_path(raw, Some(p), error_output)?,
        };
        let prev = self.exec.last_event_id;
        self.push(
            &format!("{}StateExited", state.type_name),
            prev,
            history::state_exited(&state.name, &output),
        );
        self.exec.chain_id = self.exec.last_event_id;
        Ok(Outcome::Next(catcher.next.clone(), output))
    }

    fn scale(&self) -> f64 {
        if self.cfg.wait_time_scale.is_finite() && self.cfg.wait_time_scale >= 0.0 {
            self.cfg.wait_time_scale
        } else {
            1.0
        }
    }

    fn continue_with(&mut self, outcome: Result<Outcome, StatesError>) {
        match outcome {
            Ok(Outcome::Next(next, input)) => self.run_from(next, input),
            Ok(Outcome::Succeed(output)) => self.succeed(output),
            Ok(Outcome::Fail(e)) | Err(e) => self.fail(e),
            Ok(Outcome::Blocked) => {}
        }
    }

    /// Write the StateExited event and follow the state's transition. An output over AWS's
    /// payload limit fails the execution instead.
    fn exit(&mut self, state: &State, output: Value) -> Outcome {
        if history::to_text(&output).len() > MAX_PAYLOAD_BYTES {
            return Outcome::Fail(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                ),
            ));
        }
        self.exit_event(state, &output);
        match &state.transition {
            Some(Transition::Next(next)) => Outcome::Next(next.clone(), output),
            Some(Transition::End) | None => Outcome::Succeed(output),
        }
    }

    fn exit_event(&mut self, state: &State, output: &Value) {
        let prev = self.exec.last_event_id;
        self.push(
            &format!("{}StateExited", state.type_name),
            prev,
            history::state_exited(&state.name, output),
        );
        self.exec.chain_id = self.exec.last_event_id;
    }

    fn result_and_output(
        &self,
        state: &State,
        raw: Value,
        result: Value,
        context: &Value,
    ) -> Result<Value, StatesError> {
        let with_result = match &state.result_path {
            PathField::Absent => result,
            PathField::Null => raw,
            PathField::Path(p) => path::apply_result_path(raw, Some(p), result)?,
        };
        output_path(state, &with_result, context)
    }

    fn deadline(&self, wait_for: &WaitFor, scope: &Scope<'_>) -> Result<i64, StatesError> {
        let now = self.now_ms;
        let scale = if self.cfg.wait_time_scale.is_finite() && self.cfg.wait_time_scale >= 0.0 {
            self.cfg.wait_time_scale
        } else {
            1.0
        };
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
        };
        if delay_ms > MAX_WAIT_MS {
            return Err(StatesError::runtime("Wait state delay is too long."));
        }
        Ok(after(delay_ms as f64))
    }

    fn context(&self, state: &State) -> Value {
        let mut state_part = json!({
            "EnteredTime": timestamp::format_ms(self.exec.entered_ms),
            "Name": state.name,
        });
        // AWS shows RetryCount only in the states that can retry.
        if matches!(state.kind, Kind::Task(_)) {
            state_part["RetryCount"] = json!(self.exec.task.as_ref().map_or(0, |t| t.retry_count));
        }
        json!({
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
        })
    }

    fn succeed(&mut self, output: Value) {
        let prev = self.exec.last_event_id;
        self.push(
            "ExecutionSucceeded",
            prev,
            history::execution_succeeded(&output),
        );
        self.finish(Status::Succeeded);
        self.exec.output = Some(output);
    }

    fn fail(&mut self, err: StatesError) {
        let prev = self.exec.last_event_id;
        let error = (!err.error.is_empty()).then_some(err.error.as_str());
        self.push(
            "ExecutionFailed",
            prev,
            history::execution_failed(error, err.cause.as_deref()),
        );
        self.finish(Status::Failed);
        self.exec.error = error.map(str::to_owned);
        self.exec.cause = err.cause;
    }

    fn abort(&mut self, error: Option<String>, cause: Option<String>) {
        let prev = self.exec.last_event_id;
        self.push(
            "ExecutionAborted",
            prev,
            history::execution_aborted(error.as_deref(), cause.as_deref()),
        );
        self.finish(Status::Aborted);
        self.exec.error = error;
        self.exec.cause = cause;
    }

    fn time_out(&mut self) {
        let prev = self.exec.last_event_id;
        self.push(
            "ExecutionTimedOut",
            prev,
            history::execution_timed_out(Some(names::TIMEOUT), None),
        );
        self.finish(Status::TimedOut);
        self.exec.error = Some(names::TIMEOUT.to_owned());
    }

    /// Mark the execution ended and disarm whatever timers it still holds.
    fn finish(&mut self, status: Status) {
        self.exec.status = status;
        self.exec.current = None;
        if let Some(w) = self.exec.waiting.take() {
            self.out.effects.push(Effect::CancelTimer { seq: w.seq });
        }
        if let Some(tp) = self.exec.task.take() {
            for w in [tp.timeout, tp.backoff].into_iter().flatten() {
                self.out.effects.push(Effect::CancelTimer { seq: w.seq });
            }
        }
        if self.exec.timeout_due_ms.take().is_some() {
            self.out.effects.push(Effect::CancelTimer {
                seq: EXECUTION_TIMEOUT_SEQ,
            });
        }
    }

    fn push(&mut self, event_type: &str, previous_id: i64, details: Option<Value>) {
        self.exec.last_event_id += 1;
        self.out.events.push(HistoryEvent {
            id: self.exec.last_event_id,
            previous_id,
            timestamp_ms: self.now_ms,
            event_type: event_type.to_owned(),
            details,
        });
    }
}

/// The state's `Parameters` rendered against its effective input, or that input unchanged.
fn parameters(state: &State, effective: Value, scope: &Scope<'_>) -> Result<Value, StatesError> {
    match &state.parameters {
        Some(template) => path::render_template(
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

fn output_path(state: &State, value: &Value, context: &Value) -> Result<Value, StatesError> {
    let vars = Map::new();
    select(
        &state.output_path,
        &Scope {
            input: value,
            context,
            variables: &vars,
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
    use super::*;

    fn info() -> ExecutionInfo {
        ExecutionInfo {
            arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e".into(),
            name: "e".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            start_ms: 1_000,
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            state_machine_name: "sm".into(),
            input: json!({}),
            region: "us-east-1".into(),
        }
    }

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
}

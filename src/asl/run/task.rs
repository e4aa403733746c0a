//! Task states that call Lambda: the call to make, the result the state sees, the history
//! events, and the attempt's timeout.
//!
//! Two resource forms reach a Lambda function:
//!
//! | form | `Resource` | payload sent | result | history events |
//! |---|---|---|---|---|
//! | integration | `arn:aws:states:::lambda:invoke` | `Parameters.Payload` | `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}` | `TaskScheduled` … `TaskSucceeded` |
//! | function ARN | `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` | the state's effective input | the function's output | `LambdaFunctionScheduled` … `LambdaFunctionSucceeded` |
//!
//! Nothing here calls a function: the interpreter asks for the call with [`Effect::Invoke`]
//! and its result comes back as an event. A failed or timed-out attempt is raised to
//! the interpreter's Retry and Catch.

use serde_json::{json, Map, Value};

pub use super::call::{CallKind, Invocation, InvokeOutput, MockCall};
use super::cursor::{Frame, TaskProgress, Waiting};
use super::io::Io;
use super::outcome::Outcome;
use super::resource::Family;
use super::step::Run;
use super::{Effect, MAX_PAYLOAD_BYTES};
use crate::asl::catalogue;
use crate::asl::definition::{Kind, State, TaskResource, TaskSpec};
use crate::asl::errors::{names, StatesError};

impl Run<'_> {
    /// Enter a Task: its parameters and timeouts, then the first attempt.
    pub(super) fn task(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        spec: &TaskSpec,
    ) -> Result<Outcome, StatesError> {
        let parameters = io.arguments()?;
        let timeout_secs = io.seconds(spec.timeout.as_ref(), "TimeoutSeconds")?;
        let heartbeat_secs = io.seconds(spec.heartbeat.as_ref(), "HeartbeatSeconds")?;
        let invocation = invocation_for(spec, &parameters)?;
        f.task = Some(Box::new(TaskProgress {
            invocation,
            parameters,
            in_flight: None,
            timeout: None,
            timeout_secs,
            heartbeat_secs,
            submitted: false,
            early: None,
            heartbeat: None,
        }));
        self.schedule(io.state, f);
        Ok(Outcome::Blocked)
    }

    /// Write the Scheduled and Started events of a new attempt and ask for the call.
    pub(super) fn schedule(&mut self, state: &State, f: &mut Frame) {
        let Kind::Task(spec) = &state.kind else {
            return;
        };
        let Some(tp) = f.task.clone() else {
            return;
        };
        let events = Family::of(spec).scheduled(
            &self.info.region,
            &tp.parameters,
            tp.timeout_secs,
            tp.heartbeat_secs,
        );
        // The attempt is named by its Scheduled event, the first of them.
        let seq = self.journal.last_id() + 1;
        for (event_type, details) in events {
            self.journal.append(event_type, details);
        }
        let mut invocation = tp.invocation;
        invocation.seq = seq;
        if let Some(m) = self.mock.as_mut() {
            let index = m.calls.entry(state.name.clone()).or_insert(0);
            invocation.mock = Some(Box::new(MockCall {
                machine: self.info.state_machine_name.clone(),
                test_case: m.test_case.clone(),
                state: state.name.clone(),
                index: *index,
            }));
            *index += 1;
        }
        let timeout = tp.timeout_secs.map(|t| Waiting {
            seq,
            due_ms: self.now_ms.saturating_add(
                i64::try_from(t)
                    .unwrap_or(i64::MAX / 1000)
                    .saturating_mul(1000),
            ),
        });
        if let Some(w) = timeout {
            self.arm(w.seq, w.due_ms);
        }
        // The heartbeat of a task waiting for its token, keyed by its TaskStarted event (an
        // activity's starts when a worker takes the task).
        let heartbeat = tp
            .heartbeat_secs
            .filter(|_| spec.submits())
            .map(|h| Waiting {
                seq: seq + 1,
                due_ms: self.now_ms.saturating_add(secs_ms(h)),
            });
        if let Some(w) = heartbeat {
            self.arm(w.seq, w.due_ms);
        }
        self.effects.push(Effect::Invoke(invocation.clone()));
        if let Some(t) = f.task.as_mut() {
            t.invocation = invocation;
            t.in_flight = Some(seq);
            t.timeout = timeout;
            t.submitted = false;
            t.early = None;
            t.heartbeat = heartbeat;
        }
    }

    /// The attempt `seq` is over: its timers go.
    pub(super) fn end_attempt(&mut self, f: &mut Frame, seq: i64) {
        let Some(t) = f.task.as_mut() else {
            return;
        };
        t.in_flight = None;
        t.submitted = false;
        t.early = None;
        let timers: Vec<Waiting> = t
            .timeout
            .take()
            .into_iter()
            .chain(t.heartbeat.take())
            .collect();
        for w in timers {
            debug_assert!(w.seq >= seq);
            self.disarm(w.seq);
        }
    }

    /// The attempt `seq` finished: complete the state, or raise the error.
    pub(super) fn task_result(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        seq: i64,
        result: Result<InvokeOutput, StatesError>,
    ) -> Result<Outcome, StatesError> {
        let Kind::Task(spec) = &state.kind else {
            return Ok(Outcome::Blocked);
        };
        if spec.submits() && !result.as_ref().is_ok_and(|out| out.mocked) {
            match &result {
                // Called, or called already and answered again: wait for the callback.
                Ok(out) if !f.task.as_ref().is_some_and(|t| t.submitted) => {
                    let outcome = self.submitted(spec, f, out);
                    let Some(early) = f.task.as_mut().and_then(|t| t.early.take()) else {
                        return Ok(outcome);
                    };
                    self.end_attempt(f, seq);
                    return self.attempt_over(state, f, outer, &Family::of(spec), early);
                }
                Ok(_) => return Ok(Outcome::Blocked),
                Err(_) => {}
            }
        }
        self.end_attempt(f, seq);
        let family = Family::of(spec);
        if let (TaskResource::Activity { .. }, Err(err)) = (&spec.resource, &result) {
            // An activity's call is never made (only mocked): a failure is the failure to
            // offer it.
            let (event_type, details) =
                family.schedule_failed(Some(err.error.as_str()), err.cause.as_deref());
            self.journal.append(event_type, details);
            return Ok(Outcome::Raise(err.clone()));
        }
        let result = result
            .map_err(|e| integration_error(spec, e))
            .and_then(|out| task_output(spec, &out));
        self.attempt_over(state, f, outer, &family, result)
    }

    /// An attempt's result is known: write its Succeeded or Failed event, then complete the
    /// state or raise the error.
    pub(super) fn attempt_over(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        family: &Family<'_>,
        result: Result<Value, StatesError>,
    ) -> Result<Outcome, StatesError> {
        match result {
            Ok(output) => {
                let (event_type, details) = family.succeeded(&output);
                self.journal.append(event_type, details);
                f.task = None;
                self.complete(state, f, outer, output)
            }
            Err(err) => {
                let (event_type, details) =
                    family.failed(Some(err.error.as_str()), err.cause.as_deref());
                self.journal.append(event_type, details);
                Ok(Outcome::Raise(err))
            }
        }
    }

    /// The attempt's TimeoutSeconds passed: raise `States.Timeout`.
    pub(super) fn task_timed_out(&mut self, state: &State, f: &mut Frame) -> Outcome {
        if let Some(seq) = f.task.as_ref().and_then(|t| t.in_flight) {
            self.end_attempt(f, seq);
        }
        let Kind::Task(spec) = &state.kind else {
            return Outcome::Blocked;
        };
        let (event_type, details) = Family::of(spec).timed_out(Some(names::TIMEOUT), None);
        self.journal.append(event_type, details);
        Outcome::Raise(StatesError {
            error: names::TIMEOUT.to_owned(),
            cause: None,
        })
    }
}

pub(super) fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

/// The Lambda call a Task state makes with these effective parameters.
pub(super) fn invocation_for(spec: &TaskSpec, params: &Value) -> Result<Invocation, StatesError> {
    match &spec.resource {
        TaskResource::LambdaInvoke => {
            let field = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_owned);
            let function_name =
                field("FunctionName").ok_or_else(catalogue::function_name_required)?;
            let payload = match params.get("Payload") {
                // No payload, or a null one, is sent as no body: the function sees `{}`.
                None | Some(Value::Null) => "{}".to_owned(),
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
                log_type: field("LogType"),
                kind: CallKind::Lambda,
                mock: None,
            })
        }
        TaskResource::LambdaFunction { function } => Ok(Invocation {
            seq: 0,
            function_name: function.clone(),
            qualifier: None,
            payload: params.to_string(),
            invocation_type: "RequestResponse".into(),
            client_context: None,
            log_type: None,
            kind: CallKind::Lambda,
            mock: None,
        }),
        TaskResource::Activity { arn } => Ok(Invocation {
            seq: 0,
            function_name: arn.clone(),
            qualifier: None,
            payload: params.to_string(),
            invocation_type: String::new(),
            client_context: None,
            log_type: None,
            kind: CallKind::Activity,
            mock: None,
        }),
        TaskResource::StartExecution(mode) => Ok(Invocation {
            seq: 0,
            function_name: String::new(),
            qualifier: None,
            payload: params.to_string(),
            invocation_type: mode.resource().to_owned(),
            client_context: None,
            log_type: None,
            kind: CallKind::StartExecution,
            mock: None,
        }),
        TaskResource::Service { call, .. } => Ok(Invocation {
            seq: 0,
            function_name: if call.sdk {
                format!("aws-sdk:{}:{}", call.service.sdk_id, call.action)
            } else {
                format!(
                    "{}:{}",
                    call.service.optimized_id.unwrap_or_default(),
                    call.action
                )
            },
            qualifier: None,
            payload: params.to_string(),
            invocation_type: String::new(),
            client_context: None,
            log_type: None,
            kind: CallKind::Service,
            mock: None,
        }),
        TaskResource::Http => Ok(Invocation {
            seq: 0,
            function_name: "http:invoke".into(),
            qualifier: None,
            payload: params.to_string(),
            invocation_type: String::new(),
            client_context: None,
            log_type: None,
            kind: CallKind::Http,
            mock: None,
        }),
        TaskResource::Other(r) => Err(catalogue::resource_unsupported(r)),
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
pub fn task_output(spec: &TaskSpec, out: &InvokeOutput) -> Result<Value, StatesError> {
    if out.payload.len() > MAX_PAYLOAD_BYTES {
        // AWS names what returned the result: the integration's service (`lambda` for
        // `lambda:invoke`), or the function a Lambda ARN resource names.
        let what = match &spec.resource {
            TaskResource::LambdaInvoke => "lambda",
            TaskResource::LambdaFunction { function } => function.as_str(),
            TaskResource::Service { resource_type, .. } => resource_type.as_str(),
            TaskResource::StartExecution(_) => "states",
            TaskResource::Http => "http",
            TaskResource::Activity { arn } => arn.as_str(),
            TaskResource::Other(r) => r.as_str(),
        };
        return Err(catalogue::data_limit_exceeded(what));
    }
    let payload = if out.payload.trim().is_empty() {
        Value::String(String::new())
    } else {
        serde_json::from_str(&out.payload).unwrap_or_else(|_| Value::String(out.payload.clone()))
    };
    if out.mocked {
        // A mocked response is the result as the state sees it.
        return Ok(payload);
    }
    Ok(match spec.resource {
        TaskResource::LambdaInvoke => {
            let mut all = Map::new();
            let mut flat = Map::new();
            let mut log_result = None;
            for (k, v) in &out.headers {
                all.insert(k.clone(), json!([v]));
                flat.insert(k.clone(), json!(v));
                if k.eq_ignore_ascii_case("x-amz-log-result") {
                    log_result = Some(v.clone());
                }
            }
            let mut result = json!({
                "ExecutedVersion": out.executed_version.clone().unwrap_or_else(|| "$LATEST".into()),
                "Payload": payload,
                "SdkHttpMetadata": {
                    "AllHttpHeaders": all,
                    "HttpHeaders": flat,
                    "HttpStatusCode": out.status_code,
                },
                "SdkResponseMetadata": {"RequestId": out.request_id},
                "StatusCode": out.status_code,
            });
            // With `LogType: Tail`, the end of the function's log (base64), as the SDK gives it.
            if let (Some(log), Some(m)) = (log_result, result.as_object_mut()) {
                m.insert("LogResult".into(), Value::String(log));
            }
            result
        }
        _ => payload,
    })
}

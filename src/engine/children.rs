//! Nested executions: a Task on `arn:aws:states:::states:startExecution`, plain, `.sync`,
//! `.sync:2` or `.waitForTaskToken`.
//!
//! The call dispatcher starts the child through the engine, as StartExecution would. A child
//! started without a `Name` gets one derived from its parent's attempt, so a start made again
//! after a crash (the call's row is still there) finds the same child instead of starting a
//! second one.
//!
//! A parent waiting for the end (`.sync`, `.sync:2`) is named in the child's cursor
//! ([`ParentLink`]). The commit that ends the child also writes a timer of the parent, due at
//! once and keyed by minus the attempt's id; when it fires, the parent reads the child's row
//! and takes its end as the attempt's callback:
//!
//! ```text
//!  parent: TaskScheduled ─ dispatcher starts child ─ TaskSubmitted ·········· TaskSucceeded / TaskFailed
//!  child:                 ExecutionStarted ... ExecutionSucceeded ─(timer of the parent, -seq)─┘
//! ```
//!
//! A parent that stops, times out or leaves the state stops its `.sync` children once its own
//! lock is released.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::activities::attempt;
use super::advance::Running;
use super::calls::CallKey;
use super::{Engine, Error, Result};
use crate::asl::definition::StartMode;
use crate::asl::run::{CallKind, ParentLink};
use crate::asl::{Event, ExecutionState, StatesError};
use crate::invoke::{Invocation, InvokeOutput, Outcome};
use crate::model::EventId;
use crate::model::{ExecutionArn, ExecutionId, ExecutionStatus, Name, StateMachineArn, TimerKey};
use crate::store::{ExecutionRow, Store, TimerRow, WhenFull, WriteOp};

/// The execution a Task asks to start.
pub(super) struct ChildCall {
    pub(super) machine: StateMachineArn,
    pub(super) name: Name,
    pub(super) input_text: String,
    input: Value,
}

impl ChildCall {
    pub(super) fn arn(&self) -> ExecutionArn {
        self.machine.execution(self.name.as_str())
    }
}

/// The mode of a start call, from its `invocation_type`.
pub(super) fn mode_of(inv: &Invocation) -> Option<StartMode> {
    [
        StartMode::Start,
        StartMode::Sync,
        StartMode::Sync2,
        StartMode::Token,
    ]
    .into_iter()
    .find(|m| m.resource() == inv.invocation_type)
}

/// A Step Functions error as the integration reports it.
fn service_error(code: &str, message: &str) -> StatesError {
    StatesError {
        error: format!("StepFunctions.{code}Exception"),
        cause: Some(format!(
            "{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; \
             Request ID: {}; Proxy: null)",
            uuid::Uuid::new_v4()
        )),
    }
}

/// The name of a child started without one: a UUID derived from its parent's attempt, the
/// first of a sequence of them that `fits` (lands in the parent's partition, so the node that
/// runs the parent runs the child too).
fn derived_name(parent_id: i64, seq: i64, fits: &dyn Fn(&Name) -> bool) -> Name {
    derived_from(&format!("{parent_id}|{seq}"), fits)
}

/// The first of a sequence of UUIDs derived from `key` that `fits`.
pub(super) fn derived_from(key: &str, fits: &dyn Fn(&Name) -> bool) -> Name {
    let mut first = None;
    for k in 0u32..8192 {
        let d = Sha256::new()
            .chain_update(b"hourglass child|")
            .chain_update(key.as_bytes())
            .chain_update(b"|")
            .chain_update(k.to_string().as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&d[..16]);
        let text = uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string();
        let Ok(name) = Name::parse(&text) else {
            continue;
        };
        if fits(&name) {
            return name;
        }
        first.get_or_insert(name);
    }
    first.unwrap_or_else(Name::random)
}

/// Whether a child of `machine` named `name` lands where it should.
type Fits<'a> = &'a dyn Fn(&StateMachineArn, &Name) -> bool;

/// The child a start call's parameters name.
pub(super) fn child_call(
    key: CallKey,
    params: &str,
    fits: Fits<'_>,
) -> std::result::Result<ChildCall, StatesError> {
    let params: Map<String, Value> = serde_json::from_str(params).unwrap_or_default();
    let arn = params
        .get("StateMachineArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            service_error(
                "Validation",
                "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null",
            )
        })?;
    let machine = StateMachineArn::parse(arn)
        .map_err(|e| service_error("InvalidArn", &format!("Invalid Arn: '{}'", e.0)))?;
    let name = match params.get("Name") {
        None | Some(Value::Null) => derived_name(key.0, key.1, &|n| fits(&machine, n)),
        Some(Value::String(n)) => Name::parse(n)
            .map_err(|_| service_error("InvalidName", &format!("Invalid Name: '{n}'")))?,
        Some(other) => {
            return Err(service_error(
                "InvalidName",
                &format!("Invalid Name: '{other}'"),
            ))
        }
    };
    let (input_text, input) = match params.get("Input") {
        None | Some(Value::Null) => ("{}".to_owned(), json!({})),
        Some(Value::String(text)) => {
            let input = serde_json::from_str(text).map_err(|e| {
                service_error(
                    "InvalidExecutionInput",
                    &format!(
                        "Invalid State Machine Execution Input: '{}'",
                        crate::asl::jackson::message(text, &e)
                    ),
                )
            })?;
            (text.clone(), input)
        }
        Some(v) => (v.to_string(), v.clone()),
    };
    Ok(ChildCall {
        machine,
        name,
        input_text,
        input,
    })
}

/// What the parent sees of its child's end.
fn child_result(mode: StartMode, child: &ExecutionRow) -> std::result::Result<Value, StatesError> {
    let data = |text: &str| match mode {
        StartMode::Sync2 => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
        _ => json!(text),
    };
    let mut out = json!({
        "ExecutionArn": child.arn,
        "Input": data(&child.input),
        "InputDetails": {"Included": true},
        "Name": child.name,
        "StartDate": child.start_ms,
        "StateMachineArn": child.state_machine_arn,
        "Status": child.status.as_str(),
        "StopDate": child.stop_ms.unwrap_or(child.start_ms),
    });
    if child.status == ExecutionStatus::Succeeded {
        out["Output"] = data(child.output.as_deref().unwrap_or("null"));
        out["OutputDetails"] = json!({"Included": true});
        out["RedriveCount"] = json!(0);
        out["RedriveStatus"] = json!("NOT_REDRIVABLE");
        out["RedriveStatusReason"] = json!("Execution is SUCCEEDED and cannot be redriven");
        return Ok(out);
    }
    if let Some(e) = &child.error {
        out["Error"] = json!(e);
    }
    if let Some(c) = &child.cause {
        out["Cause"] = json!(c);
    }
    Err(StatesError {
        error: "States.TaskFailed".into(),
        cause: Some(out.to_string()),
    })
}

/// The answer of the start call, as the integration shows it.
pub(super) fn started_output(execution_arn: &str, start_ms: i64) -> InvokeOutput {
    let request_id = uuid::Uuid::new_v4().to_string();
    // The body StartExecution answers with, for its length.
    let body = json!({
        "executionArn": execution_arn,
        "startDate": start_ms as f64 / 1000.0,
    })
    .to_string();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let headers = [
        ("x-amzn-RequestId", request_id.clone()),
        ("connection", "keep-alive".to_owned()),
        ("Content-Length", body.len().to_string()),
        ("Date", date),
        ("Content-Type", "application/x-amz-json-1.0".to_owned()),
    ];
    let all: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!([v])))
        .collect();
    let flat: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let payload = json!({
        "ExecutionArn": execution_arn,
        "SdkHttpMetadata": {"AllHttpHeaders": all, "HttpHeaders": flat, "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": start_ms,
    });
    InvokeOutput {
        status_code: 200,
        payload: payload.to_string(),
        executed_version: None,
        request_id,
        headers: Vec::new(),
        mocked: false,
    }
}

impl<S: Store> Engine<S> {
    /// Where the children of an execution in `partition` go: the same partition. On a single
    /// node, which holds every partition, any name will do: the first one derived is taken
    /// (a call read back from the `tasks` table there carries no partition, and must derive
    /// the same name as when it was first made).
    pub(super) fn placed_in(
        &self,
        partition: i64,
    ) -> impl Fn(&StateMachineArn, &Name) -> bool + '_ {
        let clustered = self.ownership.fence(partition).is_some();
        move |m, n| {
            !clustered
                || self
                    .ownership
                    .partition_of(m.execution(n.as_str()).as_str())
                    == partition
        }
    }

    /// The `.sync` children an execution waits for, by attempt: `(seq, child ARN)`.
    pub(super) fn sync_children(
        &self,
        state: &ExecutionState,
        execution_id: i64,
        partition: i64,
    ) -> Vec<(i64, String)> {
        let fits = self.placed_in(partition);
        super::rows::calls_in_flight(state)
            .into_iter()
            .filter_map(|seq| {
                let t = attempt(state, seq)?;
                // Only a start that waits for its child has parameters worth parsing here.
                let waits = t.invocation.kind == CallKind::StartExecution
                    && mode_of(&t.invocation).is_some_and(StartMode::waits_for_end);
                if !waits {
                    return None;
                }
                let call = child_call((execution_id, seq), &t.invocation.payload, &fits).ok()?;
                Some((seq, call.arn().into_string()))
            })
            .collect()
    }

    /// Make a start call: start the child (or find the one an earlier try started).
    pub(super) async fn start_child(
        &self,
        key: CallKey,
        partition: i64,
        inv: &Invocation,
    ) -> Outcome {
        let call = child_call(key, &inv.payload, &self.placed_in(partition))?;
        let parent = mode_of(inv)
            .filter(|m| m.waits_for_end())
            .map(|_| ParentLink {
                execution_id: key.0,
                partition,
                seq: key.1,
            });
        let started = self
            .start(
                &call.machine,
                call.name.clone(),
                &call.input_text,
                call.input.clone(),
                super::executions::StartWith {
                    parent,
                    ..Default::default()
                },
            )
            .await;
        match started {
            Ok(s) => Ok(started_output(&s.shown_arn(), s.start_ms)),
            // Started by an earlier try that the parent never heard of.
            Err(Error::ExecutionAlreadyExists(arn)) => {
                match self.store.execution_by_arn(&arn).await {
                    Ok(Some(row)) if row.input == call.input_text => {
                        Ok(started_output(&row.arn, row.start_ms))
                    }
                    _ => Err(service_error(
                        "ExecutionAlreadyExists",
                        &format!("Execution Already Exists: '{arn}'"),
                    )),
                }
            }
            Err(Error::NotOwner(p)) => Err(StatesError::runtime(format!(
                "The child execution '{}' falls in partition {p}, which another node of the \
                 cluster holds: a child started with a Name must fall in a partition this node \
                 holds (without a Name, it is placed with its parent).",
                call.arn().as_str()
            ))),
            Err(e) => Err(start_error(e)),
        }
    }

    /// The timer `-seq` of a parent fired: its child ended. Take the child's end as the
    /// callback of the attempt (if the parent still waits for it), and delete the timer.
    ///
    /// `remote` is what the other server said of a child started there (see
    /// `remote_children`): its end, or `None` when it does not exist there.
    pub(super) async fn child_ended(
        &self,
        parent: &ExecutionRow,
        seq: i64,
        now: i64,
        delete: WriteOp,
        remote: Option<Option<ExecutionRow>>,
    ) -> Result<Option<String>> {
        let running = Running::from_row(parent)?;
        let fits = self.placed_in(parent.partition);
        let found = running.as_ref().and_then(|r| {
            let t = attempt(&r.state, seq)?;
            let mode = mode_of(&t.invocation).filter(|m| m.waits_for_end())?;
            let call = child_call((parent.id, seq), &t.invocation.payload, &fits).ok()?;
            Some((mode, call.arn(), t.submitted))
        });
        if let Some((_, _, false)) = found {
            // The child ended before its start was recorded (TaskSubmitted): come back once it
            // is. The timer's row stays, so a crash meanwhile loses nothing.
            let key = TimerKey {
                execution: ExecutionId(parent.id),
                event: EventId(-seq),
            };
            self.timers.arm(key, now.saturating_add(20));
            return Ok(None);
        }
        let child = match (&found, remote) {
            (_, Some(remote)) => remote,
            (Some((_, arn, _)), None) => self.store.execution_by_arn(arn.as_str()).await?,
            (None, None) => None,
        };
        let (Some(running), Some((mode, _, _)), Some(child)) = (running, found, child) else {
            self.commit(vec![delete], WhenFull::Wait).await?;
            return Ok(None);
        };
        if child.status == ExecutionStatus::Running {
            self.commit(vec![delete], WhenFull::Wait).await?;
            return Ok(None);
        }
        self.forget_hot(parent.id);
        let event = Event::Callback {
            seq,
            result: child_result(mode, &child),
        };
        self.advance_running(running, event, now, Some(delete), WhenFull::Wait)
            .await
    }

    /// After the child's last commit: fire the parent's timer here when this node holds the
    /// parent (otherwise its owner reads the timer's row).
    pub(super) fn tell_parent(&self, marker: &TimerRow) {
        let here = self.ownership.fence(marker.partition).is_none()
            || self.ownership.epoch(marker.partition).is_some();
        if here {
            let key = TimerKey {
                execution: ExecutionId(marker.execution_id),
                event: EventId(marker.seq),
            };
            self.timers.arm(key, marker.due_ms);
        }
    }

    /// Children whose parent left their state: stop them (the parent's lock is released).
    pub(super) async fn stop_orphans(&self) {
        loop {
            let next = self.orphans.lock().ok().and_then(|mut o| o.pop());
            let Some(arn) = next else { return };
            if let Some(remote) = self.remote() {
                let stopped = remote
                    .step_functions("StopExecution", json!({ "executionArn": arn }))
                    .await;
                if let Err(e) = stopped {
                    tracing::warn!(error = %e.error, child = arn, "could not stop a child execution on the other server");
                }
                continue;
            }
            let Ok(child) = ExecutionArn::parse(&arn) else {
                continue;
            };
            if let Err(e) = Box::pin(self.stop_execution(&child, None, None)).await {
                tracing::warn!(error = %e, child = arn, "could not stop a child execution");
            }
        }
    }
}

/// A start refused, as the integration reports it.
fn start_error(e: Error) -> StatesError {
    match e {
        Error::StateMachineDoesNotExist(a) => service_error(
            "StateMachineDoesNotExist",
            &format!("State Machine Does Not Exist: '{a}'"),
        ),
        Error::StateMachineDeleting(a) => service_error(
            "StateMachineDeleting",
            &format!("State Machine is being deleted: '{a}'"),
        ),
        Error::ExecutionLimitExceeded(n) => service_error(
            "ExecutionLimitExceeded",
            &format!("Execution Limit Exceeded: {n} executions are already open"),
        ),
        other => StatesError::runtime(format!("The child execution could not be started: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_started_without_a_name_gets_the_same_one_on_every_try() {
        let params = r#"{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:m","Input":{"a":1}}"#;
        let any = |_: &StateMachineArn, _: &Name| true;
        let a = child_call((7, 3), params, &any).expect("valid");
        let b = child_call((7, 3), params, &any).expect("valid");
        let other = child_call((7, 9), params, &any).expect("valid");
        assert_eq!(a.name, b.name);
        assert_ne!(a.name, other.name);
        assert_eq!(a.input_text, r#"{"a":1}"#);
        assert_eq!(a.name.as_str().len(), 36, "a UUID");
    }

    #[test]
    fn a_child_without_a_name_is_placed_in_its_parents_partition() {
        let params =
            r#"{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:m"}"#;
        for parent in 0..8 {
            let fits = |m: &StateMachineArn, n: &Name| {
                crate::model::arn::partition_in(m.execution(n.as_str()).as_str(), 64) == parent
            };
            let call = child_call((parent, 5), params, &fits).expect("valid");
            assert_eq!(
                crate::model::arn::partition_in(call.arn().as_str(), 64),
                parent
            );
        }
    }

    #[test]
    fn start_parameters_are_checked_as_the_api_checks_them() {
        let any = |_: &StateMachineArn, _: &Name| true;
        let bad = |p: &str| child_call((1, 1), p, &any).err().map(|e| e.error);
        assert_eq!(
            bad(r#"{"StateMachineArn":"nope"}"#).as_deref(),
            Some("StepFunctions.InvalidArnException")
        );
        assert_eq!(
            bad(r#"{"StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:m","Name":"a b"}"#)
                .as_deref(),
            Some("StepFunctions.InvalidNameException")
        );
        assert_eq!(
            bad(r#"{"StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:m","Input":"{x"}"#)
                .as_deref(),
            Some("StepFunctions.InvalidExecutionInputException")
        );
        assert_eq!(
            bad("{}").as_deref(),
            Some("StepFunctions.ValidationException")
        );
    }

    fn ended(status: ExecutionStatus, output: Option<&str>, error: Option<&str>) -> ExecutionRow {
        ExecutionRow {
            id: 2,
            arn: "arn:aws:states:us-east-1:1:execution:m:c".into(),
            partition: 0,
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:m".into(),
            revision_id: "r".into(),
            name: "c".into(),
            status,
            input: r#"{"a":1}"#.into(),
            output: output.map(str::to_owned),
            error: error.map(str::to_owned),
            cause: None,
            start_ms: 1_000,
            stop_ms: Some(3_000),
            cursor: None,
            last_event_id: 5,
        }
    }

    #[test]
    fn a_childs_end_is_json_text_for_sync_and_json_for_sync_2() {
        let done = ended(ExecutionStatus::Succeeded, Some(r#"{"b":2}"#), None);
        let v1 = child_result(StartMode::Sync, &done).expect("succeeded");
        assert_eq!(v1["Output"], json!(r#"{"b":2}"#));
        assert_eq!(v1["Input"], json!(r#"{"a":1}"#));
        let v2 = child_result(StartMode::Sync2, &done).expect("succeeded");
        assert_eq!(v2["Output"], json!({"b": 2}));
        assert_eq!(v2["Status"], json!("SUCCEEDED"));
        assert_eq!(v2["StopDate"], json!(3_000));
        let failed = ended(ExecutionStatus::Failed, None, Some("States.Timeout"));
        let err = child_result(StartMode::Sync, &failed).expect_err("failed");
        assert_eq!(err.error, "States.TaskFailed");
        let cause: Value = serde_json::from_str(err.cause.as_deref().unwrap_or("")).expect("json");
        assert_eq!(cause["Error"], json!("States.Timeout"));
        assert_eq!(cause["Status"], json!("FAILED"));
        assert!(cause.get("Output").is_none());
    }
}

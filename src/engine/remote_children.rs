//! Nested executions on another Step Functions server: with
//! `integrations.step_functions_endpoint` naming a server other than this one,
//! `states:startExecution` starts the child there (StartExecution over the API) instead of here.
//!
//! A start is made again after a crash with the same name (given, or derived from the
//! parent's attempt) and input, which Step Functions answers with the same execution, so a
//! child is started once. A parent waiting for the end (`.sync`, `.sync:2`) polls the child
//! with DescribeExecution from its timer `-seq` (the one a local child's end writes), written
//! before the start is recorded: the polling survives a crash, and is done outside the
//! parent's lock.

use std::sync::Arc;

use serde_json::{json, Value};

use super::activities::attempt;
use super::advance::Running;
use super::calls::CallKey;
use super::children::{child_call, mode_of, started_output};
use super::Engine;
use crate::asl::StatesError;
use crate::invoke::services::ServiceInvoker;
use crate::invoke::{Invocation, Outcome};
use crate::model::{EventId, ExecutionId, ExecutionStatus, TimerKey};
use crate::store::{ExecutionRow, Store, TimerRow, WhenFull, WriteOp};

/// How often a remote child is asked whether it ended.
pub(super) const POLL_MS: i64 = 1_000;

/// Seconds since the epoch, as the API's JSON protocol writes dates, in milliseconds.
fn millis(v: &Value) -> Option<i64> {
    v.as_f64().map(|s| (s * 1000.0).round() as i64)
}

/// A remote child's DescribeExecution answer as the row a local child would have.
fn as_row(d: &Value) -> Option<ExecutionRow> {
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(ExecutionRow {
        id: 0,
        arn: text("executionArn")?,
        partition: 0,
        state_machine_arn: text("stateMachineArn").unwrap_or_default(),
        revision_id: String::new(),
        name: text("name").unwrap_or_default(),
        status: ExecutionStatus::parse(d.get("status")?.as_str()?)?,
        input: text("input").unwrap_or_else(|| "{}".into()),
        output: text("output"),
        error: text("error"),
        cause: text("cause"),
        start_ms: d.get("startDate").and_then(millis).unwrap_or(0),
        stop_ms: d.get("stopDate").and_then(millis),
        cursor: None,
        last_event_id: 0,
    })
}

/// What a parent's timer `-seq` learnt of its remote child.
pub(super) enum RemoteChild {
    /// It ended (or never existed there: then the row is absent).
    Ended(Option<Box<ExecutionRow>>),
    /// Still running, or the other server did not answer: ask again later.
    Pending,
}

impl<S: Store> Engine<S> {
    /// The other server children are started on, if there is one.
    pub(super) fn remote(&self) -> Option<&Arc<ServiceInvoker>> {
        self.config.remote_step_functions.as_ref()
    }

    /// Make a start call on the other server.
    pub(super) async fn start_remote_child(
        &self,
        remote: &ServiceInvoker,
        key: CallKey,
        partition: i64,
        inv: &Invocation,
    ) -> Outcome {
        let call = child_call(key, &inv.payload, &|_, _| true)?;
        let arn = call.arn().into_string();
        let params = json!({
            "stateMachineArn": call.machine.as_str(),
            "name": call.name.as_str(),
            "input": call.input_text,
        });
        let start_ms = match remote.step_functions("StartExecution", params).await {
            Ok(a) => a.get("startDate").and_then(millis).unwrap_or(0),
            // Started by an earlier try and closed since: the same input makes it this one.
            Err(e) if e.error == "StepFunctions.ExecutionAlreadyExistsException" => {
                let d = remote
                    .step_functions("DescribeExecution", json!({ "executionArn": arn }))
                    .await?;
                match as_row(&d) {
                    Some(row) if row.input == call.input_text => row.start_ms,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if mode_of(inv).is_some_and(|m| m.waits_for_end()) {
            let marker = TimerRow {
                due_ms: self.clock.now_ms().saturating_add(POLL_MS),
                execution_id: key.0,
                seq: -key.1,
                partition,
            };
            self.commit(vec![WriteOp::InsertTimer(marker)], WhenFull::Wait)
                .await
                .map_err(|e| {
                    StatesError::runtime(format!("The child's end could not be awaited: {e}"))
                })?;
            self.tell_parent(&marker);
        }
        Ok(started_output(&arn, start_ms))
    }

    /// Ask the other server about the child of attempt `seq` of an execution, without holding
    /// the execution's lock. `None`: there is no other server, or the attempt is not one.
    pub(super) async fn remote_child(&self, execution_id: i64, seq: i64) -> Option<RemoteChild> {
        let remote = self.remote()?;
        let row = self.store.execution_by_id(execution_id).await.ok()??;
        let running = Running::from_row(&row).ok()??;
        let t = attempt(&running.state, seq)?;
        let call = child_call((execution_id, seq), &t.invocation.payload, &|_, _| true).ok()?;
        let arn = call.arn().into_string();
        let asked = remote
            .step_functions("DescribeExecution", json!({ "executionArn": arn }))
            .await;
        Some(match asked {
            Ok(d) => match as_row(&d) {
                Some(child) if child.status.is_terminal() => {
                    RemoteChild::Ended(Some(Box::new(child)))
                }
                _ => RemoteChild::Pending,
            },
            Err(e) if e.error == "StepFunctions.ExecutionDoesNotExistException" => {
                RemoteChild::Ended(None)
            }
            Err(e) => {
                tracing::warn!(error = %e.error, cause = e.cause.as_deref().unwrap_or(""), child = arn, "could not ask the other server about a child execution; asking again");
                RemoteChild::Pending
            }
        })
    }

    /// Ask about the remote child again after [`POLL_MS`]; the timer's row stays.
    pub(super) fn poll_again(&self, execution_id: i64, seq: i64, now: i64) {
        let key = TimerKey {
            execution: ExecutionId(execution_id),
            event: EventId(-seq),
        };
        self.timers.arm(key, now.saturating_add(POLL_MS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_described_execution_reads_as_a_row() {
        let d = json!({"executionArn": "arn:aws:states:us-east-1:1:execution:m:e",
                       "stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:m",
                       "name": "e", "status": "FAILED", "input": "{\"a\":1}",
                       "startDate": 1_700_000_000.25, "stopDate": 1_700_000_001.5,
                       "error": "Boom", "cause": "why"});
        let row = as_row(&d).expect("a row");
        assert_eq!(row.status, ExecutionStatus::Failed);
        assert_eq!(
            (row.start_ms, row.stop_ms),
            (1_700_000_000_250, Some(1_700_000_001_500))
        );
        assert_eq!(
            (row.error.as_deref(), row.cause.as_deref()),
            (Some("Boom"), Some("why"))
        );
        assert!(as_row(&json!({"status": "RUNNING"})).is_none());
    }
}

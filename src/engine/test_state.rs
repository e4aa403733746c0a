//! TestState: one state run on its own ([`crate::asl::run::probe`]), its Task's call made
//! through the daemon's invoker, or answered by the request's mock.

use serde_json::Value;

use super::{Engine, Error, Result};
use crate::asl::run::probe::{self, Prepared, Probe, Report};
use crate::asl::run::CallKind;
use crate::asl::StatesError;
use crate::store::Store;

/// The mocked answer of a TestState request.
#[derive(Debug, Clone, PartialEq)]
pub enum Mocked {
    Result(Value),
    Error(StatesError),
}

impl<S: Store> Engine<S> {
    /// Run `probe`'s state; its work is `mock` when given, else the call it makes. With
    /// `trace` (`TRACE`, and whether to reveal secrets), an HTTP Task's request and response
    /// join the inspection data.
    pub async fn test_state(
        &self,
        probe: &Probe<'_>,
        mock: Option<Mocked>,
        trace: Option<bool>,
    ) -> Result<Report> {
        let (invocation, mut inspection) = match probe::prepare(probe) {
            Prepared::Done(report) => return Ok(report),
            Prepared::Work {
                invocation,
                inspection,
            } => (invocation, inspection),
        };
        let answer = match (mock, invocation) {
            (Some(Mocked::Result(v)), _) => Ok(v),
            (Some(Mocked::Error(e)), _) => Err(e),
            (None, None) => {
                if let crate::asl::definition::Kind::Task(spec) = &probe.state.kind {
                    if let crate::asl::definition::TaskResource::Other(r) = &spec.resource {
                        let failed = Err(crate::asl::catalogue::resource_unsupported(r));
                        return Ok(probe::finish(probe, inspection, failed));
                    }
                }
                return Err(Error::Invalid(format!(
                    "A {} state is tested here only with a mock of its result.",
                    probe.state.type_name
                )));
            }
            (None, Some(inv)) => {
                let spec = match &probe.state.kind {
                    crate::asl::definition::Kind::Task(spec) => spec,
                    _ => return Err(Error::Invalid("Only a Task makes a call.".into())),
                };
                if matches!(inv.kind, CallKind::Activity | CallKind::StartExecution) {
                    return Err(Error::Invalid(
                        "Activity and startExecution Tasks are tested here only with a mock."
                            .into(),
                    ));
                }
                let Some(invoker) = self.config.invoker.clone() else {
                    return Err(Error::Invalid("No invoker is configured.".into()));
                };
                let outcome = match trace.filter(|_| inv.kind == CallKind::Http) {
                    Some(reveal) => {
                        let (outcome, seen) = invoker.invoke_traced(inv, reveal).await;
                        if let Some(Value::Object(seen)) = seen {
                            inspection.extend(seen);
                        }
                        outcome
                    }
                    None => invoker.invoke(inv).await,
                };
                match outcome {
                    Ok(out) => crate::asl::task::task_output(spec, &out),
                    Err(e) => Err(e),
                }
            }
        };
        Ok(probe::finish(probe, inspection, answer))
    }
}

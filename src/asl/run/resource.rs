//! The history events of each kind of Task resource, so the Task state's logic is written
//! once:
//!
//! | resource | scheduled | started | succeeded / failed / timed out |
//! |---|---|---|---|
//! | `lambda:invoke`, `states:startExecution` | `TaskScheduled` | `TaskStarted` (at once) | `Task*` (`TaskSubmitted` first when it then waits) |
//! | function ARN | `LambdaFunctionScheduled` | `LambdaFunctionStarted` (at once) | `LambdaFunction*` |
//! | activity ARN | `ActivityScheduled` | `ActivityStarted` (when a worker takes it) | `Activity*` |
//!
//! A schedule failure (an activity that does not exist) is `ActivityScheduleFailed`; for the
//! others it is the failure of the attempt.

use serde_json::Value;

use crate::asl::definition::{TaskResource, TaskSpec};
use crate::asl::history;
use crate::model::HistoryEventType as T;

/// The `resource` of a `lambda:invoke` task's events.
fn invoke_resource(spec: &TaskSpec) -> &'static str {
    if spec.wait_for_token {
        "invoke.waitForTaskToken"
    } else {
        "invoke"
    }
}

/// A history event: its type and details.
pub(super) type Written = (T, Option<String>);

/// The events of one Task state's resource.
pub(super) enum Family<'a> {
    /// A service integration (`resourceType`, `resource`).
    Integration(&'a str, &'a str),
    Lambda(&'a str),
    Activity(&'a str),
}

impl<'a> Family<'a> {
    pub(super) fn of(spec: &'a TaskSpec) -> Self {
        match &spec.resource {
            TaskResource::LambdaInvoke => Family::Integration("lambda", invoke_resource(spec)),
            TaskResource::Activity { arn } => Family::Activity(arn),
            TaskResource::StartExecution(mode) => Family::Integration("states", mode.resource()),
            TaskResource::Http => Family::Integration("http", "invoke"),
            TaskResource::Service {
                resource_type,
                resource,
                ..
            } => Family::Integration(resource_type, resource),
            _ => Family::Lambda(&spec.resource_text),
        }
    }

    /// The events of a new attempt, before any answer.
    pub(super) fn scheduled(
        &self,
        region: &str,
        parameters: &Value,
        timeout_secs: Option<u64>,
        heartbeat_secs: Option<u64>,
    ) -> Vec<Written> {
        match *self {
            Family::Integration(kind, resource) => vec![
                (
                    T::TaskScheduled,
                    history::task_scheduled(
                        kind,
                        resource,
                        region,
                        parameters,
                        timeout_secs,
                        heartbeat_secs,
                    ),
                ),
                (T::TaskStarted, history::task_started(kind, resource)),
            ],
            Family::Lambda(function) => vec![
                (
                    T::LambdaFunctionScheduled,
                    history::lambda_scheduled(function, parameters, timeout_secs),
                ),
                (T::LambdaFunctionStarted, None),
            ],
            Family::Activity(arn) => vec![(
                T::ActivityScheduled,
                history::activity_scheduled(arn, parameters, timeout_secs, heartbeat_secs),
            )],
        }
    }

    /// The call of a task that then waits was answered with `output`.
    pub(super) fn submitted(&self, output: &Value) -> Option<Written> {
        match *self {
            Family::Integration(kind, resource) => Some((
                T::TaskSubmitted,
                history::task_submitted(kind, resource, output),
            )),
            _ => None,
        }
    }

    pub(super) fn succeeded(&self, output: &Value) -> Written {
        match *self {
            Family::Integration(kind, resource) => (
                T::TaskSucceeded,
                history::task_succeeded(kind, resource, output),
            ),
            Family::Lambda(_) => (
                T::LambdaFunctionSucceeded,
                history::lambda_succeeded(output),
            ),
            Family::Activity(_) => (T::ActivitySucceeded, history::activity_succeeded(output)),
        }
    }

    pub(super) fn failed(&self, error: Option<&str>, cause: Option<&str>) -> Written {
        match *self {
            Family::Integration(kind, resource) => (
                T::TaskFailed,
                history::task_failed(kind, resource, error, cause),
            ),
            Family::Lambda(_) => (
                T::LambdaFunctionFailed,
                history::lambda_failed(error, cause),
            ),
            Family::Activity(_) => (T::ActivityFailed, history::activity_failed(error, cause)),
        }
    }

    /// The attempt could not even be scheduled.
    pub(super) fn schedule_failed(&self, error: Option<&str>, cause: Option<&str>) -> Written {
        match *self {
            Family::Activity(_) => (
                T::ActivityScheduleFailed,
                history::activity_schedule_failed(error, cause),
            ),
            _ => self.failed(error, cause),
        }
    }

    pub(super) fn timed_out(&self, error: Option<&str>, cause: Option<&str>) -> Written {
        match *self {
            Family::Integration(kind, resource) => (
                T::TaskTimedOut,
                history::task_timed_out(kind, resource, error, cause),
            ),
            Family::Lambda(_) => (
                T::LambdaFunctionTimedOut,
                history::lambda_timed_out(error, cause),
            ),
            Family::Activity(_) => (
                T::ActivityTimedOut,
                history::activity_timed_out(error, cause),
            ),
        }
    }
}

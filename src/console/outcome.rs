//! What happened to each state of an execution, read from its history: the colours of the
//! execution's graph and the "now" of a running execution.
//!
//! Every event belongs to a visit of a state: a `<Type>StateEntered` event starts a visit, and
//! any other event belongs to the visit of the event it follows (`previous_id`), so visits of
//! Parallel branches and Map iterations running side by side stay apart. A visit that exits
//! after a failure event was caught; a visit the execution ended in failed (or was aborted).
//! A state visited more than once (a loop, a Map's iterations) shows its most telling visit:
//! running or waiting, then failed, aborted, caught, succeeded.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::model::{ExecutionStatus, HistoryEventType as T};
use crate::store::EventRow;

/// What happened to a state, in the order a visit outranks another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Succeeded,
    Caught,
    Aborted,
    Failed,
    Waiting,
    Running,
}

impl Outcome {
    /// The word the page and its styles use.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Caught => "caught",
            Outcome::Aborted => "aborted",
            Outcome::Failed => "failed",
            Outcome::Waiting => "waiting",
            Outcome::Running => "running",
        }
    }
}

/// One visit of a state.
#[derive(Debug, Clone)]
pub struct Visit {
    pub state: String,
    /// Its `<Type>StateEntered` event's type.
    pub kind: T,
    /// The Parallel or Map visit it runs in.
    parent: Option<usize>,
    /// Not exited yet.
    open: bool,
    /// The id of its `StateEntered` event.
    pub entered_id: i64,
    pub outcome: Outcome,
    /// A failure event was seen since it was entered (or since its last retry started).
    failed_since: bool,
    /// Its last event: what a visit still open is doing.
    pub last: (T, i64, i64),
    /// Its last event that names what it calls (`TaskScheduled`, `ActivityScheduled`,
    /// `MapRunStarted`, ...), for what it waits for.
    pub doing: Option<(T, Doing)>,
}

/// The visits of an execution's states, in the order they began.
#[derive(Debug)]
pub struct Visits {
    pub visits: Vec<Visit>,
    /// Event id → the visit it belongs to.
    of: HashMap<i64, usize>,
}

/// An event's details: the object inside its `<type>EventDetails` (Null when it has none).
pub fn details(e: &EventRow) -> Value {
    let outer: Value = e
        .details
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null);
    match outer {
        Value::Object(o) if o.len() == 1 && o.keys().all(|k| k.ends_with("EventDetails")) => {
            o.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)
        }
        v => v,
    }
}

/// What a Task, an activity or a map run calls, from its event's details.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Doing {
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    pub map_run_arn: Option<String>,
}

impl Doing {
    /// `lambda:invoke`, an activity's ARN, a map run's ARN.
    pub fn what(&self) -> String {
        match (&self.resource_type, &self.resource, &self.map_run_arn) {
            (Some(t), Some(r), _) => format!("{t}:{r}"),
            (None, Some(r), _) => r.clone(),
            (_, None, Some(m)) => m.clone(),
            _ => String::new(),
        }
    }

    fn is_callback(&self) -> bool {
        self.resource
            .as_deref()
            .is_some_and(|r| r.ends_with(".waitForTaskToken"))
    }
}

/// The call an event names, read without building the rest of its details (a Task's
/// parameters may be large).
fn doing_of(e: &EventRow) -> Option<Doing> {
    #[derive(serde::Deserialize)]
    struct Outer {
        #[serde(
            alias = "taskScheduledEventDetails",
            alias = "taskSubmittedEventDetails",
            alias = "taskStartedEventDetails",
            alias = "activityScheduledEventDetails",
            alias = "mapRunStartedEventDetails"
        )]
        details: Option<Doing>,
    }
    let outer: Outer = serde_json::from_str(e.details.as_deref()?).ok()?;
    outer.details
}

/// The `name` of a state's entry or exit, read without building the rest of its details.
fn state_name(e: &EventRow) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        name: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Outer {
        #[serde(alias = "stateEnteredEventDetails", alias = "stateExitedEventDetails")]
        details: Option<Named>,
    }
    let outer: Outer = serde_json::from_str(e.details.as_deref()?).ok()?;
    outer.details?.name
}

fn is_failure(t: T) -> bool {
    let s = t.as_str();
    !matches!(t, T::ExecutionFailed | T::ExecutionTimedOut)
        && (s.ends_with("Failed") || s.ends_with("TimedOut"))
}

fn is_abort(t: T) -> bool {
    !matches!(t, T::ExecutionAborted) && t.as_str().ends_with("Aborted")
}

/// The visit an event belongs to, given the visit of the event it follows: a state's exit
/// belongs to the nearest visit of that state, a Map's or Parallel's own events to the nearest
/// Map or Parallel around.
fn owner(visits: &[Visit], from: usize, t: T, name: Option<&str>) -> usize {
    let s = t.as_str();
    let wanted = |v: &Visit| -> bool {
        if s.ends_with("StateExited") {
            return name.is_none_or(|n| n == v.state);
        }
        if s.starts_with("Map") {
            return v.kind == T::MapStateEntered;
        }
        if s.starts_with("Parallel") {
            return v.kind == T::ParallelStateEntered;
        }
        true
    };
    let mut at = Some(from);
    while let Some(i) = at {
        if wanted(&visits[i]) {
            return i;
        }
        at = visits[i].parent;
    }
    from
}

/// Events after which a visit is doing something again (a retry, a redrive).
fn is_start(t: T) -> bool {
    matches!(
        t,
        T::TaskScheduled
            | T::ActivityScheduled
            | T::LambdaFunctionScheduled
            | T::MapRunStarted
            | T::MapRunRedriven
            | T::MapIterationStarted
            | T::ParallelStateStarted
            | T::MapStateStarted
    )
}

/// Events a visit waits in, for something outside it: a callback, a worker, a timer.
fn is_waiting(t: T, doing: Option<&Doing>) -> bool {
    match t {
        T::WaitStateEntered | T::ActivityScheduled => true,
        T::TaskSubmitted | T::TaskStarted => doing.is_some_and(Doing::is_callback),
        _ => false,
    }
}

impl Visits {
    /// Read the history (ascending) of an execution whose status is `status`.
    pub fn read(events: &[EventRow], status: ExecutionStatus) -> Self {
        let mut visits: Vec<Visit> = Vec::new();
        // Event id → the visit (index into `visits`) it belongs to.
        let mut of: HashMap<i64, usize> = HashMap::with_capacity(events.len());
        let mut ended_in: Option<(usize, T)> = None;
        for e in events {
            let t = e.event_type;
            let ts = t.as_str();
            // Of the details, only a state's name and what a call calls are read (inputs,
            // outputs and parameters are skipped, not built).
            let doing = match t {
                T::TaskScheduled
                | T::TaskSubmitted
                | T::TaskStarted
                | T::ActivityScheduled
                | T::MapRunStarted => doing_of(e),
                _ => None,
            };
            let name_owned = match ts.ends_with("StateEntered") || ts.ends_with("StateExited") {
                true => state_name(e),
                false => None,
            };
            let name = name_owned.as_deref();
            let from = of.get(&e.previous_id).copied();
            if let (true, Some(name)) = (t.as_str().ends_with("StateEntered"), name) {
                // Leaving a visit that had failed (and did not exit) is a catch.
                if let Some(p) = from.and_then(|p| visits.get_mut(p)) {
                    if p.outcome == Outcome::Failed && !p.open {
                        p.outcome = Outcome::Caught;
                    }
                }
                // The first state of a branch or an iteration follows its Parallel or Map,
                // still open; any other follows a sibling that has closed.
                let parent = from.and_then(|p| match visits[p].open {
                    true => Some(p),
                    false => visits[p].parent,
                });
                of.insert(e.id, visits.len());
                visits.push(Visit {
                    state: name.to_owned(),
                    kind: t,
                    parent,
                    open: t != T::FailStateEntered,
                    entered_id: e.id,
                    outcome: match t {
                        T::FailStateEntered => Outcome::Failed,
                        _ if is_waiting(t, None) => Outcome::Waiting,
                        _ => Outcome::Running,
                    },
                    failed_since: false,
                    last: (t, e.id, e.timestamp_ms),
                    doing: None,
                });
                continue;
            }
            let Some(from) = from else {
                continue;
            };
            let owner = owner(&visits, from, t, name);
            of.insert(e.id, owner);
            if matches!(
                t,
                T::ExecutionFailed | T::ExecutionTimedOut | T::ExecutionAborted
            ) {
                ended_in = Some((owner, t));
                continue;
            }
            let visit = &mut visits[owner];
            visit.last = (t, e.id, e.timestamp_ms);
            if t.as_str().ends_with("StateExited") {
                visit.open = false;
                visit.outcome = match visit.failed_since {
                    true => Outcome::Caught,
                    false => Outcome::Succeeded,
                };
                // Branches and iterations still open when their Parallel or Map is left
                // were stopped with it.
                for v in &mut visits[owner + 1..] {
                    if v.parent == Some(owner) && v.open {
                        v.open = false;
                        v.outcome = Outcome::Aborted;
                    }
                }
            } else if is_failure(t) {
                visit.outcome = Outcome::Failed;
                visit.failed_since = true;
            } else if is_abort(t) {
                // A Task that failed its Parallel branch is also marked aborted: it failed.
                if !visit.failed_since {
                    visit.outcome = Outcome::Aborted;
                }
            } else if is_start(t) || is_waiting(t, doing.as_ref()) {
                if is_start(t) {
                    visit.failed_since = false;
                }
                visit.outcome = match is_waiting(t, doing.as_ref()) {
                    true => Outcome::Waiting,
                    false => Outcome::Running,
                };
                if let Some(d) = doing {
                    visit.doing = Some((t, d));
                }
            }
        }
        // The visit the execution ended in failed, or was aborted; so were the others still open.
        if let Some((v, t)) = ended_in {
            visits[v].outcome = match t {
                T::ExecutionAborted => Outcome::Aborted,
                _ => Outcome::Failed,
            };
        }
        let end = match status {
            ExecutionStatus::Running | ExecutionStatus::Succeeded => None,
            ExecutionStatus::Aborted => Some(Outcome::Aborted),
            _ => Some(Outcome::Failed),
        };
        if let Some(end) = end {
            for v in &mut visits {
                if matches!(v.outcome, Outcome::Running | Outcome::Waiting) {
                    v.outcome = end;
                }
            }
        }
        Self { visits, of }
    }

    /// Each state's most telling outcome, by name.
    pub fn by_state(&self) -> BTreeMap<&str, Outcome> {
        let mut out: BTreeMap<&str, Outcome> = BTreeMap::new();
        for v in &self.visits {
            let o = out.entry(v.state.as_str()).or_insert(v.outcome);
            *o = (*o).max(v.outcome);
        }
        out
    }

    /// The state an event belongs to.
    pub fn state_of(&self, event_id: i64) -> Option<&str> {
        let v = self.of.get(&event_id)?;
        self.visits.get(*v).map(|v| v.state.as_str())
    }

    /// The visits still open (running or waiting).
    pub fn open(&self) -> impl Iterator<Item = &Visit> {
        self.visits
            .iter()
            .filter(|v| matches!(v.outcome, Outcome::Running | Outcome::Waiting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64, prev: i64, t: T, details: Value) -> EventRow {
        // Stored as the API answers it: inside the event type's details member.
        EventRow {
            id,
            previous_id: prev,
            event_type: t,
            timestamp_ms: id * 1000,
            details: Some({
                let key = match t.as_str() {
                    s if s.ends_with("StateEntered") => "stateEnteredEventDetails",
                    s if s.ends_with("StateExited") => "stateExitedEventDetails",
                    _ => "someEventDetails",
                };
                serde_json::json!({ key: details }).to_string()
            }),
        }
    }

    fn entered(id: i64, prev: i64, t: T, name: &str) -> EventRow {
        ev(id, prev, t, serde_json::json!({"name": name}))
    }

    /// An event without details of its own to read.
    fn bare(id: i64, prev: i64, t: T) -> EventRow {
        ev(id, prev, t, serde_json::json!({}))
    }

    fn scheduled(id: i64, prev: i64) -> EventRow {
        ev(
            id,
            prev,
            T::TaskScheduled,
            serde_json::json!({"resource": "invoke"}),
        )
    }

    #[test]
    fn a_caught_failure_a_succeeded_state_and_a_waiting_one() {
        let events = vec![
            bare(1, 0, T::ExecutionStarted),
            entered(2, 0, T::TaskStateEntered, "Charge"),
            scheduled(3, 2),
            ev(4, 3, T::TaskFailed, serde_json::json!({"error": "E"})),
            entered(5, 4, T::TaskStateExited, "Charge"),
            entered(6, 5, T::PassStateEntered, "Recover"),
            entered(7, 6, T::PassStateExited, "Recover"),
            entered(8, 7, T::WaitStateEntered, "Delay"),
        ];
        let v = Visits::read(&events, ExecutionStatus::Running);
        let by = v.by_state();
        assert_eq!(by["Charge"], Outcome::Caught);
        assert_eq!(by["Recover"], Outcome::Succeeded);
        assert_eq!(by["Delay"], Outcome::Waiting);
        assert_eq!(v.open().count(), 1);
    }

    #[test]
    fn a_failure_that_ends_the_execution_fails_its_state_and_a_stop_aborts_the_open_ones() {
        let events = vec![
            bare(1, 0, T::ExecutionStarted),
            entered(2, 0, T::TaskStateEntered, "Charge"),
            scheduled(3, 2),
            ev(4, 3, T::TaskFailed, serde_json::json!({"error": "E"})),
            ev(5, 4, T::ExecutionFailed, serde_json::json!({"error": "E"})),
        ];
        let v = Visits::read(&events, ExecutionStatus::Failed);
        assert_eq!(v.by_state()["Charge"], Outcome::Failed);

        // In a Parallel branch, the failed Task is marked aborted after its failure.
        let events = vec![
            bare(1, 0, T::ExecutionStarted),
            entered(2, 0, T::TaskStateEntered, "Charge"),
            scheduled(3, 2),
            ev(4, 3, T::TaskFailed, serde_json::json!({"error": "E"})),
            bare(5, 4, T::TaskStateAborted),
            ev(6, 5, T::ExecutionFailed, serde_json::json!({"error": "E"})),
        ];
        let v = Visits::read(&events, ExecutionStatus::Failed);
        assert_eq!(v.by_state()["Charge"], Outcome::Failed);

        let events = vec![
            bare(1, 0, T::ExecutionStarted),
            entered(2, 0, T::WaitStateEntered, "Delay"),
            bare(3, 2, T::ExecutionAborted),
        ];
        let v = Visits::read(&events, ExecutionStatus::Aborted);
        assert_eq!(v.by_state()["Delay"], Outcome::Aborted);
    }

    #[test]
    fn a_retried_task_that_then_succeeds_succeeded_and_iterations_keep_their_worst() {
        let events = vec![
            bare(1, 0, T::ExecutionStarted),
            entered(2, 0, T::TaskStateEntered, "Call"),
            scheduled(3, 2),
            ev(4, 3, T::TaskFailed, serde_json::json!({"error": "E"})),
            scheduled(5, 4),
            bare(6, 5, T::TaskSucceeded),
            entered(7, 6, T::TaskStateExited, "Call"),
            entered(8, 7, T::MapStateEntered, "Each"),
            entered(9, 8, T::PassStateEntered, "Item"),
            entered(10, 9, T::PassStateExited, "Item"),
            entered(11, 8, T::PassStateEntered, "Item"),
            bare(12, 11, T::MapIterationFailed),
            bare(13, 12, T::MapStateFailed),
            entered(14, 13, T::MapStateExited, "Each"),
            entered(15, 14, T::PassStateEntered, "Handle"),
        ];
        let v = Visits::read(&events, ExecutionStatus::Running);
        let by = v.by_state();
        assert_eq!(by["Call"], Outcome::Succeeded);
        assert_eq!(by["Item"], Outcome::Aborted);
        assert_eq!(by["Each"], Outcome::Caught, "{v:?}");
        assert_eq!(by["Handle"], Outcome::Running);
    }
}

//! The engine over the in-memory store, a manual clock and no HTTP: time is moved by hand,
//! timers are taken from the window directly, Lambda results are fed in.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::asl::task::{Invocation, InvokeOutput};
use crate::asl::StatesError;
use crate::model::{ExecutionArn, ExecutionStatus, Name, StateMachineArn};
use crate::store::memory::MemoryStore;
use crate::store::ports::{CallReads, ExecutionReads, HistoryReads, TimerReads};
use crate::timer::{ManualClock, TimerService};

struct Harness {
    engine: Arc<Engine<MemoryStore>>,
    store: MemoryStore,
    timers: Arc<TimerService<MemoryStore>>,
    clock: Arc<ManualClock>,
}

const START_MS: i64 = 1_700_000_000_000;

async fn harness() -> Harness {
    let store = MemoryStore::default();
    let clock = Arc::new(ManualClock::new(START_MS));
    let ownership = Arc::new(Ownership::all(256));
    let timers = Arc::new(TimerService::new(
        store.clone(),
        ownership.clone(),
        clock.clone(),
        60,
        1000,
    ));
    timers.load().await.expect("load");
    let engine = Engine::new(
        store.clone(),
        timers.clone(),
        clock.clone(),
        EngineConfig {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            step: StepConfig::default(),
            max_open_executions: 0,
            calls: CallLimits::default(),
            max_steps: 2,
            mocks: None,
            remote_step_functions: None,
            invoker: None,
            express_max_duration_secs: 300,
        },
        ownership,
    )
    .await
    .expect("engine");
    Harness {
        engine: Arc::new(engine),
        store,
        timers,
        clock,
    }
}

impl Harness {
    async fn machine(&self, name: &str, definition: serde_json::Value) -> String {
        self.engine
            .create_state_machine(CreateStateMachine {
                name: Name::parse(name).expect("name"),
                definition: definition.to_string(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                machine_type: crate::model::StateMachineType::Standard,
                logging_configuration: None,
                tracing_configuration: None,
                tags: vec![],
            })
            .await
            .expect("create")
            .arn
    }

    async fn start(&self, sm: &str, name: &str) -> String {
        self.start_with(sm, name, json!({})).await
    }

    async fn start_with(&self, sm: &str, name: &str, input: serde_json::Value) -> String {
        self.engine
            .start_execution(
                &StateMachineArn::parse(sm).expect("arn"),
                Name::parse(name).expect("name"),
                &input.to_string(),
                input,
            )
            .await
            .expect("start")
            .execution_arn
    }

    async fn row(&self, arn: &str) -> crate::store::ExecutionRow {
        self.store
            .execution_by_arn(arn)
            .await
            .expect("read")
            .expect("exists")
    }

    async fn status(&self, arn: &str) -> ExecutionStatus {
        self.row(arn).await.status
    }

    async fn stop(&self, arn: &str) {
        self.engine
            .stop_execution(&ExecutionArn::parse(arn).expect("arn"), None, None)
            .await
            .expect("stop");
    }

    /// The execution's history, as stored.
    async fn history(&self, arn: &str) -> Vec<crate::store::EventRow> {
        let row = self.row(arn).await;
        self.store
            .history(row.id, None, 100, false)
            .await
            .expect("history")
    }

    /// The next call the engine submitted, as the dispatcher would take it.
    fn next_call(&self) -> Option<(i64, Invocation)> {
        self.engine.calls.next().map(|n| (n.key.0, n.invocation))
    }

    async fn fire_due(&self) -> usize {
        let due = self.timers.take_due();
        for f in &due {
            self.engine.on_timer(*f).await;
        }
        due.len()
    }
}

/// A function's successful answer with `payload`.
fn answer(payload: &str) -> InvokeOutput {
    InvokeOutput {
        status_code: 200,
        payload: payload.into(),
        executed_version: None,
        request_id: "r".into(),
        headers: vec![],
        mocked: false,
    }
}

#[tokio::test]
async fn a_wait_is_committed_armed_and_fired_at_its_deadline() {
    let h = harness().await;
    let sm = h
        .machine(
            "w",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}}),
        )
        .await;
    let arn = h.start(&sm, "e").await;
    assert_eq!(h.status(&arn).await, ExecutionStatus::Running);
    assert_eq!(
        h.store.count_timers().await.expect("count"),
        1,
        "the deadline is on disk"
    );
    h.clock.advance(29_999);
    assert_eq!(h.fire_due().await, 0, "not a millisecond early");
    h.clock.advance(1);
    assert_eq!(h.fire_due().await, 1);
    assert_eq!(h.status(&arn).await, ExecutionStatus::Succeeded);
    assert_eq!(
        h.store.count_timers().await.expect("count"),
        0,
        "the timer row is gone"
    );
}

#[tokio::test]
async fn stop_wins_over_a_timer_that_fires_later() {
    let h = harness().await;
    let sm = h
        .machine(
            "s",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}),
        )
        .await;
    let arn = h.start(&sm, "e").await;
    h.stop(&arn).await;
    h.clock.advance(5_000);
    h.fire_due().await;
    assert_eq!(h.status(&arn).await, ExecutionStatus::Aborted);
    let events = h.history(&arn).await;
    let terminal = events
        .iter()
        .filter(|e| e.event_type.ends_execution())
        .count();
    assert_eq!(terminal, 1, "exactly one terminal event");
}

/// A timer taken from the wheel just before a stop committed fires after it: the stop
/// stands, and nothing runs after it.
#[tokio::test]
async fn a_timer_taken_before_a_stop_fires_after_it_and_changes_nothing() {
    let h = harness().await;
    let sm = h
        .machine(
            "t",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
                   "P": {"Type": "Pass", "End": true}}}),
        )
        .await;
    let arn = h.start(&sm, "e").await;
    h.clock.advance(5_000);
    let due = h.timers.take_due();
    assert_eq!(due.len(), 1);
    h.stop(&arn).await;
    for f in due {
        h.engine.on_timer(f).await;
    }
    assert_eq!(h.status(&arn).await, ExecutionStatus::Aborted);
    use crate::model::HistoryEventType as T;
    let types: Vec<T> = h.history(&arn).await.iter().map(|e| e.event_type).collect();
    assert_eq!(types.last(), Some(&T::ExecutionAborted), "{types:?}");
    assert!(
        !types.iter().any(|t| matches!(
            t,
            T::WaitStateExited | T::PassStateEntered | T::PassStateExited
        )),
        "nothing ran after the stop: {types:?}"
    );
    assert_eq!(h.store.count_timers().await.expect("count"), 0);
}

#[tokio::test]
async fn a_task_is_scheduled_after_commit_and_its_result_moves_the_execution_on() {
    let h = harness().await;
    let sm = h
        .machine(
            "t",
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Retry": [{"ErrorEquals": ["Oops"], "IntervalSeconds": 2, "MaxAttempts": 1}], "End": true}}}),
        )
        .await;
    let arn = h.start(&sm, "e").await;
    let (exec_id, first) = h.next_call().expect("a call was scheduled");
    assert_eq!(
        h.store
            .tasks_after(None, 1000, None)
            .await
            .expect("tasks")
            .len(),
        1,
        "recorded before the call"
    );
    h.engine
        .task_result(
            exec_id,
            first.seq,
            Err(StatesError::new("Oops", "first try")),
        )
        .await
        .expect("recorded");
    assert!(h.next_call().is_none(), "the retry waits for its back-off");
    h.clock.advance(1_999);
    assert_eq!(h.fire_due().await, 0);
    h.clock.advance(1);
    assert_eq!(h.fire_due().await, 1);
    let (_, second) = h.next_call().expect("the retry was scheduled");
    assert_ne!(second.seq, first.seq);
    // A late answer to the first attempt is ignored.
    h.engine
        .task_result(exec_id, first.seq, Err(StatesError::new("Oops", "late")))
        .await
        .expect("recorded");
    assert_eq!(h.status(&arn).await, ExecutionStatus::Running);
    let ok = answer("{\"done\":true}");
    h.engine
        .task_result(exec_id, second.seq, Ok(ok))
        .await
        .expect("recorded");
    assert_eq!(h.status(&arn).await, ExecutionStatus::Succeeded);
    assert!(h
        .store
        .tasks_after(None, 1000, None)
        .await
        .expect("tasks")
        .is_empty());
}

/// `$$.Execution.Input` in steps after the start: one that reads the execution from the store
/// (a Wait's end) and one that takes it from memory (a call's result).
#[tokio::test]
async fn later_steps_read_the_execution_input_from_the_context_object() {
    let h = harness().await;
    let sm = h
        .machine(
            "c",
            json!({"StartAt": "W", "States": {
                "W": {"Type": "Wait", "Seconds": 5, "Next": "T"},
                "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                    "Parameters": {"seen.$": "$$.Execution.Input.a"},
                    "ResultSelector": {"input.$": "$$.Execution.Input", "result.$": "$"}, "End": true}}}),
        )
        .await;
    let input = json!({"a": [1, "x \"y\""], "b": {"c": null}});
    let arn = h.start_with(&sm, "e", input.clone()).await;
    h.clock.advance(5_000);
    assert_eq!(h.fire_due().await, 1);
    let (exec_id, call) = h.next_call().expect("a call was scheduled");
    let sent: serde_json::Value = serde_json::from_str(&call.payload).expect("payload");
    assert_eq!(sent, json!({"seen": input["a"]}));
    let ok = answer("7");
    h.engine
        .task_result(exec_id, call.seq, Ok(ok))
        .await
        .expect("recorded");
    let row = h.row(&arn).await;
    assert_eq!(row.status, ExecutionStatus::Succeeded);
    let output: serde_json::Value =
        serde_json::from_str(row.output.as_deref().expect("an output")).expect("output");
    assert_eq!(output, json!({"input": input, "result": 7}));
}

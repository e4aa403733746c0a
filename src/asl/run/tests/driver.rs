//! For tests: drive an execution to its end the way the engine does, without I/O. The state is
//! persisted as JSON and read back between events, the earliest armed timer fires next, and
//! each Lambda call is answered by a function the test gives.

use serde_json::{json, Value};

use crate::asl::definition::Definition;
use crate::asl::errors::StatesError;
use crate::asl::history::HistoryEvent;
use crate::asl::run::{
    step, Effect, Event, ExecutionInfo, ExecutionInput, ExecutionState, Invocation, InvokeOutput,
    StepConfig,
};

pub fn info() -> ExecutionInfo {
    ExecutionInfo {
        arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e".into(),
        express: false,
        name: "e".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: 1_000,
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        input: ExecutionInput::from_value(json!({})),
        region: "us-east-1".into(),
    }
}

/// A successful call that answers with the payload it was sent.
pub fn echo(inv: &Invocation) -> InvokeOutput {
    InvokeOutput {
        status_code: 200,
        payload: inv.payload.clone(),
        executed_version: None,
        request_id: "r".into(),
        headers: Vec::new(),
        mocked: false,
    }
}

/// Run `def` on `input` for at most `max_steps` events; returns the state and the history.
pub fn drive(
    def: &Definition,
    input: Value,
    cfg: &StepConfig,
    max_steps: usize,
    mut answer: impl FnMut(&Invocation) -> Result<InvokeOutput, StatesError>,
) -> (ExecutionState, Vec<HistoryEvent>) {
    let mut state = ExecutionState::new(input);
    let mut timers: Vec<(i64, i64)> = Vec::new();
    let mut calls: Vec<Invocation> = Vec::new();
    let mut history = Vec::new();
    let mut next = Some((Event::Start, 1_000));
    for _ in 0..max_steps {
        let Some((event, now)) = next.take() else {
            break;
        };
        let out = step(def, &mut state, &info(), event, now, cfg);
        // As if the cursor were committed and read back.
        if let Ok(text) = serde_json::to_string(&state) {
            if let Ok(back) = serde_json::from_str(&text) {
                state = back;
            }
        }
        history.extend(out.events);
        for e in out.effects {
            match e {
                Effect::ArmTimer { seq, due_ms } => timers.push((due_ms, seq)),
                Effect::CancelTimer { seq } => timers.retain(|t| t.1 != seq),
                Effect::Invoke(inv) => calls.push(inv),
                Effect::StartMapRun(_) | Effect::RedriveMapRun { .. } => {}
            }
        }
        if state.status.is_terminal() {
            break;
        }
        if !calls.is_empty() {
            let inv = calls.remove(0);
            let result = answer(&inv);
            next = Some((
                Event::TaskResult {
                    seq: inv.seq,
                    result,
                },
                now,
            ));
        } else if !timers.is_empty() {
            timers.sort_unstable();
            let (due, seq) = timers.remove(0);
            next = Some((Event::TimerFired { seq }, due.max(now)));
        }
    }
    (state, history)
}

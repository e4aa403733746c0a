//! No daemon: what reading and writing an execution's cursor (`ExecutionState` as JSON) costs,
//! as every step of an execution reads its cursor and writes the next. The cursors are those of
//! the `tasks` flow after its start (a Lambda call in flight) and of an inline Map with one
//! iteration waiting, made by the interpreter itself.

use std::time::Instant;

use anyhow::{Context, Result};
use hourglass::asl::{step, Definition, Event, ExecutionInfo, ExecutionState, StepConfig};
use serde_json::{json, Value};

const MAP_FLOW: &str = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}},"End":true}}}"#;

/// The cursor `definition` leaves after its start on `input`.
fn started(definition: &str, input: Value) -> Result<String> {
    let def = Definition::parse(definition).map_err(|e| anyhow::anyhow!("definition: {e:?}"))?;
    let info = ExecutionInfo {
        arn: "arn:aws:states:us-east-1:123456789012:execution:bench:one".into(),
        name: "one".into(),
        role_arn: crate::ROLE.into(),
        start_ms: 1_000,
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".into(),
        state_machine_name: "bench".into(),
        input: input.clone(),
        region: "us-east-1".into(),
    };
    let mut state = ExecutionState::new(input);
    step(
        &def,
        &mut state,
        &info,
        Event::Start,
        1_000,
        &StepConfig::default(),
    );
    serde_json::to_string(&state).context("write the cursor")
}

/// Read and write each cursor `count` times; print the time per read and per write.
pub fn run(count: u64) -> Result<()> {
    let cases = [
        (
            "Task in flight",
            started(crate::TASK_FLOW, json!({"expirydate": 11, "a": 1233333}))?,
        ),
        (
            "Map, 2 of 4 iterations waiting",
            started(MAP_FLOW, json!({"items": [1, 2, 3, 4]}))?,
        ),
    ];
    for (what, text) in &cases {
        let t0 = Instant::now();
        for _ in 0..count {
            let state: ExecutionState = serde_json::from_str(std::hint::black_box(text))?;
            std::hint::black_box(state);
        }
        let read = t0.elapsed();
        let state: ExecutionState = serde_json::from_str(text)?;
        let t0 = Instant::now();
        for _ in 0..count {
            std::hint::black_box(serde_json::to_string(std::hint::black_box(&state))?);
        }
        let write = t0.elapsed();
        println!(
            "cursor ({what}, {} B): read {:.0} ns, written {:.0} ns ({count} times each)",
            text.len(),
            read.as_nanos() as f64 / count as f64,
            write.as_nanos() as f64 / count as f64,
        );
    }
    Ok(())
}

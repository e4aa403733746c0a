//! No daemon: what reading and writing an execution's cursor (`ExecutionState` as JSON) costs,
//! as every step of an execution reads its cursor and writes the next. The cursors are those of
//! the `tasks` flow after its start (a Lambda call in flight) and of an inline Map with one
//! iteration waiting, made by the interpreter itself.
//!
//! It also times the packing the writer does before it stores a row: every history event's
//! details and both cursors of one execution of the `tasks` flow (its start, then a Lambda
//! answer as the daemon's client gives it).

use std::time::Instant;

use anyhow::{Context, Result};
use hourglass::asl::task::InvokeOutput;
use hourglass::asl::{
    step, Definition, Effect, Event, ExecutionInfo, ExecutionInput, ExecutionState, StepConfig,
};
use hourglass::store::packed::{self, HeldInput};
use serde_json::{json, Value};

const MAP_FLOW: &str = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}},"End":true}}}"#;

fn info(input: &Value) -> ExecutionInfo {
    ExecutionInfo {
        arn: "arn:aws:states:us-east-1:123456789012:execution:bench:one".into(),
        express: false,
        name: "one".into(),
        role_arn: crate::ROLE.into(),
        start_ms: 1_000,
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".into(),
        state_machine_name: "bench".into(),
        input: ExecutionInput::from_value(input.clone()),
        region: "us-east-1".into(),
    }
}

fn parse(definition: &str) -> Result<Definition> {
    Definition::parse(definition).map_err(|e| anyhow::anyhow!("definition: {e:?}"))
}

/// The cursor `definition` leaves after its start on `input`.
fn started(definition: &str, input: Value) -> Result<String> {
    let def = parse(definition)?;
    let info = info(&input);
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

/// The texts one execution of the `tasks` flow has packed before they are stored: the
/// cursor and events of its start (with its input), then those of its Lambda answer.
struct TaskTexts {
    input: String,
    started: Vec<String>,
    cursor: String,
    answered: Vec<String>,
    last_cursor: String,
}

fn task_texts() -> Result<TaskTexts> {
    let def = parse(crate::TASK_FLOW)?;
    let input = json!({"expirydate": 11, "a": 1233333});
    let info = info(&input);
    let cfg = StepConfig::default();
    let mut state = ExecutionState::new(input.clone());
    let start = step(&def, &mut state, &info, Event::Start, 1_000, &cfg);
    let cursor = serde_json::to_string(&state)?;
    let seq = start
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Invoke(call) => Some(call.seq),
            _ => None,
        })
        .context("the start calls the function")?;
    let answer = InvokeOutput {
        status_code: 200,
        payload: input.to_string(),
        executed_version: Some("$LATEST".into()),
        request_id: "8f5c1a51-3f43-4f2a-9d43-7a1c2f0e6b1d".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Amz-Executed-Version".into(), "$LATEST".into()),
        ],
        mocked: false,
    };
    let result = Event::TaskResult {
        seq,
        result: Ok(answer),
    };
    let end = step(&def, &mut state, &info, result, 1_020, &cfg);
    let details = |events: Vec<hourglass::asl::HistoryEvent>| {
        events.into_iter().filter_map(|e| e.details).collect()
    };
    Ok(TaskTexts {
        input: input.to_string(),
        started: details(start.events),
        cursor,
        answered: details(end.events),
        last_cursor: serde_json::to_string(&state)?,
    })
}

/// Pack every text of `t` as the writer does; the bytes packed and kept.
fn pack_task(t: &TaskTexts, held: Option<&HeldInput>) -> (usize, usize) {
    let mut bytes = (0, 0);
    let mut count = |text: &str, packed: &str| {
        bytes.0 += text.len();
        bytes.1 += packed.len();
    };
    for d in &t.started {
        count(d, &packed::pack_with_input(d, held));
    }
    count(&t.cursor, &packed::pack_cursor_with_input(&t.cursor, held));
    for d in &t.answered {
        count(d, &packed::pack_with_input(d, None));
    }
    count(&t.last_cursor, &packed::pack_cursor(&t.last_cursor));
    bytes
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
    let texts = task_texts()?;
    let held = HeldInput::of(&texts.input);
    let (bytes, kept) = pack_task(&texts, held.as_ref());
    let t0 = Instant::now();
    for _ in 0..count {
        std::hint::black_box(pack_task(
            std::hint::black_box(&texts),
            std::hint::black_box(held.as_ref()),
        ));
    }
    println!(
        "packing a Task execution's {} texts ({bytes} B, {kept} B packed): {:.0} ns ({count} times)",
        texts.started.len() + texts.answered.len() + 2,
        t0.elapsed().as_nanos() as f64 / count as f64,
    );
    Ok(())
}

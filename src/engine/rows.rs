//! The engine's conversions between the interpreter's state and the store's rows.

use super::Result;
use crate::asl::run::Frame;
use crate::asl::{self, Effect, ExecutionState};
use crate::model::{MapRunStatus, StateMachineType};
use crate::store::{
    EventRow, ExecutionUpdate, MapRunRow, NewEvents, RevisionRow, TaskRow, TimerRow, WriteOp,
};

/// The calls an execution waits for: the in-flight attempt of every Task in its frame tree.
pub(super) fn calls_in_flight(state: &ExecutionState) -> Vec<i64> {
    fn walk(frame: &Frame, out: &mut Vec<i64>) {
        if let Some(seq) = frame.task.as_ref().and_then(|t| t.in_flight) {
            out.push(seq);
        }
        if let Some(fanout) = &frame.fanout {
            for child in &fanout.running {
                walk(&child.frame, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&state.root, &mut out);
    out
}

/// The map runs an execution waits on: `(seq of the call, the run's own seq)` each.
pub(super) fn map_runs_waited(state: &ExecutionState) -> Vec<(i64, i64)> {
    fn walk(frame: &Frame, out: &mut Vec<(i64, i64)>) {
        if let Some(t) = frame
            .task
            .as_ref()
            .filter(|t| t.invocation.kind == asl::run::CallKind::MapRun)
        {
            if let Some(seq) = t.in_flight {
                out.push((seq, asl::run::MapRunRef::of(t).seq));
            }
        }
        if let Some(fanout) = &frame.fanout {
            for child in &fanout.running {
                walk(&child.frame, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&state.root, &mut out);
    out
}

/// The timer that tells a waiting parent its child ended (see `children`), written in the
/// child's last commit: the parent's, due at once, keyed by minus the attempt's id.
pub(super) fn parent_marker(state: &ExecutionState, now: i64) -> Option<TimerRow> {
    let p = state.parent.filter(|_| state.status.is_terminal())?;
    Some(TimerRow {
        due_ms: now,
        execution_id: p.execution_id,
        seq: -p.seq,
        partition: p.partition,
    })
}

/// The change a child of a Distributed Map makes to its map run in the commit that ends it.
pub(super) fn map_item_ended(state: &ExecutionState) -> Option<WriteOp> {
    let link = state
        .map_item
        .as_ref()
        .filter(|_| state.status.is_terminal())?;
    let output = match state.status {
        crate::model::ExecutionStatus::Succeeded => {
            state.output.as_ref().map(asl::history::to_text)
        }
        _ => Some(serde_json::json!({"Error": state.error, "Cause": state.cause}).to_string()),
    };
    Some(WriteOp::MapItemEnded {
        run: (link.execution_id, link.seq),
        index: link.index,
        status: state.status,
        output,
    })
}

/// The map runs a step starts (with their children's definitions and items) or redrives.
pub(super) fn map_run_ops(
    execution_id: i64,
    partition: i64,
    info: &asl::ExecutionInfo,
    now: i64,
    effects: &[Effect],
) -> Vec<WriteOp> {
    let redriven = effects.iter().filter_map(|e| match e {
        Effect::RedriveMapRun { seq } => Some(WriteOp::RedriveMapRun {
            run: (execution_id, *seq),
        }),
        _ => None,
    });
    let started = effects
        .iter()
        .filter_map(|e| match e {
            Effect::StartMapRun(start) => Some(start),
            _ => None,
        })
        .map(|start| {
            let revision_id = format!("maprun-{}", start.arn.rsplit(':').next().unwrap_or(""));
            let run = MapRunRow {
                execution_id,
                seq: start.seq,
                arn: start.arn.clone(),
                execution_arn: info.arn.clone(),
                partition,
                state_machine_arn: start.state_machine_arn.clone(),
                revision_id: revision_id.clone(),
                execution_type: if start.express {
                    StateMachineType::Express
                } else {
                    StateMachineType::Standard
                },
                status: MapRunStatus::Running,
                start_ms: now,
                stop_ms: None,
                max_concurrency: i64::from(start.max_concurrency),
                tolerated_count: start.tolerated_count,
                tolerated_percentage: start.tolerated_percentage,
                item_count: start.items.len() as i64,
                started: 0,
                succeeded: 0,
                failed: 0,
                timed_out: 0,
                aborted: 0,
                result_writer: start.result_writer.as_ref().map(|w| w.to_string()),
                error: None,
                cause: None,
                redrive_count: 0,
            };
            WriteOp::InsertMapRun {
                run: Box::new(run),
                revision: RevisionRow {
                    revision_id,
                    state_machine_arn: start.state_machine_arn.clone(),
                    definition: start.definition.clone(),
                    role_arn: info.role_arn.clone(),
                    description: None,
                    created_ms: now,
                },
                items: start.items.iter().map(|v| v.to_string()).collect(),
            }
        });
    started.chain(redriven).collect()
}

/// A step's history events as rows.
pub(super) fn event_rows(execution_id: i64, events: Vec<asl::HistoryEvent>) -> NewEvents {
    NewEvents {
        execution_id,
        events: events
            .into_iter()
            .map(|e| EventRow {
                id: e.id,
                previous_id: e.previous_id,
                event_type: e.event_type,
                timestamp_ms: e.timestamp_ms,
                details: e.details,
            })
            .collect(),
    }
}

/// The execution row's changing columns after a step.
/// `output_text` is the output's text when the step that ended the execution wrote it already
/// ([`asl::Step::output_text`]).
pub(super) fn update_row(
    id: i64,
    state: &ExecutionState,
    output_text: Option<String>,
    now: i64,
) -> Result<ExecutionUpdate> {
    let terminal = state.status.is_terminal();
    Ok(ExecutionUpdate {
        id,
        status: state.status,
        output: output_text.or_else(|| state.output.as_ref().map(asl::history::to_text)),
        error: state.error.clone(),
        cause: state.cause.clone(),
        stop_ms: terminal.then_some(now),
        // An ended execution keeps its cursor only when it can be redriven, or was: for
        // RedriveExecution and the redrive fields of DescribeExecution.
        cursor: if terminal && state.redrive.is_none() && state.redrive_count == 0 {
            None
        } else {
            Some(serde_json::to_string(state).map_err(crate::store::Error::from)?)
        },
        last_event_id: state.last_event_id,
    })
}

/// Timer and task rows to write for a step's effects. A timer armed and cancelled in the
/// same step never reaches the disk.
pub(super) fn effect_ops(
    execution_id: i64,
    partition: i64,
    now: i64,
    effects: &[Effect],
    ops: &mut Vec<WriteOp>,
) {
    for (i, effect) in effects.iter().enumerate() {
        match *effect {
            Effect::Invoke(ref inv) => match serde_json::to_string(inv) {
                Ok(invocation) => ops.push(WriteOp::InsertTask(TaskRow {
                    execution_id,
                    partition,
                    seq: inv.seq,
                    scheduled_ms: now,
                    invocation,
                })),
                Err(e) => tracing::error!(error = %e, "an invocation could not be serialised"),
            },
            Effect::ArmTimer { seq, due_ms } => {
                let cancelled_later = effects[i + 1..].contains(&Effect::CancelTimer { seq });
                if !cancelled_later {
                    ops.push(WriteOp::InsertTimer(TimerRow {
                        partition,
                        due_ms,
                        execution_id,
                        seq,
                    }));
                }
            }
            // Written by `map_run_ops`.
            Effect::StartMapRun(_) | Effect::RedriveMapRun { .. } => {}
            Effect::CancelTimer { seq } => {
                let armed_here = effects[..i]
                    .iter()
                    .any(|e| matches!(e, Effect::ArmTimer { seq: s, .. } if *s == seq));
                if !armed_here {
                    ops.push(WriteOp::DeleteTimer { execution_id, seq });
                }
            }
        }
    }
}

//! RedriveExecution: a standard execution that failed, timed out or was aborted runs again
//! from the state it ended in, with that state's input, keeping its history
//! (`ExecutionRedriven`, then the state entered again).
//!
//! The state is a top-level one. A Parallel or inline Map state runs again only the branches
//! and iterations that had not succeeded, as AWS does; the others keep their outputs. A
//! Distributed Map redrives its map run: only the items whose children did not succeed run
//! again.

use super::advance::Running;
use super::locks::Unlocked;
use super::{Engine, Error, Result};
use crate::model::{ExecutionArn, ExecutionStatus, StateMachineType};
use crate::store::{ExecutionRow, Store, WhenFull};

/// How long after its end an execution can be redriven: AWS's 14 days.
pub const REDRIVE_WINDOW_MS: i64 = 14 * 24 * 3600 * 1000;
/// The most redrives of one execution, as on AWS.
pub const MAX_REDRIVES: u32 = 1000;

/// What DescribeExecution shows of an execution's redrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveInfo {
    pub count: u32,
    pub last_ms: Option<i64>,
    /// `None` when it can be redriven; else why not.
    pub not_redrivable: Option<String>,
}

/// What a stored cursor says of redrives, read without the rest of the state.
#[derive(Debug, Default, serde::Deserialize)]
struct Redrives {
    #[serde(default)]
    redrive_count: u32,
    #[serde(default)]
    redriven_ms: Option<i64>,
    #[serde(default)]
    redrive: Option<serde::de::IgnoredAny>,
}

fn redrives(row: &ExecutionRow) -> Redrives {
    row.cursor
        .as_deref()
        .filter(|c| c.contains("\"redrive"))
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

/// How many times `row` was redriven, and when last (for ListExecutions).
pub fn redrive_count(row: &ExecutionRow) -> (u32, Option<i64>) {
    let r = redrives(row);
    (r.redrive_count, r.redriven_ms)
}

/// Whether `row` can be redriven now (`now`), and the redrives it had.
pub fn redrive_info(row: &ExecutionRow, machine_type: StateMachineType, now: i64) -> RedriveInfo {
    let r = redrives(row);
    let (count, last_ms, point) = (r.redrive_count, r.redriven_ms, r.redrive.is_some());
    let status = row.status;
    let reason = match status {
        ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted => {
            if machine_type == StateMachineType::Express {
                Some("Execution of an EXPRESS state machine cannot be redriven".to_owned())
            } else if !point {
                Some(format!(
                    "Execution is {status} and has no state to redrive from"
                ))
            } else if now - row.stop_ms.unwrap_or(now) > REDRIVE_WINDOW_MS {
                Some("Execution can only be redriven within 14 days of its end".to_owned())
            } else if count >= MAX_REDRIVES {
                Some(format!(
                    "Execution has been redriven the most times allowed ({MAX_REDRIVES})"
                ))
            } else {
                None
            }
        }
        other => Some(format!("Execution is {other} and cannot be redriven")),
    };
    RedriveInfo {
        count,
        last_ms,
        not_redrivable: reason,
    }
}

impl<S: Store> Engine<S> {
    /// What DescribeExecution shows of an execution's redrives (the machine is read only for
    /// an execution that ended without succeeding).
    pub async fn redrive_info(&self, row: &ExecutionRow) -> Result<RedriveInfo> {
        let machine_type = match row.status {
            ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted => self
                .store
                .state_machine(&row.state_machine_arn)
                .await?
                .map_or(StateMachineType::Standard, |m| m.machine_type),
            _ => StateMachineType::Standard,
        };
        Ok(redrive_info(row, machine_type, self.clock.now_ms()))
    }

    /// RedriveExecution: run the execution again from where it ended. Returns the redrive's
    /// time.
    pub async fn redrive_execution(&self, execution_arn: &ExecutionArn) -> Result<i64> {
        let arn = execution_arn.as_str();
        let missing = || Error::ExecutionDoesNotExist(arn.to_owned());
        let id = self
            .store
            .execution_by_arn(arn)
            .await?
            .ok_or_else(missing)?
            .id;
        let mut none = Unlocked::at_entry();
        let now = self.clock.now_ms();
        let _execution = self.locks.execution(id, &mut none).await;
        let row = self.store.execution_by_id(id).await?.ok_or_else(missing)?;
        let machine = self.store.state_machine(&row.state_machine_arn).await?;
        let Some(machine) =
            machine.filter(|m| m.status == crate::model::StateMachineStatus::Active)
        else {
            return Err(Error::NotRedrivable(format!(
                "The state machine of this execution does not exist anymore: '{}'",
                row.state_machine_arn
            )));
        };
        let machine_type = machine.machine_type;
        if let Some(reason) = redrive_info(&row, machine_type, now).not_redrivable {
            return Err(Error::NotRedrivable(reason));
        }
        let Some(running) = Running::from_row(&row)? else {
            return Err(Error::NotRedrivable(format!(
                "Execution is {} and has no state to redrive from",
                row.status
            )));
        };
        self.forget_hot(id);
        self.running_add(1);
        let ended = self
            .advance_running(
                running,
                crate::asl::Event::Redrive,
                now,
                None,
                WhenFull::Refuse,
            )
            .await;
        if ended.is_err() {
            self.running_add(-1);
        }
        ended?;
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(status: ExecutionStatus, cursor: Option<&str>, stop_ms: i64) -> ExecutionRow {
        let mut row = ExecutionRow::running_for_tests(1, "e", 0);
        row.status = status;
        row.cursor = cursor.map(str::to_owned);
        row.stop_ms = Some(stop_ms);
        row
    }

    #[test]
    fn what_can_be_redriven() {
        let mut state = crate::asl::ExecutionState::new(serde_json::json!({}));
        state.redrive = Some(Box::new(crate::asl::run::RedrivePoint {
            state: "Charge".into(),
            input: serde_json::json!({"order": 1}),
            variables: Default::default(),
            partial: None,
        }));
        let cursor = serde_json::to_string(&state).expect("a cursor");
        let std = StateMachineType::Standard;
        let failed = ended(ExecutionStatus::Failed, Some(&cursor), 1_000);
        assert_eq!(redrive_info(&failed, std, 2_000).not_redrivable, None);
        assert!(redrive_info(&failed, std, 1_000 + REDRIVE_WINDOW_MS + 1)
            .not_redrivable
            .is_some());
        assert!(redrive_info(&failed, StateMachineType::Express, 2_000)
            .not_redrivable
            .is_some());
        let succeeded = ended(ExecutionStatus::Succeeded, None, 1_000);
        assert_eq!(
            redrive_info(&succeeded, std, 2_000)
                .not_redrivable
                .as_deref(),
            Some("Execution is SUCCEEDED and cannot be redriven")
        );
        let no_point = ended(ExecutionStatus::Aborted, None, 1_000);
        assert!(redrive_info(&no_point, std, 2_000).not_redrivable.is_some());
    }
}

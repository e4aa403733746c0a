//! Callbacks: `SendTaskSuccess`, `SendTaskFailure` and `SendTaskHeartbeat` for a Task state
//! waiting for its token (`.waitForTaskToken`).
//!
//! The token names the execution and the attempt ([`TaskToken`]); the execution's token key,
//! kept in its cursor, proves it. Under the execution's lock the attempt must still be in
//! flight: a callback for an attempt that is over (answered, timed out, left by a stop or a
//! failed sibling, or whose execution ended) is [`Error::TaskTimedOut`], as AWS answers a
//! token used twice; one whose execution is gone (removed after the retention period) is
//! [`Error::TaskDoesNotExist`]. An accepted callback is one step, committed like any other
//! before the call returns.

use serde_json::Value;

use super::{Engine, Error, Result};
use crate::asl::{Event, StatesError};
use crate::model::{ExecutionStatus, TaskToken};
use crate::store::{Store, WhenFull};

use super::advance::Running;
use super::locks::Unlocked;

/// What a callback brings.
#[derive(Debug, Clone)]
pub enum Callback {
    Success(Value),
    Failure {
        error: Option<String>,
        cause: Option<String>,
    },
    Heartbeat,
}

impl<S: Store> Engine<S> {
    /// Deliver `callback` to the attempt `token` names.
    pub async fn send_task(&self, token: &str, callback: Callback) -> Result<()> {
        let token = TaskToken::parse(token).ok_or(Error::InvalidToken)?;
        let row = self
            .store
            .execution_by_arn(&token.execution_arn)
            .await?
            .ok_or(Error::TaskDoesNotExist)?;
        let mut none = Unlocked::at_entry();
        let now = self.clock.now_ms();
        let ended = {
            let _execution = self.locks.execution(row.id, &mut none).await;
            let running = match self.take_hot(row.id) {
                Some(r) => r,
                None => {
                    let row = self
                        .store
                        .execution_by_id(row.id)
                        .await?
                        .ok_or(Error::TaskDoesNotExist)?;
                    if row.status != ExecutionStatus::Running {
                        // An ended execution keeps no key to check the token by; its tasks
                        // are all over.
                        return Err(Error::TaskTimedOut);
                    }
                    Running::from_row(&row)?.ok_or(Error::TaskTimedOut)?
                }
            };
            if !running
                .state
                .token_key
                .as_deref()
                .is_some_and(|k| token.matches(k))
            {
                return Err(Error::InvalidToken);
            }
            if super::activities::attempt(&running.state, token.seq).is_none() {
                return Err(Error::TaskTimedOut);
            }
            let event = match callback {
                Callback::Success(output) => Event::Callback {
                    seq: token.seq,
                    result: Ok(output),
                },
                Callback::Failure { error, cause } => Event::Callback {
                    seq: token.seq,
                    result: Err(StatesError {
                        error: error.unwrap_or_default(),
                        cause,
                    }),
                },
                Callback::Heartbeat => Event::Heartbeat { seq: token.seq },
            };
            self.advance_running(running, event, now, None, WhenFull::Refuse)
                .await?
        };
        self.after_end(ended, &mut none).await;
        Ok(())
    }
}

//! The query side: what the API and the console read, through the engine, so neither names
//! the store. Reads take no lock: each answers with what was committed when it ran.

use super::{Engine, Error, Result};
use crate::model::{
    ExecutionArn, ExecutionStatus, StateMachineArn, StateMachineStatus, StateMachineType,
};
use crate::store::{ConsoleReads, EventRow, ExecutionRow, RevisionRow, StateMachineRow, Store};

/// A page of a listing, and the cursor after its last item when another page follows.
#[derive(Debug)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// From up to `limit + 1` rows read: the first `limit`, and the cursor of the last of
    /// them when there was one more.
    pub(super) fn of(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> C) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(cursor)
        } else {
            None
        };
        Self { items: rows, next }
    }
}

/// DescribeStateMachineForExecution: the machine as the execution ran it.
#[derive(Debug)]
pub struct MachineForExecution {
    /// The machine now, or what stands for it once it was deleted (named by the execution's
    /// machine ARN, DELETING, with the revision the execution ran).
    pub machine: StateMachineRow,
    /// The revision the execution ran.
    pub revision: RevisionRow,
}

impl<S: Store> Engine<S> {
    /// DescribeStateMachine.
    pub async fn state_machine(&self, arn: &StateMachineArn) -> Result<StateMachineRow> {
        let arn = arn.as_str();
        self.store
            .state_machine(arn)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(arn.to_owned()))
    }

    /// ListStateMachines: ordered by ARN, strictly after `after_arn`, at most `limit`.
    pub async fn list_state_machines(
        &self,
        after_arn: Option<&str>,
        limit: i64,
    ) -> Result<Page<StateMachineRow, String>> {
        let rows = self.store.list_state_machines(after_arn, limit + 1).await?;
        Ok(Page::of(rows, limit, |m| m.arn.clone()))
    }

    /// DescribeExecution.
    pub async fn execution(&self, arn: &ExecutionArn) -> Result<ExecutionRow> {
        Ok(self.described(arn).await?.row)
    }

    /// DescribeExecution's read: the execution and the version it was started through.
    pub async fn described(&self, arn: &ExecutionArn) -> Result<crate::store::DescribedExecution> {
        let arn = arn.as_str();
        self.by_arn
            .get(arn.to_owned())
            .await?
            .ok_or_else(|| Error::ExecutionDoesNotExist(arn.to_owned()))
    }

    /// ListExecutions: newest first, strictly after the `(start_ms, id)` cursor.
    pub async fn list_executions(
        &self,
        state_machine_arn: &StateMachineArn,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Page<ExecutionRow, (i64, i64)>> {
        let state_machine_arn = state_machine_arn.as_str();
        if self.store.state_machine(state_machine_arn).await?.is_none() {
            return Err(Error::StateMachineDoesNotExist(
                state_machine_arn.to_owned(),
            ));
        }
        let rows = self
            .store
            .list_executions(state_machine_arn, status, after, limit + 1)
            .await?;
        Ok(Page::of(rows, limit, |e| (e.start_ms, e.id)))
    }

    /// GetExecutionHistory: events after `after_id` (or before it, `reverse`), at most `limit`.
    pub async fn history(
        &self,
        execution_arn: &ExecutionArn,
        after_id: Option<i64>,
        limit: i64,
        reverse: bool,
    ) -> Result<Page<EventRow, i64>> {
        let execution = self.execution(execution_arn).await?;
        let rows = self
            .store
            .history(execution.id, after_id, limit + 1, reverse)
            .await?;
        Ok(Page::of(rows, limit, |e| e.id))
    }

    /// DescribeStateMachineForExecution. The machine may since have been updated or deleted;
    /// the answer is what the execution ran.
    pub async fn machine_for_execution(
        &self,
        execution_arn: &ExecutionArn,
    ) -> Result<MachineForExecution> {
        let execution = self.execution(execution_arn).await?;
        let revision = self
            .store
            .revision(&execution.revision_id)
            .await?
            .ok_or_else(|| Error::ExecutionDoesNotExist(execution_arn.to_string()))?;
        let machine = match self
            .store
            .state_machine(&execution.state_machine_arn)
            .await?
        {
            Some(m) => m,
            None => StateMachineRow {
                name: execution
                    .state_machine_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                arn: execution.state_machine_arn,
                machine_type: StateMachineType::Standard,
                status: StateMachineStatus::Deleting,
                revision_id: revision.revision_id.clone(),
                creation_date_ms: revision.created_ms,
                update_date_ms: None,
                logging_configuration: None,
                tracing_configuration: None,
                definition: revision.definition.clone(),
                role_arn: revision.role_arn.clone(),
                description: None,
            },
        };
        Ok(MachineForExecution { machine, revision })
    }

    /// ListTagsForResource.
    pub async fn tags(&self, resource: &super::Tagged) -> Result<Vec<(String, String)>> {
        let arn = resource.arn();
        let exists = match resource {
            super::Tagged::Machine(_) => self.store.state_machine(arn).await?.is_some(),
            super::Tagged::Activity(_) => self.store.activity(arn).await?.is_some(),
        };
        if !exists {
            return Err(Error::ResourceNotFound(arn.to_owned()));
        }
        Ok(self.store.tags(arn).await?)
    }
}

/// What the console reads beside the API's queries.
impl<S: Store + ConsoleReads> Engine<S> {
    /// A machine's executions counted by status.
    pub async fn execution_counts(
        &self,
        state_machine_arn: &StateMachineArn,
    ) -> Result<Vec<(ExecutionStatus, i64)>> {
        Ok(self
            .store
            .execution_counts(state_machine_arn.as_str())
            .await?)
    }

    /// Executions of a machine whose names start with `prefix`, in name order, after the
    /// execution ARN `after`.
    pub async fn executions_named(
        &self,
        state_machine_arn: &StateMachineArn,
        prefix: &str,
        status: Option<ExecutionStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<ExecutionRow, String>> {
        let arn_prefix = state_machine_arn.execution(prefix);
        let rows = self
            .store
            .executions_named(arn_prefix.as_str(), status, after, limit + 1)
            .await?;
        Ok(Page::of(rows, limit, |e| e.arn.clone()))
    }

    /// An execution's whole history, in id order, read at once.
    pub async fn whole_history(&self, execution_id: i64) -> Result<Vec<EventRow>> {
        Ok(self.store.whole_history(execution_id).await?)
    }

    /// An execution's pending deadlines as `(seq, due_ms)`, soonest first.
    pub async fn timers_of(&self, execution_id: i64) -> Result<Vec<(i64, i64)>> {
        Ok(self.store.timers_of(execution_id).await?)
    }
}

//! Creating, updating and deleting state machines.

use super::{Engine, Error, Result};
use crate::arn;
use crate::store::{RevisionRow, StateMachineRow, WriteOp};

/// What an absent logging configuration means.
static DEFAULT_LOGGING: std::sync::LazyLock<serde_json::Value> =
    std::sync::LazyLock::new(|| serde_json::json!({"level": "OFF", "includeExecutionData": false}));
/// What an absent tracing configuration means.
static DEFAULT_TRACING: std::sync::LazyLock<serde_json::Value> =
    std::sync::LazyLock::new(|| serde_json::json!({"enabled": false}));

/// Two stored configurations (JSON text) are the same when they parse to the same value,
/// an absent one counting as `default`.
fn same_config(a: Option<&str>, b: Option<&str>, default: &serde_json::Value) -> bool {
    let parse = |t: Option<&str>| -> serde_json::Value {
        t.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_else(|| default.clone())
    };
    parse(a) == parse(b)
}

/// A validated CreateStateMachine request.
#[derive(Debug, Clone)]
pub struct CreateStateMachine {
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub machine_type: String,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A validated UpdateStateMachine request; `None` leaves a field as it is.
#[derive(Debug, Clone)]
pub struct UpdateStateMachine {
    pub arn: String,
    pub definition: Option<String>,
    pub role_arn: Option<String>,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
}

impl Engine {
    /// Create a state machine. An identical request for an existing one returns it (AWS makes
    /// CreateStateMachine idempotent); any difference is `StateMachineAlreadyExists`.
    pub async fn create_state_machine(&self, req: CreateStateMachine) -> Result<StateMachineRow> {
        let sm_arn =
            arn::state_machine_arn(&self.config.region, &self.config.account_id, &req.name);
        let _guard = self.lock_for(&sm_arn).lock().await;
        if let Some(existing) = self.store.state_machine(&sm_arn).await? {
            if existing.status == "DELETING" {
                return Err(Error::StateMachineDeleting(sm_arn));
            }
            // AWS compares the definition, type and the logging and tracing configurations; a
            // different role or tags are ignored and the original machine is returned.
            let same = existing.definition == req.definition
                && existing.machine_type == req.machine_type
                && same_config(
                    existing.logging_configuration.as_deref(),
                    req.logging_configuration.as_deref(),
                    &DEFAULT_LOGGING,
                )
                && same_config(
                    existing.tracing_configuration.as_deref(),
                    req.tracing_configuration.as_deref(),
                    &DEFAULT_TRACING,
                );
            if same {
                return Ok(existing);
            }
            return Err(Error::StateMachineAlreadyExists(sm_arn));
        }
        let now = self.clock.now_ms();
        let revision = RevisionRow {
            revision_id: uuid::Uuid::new_v4().to_string(),
            state_machine_arn: sm_arn.clone(),
            definition: req.definition.clone(),
            role_arn: req.role_arn.clone(),
            description: None,
            created_ms: now,
        };
        let mut ops = vec![WriteOp::InsertStateMachine {
            arn: sm_arn.clone(),
            name: req.name.clone(),
            machine_type: req.machine_type.clone(),
            creation_date_ms: now,
            logging_configuration: req.logging_configuration.clone(),
            tracing_configuration: req.tracing_configuration.clone(),
            revision: revision.clone(),
        }];
        if !req.tags.is_empty() {
            ops.push(WriteOp::PutTags {
                arn: sm_arn.clone(),
                tags: req.tags,
            });
        }
        self.writer.write(ops).await?;
        self.forget_machine(&sm_arn);
        Ok(StateMachineRow {
            arn: sm_arn,
            name: req.name,
            machine_type: req.machine_type,
            status: "ACTIVE".into(),
            revision_id: revision.revision_id,
            creation_date_ms: now,
            update_date_ms: None,
            logging_configuration: req.logging_configuration,
            tracing_configuration: req.tracing_configuration,
            definition: revision.definition,
            role_arn: revision.role_arn,
            description: None,
        })
    }

    /// Update a state machine. A new definition or role makes a new revision; executions
    /// already running keep the revision they started with. Returns the updated row.
    pub async fn update_state_machine(&self, req: UpdateStateMachine) -> Result<StateMachineRow> {
        let _guard = self.lock_for(&req.arn).lock().await;
        let existing = self
            .store
            .state_machine(&req.arn)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(req.arn.clone()))?;
        if existing.status == "DELETING" {
            return Err(Error::StateMachineDeleting(req.arn));
        }
        let now = self.clock.now_ms();
        let revision = (req.definition.is_some() || req.role_arn.is_some()).then(|| RevisionRow {
            revision_id: uuid::Uuid::new_v4().to_string(),
            state_machine_arn: req.arn.clone(),
            definition: req
                .definition
                .clone()
                .unwrap_or_else(|| existing.definition.clone()),
            role_arn: req
                .role_arn
                .clone()
                .unwrap_or_else(|| existing.role_arn.clone()),
            description: None,
            created_ms: now,
        });
        self.writer
            .write(vec![WriteOp::UpdateStateMachine {
                arn: req.arn.clone(),
                revision: revision.clone(),
                update_date_ms: now,
                logging_configuration: req.logging_configuration.clone(),
                tracing_configuration: req.tracing_configuration.clone(),
            }])
            .await?;
        self.forget_machine(&req.arn);
        let mut updated = existing;
        if let Some(rev) = revision {
            updated.revision_id = rev.revision_id;
            updated.definition = rev.definition;
            updated.role_arn = rev.role_arn;
        }
        updated.update_date_ms = Some(now);
        if req.logging_configuration.is_some() {
            updated.logging_configuration = req.logging_configuration;
        }
        if req.tracing_configuration.is_some() {
            updated.tracing_configuration = req.tracing_configuration;
        }
        Ok(updated)
    }

    /// Delete a state machine: at once when nothing runs on it, else mark it DELETING and
    /// finish when its last execution ends. An unknown ARN is not an error (as on AWS).
    pub async fn delete_state_machine(&self, sm_arn: &str) -> Result<()> {
        let _guard = self.lock_for(sm_arn).lock().await;
        let Some(sm) = self.store.state_machine(sm_arn).await? else {
            return Ok(());
        };
        let op = if self.store.count_running(sm_arn).await? > 0 {
            if sm.status == "DELETING" {
                return Ok(());
            }
            WriteOp::SetStateMachineStatus {
                arn: sm_arn.to_owned(),
                status: "DELETING".into(),
            }
        } else {
            WriteOp::DeleteStateMachine {
                arn: sm_arn.to_owned(),
            }
        };
        self.writer.write(vec![op]).await?;
        self.forget_machine(sm_arn);
        Ok(())
    }

    /// After an execution ends: if its state machine is DELETING and nothing else runs on it,
    /// delete it now.
    pub(super) async fn finish_deleting(&self, sm_arn: &str) -> Result<()> {
        let Some(sm) = self.machine(sm_arn).await? else {
            return Ok(());
        };
        if sm.status != "DELETING" {
            return Ok(());
        }
        let _guard = self.lock_for(sm_arn).lock().await;
        if self.store.count_running(sm_arn).await? == 0 {
            self.writer
                .write(vec![WriteOp::DeleteStateMachine {
                    arn: sm_arn.to_owned(),
                }])
                .await?;
            self.forget_machine(sm_arn);
        }
        Ok(())
    }
}

impl Engine {
    pub async fn put_tags(&self, arn: &str, tags: Vec<(String, String)>) -> Result<()> {
        self.writer
            .write(vec![WriteOp::PutTags {
                arn: arn.to_owned(),
                tags,
            }])
            .await?;
        Ok(())
    }

    pub async fn delete_tags(&self, arn: &str, keys: Vec<String>) -> Result<()> {
        self.writer
            .write(vec![WriteOp::DeleteTags {
                arn: arn.to_owned(),
                keys,
            }])
            .await?;
        Ok(())
    }
}

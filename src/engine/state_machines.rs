//! Creating, updating and deleting state machines.

use super::locks::Unlocked;
use super::{Engine, Error, Result};
use crate::model::{Name, StateMachineArn, StateMachineStatus, StateMachineType};
use crate::store::{RevisionRow, StateMachineRow, Store, WhenFull, WriteOp};

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
    pub name: Name,
    pub definition: String,
    pub role_arn: String,
    pub machine_type: StateMachineType,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A validated UpdateStateMachine request; `None` leaves a field as it is.
#[derive(Debug, Clone)]
pub struct UpdateStateMachine {
    pub arn: StateMachineArn,
    pub definition: Option<String>,
    pub role_arn: Option<String>,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
}

impl<S: Store> Engine<S> {
    /// Create a state machine. An identical request for an existing one returns it (AWS makes
    /// CreateStateMachine idempotent); any difference is `StateMachineAlreadyExists`.
    pub async fn create_state_machine(&self, req: CreateStateMachine) -> Result<StateMachineRow> {
        let sm_arn = StateMachineArn::new(
            &self.config.region,
            &self.config.account_id,
            req.name.as_str(),
        )
        .into_string();
        let mut none = Unlocked::at_entry();
        let held = self.locks.machine_exclusive(&sm_arn, &mut none).await;
        if let Some(existing) = self.store.state_machine(&sm_arn).await? {
            if existing.status == StateMachineStatus::Deleting {
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
            name: req.name.to_string(),
            machine_type: req.machine_type,
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
        self.commit(ops, WhenFull::Refuse).await?;
        self.forget_machine(&sm_arn, &held);
        Ok(StateMachineRow {
            arn: sm_arn,
            name: req.name.into_string(),
            machine_type: req.machine_type,
            status: StateMachineStatus::Active,
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
        let arn = req.arn.to_string();
        let mut none = Unlocked::at_entry();
        let held = self.locks.machine_exclusive(&arn, &mut none).await;
        let existing = self
            .store
            .state_machine(&arn)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(arn.clone()))?;
        if existing.status == StateMachineStatus::Deleting {
            return Err(Error::StateMachineDeleting(arn));
        }
        // Later than the creation, so that a revision made at the creation's millisecond is
        // the first one and no other.
        let now = self.clock.now_ms().max(existing.creation_date_ms + 1);
        let revision = (req.definition.is_some() || req.role_arn.is_some()).then(|| RevisionRow {
            revision_id: uuid::Uuid::new_v4().to_string(),
            state_machine_arn: arn.clone(),
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
        self.commit(
            vec![WriteOp::UpdateStateMachine {
                arn: arn.clone(),
                revision: revision.clone(),
                update_date_ms: now,
                logging_configuration: req.logging_configuration.clone(),
                tracing_configuration: req.tracing_configuration.clone(),
            }],
            WhenFull::Refuse,
        )
        .await?;
        self.forget_machine(&arn, &held);
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
    pub async fn delete_state_machine(&self, sm_arn: &StateMachineArn) -> Result<()> {
        let sm_arn = sm_arn.as_str();
        let mut none = Unlocked::at_entry();
        let held = self.locks.machine_exclusive(sm_arn, &mut none).await;
        let Some(sm) = self.store.state_machine(sm_arn).await? else {
            return Ok(());
        };
        if self.store.count_running(sm_arn).await? > 0 {
            if sm.status != StateMachineStatus::Deleting {
                self.commit(
                    vec![WriteOp::SetStateMachineStatus {
                        arn: sm_arn.to_owned(),
                        status: StateMachineStatus::Deleting,
                    }],
                    WhenFull::Refuse,
                )
                .await?;
                self.forget_machine(sm_arn, &held);
            }
            // The last execution may have ended after the count and before DELETING was
            // committed, and seen the machine still ACTIVE: count again now that it is not.
            if self.store.count_running(sm_arn).await? > 0 {
                return Ok(());
            }
        }
        self.commit(
            vec![WriteOp::DeleteStateMachine {
                arn: sm_arn.to_owned(),
            }],
            WhenFull::Refuse,
        )
        .await?;
        self.forget_machine(sm_arn, &held);
        Ok(())
    }

    /// At a start: delete the machines left DELETING with nothing running (their last
    /// execution ended just before a crash).
    pub async fn finish_pending_deletes(&self) -> Result<()> {
        let mut none = Unlocked::at_entry();
        for arn in self.store.deleting_state_machines().await? {
            self.finish_deleting(&arn, &mut none).await?;
        }
        Ok(())
    }

    /// After an execution ends: if its state machine is DELETING and nothing else runs on it,
    /// delete it now.
    pub(super) async fn finish_deleting(&self, sm_arn: &str, none: &mut Unlocked) -> Result<()> {
        // Most machines are not being deleted: look in the cache first, filling it under the
        // machine's lock on a miss (one read per machine, not per execution that ends). The
        // cache is never older than the store outside a change's exclusive section, and a
        // delete counts again after committing DELETING, so a change this look misses is
        // finished by the delete. In a cluster another node may have marked it DELETING since
        // this one cached it: there the store is asked (the ends that ask at once, once).
        let deleting = if self.ownership.is_cluster() {
            self.machine_reads
                .get(sm_arn.into())
                .await?
                .is_some_and(|sm| sm.status == StateMachineStatus::Deleting)
        } else {
            let sm = match self.cached_machine(sm_arn) {
                Some(sm) => Some(sm),
                None => {
                    let shared = self.locks.machine_shared(sm_arn, none).await;
                    self.machine(sm_arn, &shared).await?
                }
            };
            sm.is_some_and(|sm| sm.status == StateMachineStatus::Deleting)
        };
        if !deleting {
            return Ok(());
        }
        let held = self.locks.machine_exclusive(sm_arn, none).await;
        let still_deleting = self
            .store
            .state_machine(sm_arn)
            .await?
            .is_some_and(|sm| sm.status == StateMachineStatus::Deleting);
        if still_deleting && self.store.count_running(sm_arn).await? == 0 {
            self.commit(
                vec![WriteOp::DeleteStateMachine {
                    arn: sm_arn.to_owned(),
                }],
                WhenFull::Wait,
            )
            .await?;
            self.forget_machine(sm_arn, &held);
        }
        Ok(())
    }
}

/// A resource that takes tags.
#[derive(Debug, Clone)]
pub enum Tagged {
    Machine(StateMachineArn),
    Activity(String),
}

impl Tagged {
    pub fn arn(&self) -> &str {
        match self {
            Tagged::Machine(a) => a.as_str(),
            Tagged::Activity(a) => a,
        }
    }
}

impl<S: Store> Engine<S> {
    /// ResourceNotFound unless the resource exists (a machine's lock held).
    async fn check_tagged(
        &self,
        resource: &Tagged,
        held: &impl super::locks::HoldsMachine,
    ) -> Result<()> {
        let arn = resource.arn();
        let exists = match resource {
            Tagged::Machine(_) => self.machine(arn, held).await?.is_some(),
            Tagged::Activity(_) => self.store.activity(arn).await?.is_some(),
        };
        if exists {
            Ok(())
        } else {
            Err(Error::ResourceNotFound(arn.to_owned()))
        }
    }

    /// TagResource: add or replace tags of a state machine or activity, at most [`MAX_TAGS`]
    /// in all.
    pub async fn tag(&self, resource: &Tagged, tags: Vec<(String, String)>) -> Result<()> {
        let arn = resource.arn();
        let mut none = Unlocked::at_entry();
        // Held so two requests cannot each stay under the limit and pass it together.
        let held = self.locks.machine_exclusive(arn, &mut none).await;
        self.check_tagged(resource, &held).await?;
        let existing = self.store.tags(arn).await?;
        let mut keys: std::collections::BTreeSet<&str> =
            existing.iter().map(|(k, _)| k.as_str()).collect();
        keys.extend(tags.iter().map(|(k, _)| k.as_str()));
        if keys.len() > MAX_TAGS {
            return Err(Error::TooManyTags(MAX_TAGS));
        }
        let op = WriteOp::PutTags {
            arn: arn.to_owned(),
            tags,
        };
        Ok(self.commit(vec![op], WhenFull::Refuse).await?)
    }

    /// UntagResource.
    pub async fn untag(&self, resource: &Tagged, keys: Vec<String>) -> Result<()> {
        let arn = resource.arn();
        let mut none = Unlocked::at_entry();
        let held = self.locks.machine_exclusive(arn, &mut none).await;
        self.check_tagged(resource, &held).await?;
        let op = WriteOp::DeleteTags {
            arn: arn.to_owned(),
            keys,
        };
        Ok(self.commit(vec![op], WhenFull::Refuse).await?)
    }
}

/// AWS allows at most 50 tags on a resource.
pub const MAX_TAGS: usize = 50;

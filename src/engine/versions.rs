//! Versions and aliases of state machines.
//!
//! A version is a revision given a number, `MACHINE_ARN:N`: numbers start at 1 and are never
//! given twice, even after a delete. Publishing is idempotent per revision, as on AWS.
//!
//! An alias, `MACHINE_ARN:NAME`, routes starts to one version, or to two by weight. An
//! execution started through a version or an alias runs that version's revision and records
//! which it came through (`execution_versions`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::locks::Unlocked;
use super::{Engine, Error, Result};
use crate::model::StateMachineArn;
use crate::store::{AliasRow, Store, VersionRow, WhenFull, WriteOp};

/// The most versions a machine may have, as on AWS.
pub const MAX_VERSIONS: usize = 1000;
/// The most aliases a machine may have, as on AWS.
pub const MAX_ALIASES: usize = 100;

/// One route of an alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub state_machine_version_arn: String,
    pub weight: u32,
}

/// What a start goes through, when it names a version or an alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Through {
    pub version_arn: String,
    pub alias_arn: Option<String>,
    pub revision_id: String,
}

/// The routes of a stored alias.
pub fn routes(alias: &AliasRow) -> Vec<Route> {
    serde_json::from_str(&alias.routing).unwrap_or_default()
}

/// The version of `routes` a start goes to: by weight.
fn pick(routes: &[Route], roll: u32) -> Option<&Route> {
    let mut left = roll;
    for r in routes {
        if left < r.weight {
            return Some(r);
        }
        left -= r.weight;
    }
    routes.iter().rev().find(|r| r.weight > 0)
}

impl<S: Store> Engine<S> {
    /// PublishStateMachineVersion: the machine's current revision as a new version, or the
    /// version it already has.
    pub async fn publish_version(
        &self,
        machine: &StateMachineArn,
        revision_id: Option<&str>,
        description: Option<String>,
    ) -> Result<VersionRow> {
        let arn = machine.as_str();
        let mut none = Unlocked::at_entry();
        let _held = self.locks.machine_exclusive(arn, &mut none).await;
        let sm = self
            .store
            .state_machine(arn)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(arn.to_owned()))?;
        if let Some(given) = revision_id.filter(|r| *r != sm.revision_id) {
            return Err(Error::Conflict(format!(
                "Failed to publish the State Machine version for revision {given}. The current \
                 State Machine revision is {}.",
                sm.revision_id
            )));
        }
        let versions = self.store.versions(arn).await?;
        if let Some(v) = versions.iter().find(|v| v.revision_id == sm.revision_id) {
            return Ok(v.clone());
        }
        if versions.len() >= MAX_VERSIONS {
            return Err(Error::ServiceQuotaExceeded(format!(
                "The maximum number of state machine versions ({MAX_VERSIONS}) has been reached \
                 for state machine '{arn}'"
            )));
        }
        let number = self.store.last_version(arn).await? + 1;
        let version = VersionRow {
            arn: format!("{arn}:{number}"),
            state_machine_arn: arn.to_owned(),
            version: number,
            revision_id: sm.revision_id.clone(),
            description,
            creation_date_ms: self.clock.now_ms(),
        };
        self.commit(
            vec![WriteOp::InsertVersion(version.clone())],
            WhenFull::Refuse,
        )
        .await?;
        Ok(version)
    }

    /// DeleteStateMachineVersion: refused while an alias routes to it; a version that does
    /// not exist is not an error.
    pub async fn delete_version(&self, machine: &StateMachineArn, version_arn: &str) -> Result<()> {
        let mut none = Unlocked::at_entry();
        let _held = self
            .locks
            .machine_exclusive(machine.as_str(), &mut none)
            .await;
        let referencing: Vec<String> = self
            .store
            .aliases(machine.as_str())
            .await?
            .into_iter()
            .filter(|a| {
                routes(a)
                    .iter()
                    .any(|r| r.state_machine_version_arn == version_arn)
            })
            .map(|a| a.name)
            .collect();
        if !referencing.is_empty() {
            return Err(Error::Conflict(format!(
                "Version to be deleted must not be referenced by an alias. Current list of \
                 aliases referencing this version: [{}]",
                referencing.join(", ")
            )));
        }
        self.commit(
            vec![WriteOp::DeleteVersion {
                arn: version_arn.to_owned(),
            }],
            WhenFull::Refuse,
        )
        .await?;
        Ok(())
    }

    /// Check that every route names an existing version of `machine`.
    async fn check_routes(&self, machine: &str, routes: &[Route]) -> Result<()> {
        for r in routes {
            let found = self.store.version(&r.state_machine_version_arn).await?;
            if found.is_none_or(|v| v.state_machine_arn != machine) {
                return Err(Error::ResourceNotFound(r.state_machine_version_arn.clone()));
            }
        }
        Ok(())
    }

    /// CreateStateMachineAlias: idempotent when the alias exists with the same description
    /// and routes; a conflict when it exists otherwise.
    pub async fn create_alias(
        &self,
        machine: &StateMachineArn,
        name: &str,
        description: Option<String>,
        routes: Vec<Route>,
    ) -> Result<AliasRow> {
        let mut none = Unlocked::at_entry();
        let _held = self
            .locks
            .machine_exclusive(machine.as_str(), &mut none)
            .await;
        self.store
            .state_machine(machine.as_str())
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(machine.as_str().to_owned()))?;
        self.check_routes(machine.as_str(), &routes).await?;
        let arn = format!("{}:{name}", machine.as_str());
        if let Some(existing) = self.store.alias(&arn).await? {
            if existing.description == description && self::routes(&existing) == routes {
                return Ok(existing);
            }
            return Err(Error::Conflict(
                "Failed to create alias because an alias with the same name and a different \
                 routing configuration already exists."
                    .into(),
            ));
        }
        if self.store.aliases(machine.as_str()).await?.len() >= MAX_ALIASES {
            return Err(Error::ServiceQuotaExceeded(format!(
                "The maximum number of aliases ({MAX_ALIASES}) has been reached for state \
                 machine '{}'",
                machine.as_str()
            )));
        }
        let now = self.clock.now_ms();
        let alias = AliasRow {
            arn,
            state_machine_arn: machine.as_str().to_owned(),
            name: name.to_owned(),
            description,
            routing: serde_json::to_string(&routes).unwrap_or_else(|_| "[]".into()),
            creation_date_ms: now,
            update_date_ms: now,
        };
        self.commit(vec![WriteOp::PutAlias(alias.clone())], WhenFull::Refuse)
            .await?;
        Ok(alias)
    }

    /// UpdateStateMachineAlias: a new description and/or routes.
    pub async fn update_alias(
        &self,
        machine: &StateMachineArn,
        alias_arn: &str,
        description: Option<String>,
        routes: Option<Vec<Route>>,
    ) -> Result<AliasRow> {
        let mut none = Unlocked::at_entry();
        let _held = self
            .locks
            .machine_exclusive(machine.as_str(), &mut none)
            .await;
        let mut alias = self
            .store
            .alias(alias_arn)
            .await?
            .ok_or_else(|| Error::ResourceNotFound(alias_arn.to_owned()))?;
        if let Some(routes) = &routes {
            self.check_routes(machine.as_str(), routes).await?;
            alias.routing = serde_json::to_string(routes).unwrap_or_else(|_| "[]".into());
        }
        if description.is_some() {
            alias.description = description;
        }
        alias.update_date_ms = self.clock.now_ms();
        self.commit(vec![WriteOp::PutAlias(alias.clone())], WhenFull::Refuse)
            .await?;
        Ok(alias)
    }

    pub async fn delete_alias(&self, alias_arn: &str) -> Result<()> {
        self.commit(
            vec![WriteOp::DeleteAlias {
                arn: alias_arn.to_owned(),
            }],
            WhenFull::Refuse,
        )
        .await?;
        Ok(())
    }

    pub async fn version(&self, arn: &str) -> Result<Option<VersionRow>> {
        Ok(self.store.version(arn).await?)
    }

    pub async fn versions(&self, machine: &str) -> Result<Vec<VersionRow>> {
        Ok(self.store.versions(machine).await?)
    }

    pub async fn alias(&self, arn: &str) -> Result<Option<AliasRow>> {
        Ok(self.store.alias(arn).await?)
    }

    pub async fn aliases(&self, machine: &str) -> Result<Vec<AliasRow>> {
        Ok(self.store.aliases(machine).await?)
    }

    /// The version and alias an execution was started through, if it was.
    pub async fn execution_version(&self, id: i64) -> Result<Option<(String, Option<String>)>> {
        Ok(self.store.execution_version(id).await?)
    }

    /// [`Self::execution_version`] of each of `ids` that was started through one, in one read.
    pub async fn execution_versions(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, (String, Option<String>)>> {
        let found = self.store.execution_versions(ids).await?;
        Ok(found.into_iter().map(|(id, v, a)| (id, (v, a))).collect())
    }

    /// Executions started through a version or alias, newest first, after the cursor.
    pub async fn list_executions_through(
        &self,
        arn: &str,
        status: Option<crate::model::ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<super::Page<crate::store::ExecutionRow, (i64, i64)>> {
        let rows = self
            .store
            .list_executions_through(arn, status, after, limit + 1)
            .await?;
        Ok(super::Page::of(rows, limit, |e| (e.start_ms, e.id)))
    }

    /// A version as DescribeStateMachine shows it: the machine, with the version's revision.
    pub async fn described_version(
        &self,
        version_arn: &str,
    ) -> Result<(crate::store::StateMachineRow, VersionRow)> {
        let missing = || Error::StateMachineDoesNotExist(version_arn.to_owned());
        let v = self.store.version(version_arn).await?.ok_or_else(missing)?;
        let mut sm = self
            .store
            .state_machine(&v.state_machine_arn)
            .await?
            .ok_or_else(missing)?;
        let rev = self
            .store
            .revision(&v.revision_id)
            .await?
            .ok_or_else(missing)?;
        sm.arn = v.arn.clone();
        // The machine's first revision shows no revision ID (AWS's is null until an update);
        // `describe` shows one only with an update date.
        sm.update_date_ms = (rev.created_ms != sm.creation_date_ms).then_some(rev.created_ms);
        sm.revision_id = rev.revision_id;
        sm.definition = rev.definition;
        sm.role_arn = rev.role_arn;
        sm.creation_date_ms = v.creation_date_ms;
        sm.description = v.description.clone();
        Ok((sm, v))
    }

    /// What a start on a version or alias ARN goes through: the version (picked by weight for
    /// an alias) and its revision.
    pub async fn resolve_through(
        &self,
        machine: &StateMachineArn,
        qualifier: &str,
    ) -> Result<Through> {
        let qualified = format!("{}:{qualifier}", machine.as_str());
        let (version_arn, alias_arn) = if qualifier.bytes().all(|b| b.is_ascii_digit()) {
            (qualified, None)
        } else {
            let alias = self
                .store
                .alias(&qualified)
                .await?
                .ok_or_else(|| Error::StateMachineDoesNotExist(qualified.clone()))?;
            let routes = routes(&alias);
            // A uniform roll in 0..100 from the random bits of a v4 UUID.
            let roll = (uuid::Uuid::new_v4().as_u128() % 100) as u32;
            let route = pick(&routes, roll)
                .ok_or_else(|| Error::StateMachineDoesNotExist(qualified.clone()))?;
            (route.state_machine_version_arn.clone(), Some(qualified))
        };
        let version = self
            .store
            .version(&version_arn)
            .await?
            .ok_or_else(|| Error::StateMachineDoesNotExist(version_arn.clone()))?;
        Ok(Through {
            version_arn,
            alias_arn,
            revision_id: version.revision_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_are_routed_by_weight() {
        let two = [
            Route {
                state_machine_version_arn: "v1".into(),
                weight: 90,
            },
            Route {
                state_machine_version_arn: "v2".into(),
                weight: 10,
            },
        ];
        let to = |roll| pick(&two, roll).map(|r| r.state_machine_version_arn.as_str());
        assert_eq!(to(0), Some("v1"));
        assert_eq!(to(89), Some("v1"));
        assert_eq!(to(90), Some("v2"));
        assert_eq!(to(99), Some("v2"));
        let one = [Route {
            state_machine_version_arn: "only".into(),
            weight: 100,
        }];
        assert_eq!(pick(&one, 42).map(|r| r.weight), Some(100));
        assert!(pick(&[], 0).is_none());
    }
}

//! State machines and parsed revisions kept in memory.
//!
//! A machine entry is filled only under the machine's lock and emptied by every change to the
//! machine before that change releases its exclusive lock, so an entry is never older than the
//! store outside a change's exclusive section. Revisions never change once written.

use std::sync::Arc;

use crate::asl::Definition;
use crate::store::{self, Store};

use super::{Engine, Error, Result, Revision, DEFINITION_CACHE};

impl<S: Store> Engine<S> {
    /// A state machine, from the cache or the store. The caller holds the machine's lock,
    /// so what it caches is current.
    pub(super) async fn machine(
        &self,
        arn: &str,
        _held: &impl super::locks::HoldsMachine,
    ) -> Result<Option<Arc<store::StateMachineRow>>> {
        if let Some(m) = self.cached_machine(arn) {
            return Ok(Some(m));
        }
        let Some(row) = self.store.state_machine(arn).await? else {
            return Ok(None);
        };
        let row = Arc::new(row);
        let mut cache = self.machines.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= DEFINITION_CACHE {
            cache.clear();
        }
        cache.insert(arn.to_owned(), row.clone());
        Ok(Some(row))
    }

    pub(super) fn cached_machine(&self, arn: &str) -> Option<Arc<store::StateMachineRow>> {
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
            .cloned()
    }

    /// Drop a machine found stale (another node changed it). Removing an entry never makes the
    /// cache older than the store, so no lock is needed.
    pub(super) fn invalidate_machine(&self, arn: &str) {
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }

    /// Drop a machine from the cache after changing it (its exclusive lock held).
    pub(super) fn forget_machine(&self, arn: &str, _held: &super::locks::MachineExclusive<'_>) {
        self.machines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }

    /// A revision, parsed, from the cache or the store.
    pub(super) async fn revision(&self, revision_id: &str) -> Result<Arc<Revision>> {
        if let Some(r) = self
            .revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(revision_id)
        {
            return Ok(r.clone());
        }
        let row = self.store.revision(revision_id).await?.ok_or_else(|| {
            Error::InvalidDefinition(format!("revision {revision_id} is missing"))
        })?;
        let definition = Definition::parse(&row.definition).map_err(Error::InvalidDefinition)?;
        let rev = Arc::new(Revision {
            short_steps: definition.has_short_steps(),
            token_tasks: definition.waits_for_tokens(),
            definition,
            role_arn: row.role_arn,
        });
        let mut cache = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= DEFINITION_CACHE {
            cache.clear();
        }
        cache.insert(revision_id.to_owned(), rev.clone());
        Ok(rev)
    }
}

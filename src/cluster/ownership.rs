//! Which partitions this node may change executions of, and at which epoch.
//!
//! Executions belong to a fixed number of partitions (a hash of the execution ARN). On one
//! node with its own database (SQLite) the node holds them all. In a cluster each node holds
//! the partitions it has a lease on, each at the epoch the lease was taken with: every commit that changes an execution is fenced by that epoch, so a node that lost the
//! partition (a pause past its lease) can never write over the new owner.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Instant;

use crate::store::WriteOp;

/// A partition held: the epoch it was acquired at, and until when this node may act on it
/// (a local monotonic deadline a margin before the lease can expire in the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub epoch: i64,
    pub until: Instant,
}

#[derive(Debug)]
enum Mode {
    /// One node, one database: every partition, no fencing.
    All,
    /// A cluster: the partitions leased, by number.
    Leased(RwLock<BTreeMap<i64, Held>>),
}

/// The partitions of this node.
#[derive(Debug)]
pub struct Ownership {
    partitions: u64,
    mode: Mode,
}

impl Ownership {
    /// One node holding all `partitions`.
    pub fn all(partitions: u64) -> Self {
        Self {
            partitions: partitions.max(1),
            mode: Mode::All,
        }
    }

    /// A cluster node, holding none yet.
    pub fn leased(partitions: u64) -> Self {
        Self {
            partitions: partitions.max(1),
            mode: Mode::Leased(RwLock::new(BTreeMap::new())),
        }
    }

    pub fn partitions(&self) -> u64 {
        self.partitions
    }

    /// Whether this node shares its database with others.
    pub fn is_cluster(&self) -> bool {
        matches!(self.mode, Mode::Leased(_))
    }

    /// The partition of an execution.
    pub fn partition_of(&self, execution_arn: &str) -> i64 {
        crate::model::arn::partition_in(execution_arn, self.partitions)
    }

    /// The epoch this node holds `partition` at, if it holds it now.
    pub fn epoch(&self, partition: i64) -> Option<i64> {
        match &self.mode {
            Mode::All => Some(0),
            Mode::Leased(held) => {
                let held = held.read().unwrap_or_else(|e| e.into_inner());
                held.get(&partition)
                    .filter(|h| Instant::now() < h.until)
                    .map(|h| h.epoch)
            }
        }
    }

    /// The fence a commit changing an execution of `partition` carries: `None` on one node,
    /// `Some(Err(()))` when this node does not hold the partition (nothing may be written).
    pub fn fence(&self, partition: i64) -> Option<Result<WriteOp, ()>> {
        match &self.mode {
            Mode::All => None,
            Mode::Leased(_) => Some(
                self.epoch(partition)
                    .map(|epoch| WriteOp::Fence { partition, epoch })
                    .ok_or(()),
            ),
        }
    }

    /// The partitions held now, or `None` when this node holds them all.
    pub fn held(&self) -> Option<Vec<i64>> {
        match &self.mode {
            Mode::All => None,
            Mode::Leased(held) => {
                let now = Instant::now();
                let held = held.read().unwrap_or_else(|e| e.into_inner());
                Some(
                    held.iter()
                        .filter(|(_, h)| now < h.until)
                        .map(|(p, _)| *p)
                        .collect(),
                )
            }
        }
    }

    /// Every partition in the last round's view with its epoch, whether or not its local
    /// deadline has passed (what the next renewal asks to extend).
    pub fn epochs(&self) -> Vec<(i64, i64)> {
        match &self.mode {
            Mode::All => Vec::new(),
            Mode::Leased(held) => held
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(p, h)| (*p, h.epoch))
                .collect(),
        }
    }

    /// Whether this node holds any partition now.
    pub fn holds_any(&self) -> bool {
        self.held().is_none_or(|h| !h.is_empty())
    }

    /// Replace what is held (the lease manager's view after a round); returns the partitions
    /// gained and lost since the last round.
    pub fn set(&self, now_held: BTreeMap<i64, Held>) -> (Vec<i64>, Vec<i64>) {
        let Mode::Leased(held) = &self.mode else {
            return (Vec::new(), Vec::new());
        };
        let mut held = held.write().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // A partition counts as gained when it is new, held at a new epoch, or held again
        // after its local deadline passed (rounds failed meanwhile, and its timers and calls
        // were dropped unrun as this node stopped acting on it).
        let gained = now_held
            .iter()
            .filter(|(p, h)| {
                held.get(p)
                    .is_none_or(|old| old.epoch != h.epoch || old.until <= now)
            })
            .map(|(p, _)| *p)
            .collect();
        let lost = held
            .keys()
            .filter(|p| !now_held.contains_key(p))
            .copied()
            .collect();
        *held = now_held;
        (gained, lost)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn one_node_holds_everything_and_fences_nothing() {
        let o = Ownership::all(256);
        assert_eq!(o.epoch(17), Some(0));
        assert!(o.fence(17).is_none());
        assert!(o.held().is_none());
        assert!(o.holds_any());
    }

    #[test]
    fn a_cluster_node_fences_by_epoch_and_lets_go_at_its_deadline() {
        let o = Ownership::leased(8);
        assert!(!o.holds_any());
        assert_eq!(o.fence(3), Some(Err(())));
        let soon = Instant::now() + Duration::from_millis(50);
        let later = Instant::now() + Duration::from_secs(60);
        let (gained, lost) = o.set(BTreeMap::from([
            (
                3,
                Held {
                    epoch: 5,
                    until: later,
                },
            ),
            (
                4,
                Held {
                    epoch: 1,
                    until: soon,
                },
            ),
        ]));
        assert_eq!((gained, lost), (vec![3, 4], vec![]));
        assert_eq!(
            o.fence(3),
            Some(Ok(WriteOp::Fence {
                partition: 3,
                epoch: 5
            }))
        );
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(o.epoch(4), None, "past its local deadline the node stops");
        assert_eq!(o.held(), Some(vec![3]));
        let (gained, lost) = o.set(BTreeMap::from([(
            3,
            Held {
                epoch: 6,
                until: later,
            },
        )]));
        assert_eq!(
            (gained, lost),
            (vec![3], vec![4]),
            "a new epoch is a new acquisition"
        );
    }

    #[test]
    fn a_partition_renewed_after_its_local_deadline_passed_is_gained_again() {
        let o = Ownership::leased(8);
        let held = |until| BTreeMap::from([(2, Held { epoch: 7, until })]);
        o.set(held(Instant::now() + Duration::from_millis(20)));
        let later = Instant::now() + Duration::from_secs(60);
        assert_eq!(o.set(held(later)), (vec![], vec![]), "renewed in time");
        let o = Ownership::leased(8);
        o.set(held(Instant::now() + Duration::from_millis(20)));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(o.epoch(2), None);
        assert_eq!(
            o.set(held(later)),
            (vec![2], vec![]),
            "what fired while it had lapsed was dropped: recover it"
        );
    }
}

//! The lease manager: one loop per node that keeps its fair share of partitions.
//!
//! Every `lease / 3` it says the node is alive, renews the leases it holds, and then, against
//! its fair share among the nodes alive (`partitions / nodes`, one more for the first
//! `partitions % nodes` of them by id, so the shares add up exactly):
//! - holding fewer than its share, it takes expired or free partitions, each at a new epoch,
//!   and comes back every [`SHORT_ROUND`] until it holds its share (a dead node's leases
//!   expire one by one; each is taken soon after);
//! - holding more (a node joined), it stops work on the excess and gives it up.
//!
//! A node may act on a partition only until `sent + lease - margin`, `sent` being when the
//! renewal that extended it was sent: the database extended the lease no earlier than that,
//! so the node stops before the lease can expire there, whatever its clock and the network
//! did. A node paused past that (GC, SIGSTOP, a cut link) finds its commits fenced: the new
//! owner's epoch is higher.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Held, Ownership};
use crate::metrics;
use crate::store::ports::{Leases, Node};

/// How the lease manager runs.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub node: Node,
    /// How long a lease lasts in the database.
    pub lease: Duration,
}

impl LeaseSettings {
    /// Time between rounds.
    pub fn period(&self) -> Duration {
        self.lease / 3
    }

    /// How long a node counts as alive after its last heartbeat: two rounds, less than a
    /// lease, so that a dead node leaves the count (and the others' shares grow) before its
    /// leases expire, and the others are ready to take each as it does.
    pub fn heartbeat_ttl(&self) -> Duration {
        self.period() * 2
    }

    /// How long before the database's expiry the node stops acting on a partition.
    pub fn margin(&self) -> Duration {
        (self.lease / 5).max(Duration::from_millis(500))
    }
}

/// Who holds each partition, as last read: where to forward a request for a partition this
/// node does not hold.
#[derive(Debug, Default)]
pub struct Directory {
    owners: RwLock<BTreeMap<i64, Node>>,
    /// Asked for by a request that found the directory wrong (a partition changed hands since
    /// the last round): the lease manager reads the owners again without waiting for its next
    /// round, at most every [`REFRESH_EVERY`].
    stale: tokio::sync::Notify,
}

/// The shortest time between two reads of the owners asked for by requests.
pub const REFRESH_EVERY: Duration = Duration::from_millis(100);

impl Directory {
    /// This node found the directory wrong: have it read again soon.
    pub fn refresh(&self) {
        self.stale.notify_one();
    }

    pub fn owner(&self, partition: i64) -> Option<Node> {
        self.owners
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&partition)
            .cloned()
    }

    fn set(&self, owners: BTreeMap<i64, Node>) {
        *self.owners.write().unwrap_or_else(|e| e.into_inner()) = owners;
    }
}

/// What the node does when its partitions change: recover those gained, drop those lost.
pub trait OnChange: Send + Sync {
    fn partitions_changed(&self, gained: &[i64], lost: &[i64]);
}

/// What a round did: the partitions gained and lost, and whether the node still holds less
/// than its share (some leases have not expired yet: it tries again sooner than a round).
struct Round {
    gained: Vec<i64>,
    lost: Vec<i64>,
    short: bool,
}

/// The time between rounds while a node holds less than its share: a dead node's partitions
/// are taken this long after their leases expire at most, not a whole round.
pub const SHORT_ROUND: Duration = Duration::from_millis(500);

/// One round: heartbeat, renew, take or give up to reach the fair share.
async fn round<L: Leases>(
    leases: &L,
    settings: &LeaseSettings,
    ownership: &Ownership,
    directory: &Directory,
) -> crate::store::Result<Round> {
    let sent = Instant::now();
    let node_id = &settings.node.node_id;
    let alive = leases
        .heartbeat(&settings.node, settings.heartbeat_ttl())
        .await?;
    let fair = fair_share(&alive, node_id, ownership.partitions());
    let mut held = leases
        .renew(node_id, &ownership.epochs(), settings.lease)
        .await?;
    let mut excess = Vec::new();
    if held.len() < fair {
        held.extend(
            leases
                .acquire(node_id, fair - held.len(), settings.lease)
                .await?,
        );
    } else if held.len() > fair {
        // Give up the highest partitions above the share (a node joined).
        held.sort_unstable();
        excess = held.split_off(fair).into_iter().map(|(p, _)| p).collect();
    }
    let short = held.len() < fair;
    let until = sent + settings.lease - settings.margin();
    // Work on the excess stops here, before it is released for another node to take.
    let changed = ownership.set(
        held.iter()
            .map(|&(p, epoch)| (p, Held { epoch, until }))
            .collect(),
    );
    if !excess.is_empty() {
        leases.release(node_id, &excess).await?;
    }
    directory.set(leases.owners().await?.into_iter().collect());
    let (gained, lost) = changed;
    Ok(Round {
        gained,
        lost,
        short,
    })
}

/// This node's share of `partitions` among the nodes `alive`: each holds `partitions / nodes`,
/// and the first `partitions % nodes` by id one more, so that the shares add up exactly
/// (64 over 3 nodes: 22, 21, 21).
fn fair_share(alive: &[Node], node_id: &str, partitions: u64) -> usize {
    let mut ids: Vec<&str> = alive.iter().map(|n| n.node_id.as_str()).collect();
    if !ids.contains(&node_id) {
        ids.push(node_id);
    }
    ids.sort_unstable();
    ids.dedup();
    let nodes = ids.len() as u64;
    let rank = ids.iter().position(|id| *id == node_id).unwrap_or(0) as u64;
    (partitions / nodes + u64::from(rank < partitions % nodes)) as usize
}

/// Keep this node's share of partitions until `shutdown`, then give them all up.
pub async fn run<L: Leases>(
    leases: L,
    settings: LeaseSettings,
    ownership: Arc<Ownership>,
    directory: Arc<Directory>,
    on_change: Arc<dyn OnChange>,
    shutdown: CancellationToken,
) {
    let mut failing = false;
    loop {
        let mut period = settings.period();
        match round(&leases, &settings, &ownership, &directory).await {
            Ok(Round {
                gained,
                lost,
                short,
            }) => {
                if short {
                    period = period.min(SHORT_ROUND);
                }
                if failing {
                    tracing::info!("the lease round succeeds again");
                    failing = false;
                }
                if !gained.is_empty() || !lost.is_empty() {
                    tracing::info!(
                        gained = gained.len(),
                        lost = lost.len(),
                        held = ownership.epochs().len(),
                        "partitions changed"
                    );
                    metrics::leases_changed(gained.len(), lost.len());
                    on_change.partitions_changed(&gained, &lost);
                }
            }
            Err(e) => {
                // The leases lapse locally at their deadlines; the next round that reaches the
                // database takes them again (at a new epoch if another node took them).
                if !failing {
                    tracing::warn!(error = %e, "a lease round failed; retrying");
                    failing = true;
                }
            }
        }
        metrics::set_partitions_held(ownership.held().map_or(0, |h| h.len()));
        // Until the next round, read the owners again whenever a request found them wrong.
        let next_round = tokio::time::Instant::now() + period;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next_round) => break,
                _ = directory.stale.notified() => {
                    match leases.owners().await {
                        Ok(owners) => directory.set(owners.into_iter().collect()),
                        Err(e) => tracing::debug!(error = %e, "reading the partitions' owners failed"),
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(REFRESH_EVERY) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                _ = shutdown.cancelled() => break,
            }
            if shutdown.is_cancelled() {
                break;
            }
        }
        if shutdown.is_cancelled() {
            break;
        }
    }
    let held: Vec<i64> = ownership.epochs().into_iter().map(|(p, _)| p).collect();
    ownership.set(BTreeMap::new());
    if let Err(e) = leases.release(&settings.node.node_id, &held).await {
        tracing::warn!(error = %e, "could not give the partitions up at shutdown; they pass on when their leases expire");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(ids: &[&str]) -> Vec<Node> {
        ids.iter()
            .map(|id| Node {
                node_id: (*id).to_owned(),
                address: String::new(),
            })
            .collect()
    }

    #[test]
    fn the_fair_shares_add_up_to_every_partition() {
        let alive = nodes(&["b", "a", "c"]);
        let shares: Vec<usize> = ["a", "b", "c"]
            .iter()
            .map(|id| fair_share(&alive, id, 64))
            .collect();
        assert_eq!(shares, vec![22, 21, 21]);
        assert_eq!(fair_share(&nodes(&["a"]), "a", 64), 64);
        assert_eq!(
            fair_share(&[], "a", 64),
            64,
            "a node not yet in the list counts itself"
        );
        let four = nodes(&["a", "b", "c", "d"]);
        assert!(["a", "b", "c", "d"]
            .iter()
            .all(|id| fair_share(&four, id, 64) == 16));
        assert_eq!(fair_share(&nodes(&["a", "b", "c"]), "c", 2), 0);
    }
}

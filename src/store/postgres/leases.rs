//! The [`Leases`] port on PostgreSQL: the `leases` and `nodes` tables, judged by the
//! database's clock (`clock_timestamp()`).

use std::time::Duration;

use super::{classify, PgStore};
use crate::store::ports::{Leases, Node};
use crate::store::Result;

fn interval(ttl: Duration) -> f64 {
    ttl.as_secs_f64()
}

impl Leases for PgStore {
    async fn heartbeat(&self, node: &Node, ttl: Duration) -> Result<Vec<Node>> {
        sqlx::query(
            "INSERT INTO nodes (node_id, address, expires_at) \
             VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3)) \
             ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, \
             expires_at = excluded.expires_at",
        )
        .bind(&node.node_id)
        .bind(&node.address)
        .bind(interval(ttl))
        .execute(self.pool())
        .await
        .map_err(classify)?;
        let alive: Vec<(String, String)> = sqlx::query_as(
            "SELECT node_id, address FROM nodes WHERE expires_at > clock_timestamp() \
             ORDER BY node_id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(alive
            .into_iter()
            .map(|(node_id, address)| Node { node_id, address })
            .collect())
    }

    async fn renew(
        &self,
        node_id: &str,
        held: &[(i64, i64)],
        ttl: Duration,
    ) -> Result<Vec<(i64, i64)>> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let (partitions, epochs): (Vec<i64>, Vec<i64>) = held.iter().copied().unzip();
        // A lease that expired but that nobody took since is still this node's: its epoch did
        // not change, so nothing was written under another owner.
        sqlx::query_as(
            "UPDATE leases l SET expires_at = clock_timestamp() + make_interval(secs => $4) \
             FROM UNNEST($2::bigint[], $3::bigint[]) AS h(partition, epoch) \
             WHERE l.partition = h.partition AND l.epoch = h.epoch AND l.owner = $1 \
             RETURNING l.partition, l.epoch",
        )
        .bind(node_id)
        .bind(partitions)
        .bind(epochs)
        .bind(interval(ttl))
        .fetch_all(self.pool())
        .await
        .map_err(classify)
    }

    async fn acquire(&self, node_id: &str, max: usize, ttl: Duration) -> Result<Vec<(i64, i64)>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        sqlx::query_as(
            "UPDATE leases SET owner = $1, epoch = epoch + 1, \
             expires_at = clock_timestamp() + make_interval(secs => $3) \
             WHERE partition IN ( \
                 SELECT partition FROM leases \
                 WHERE owner IS NULL OR expires_at < clock_timestamp() \
                 ORDER BY partition LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING partition, epoch",
        )
        .bind(node_id)
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .bind(interval(ttl))
        .fetch_all(self.pool())
        .await
        .map_err(classify)
    }

    async fn release(&self, node_id: &str, partitions: &[i64]) -> Result<()> {
        sqlx::query(
            "UPDATE leases SET owner = NULL, expires_at = 'epoch' \
             WHERE owner = $1 AND partition = ANY($2)",
        )
        .bind(node_id)
        .bind(partitions)
        .execute(self.pool())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn owners(&self) -> Result<Vec<(i64, Node)>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT l.partition, n.node_id, n.address FROM leases l \
             JOIN nodes n ON n.node_id = l.owner \
             WHERE l.expires_at > clock_timestamp() ORDER BY l.partition",
        )
        .fetch_all(self.pool())
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(p, node_id, address)| (p, Node { node_id, address }))
            .collect())
    }

    async fn cluster_secret(&self) -> Result<String> {
        sqlx::query(
            // gen_random_uuid draws from the server's strong random source.
            "INSERT INTO cluster_settings (key, value) \
             VALUES ('forward_secret', gen_random_uuid()::text || gen_random_uuid()::text) \
             ON CONFLICT (key) DO NOTHING",
        )
        .execute(self.pool())
        .await
        .map_err(classify)?;
        sqlx::query_scalar("SELECT value FROM cluster_settings WHERE key = 'forward_secret'")
            .fetch_one(self.pool())
            .await
            .map_err(classify)
    }
}

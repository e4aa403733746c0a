//! [`TestCluster`]: several `hourglass` processes on one PostgreSQL database, each on its own
//! port, with short leases so that failover happens in seconds.

use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;

use super::{prom, TestDaemon};

/// The lease of the test clusters: a dead node's partitions pass on within it.
pub const LEASE_SECS: u64 = 2;
/// The partitions of the test clusters (the default).
pub const PARTITIONS: u64 = 64;

pub struct TestCluster {
    /// `None` for a node that was killed and not started again.
    nodes: Vec<Option<TestDaemon>>,
    env: Vec<(String, String)>,
}

impl TestCluster {
    /// Start `n` nodes on `database_url` with `extra` settings, one after the other, and wait
    /// until the partitions are spread over all of them.
    pub async fn start(database_url: &str, n: usize, extra: &[(&str, &str)]) -> Self {
        let mut env = vec![
            ("HOURGLASS_DATABASE_URL".to_owned(), database_url.to_owned()),
            (
                "HOURGLASS_CLUSTER__LEASE_SECS".to_owned(),
                LEASE_SECS.to_string(),
            ),
            (
                "HOURGLASS_CLUSTER__PARTITIONS".to_owned(),
                PARTITIONS.to_string(),
            ),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut cluster = Self {
            nodes: Vec::new(),
            env,
        };
        for _ in 0..n {
            cluster.add_node().await;
        }
        cluster.balanced(Duration::from_secs(6 * LEASE_SECS)).await;
        cluster
    }

    /// Start one more node (`node<i>`); returns its index once it holds a partition.
    pub async fn add_node(&mut self) -> usize {
        let i = self.nodes.len();
        let node_id = format!("node{i}");
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.push(("HOURGLASS_NODE_ID", &node_id));
        let node = TestDaemon::start_with_env(&env).await;
        self.nodes.push(Some(node));
        i
    }

    pub fn node(&self, i: usize) -> &TestDaemon {
        self.nodes[i].as_ref().expect("node running")
    }

    pub fn node_mut(&mut self, i: usize) -> &mut TestDaemon {
        self.nodes[i].as_mut().expect("node running")
    }

    /// The indexes of the nodes running.
    pub fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_some())
            .collect()
    }

    /// A client of node `i`.
    pub fn sfn(&self, i: usize) -> Client {
        self.node(i).sfn()
    }

    /// SIGKILL node `i`; it stays down.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            node.kill9();
        }
    }

    /// The sum of the samples of metric `name` on node `i` (0 when it has none), or `None`
    /// when the node does not answer.
    pub async fn metric(&self, i: usize, name: &str) -> Option<f64> {
        let text = reqwest::get(format!("{}/metrics", self.node(i).url()))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let samples = prom::parse(&text).expect("valid exposition format");
        Some(
            samples
                .iter()
                .filter(|s| s.name == name)
                .fold(0.0, |sum, s| sum + s.value),
        )
    }

    /// Partitions node `i` holds, by its `/metrics`.
    pub async fn held(&self, i: usize) -> Option<u64> {
        self.metric(i, "hourglass_partitions_held")
            .await
            .map(|v| v as u64)
    }

    /// The running node holding the most partitions.
    pub async fn busiest(&self) -> usize {
        let mut best = (0, None);
        for i in self.live() {
            let held = self.held(i).await.unwrap_or(0);
            if best.1.is_none_or(|b| held > b) {
                best = (i, Some(held));
            }
        }
        best.0
    }

    /// Wait until every running node holds its fair share (at least `partitions / nodes`
    /// rounded down) and together they hold every partition; returns how long that took.
    pub async fn balanced(&self, timeout: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let live = self.live();
            let floor = PARTITIONS / live.len().max(1) as u64;
            let mut total = 0;
            let mut fair = true;
            let mut each = Vec::new();
            for &i in &live {
                let held = self.held(i).await.unwrap_or(0);
                total += held;
                fair &= held >= floor;
                each.push(held);
            }
            if fair && total == PARTITIONS {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < timeout,
                "the partitions were not spread over nodes {live:?} within {timeout:?} \
                 (they hold {each:?})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

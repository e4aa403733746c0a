//! Opening the store the configuration names — SQLite under `data_dir`, or PostgreSQL shared by
//! the nodes of a cluster — and closing it in order at shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::api::forward::Forwarder;
use crate::cluster::{Directory, LeaseSettings, Ownership};
use crate::config::Config;
use crate::model::arn::PARTITIONS;
use crate::store::ports::{Leases, Node};
use crate::store::postgres::{self, PgStore};
use crate::store::sqlite::{self, Reader, SqliteStore, SqliteWriter};
use crate::store::{self as store_mod, Db};

/// The store and what comes with it.
pub struct Backend {
    pub store: Db,
    /// Every partition on SQLite; the leased ones in a cluster.
    pub ownership: Arc<Ownership>,
    /// What a cluster node needs beside the store.
    pub cluster: Option<ClusterParts>,
    closing: Closing,
}

/// A cluster node's lease manager settings, its view of who holds what, and its forwarding.
pub struct ClusterParts {
    pub leases: PgStore,
    pub settings: LeaseSettings,
    pub directory: Arc<Directory>,
    pub forwarder: Arc<Forwarder>,
}

enum Closing {
    Sqlite {
        reader: Reader,
        writer_stop: CancellationToken,
        writer_task: tokio::task::JoinHandle<store_mod::Result<()>>,
    },
    Postgres {
        store: PgStore,
        writer_stop: CancellationToken,
        writer_task: tokio::task::JoinHandle<store_mod::Result<()>>,
    },
}

/// Open the store the configuration names, waiting while it cannot be reached (SQLite locked
/// by another program, PostgreSQL down): the daemon serves `/health` meanwhile.
pub async fn open(config: &Config, addr: SocketAddr) -> anyhow::Result<Backend> {
    match config.postgres_url() {
        None => open_sqlite(config).await,
        Some(url) => open_postgres(config, url, addr).await,
    }
}

async fn open_sqlite(config: &Config) -> anyhow::Result<Backend> {
    let (reader, write_conn) = sqlite::open_waiting(config)
        .await
        .with_context(|| format!("opening the database in {}", config.data_dir.display()))?;
    let writer_stop = CancellationToken::new();
    let (writer, writer_task) = SqliteWriter::spawn(
        write_conn,
        config.writer.queue_capacity,
        config.writer.max_batch,
        writer_stop.clone(),
    );
    let store = SqliteStore::new(reader.clone(), writer)
        .await
        .context("reading the database")?;
    Ok(Backend {
        store: Db::Sqlite(store),
        ownership: Arc::new(Ownership::all(PARTITIONS)),
        cluster: None,
        closing: Closing::Sqlite {
            reader,
            writer_stop,
            writer_task,
        },
    })
}

async fn open_postgres(config: &Config, url: &str, addr: SocketAddr) -> anyhow::Result<Backend> {
    let settings = postgres::Settings {
        url: url.to_owned(),
        read_connections: config.postgres.max_connections,
        connect_timeout: Duration::from_secs(config.postgres.connect_timeout_secs.max(1)),
        // Half the lease: a paused node's open transaction is gone before its leases expire,
        // so nothing it locked delays their takeover.
        idle_in_transaction: Some(
            (Duration::from_secs(config.cluster.lease_secs) / 2).max(Duration::from_millis(500)),
        ),
    };
    let (pool, write_conn, partitions) = loop {
        match postgres::open(&settings, config.cluster.partitions).await {
            Err(store_mod::Error::Unavailable(e)) => {
                tracing::warn!(error = %e, "PostgreSQL cannot be reached; waiting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            other => break other.context("opening the PostgreSQL database")?,
        }
    };
    if partitions != config.cluster.partitions {
        tracing::warn!(
            configured = config.cluster.partitions,
            stored = partitions,
            "the database was initialised with another number of partitions; using it"
        );
    }
    let host = match addr.ip() {
        ip if ip.is_unspecified() => crate::config::host_name(),
        ip => ip.to_string(),
    };
    let node_id = config
        .node_id
        .clone()
        .unwrap_or_else(|| format!("{host}:{}", addr.port()));
    crate::metrics::set_node(&node_id);
    let address = config
        .cluster
        .advertise_url
        .clone()
        .unwrap_or_else(|| format!("http://{host}:{}", addr.port()));
    let writer_stop = CancellationToken::new();
    let (writer, writer_task) = postgres::writer::spawn(
        write_conn,
        node_id.clone(),
        config.writer.queue_capacity,
        config.writer.max_batch,
        writer_stop.clone(),
        postgres::options(&settings).context("the database URL")?,
    );
    let leases = PgStore::new(
        postgres::own_pool(&settings, 2).context("the lease manager's connections")?,
        writer.clone(),
    );
    let store = PgStore::new(pool, writer);
    let secret = store
        .cluster_secret()
        .await
        .context("reading the cluster's secret")?;
    let directory = Arc::new(Directory::default());
    let forwarder = Arc::new(Forwarder::new(node_id.clone(), secret, directory.clone())?);
    tracing::info!(node_id, address, partitions, "joining the cluster");
    Ok(Backend {
        store: Db::Postgres(store.clone()),
        ownership: Arc::new(Ownership::leased(partitions)),
        cluster: Some(ClusterParts {
            leases,
            settings: LeaseSettings {
                node: Node { node_id, address },
                lease: Duration::from_secs(config.cluster.lease_secs),
            },
            directory,
            forwarder,
        }),
        closing: Closing::Postgres {
            store,
            writer_stop,
            writer_task,
        },
    })
}

impl Backend {
    /// Commit what is queued, stop the writer and close the connections.
    pub async fn close(self) -> anyhow::Result<()> {
        drop(self.store);
        drop(self.cluster);
        match self.closing {
            Closing::Sqlite {
                reader,
                writer_stop,
                writer_task,
            } => {
                writer_stop.cancel();
                // The writer checkpoints the log and closes its connection as it ends.
                writer_task
                    .await
                    .context("the writer task panicked")?
                    .context("closing the database")?;
                reader.close().await;
            }
            Closing::Postgres {
                store,
                writer_stop,
                writer_task,
            } => {
                writer_stop.cancel();
                writer_task
                    .await
                    .context("the writer task panicked")?
                    .context("the writer failed")?;
                store.close().await;
            }
        }
        Ok(())
    }
}

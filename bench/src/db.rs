//! Reading the daemon's database directly (read-only), for figures the API does not give:
//! its size, how many executions have a status, when waits ended, who holds which partition.
//! SQLite under the data directory, or a PostgreSQL database the benchmark created for the run.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sqlx::{Connection, PgConnection};

/// Where the daemon under test keeps its data.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(PathBuf),
    /// The URL of a database created for the run (dropped with [`Store::drop_database`]).
    Postgres {
        url: String,
        admin_url: String,
        name: String,
    },
}

impl Store {
    /// A fresh database in the PostgreSQL server of `server_url` (its user needs CREATEDB).
    pub async fn create_postgres(server_url: &str) -> Result<Self> {
        let name = format!("hourglass_bench_{}_{}", std::process::id(), crate::now_ms());
        let mut admin = PgConnection::connect(server_url)
            .await
            .context("connecting to --database-url")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .context("creating the benchmark's database")?;
        let mut url = reqwest::Url::parse(server_url).context("--database-url")?;
        url.set_path(&format!("/{name}"));
        Ok(Self::Postgres {
            url: url.into(),
            admin_url: server_url.to_owned(),
            name,
        })
    }

    pub async fn drop_database(&self) -> Result<()> {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
        {
            let mut admin = PgConnection::connect(admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
        }
        Ok(())
    }

    /// The daemon's settings that point it here.
    pub fn daemon_env(&self) -> Vec<(String, String)> {
        match self {
            Self::Sqlite(_) => Vec::new(),
            Self::Postgres { url, .. } => vec![("HOURGLASS_DATABASE_URL".into(), url.clone())],
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }

    pub async fn size_mib(&self) -> Result<f64> {
        match self {
            Self::Sqlite(dir) => Ok(["hourglass.db", "hourglass.db-wal"]
                .iter()
                .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
                .map(|m| m.len() as f64)
                .sum::<f64>()
                / (1024.0 * 1024.0)),
            Self::Postgres { url, .. } => {
                let mut db = PgConnection::connect(url).await?;
                let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(&mut db)
                    .await?;
                Ok(bytes as f64 / (1024.0 * 1024.0))
            }
        }
    }

    pub async fn count_fired(&self) -> Result<u64> {
        let sql = match self {
            Self::Sqlite(dir) => format!(
                "SELECT COUNT(*) FROM history_events h WHERE {}",
                sqlite_wait_exited(&mut open_sqlite(dir).await?).await?
            ),
            Self::Postgres { .. } => {
                "SELECT COUNT(*) FROM history_events WHERE type = 'WaitStateExited'".to_owned()
            }
        };
        self.count(&sql, None).await
    }

    /// Timers stored: a timer's row goes in the commit that writes its wait's end, so while
    /// nothing else sets timers this counts the waits still to end. Cheap where
    /// [`Self::count_fired`] reads the whole history.
    pub async fn count_timers(&self) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM timers", None).await
    }

    pub async fn count_status(&self, status: &str) -> Result<u64> {
        self.count(
            "SELECT COUNT(*) FROM executions WHERE status = $1",
            Some(status),
        )
        .await
    }

    async fn count(&self, sql: &str, bind: Option<&str>) -> Result<u64> {
        let n: i64 = match self {
            Self::Sqlite(dir) => {
                let mut db = open_sqlite(dir).await?;
                let mut q = sqlx::query_scalar(sql);
                if let Some(b) = bind {
                    q = q.bind(b);
                }
                q.fetch_one(&mut db).await?
            }
            Self::Postgres { url, .. } => {
                let mut db = PgConnection::connect(url).await?;
                let mut q = sqlx::query_scalar(sql);
                if let Some(b) = bind {
                    q = q.bind(b);
                }
                q.fetch_one(&mut db).await?
            }
        };
        Ok(n as u64)
    }

    /// (execution ARN, execution name, WaitStateExited time) for every fired wait.
    pub async fn exited_times(&self) -> Result<Vec<(String, String, i64)>> {
        const SQL: &str = "SELECT e.arn, e.name, h.timestamp_ms FROM history_events h \
             JOIN executions e ON e.id = h.execution_id WHERE h.type = 'WaitStateExited'";
        Ok(match self {
            Self::Sqlite(dir) => {
                // SQLite keys a history row by execution id << 24 | event id (migration 0007).
                let mut db = open_sqlite(dir).await?;
                let sql = format!(
                    "SELECT e.arn, e.name, h.timestamp_ms FROM history_events h \
                     JOIN executions e ON e.id = h.key >> 24 WHERE {}",
                    sqlite_wait_exited(&mut db).await?
                );
                sqlx::query_as(&sql).fetch_all(&mut db).await?
            }
            Self::Postgres { url, .. } => {
                sqlx::query_as(SQL)
                    .fetch_all(&mut PgConnection::connect(url).await?)
                    .await?
            }
        })
    }

    /// The partitions `node` holds a lease on, and how many partitions there are
    /// (PostgreSQL only).
    pub async fn leases_of(&self, node: &str) -> Result<(Vec<i64>, u64)> {
        let Self::Postgres { url, .. } = self else {
            anyhow::bail!("leases exist on PostgreSQL only");
        };
        let mut db = PgConnection::connect(url).await?;
        let held: Vec<i64> = sqlx::query_scalar(
            "SELECT partition FROM leases WHERE owner = $1 AND expires_at > clock_timestamp()",
        )
        .bind(node)
        .fetch_all(&mut db)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leases")
            .fetch_one(&mut db)
            .await?;
        Ok((held, total as u64))
    }
}

/// Which SQLite history rows `h` are WaitStateExited events: by number since migration 0008,
/// by name in a database written before it (the build before a change, in a comparison).
async fn sqlite_wait_exited(db: &mut sqlx::SqliteConnection) -> Result<String> {
    let numbered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'event_types'")
            .fetch_one(db)
            .await?;
    Ok(if numbered > 0 {
        format!(
            "h.type_code = {}",
            hourglass::model::HistoryEventType::WaitStateExited.code()
        )
    } else {
        "h.type = 'WaitStateExited'".to_owned()
    })
}

async fn open_sqlite(dir: &std::path::Path) -> Result<sqlx::SqliteConnection> {
    use sqlx::ConnectOptions;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("hourglass.db"))
        .read_only(true);
    Ok(opts.connect().await?)
}

//! [`TestPostgres`]: a PostgreSQL database for one test.
//!
//! Without `HOURGLASS_TEST_DATABASE_URL`, each test gets a throwaway cluster of its own: `initdb`
//! in a temporary directory, `postgres` on a free loopback port (TCP only, no Unix socket),
//! stopped and deleted on drop. The server binaries come from `HOURGLASS_TEST_PG_BIN`, which
//! `scripts/test` sets, or else the newest `/usr/lib/postgresql/*/bin`. PostgreSQL refuses to
//! run as root, so when the tests do, the cluster belongs to and runs as `nobody`
//! (`HOURGLASS_TEST_PG_USER` names another user).
//!
//! With `HOURGLASS_TEST_DATABASE_URL=postgres://user:password@host:port/db` set, each test gets
//! a fresh database created in that server (the user needs `CREATEDB`), dropped on drop; such
//! a server cannot be stopped or restarted by a test, so [`TestPostgres::start_cluster`] and
//! the restart helpers always need the binaries.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

/// The database each test cluster holds for the test.
const DATABASE: &str = "hourglass_test";

/// How a throwaway cluster is configured.
#[derive(Debug, Clone, Default)]
pub struct PgOptions {
    /// `fsync`. Off by default: a test cluster survives the crash of any process (PostgreSQL's
    /// or the daemon's) without it, and only an operating system crash needs it; benchmarks
    /// that compare commit costs turn it on.
    pub fsync: bool,
}

pub struct TestPostgres {
    url: String,
    server: Server,
}

enum Server {
    Cluster(Cluster),
    /// A database created in the server of `HOURGLASS_TEST_DATABASE_URL`.
    External {
        admin_url: String,
        database: String,
    },
}

/// A cluster this process started, and how to run its commands.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    /// `uid:gid` to run the server binaries as, when the tests run as root.
    run_as: Option<(u32, u32)>,
    running: bool,
    /// Owns the directory holding the data and the log.
    _temp: tempfile::TempDir,
}

impl TestPostgres {
    /// A fresh database: in `HOURGLASS_TEST_DATABASE_URL`'s server when set, else in a
    /// throwaway cluster (fsync off).
    pub async fn start() -> Self {
        match std::env::var("HOURGLASS_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Self::in_server(&url).await,
            _ => Self::start_cluster(PgOptions::default()).await,
        }
    }

    /// A throwaway cluster of this test's own, whatever `HOURGLASS_TEST_DATABASE_URL` says:
    /// for tests that stop or restart PostgreSQL.
    pub async fn start_cluster(options: PgOptions) -> Self {
        let cluster = Cluster::create(&options);
        let admin = format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            cluster.port
        );
        execute(&admin, &format!("CREATE DATABASE {DATABASE}")).await;
        Self {
            url: format!(
                "postgres://postgres@127.0.0.1:{}/{DATABASE}?sslmode=disable",
                cluster.port
            ),
            server: Server::Cluster(cluster),
        }
    }

    async fn in_server(admin_url: &str) -> Self {
        let database = format!("hourglass_test_{}", uuid::Uuid::new_v4().simple());
        execute(admin_url, &format!("CREATE DATABASE {database}")).await;
        let mut url = reqwest::Url::parse(admin_url)
            .unwrap_or_else(|e| panic!("HOURGLASS_TEST_DATABASE_URL is not a URL: {e}"));
        url.set_path(&format!("/{database}"));
        Self {
            url: url.into(),
            server: Server::External {
                admin_url: admin_url.to_owned(),
                database,
            },
        }
    }

    /// `postgres://` URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Fast shutdown (`pg_ctl stop -m fast`): sessions are ended, the server exits cleanly.
    pub fn stop(&mut self) {
        let cluster = self.cluster("stop");
        cluster.pg_ctl(&["stop", "-m", "fast"]);
        cluster.running = false;
    }

    /// Start the cluster again after [`TestPostgres::stop`], on the same port and data.
    pub fn start_again(&mut self) {
        let cluster = self.cluster("start_again");
        assert!(!cluster.running, "PostgreSQL is already running");
        cluster.start_server();
    }

    /// `pg_ctl restart -m fast`: sessions are ended and the server comes back on the same port;
    /// returns once it accepts connections again.
    pub fn restart(&mut self) {
        let cluster = self.cluster("restart");
        // The new server writes to the log, not to pg_ctl's output, which would stay open.
        let log = cluster.log.to_str().expect("UTF-8 temp path").to_owned();
        cluster.pg_ctl(&["restart", "-m", "fast", "-l", &log]);
        cluster.running = true;
    }

    fn cluster(&mut self, what: &str) -> &mut Cluster {
        match &mut self.server {
            Server::Cluster(c) => c,
            Server::External { .. } => panic!(
                "{what} needs a PostgreSQL cluster of the test's own: start it with \
                 TestPostgres::start_cluster"
            ),
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        match &mut self.server {
            Server::Cluster(cluster) => {
                if cluster.running {
                    // Throwaway data: no checkpoint needed.
                    let _ = cluster
                        .command("pg_ctl", &["stop", "-m", "immediate"])
                        .output();
                }
            }
            Server::External {
                admin_url,
                database,
            } => {
                // Drop runs inside the test's runtime, which may have one thread: use another.
                let (admin_url, sql) = (
                    admin_url.clone(),
                    format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
                );
                let _ = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime to drop the test database")
                        .block_on(execute(&admin_url, &sql));
                })
                .join();
            }
        }
    }
}

impl Cluster {
    fn create(options: &PgOptions) -> Self {
        let bin = pg_bin();
        let run_as = running_as_root().then(unprivileged_user);
        let temp = tempfile::Builder::new()
            .prefix("hourglass-pg-")
            .tempdir()
            .expect("temp dir for PostgreSQL");
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(temp.path(), Some(uid), Some(gid))
                .expect("give the PostgreSQL directory to its user");
        }
        let mut cluster = Cluster {
            bin,
            data: temp.path().join("data"),
            log: temp.path().join("postgres.log"),
            port: 0,
            run_as,
            running: false,
            _temp: temp,
        };
        let data = cluster.data.to_str().expect("UTF-8 temp path").to_owned();
        let out = cluster
            .command(
                "initdb",
                &[
                    "-D",
                    &data,
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Another process may take the free port before the server binds it: try a few.
        for attempt in 1..=3 {
            cluster.port = free_port();
            let conf = format!(
                "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = ''\n\
                 fsync = {}\n",
                cluster.port,
                if options.fsync { "on" } else { "off" }
            );
            std::fs::write(cluster.data.join("postgresql.auto.conf"), conf)
                .expect("write postgresql.auto.conf");
            if cluster.try_start_server() || attempt == 3 {
                break;
            }
        }
        assert!(
            cluster.running,
            "PostgreSQL did not start; its log:\n{}",
            cluster.log_text()
        );
        cluster
    }

    fn start_server(&mut self) {
        assert!(
            self.try_start_server(),
            "PostgreSQL did not start; its log:\n{}",
            self.log_text()
        );
    }

    fn try_start_server(&mut self) -> bool {
        let log = self.log.to_str().expect("UTF-8 temp path").to_owned();
        let out = self
            .command("pg_ctl", &["start", "-l", &log])
            .output()
            .expect("run pg_ctl");
        self.running = out.status.success();
        self.running
    }

    /// Run `pg_ctl <args>` on this cluster, waiting for it; panics with the log on failure.
    fn pg_ctl(&self, args: &[&str]) {
        let out = self.command("pg_ctl", args).output().expect("run pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {args:?} failed: {}\nits log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
    }

    /// A server binary, run as the cluster's user; `pg_ctl` gets the data directory, waits,
    /// and gives up after a minute.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        let mut cmd = match self.run_as {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(&program);
                c
            }
            None => Command::new(&program),
        };
        if program.ends_with("pg_ctl") {
            cmd.arg("-D").arg(&self.data).args(["-w", "-t", "60"]);
        }
        cmd.args(args)
            // The user the server runs as may not be able to enter the tests' directory.
            .current_dir(self._temp.path())
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null());
        cmd
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})"))
    }
}

/// The directory of `initdb`, `pg_ctl` and `postgres`.
fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("HOURGLASS_TEST_PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("initdb").exists(),
            "HOURGLASS_TEST_PG_BIN={}: no initdb there; {HOW_TO_PROVIDE}",
            dir.display()
        );
        return dir;
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("no PostgreSQL server binaries (initdb, pg_ctl, postgres); {HOW_TO_PROVIDE}")
    })
}

const HOW_TO_PROVIDE: &str = "run the tests with scripts/test, which installs Debian's \
    postgresql when run as root; or install it (apt-get install postgresql) or set \
    HOURGLASS_TEST_PG_BIN to the directory of its server binaries; or set \
    HOURGLASS_TEST_DATABASE_URL=postgres://user:password@host:port/db to use a running server";

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// `uid:gid` of `HOURGLASS_TEST_PG_USER`, `nobody` by default.
fn unprivileged_user() -> (u32, u32) {
    let user = std::env::var("HOURGLASS_TEST_PG_USER").unwrap_or_else(|_| "nobody".to_owned());
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, &user])
            .output()
            .expect("run id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no user {user} to run PostgreSQL as (id {flag} {user})"))
    };
    (id("-u"), id("-g"))
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Run one statement outside a transaction, on a connection of its own.
async fn execute(url: &str, sql: &str) {
    let mut conn = tokio::time::timeout(Duration::from_secs(30), PgConnection::connect(url))
        .await
        .unwrap_or_else(|_| panic!("connecting to PostgreSQL at {url} timed out"))
        .unwrap_or_else(|e| panic!("connect to PostgreSQL at {url}: {e}"));
    conn.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

//! The daemon under test: started as a child process on a free port, stopped with SIGTERM,
//! measured through `/proc`, and a no-op function server for its Lambda calls.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The daemon under test.
pub struct Daemon {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub child: Child,
    pub url: String,
}

impl Daemon {
    pub fn start(bin: &Path, data_dir: &Path, env: Vec<(String, String)>) -> Result<Self> {
        let (child, url, _) = spawn(bin, data_dir, &env)?;
        Ok(Self {
            bin: bin.to_owned(),
            data_dir: data_dir.to_owned(),
            env,
            child,
            url,
        })
    }

    /// SIGTERM, wait, start again; returns the time from spawn to ready.
    pub fn restart(&mut self) -> Result<Duration> {
        self.stop()?;
        let (child, url, took) = spawn(&self.bin, &self.data_dir, &self.env)?;
        self.child = child;
        self.url = url;
        Ok(took)
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Start again after [`Daemon::stop`] or [`Daemon::kill9`]; returns the time to ready.
    pub fn start_again(&mut self) -> Result<Duration> {
        let (child, url, took) = spawn(&self.bin, &self.data_dir, &self.env)?;
        self.child = child;
        self.url = url;
        Ok(took)
    }

    pub fn stop(&mut self) -> Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("daemon exited with {status}");
        }
        Ok(())
    }

    pub fn rss_mib(&self) -> Result<f64> {
        self.status_mib("VmRSS:")
    }

    /// The most resident memory the daemon has had (`VmHWM`).
    pub fn peak_rss_mib(&self) -> Result<f64> {
        self.status_mib("VmHWM:")
    }

    fn status_mib(&self, field: &str) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| field.to_owned())?;
        Ok(kb / 1024.0)
    }

    /// User + system CPU seconds (clock ticks of 1/100 s).
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds_of(self.child.id())
    }
}

impl Drop for Daemon {
    /// A run that failed half-way leaves no daemon behind (it would hold the output pipe open
    /// and keep writing to a database the run dropped).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The daemons under test: one, or several nodes of a cluster on one PostgreSQL database
/// (`node0`, `node1`, ..., each with a data directory of its own under `data_dir`).
pub struct Nodes {
    pub daemons: Vec<Daemon>,
}

impl Nodes {
    pub fn start(bin: &Path, data_dir: &Path, env: &[(String, String)], n: usize) -> Result<Self> {
        if n == 1 {
            return Ok(Self {
                daemons: vec![Daemon::start(bin, data_dir, env.to_vec())?],
            });
        }
        let mut daemons = Vec::with_capacity(n);
        for i in 0..n {
            let dir = data_dir.join(format!("node{i}"));
            std::fs::create_dir_all(&dir)?;
            let mut env = env.to_vec();
            env.push(("HOURGLASS_NODE_ID".into(), format!("node{i}")));
            daemons.push(Daemon::start(bin, &dir, env)?);
        }
        Ok(Self { daemons })
    }

    /// The first node (the only one on SQLite).
    pub fn first(&mut self) -> &mut Daemon {
        &mut self.daemons[0]
    }

    /// A client of each node.
    pub fn clients(&self) -> Vec<crate::Client> {
        self.daemons
            .iter()
            .map(|d| crate::Client::new(&d.url))
            .collect()
    }

    /// CPU seconds of all nodes together.
    pub fn cpu_seconds(&self) -> Result<f64> {
        self.daemons.iter().map(Daemon::cpu_seconds).sum()
    }

    /// Resident memory of each node, as text.
    pub fn rss_text(&self) -> Result<String> {
        let each: Result<Vec<String>> = self
            .daemons
            .iter()
            .map(|d| Ok(format!("{:.1}", d.rss_mib()?)))
            .collect();
        Ok(format!("{} MiB", each?.join(" + ")))
    }

    pub fn stop(&mut self) -> Result<()> {
        for d in &mut self.daemons {
            d.stop()?;
        }
        Ok(())
    }
}

pub fn spawn(
    bin: &Path,
    data_dir: &Path,
    env: &[(String, String)],
) -> Result<(Child, String, Duration)> {
    let t = Instant::now();
    let mut child = Command::new(bin)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data_dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("HOURGLASS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next().transpose()? {
        if let Some(url) = line.strip_prefix("hourglass listening on ") {
            // Keep draining stdout so the daemon never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            // Serving starts at once; ready means recovery is done.
            let addr = url.trim_start_matches("http://").to_owned();
            while get_status(&addr, "/ready") != Some(200) {
                if t.elapsed() > Duration::from_secs(600) {
                    bail!("the daemon was not ready within 10 minutes");
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            return Ok((child, url.to_owned(), t.elapsed()));
        }
    }
    bail!("the daemon exited before serving")
}

/// `GET path` over a plain TCP connection; the status code of the answer.
fn get_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")
}

/// The CPU time process `pid` has used, user and system, in seconds.
pub fn cpu_seconds_of(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3; utime 14, stime 15 (1-based in proc(5)).
    let ticks: f64 = fields
        .get(11)
        .zip(fields.get(12))
        .and_then(|(u, s)| Some(u.parse::<f64>().ok()? + s.parse::<f64>().ok()?))
        .context("utime/stime")?;
    Ok(ticks / 100.0)
}

/// A Lambda Invoke API that answers every call with its payload and passes the payload's
/// `token` member on to `tokens`; returns its base URL.
pub async fn token_function_server(
    tokens: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<String> {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(move |body: axum::body::Bytes| {
            let tokens = tokens.clone();
            async move {
                if let Some(t) = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["token"].as_str().map(str::to_owned))
                {
                    let _ = tokens.send(t);
                }
                ([("content-type", "application/json")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

/// A Lambda Invoke API that answers every call with its payload; returns its base URL.
pub async fn noop_function_server() -> Result<String> {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(|body: axum::body::Bytes| async move {
            (
                [
                    ("content-type", "application/json"),
                    ("x-amz-executed-version", "$LATEST"),
                ],
                body,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

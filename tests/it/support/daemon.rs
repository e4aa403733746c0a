//! [`TestDaemon`]: the `hourglass` binary on port 0 with its own data directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::Client;

/// How long the daemon may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestDaemon {
    child: Option<Child>,
    addr: String,
    data_dir: PathBuf,
    /// Owns the temporary directory so it lives as long as the daemon.
    _temp: Option<tempfile::TempDir>,
    env: Vec<(String, String)>,
    /// Where the daemon's stderr goes when not through a pipe to the test's stderr.
    log_file: Option<PathBuf>,
}

impl TestDaemon {
    /// Start with a fresh data directory.
    pub async fn start() -> Self {
        Self::start_with_env(&[]).await
    }

    /// Start with a fresh data directory and extra environment variables.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().to_path_buf();
        Self::start_on(temp, data_dir, env)
    }

    /// Start with a fresh data directory, its stderr going straight to a file (`daemon.log`
    /// beside the data), as a service manager may set it up; returns the file's path too.
    pub async fn start_logging_to_file(env: &[(&str, &str)]) -> (Self, PathBuf) {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        let log = temp.path().join("daemon.log");
        let mut daemon = Self::start_on_logging(temp, data_dir, env, Some(log.clone()));
        daemon.log_file = Some(log.clone());
        (daemon, log)
    }

    /// Start on a copy of the database file `db` (a fixture), in a fresh directory.
    pub async fn start_from(db: &Path, env: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        std::fs::copy(db, temp.path().join("hourglass.db")).expect("copy the database");
        let data_dir = temp.path().to_path_buf();
        Self::start_on(temp, data_dir, env)
    }

    fn start_on(temp: tempfile::TempDir, data_dir: PathBuf, env: &[(&str, &str)]) -> Self {
        Self::start_on_logging(temp, data_dir, env, None)
    }

    fn start_on_logging(
        temp: tempfile::TempDir,
        data_dir: PathBuf,
        env: &[(&str, &str)],
        log_file: Option<PathBuf>,
    ) -> Self {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, addr) = spawn(&data_dir, &env, log_file.as_deref());
        wait_ready(&addr);
        Self {
            child: Some(child),
            addr,
            data_dir,
            _temp: Some(temp),
            env,
            log_file,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host:port` the daemon listens on.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("daemon running")
    }

    /// An SFN client pointed at this daemon (no retries, so errors surface at once).
    pub fn sfn(&self) -> Client {
        self.sfn_as("test", "test")
    }

    /// An SFN client signing with these keys.
    pub fn sfn_as(&self, access_key_id: &str, secret: &str) -> Client {
        let conf = aws_sdk_sfn::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                access_key_id,
                secret,
                None,
                None,
                "static",
            ))
            .endpoint_url(self.url())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
            .build();
        Client::from_conf(conf)
    }

    /// SIGTERM, wait for a clean exit (asserting exit code 0), start again on the same data.
    pub async fn restart(&mut self) {
        let status = self.terminate();
        assert!(status.success(), "daemon exited with {status} on SIGTERM");
        self.start_again();
    }

    /// SIGKILL, then start again on the same data.
    pub async fn kill9_and_restart(&mut self) {
        self.kill9();
        self.start_again();
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        signal(&child, "-TERM");
        child.wait().expect("wait for daemon")
    }

    /// SIGTERM and wait at most `limit`; panics (after a SIGKILL) if the daemon is still
    /// running then. Returns the exit status.
    pub fn terminate_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        signal(&child, "-TERM");
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait for daemon") {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the daemon did not exit within {limit:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send `sig` (`-STOP`, `-CONT`, ...) to the daemon.
    pub fn signal(&self, sig: &str) {
        signal(self.child.as_ref().expect("daemon running"), sig);
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Set an environment variable for the next [`TestDaemon::start_again`].
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Start again on the same data and wait until `/ready` says recovery is done.
    pub fn start_again(&mut self) {
        self.start_again_unready();
        wait_ready(&self.addr);
    }

    /// Start again on the same data, returning as soon as the daemon serves `/health`.
    pub fn start_again_unready(&mut self) {
        assert!(self.child.is_none(), "daemon still running");
        let (child, addr) = spawn(&self.data_dir, &self.env, self.log_file.as_deref());
        self.child = Some(child);
        self.addr = addr;
    }

    /// The HTTP status of `GET path` (`/health`, `/ready`), or `None` when nothing answered.
    pub fn get_status(&self, path: &str) -> Option<u16> {
        get_status(&self.addr, path)
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `GET path` over a plain TCP connection; the status code of the answer.
pub fn get_status(addr: &str, path: &str) -> Option<u16> {
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

/// Wait until `/ready` answers 200.
fn wait_ready(addr: &str) {
    let deadline = std::time::Instant::now() + START_TIMEOUT;
    while get_status(addr, "/ready") != Some(200) {
        assert!(
            std::time::Instant::now() < deadline,
            "hourglass was not ready within {START_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig} failed");
}

/// The binary under test: this build's, or `TEST_DAEMON_BIN` (to run a test against
/// another build, such as the one before a fix).
pub fn binary() -> PathBuf {
    std::env::var_os("TEST_DAEMON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hourglass")))
}

/// The binary under test without the variables `scripts/test` sets for the tests
/// (`HOURGLASS_TEST_*`): the daemon reads the other `HOURGLASS_*` variables as its
/// configuration and refuses unknown keys.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars_os() {
        if key
            .to_str()
            .is_some_and(|k| k.starts_with("HOURGLASS_TEST_"))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn spawn(data_dir: &Path, env: &[(String, String)], log_file: Option<&Path>) -> (Child, String) {
    let mut cmd = command();
    cmd.args(["serve", "--port", "0", "--data-dir"])
        .arg(data_dir)
        // Run from the data dir so no config/hourglass.toml of the checkout is picked up.
        .current_dir(data_dir)
        .env("HOURGLASS_LOG", "warn")
        .env_remove("WAIT_TIME_SCALE")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ACCOUNT_ID")
        .env_remove("LAMBDA_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Through a pipe, not the test's own stderr: when that is a file, a test that lowers
        // the daemon's file size limit (RLIMIT_FSIZE) would make its log writes fail too.
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(path) = log_file {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open the daemon's log file");
        cmd.stderr(file);
    }
    let mut child = cmd.spawn().expect("spawn hourglass");
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stderr, &mut std::io::stderr());
        });
    }
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if let Some(addr) = line.strip_prefix("hourglass listening on http://") {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(addr) => (child, addr),
        Err(_) => {
            let _ = child.kill();
            panic!("hourglass did not print its address within {START_TIMEOUT:?}");
        }
    }
}

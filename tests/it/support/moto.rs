//! [`TestMoto`]: moto's server, the emulator of SQS, SNS, DynamoDB, EventBridge and S3 that
//! service integrations are tested against.
//!
//! `moto_server` from the test environment (`scripts/test` installs it into `.venv-test`) runs
//! on a free loopback port for one test and is killed on drop. All services share the one
//! endpoint, account `123456789012` and any credentials; moto does not check signatures. A test
//! talks to it with the AWS CLI ([`TestMoto::aws`]), boto3 ([`TestMoto::python`]) or raw HTTP
//! ([`TestMoto::request`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::test_venv;

/// How long moto may take to import itself and answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

pub struct TestMoto {
    child: Child,
    port: u16,
    venv: PathBuf,
    /// Holds moto's log; taken when a server that could not bind is replaced.
    dir: Option<tempfile::TempDir>,
}

impl TestMoto {
    /// Start `moto_server` and wait until it answers.
    pub async fn start() -> Self {
        let venv = test_venv();
        let server = venv.join("bin/moto_server");
        assert!(
            server.exists(),
            "{} not found: run the tests with scripts/test, which installs moto[server] into {}",
            server.display(),
            venv.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("hourglass-moto-")
            .tempdir()
            .expect("temp dir for moto");
        let mut moto = Self::spawn(&server, venv.clone(), dir);
        // Another process may take the free port before moto binds it: try a few.
        for _ in 1..3 {
            if moto.wait_until_it_answers().await {
                return moto;
            }
            moto = Self::spawn(&server, venv.clone(), moto.into_dir());
        }
        assert!(
            moto.wait_until_it_answers().await,
            "moto_server exited\n{}",
            moto.log()
        );
        moto
    }

    fn spawn(server: &Path, venv: PathBuf, dir: tempfile::TempDir) -> Self {
        let log = std::fs::File::create(dir.path().join("moto.log")).expect("moto log");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("moto log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", server.display()));
        Self {
            child,
            port,
            venv,
            dir: Some(dir),
        }
    }

    /// Stop this server, keeping its directory for the next.
    fn into_dir(mut self) -> tempfile::TempDir {
        self.dir.take().expect("moto's directory")
    }

    /// `http://127.0.0.1:PORT`, for every service.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Run `aws <args> --output json` against moto and return what it printed as JSON
    /// (`null` for no output); panics when the command fails.
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .aws_command()
            .args(args)
            .args(["--output", "json"])
            .output()
            .expect("run the aws cli");
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if out.stdout.iter().all(u8::is_ascii_whitespace) {
            return serde_json::Value::Null;
        }
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("aws {args:?} printed no JSON ({e})"))
    }

    /// The AWS CLI, pointed at moto with test credentials and no user configuration; the
    /// command and its arguments follow.
    pub fn aws_command(&self) -> Command {
        let mut cmd = self.with_aws_env(Command::new(self.venv.join("bin/aws")));
        // Version 1 of the CLI does not read AWS_ENDPOINT_URL.
        cmd.args(["--endpoint-url", &self.endpoint()]);
        cmd
    }

    /// The test environment's Python with the same credentials, and `AWS_ENDPOINT_URL` so that
    /// `boto3.client("sqs")` talks to moto: `moto.python().args(["-c", script])`.
    pub fn python(&self) -> Command {
        self.with_aws_env(Command::new(self.venv.join("bin/python")))
    }

    /// A raw request to `service` (`sqs`, `sns`, `dynamodb`, `events`, `s3`): moto routes by
    /// the service named in the credential scope of the `Authorization` header, whose
    /// signature it does not check.
    pub fn request(
        &self,
        service: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.endpoint()))
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=test/20250101/{REGION}/{service}/aws4_request, \
                     SignedHeaders=host, Signature=0"
                ),
            )
    }

    /// Forget every resource (`POST /moto-api/reset`).
    pub async fn reset(&self) {
        let status = reqwest::Client::new()
            .post(format!("{}/moto-api/reset", self.endpoint()))
            .send()
            .await
            .expect("reset moto")
            .status();
        assert!(status.is_success(), "moto reset answered {status}");
    }

    fn with_aws_env(&self, mut cmd: Command) -> Command {
        cmd.env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::null());
        cmd
    }

    /// True once moto answers; false if it exited (its port was taken).
    async fn wait_until_it_answers(&mut self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        let url = format!("{}/moto-api/", self.endpoint());
        loop {
            if reqwest::get(&url).await.is_ok() {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer within {START_TIMEOUT:?}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        let text = self
            .dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.path().join("moto.log")).ok())
            .unwrap_or_default();
        format!("moto's log:\n{text}")
    }
}

impl Drop for TestMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

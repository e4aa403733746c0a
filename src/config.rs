//! Configuration: every setting has a default, so `hourglass serve` needs no file.
//!
//! Sources, lowest priority first (later ones override earlier ones):
//! 1. built-in defaults ([`Config::default`]);
//! 2. `config/hourglass.toml` when it exists, or the file given with `--config`;
//! 3. `HOURGLASS_*` environment variables, nested with `__` (`HOURGLASS_SQLITE__SYNCHRONOUS=NORMAL`);
//! 4. the Step Functions Local variables `AWS_DEFAULT_REGION`, `AWS_ACCOUNT_ID`,
//!    `LAMBDA_ENDPOINT` and `WAIT_TIME_SCALE`;
//! 5. command-line flags.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The largest `timer.max_in_flight` accepted.
pub const MAX_TIMERS_IN_FLIGHT: usize = 1_000_000;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config/hourglass.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1`.
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one. Default `8083` (as Step Functions Local).
    pub port: u16,
    /// Where the SQLite database lives; created when missing. Default `./data`.
    pub data_dir: PathBuf,
    /// A `postgres://` URL puts the daemon on that PostgreSQL database, which several nodes
    /// may share (a cluster); anything else, or nothing, keeps SQLite under `data_dir`. Also
    /// `HOURGLASS_DATABASE_URL` and `--database-url`. Default: none.
    pub database_url: Option<String>,
    /// This node's name in a cluster. Default: the host name and the port.
    pub node_id: Option<String>,
    /// Account id in the ARNs this server issues. Default `123456789012`.
    #[serde(deserialize_with = "string_or_number")]
    pub account_id: String,
    /// Region in the ARNs this server issues. Default `us-east-1`.
    pub region: String,
    /// Multiplies every Wait duration when its deadline is computed; 0 means no waiting. Default `1.0`.
    pub wait_time_scale: f64,
    /// Base URL of the Lambda Invoke API. Default `http://127.0.0.1:3001`.
    pub lambda_endpoint: String,
    /// Days a closed execution and its history are kept (AWS keeps them 90); 0 keeps them
    /// forever. Fractions are allowed. Default `90`.
    pub retention_days: f64,
    /// Seconds between retention sweeps. Default `60`.
    pub retention_sweep_secs: u64,
    /// On SIGTERM, seconds to let Lambda calls in flight finish before stopping anyway (their
    /// executions call again after the next start). Default `4`.
    pub shutdown_grace_secs: u64,
    /// Step Functions Local's mock file (`SFN_MOCK_CONFIG`): executions started on
    /// `stateMachineArn#TestCase` answer the Task states it names from it. Default: none.
    pub mock_config: Option<PathBuf>,
    /// The EventBridge connections HTTP Tasks name, by ARN or name ([`crate::invoke::connections`]).
    /// Default: none (a request through a connection not listed goes without its credentials).
    pub connections: std::collections::BTreeMap<String, crate::invoke::connections::Connection>,
    pub lambda: LambdaConfig,
    pub integrations: IntegrationsConfig,
    pub sqlite: SqliteConfig,
    pub writer: WriterConfig,
    pub timer: TimerConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub console: ConsoleConfig,
    pub limits: LimitsConfig,
    pub cluster: ClusterConfig,
    pub postgres: PostgresConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Partitions executions are spread over; fixed when the database is first initialised
    /// (a later value is ignored, with a warning). Default `64`.
    pub partitions: u64,
    /// Seconds a partition lease lasts; a dead node's timers fire late by at most about this.
    /// Default `10`.
    pub lease_secs: u64,
    /// The URL other nodes reach this one's API at, for requests they forward. Default:
    /// `http://` + the bind address (the host name when bound to every interface) + the port.
    pub advertise_url: Option<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            partitions: 64,
            lease_secs: 10,
            advertise_url: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Connections for reads (the writer has one more of its own, and the lease manager two);
    /// keep the nodes' total under a managed server's limit. Default `8`.
    pub max_connections: u32,
    /// Seconds to wait for a connection. Default `10`.
    pub connect_timeout_secs: u64,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connect_timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Verify the SigV4 signature of every API request against `keys`. Default `false`: any
    /// request is served, as Step Functions Local does.
    pub enabled: bool,
    /// Access key id → secret access key. From the environment:
    /// `HOURGLASS_AUTH__KEYS__<ACCESS_KEY_ID>=<secret>`. Default: none.
    pub keys: std::collections::BTreeMap<String, String>,
    /// Most seconds a request's `X-Amz-Date` may be from the server's clock. Default `300`.
    pub max_skew_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            keys: Default::default(),
            max_skew_secs: 300,
        }
    }
}

/// The web console at `/console/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve the console. Default `true`.
    pub enabled: bool,
    /// HTTP Basic credentials the console asks for when set; with `auth.enabled` it is off
    /// until both are. They cross the network as they are: put TLS in front. Default: none.
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            username: None,
            password: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Most executions open (RUNNING) at once; past it StartExecution answers
    /// `ExecutionLimitExceeded`. 0 means no cap. Default `0`.
    pub max_open_executions: u64,
    /// Most events in one execution's history; an execution that would write more fails
    /// with `States.Runtime`, as AWS fails it at 25,000. Default `25000`.
    pub max_history_events: i64,
    /// Most API requests handled at once; past it requests are answered
    /// `ThrottlingException` at once (the AWS SDKs retry it). Default `1024`.
    pub max_concurrent_requests: usize,
    /// Seconds a client waits for an answer before `ServiceUnavailableException` (the work
    /// goes on and may still take effect, as with any timed-out request). Default `30`.
    pub request_timeout_secs: u64,
    /// Longest an execution of an Express machine runs before it times out
    /// (`States.Timeout`), as AWS's five minutes. Default `300`.
    pub express_max_duration_secs: u64,
    /// Seconds a client connection may stay open with no request before the daemon closes
    /// it, and the longest a client may take to send a request's head; 0 never closes idle
    /// connections; at most a day. Each open connection costs about 12 KiB. Default `60`.
    pub idle_connection_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_open_executions: 0,
            max_history_events: 25_000,
            max_concurrent_requests: 1024,
            request_timeout_secs: 30,
            express_max_duration_secs: 300,
            idle_connection_secs: 60,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LambdaConfig {
    /// Seconds to wait for a connection to the Lambda endpoint. Default `5`.
    pub connect_timeout_secs: u64,
    /// Seconds to wait for a function's answer (Lambda's own maximum is 900). Default `900`.
    pub response_timeout_secs: u64,
    /// Most calls in flight to one function. Default `100`.
    pub max_concurrency_per_function: usize,
    /// Most calls in flight over all functions; each holds its result until it is recorded.
    /// Default `1024`.
    pub max_calls_in_flight: usize,
    /// SigV4-sign calls with the credentials below. Calls to an `https://` endpoint on
    /// `amazonaws.com` are signed whatever this says; calls elsewhere (`sam local`, the Runtime
    /// Interface Emulator) only when this is `true`, so credentials are never sent to a local
    /// emulator, nor a session token over plain HTTP, unless asked for. Default `false`.
    pub sign: bool,
    /// With `secret_access_key`, the key calls are signed with. Also read from
    /// `AWS_ACCESS_KEY_ID`. Default: none.
    pub access_key_id: Option<String>,
    /// Also read from `AWS_SECRET_ACCESS_KEY`. Default: none.
    pub secret_access_key: Option<String>,
    /// Also read from `AWS_SESSION_TOKEN`. Default: none.
    pub session_token: Option<String>,
}

/// The AWS services Task states call besides Lambda (`crate::model::services`). Each endpoint
/// defaults to the service's regional AWS endpoint (`https://sqs.REGION.amazonaws.com`, ...).
/// Calls are SigV4-signed with `lambda.access_key_id` / `lambda.secret_access_key` when they go
/// to AWS (or `sign` is set), and with placeholder keys otherwise, which local emulators take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrationsConfig {
    /// Also `SQS_ENDPOINT`. Default: AWS's.
    pub sqs_endpoint: Option<String>,
    /// Also `SNS_ENDPOINT`. Default: AWS's.
    pub sns_endpoint: Option<String>,
    /// Also `DYNAMODB_ENDPOINT`. Default: AWS's.
    pub dynamodb_endpoint: Option<String>,
    /// EventBridge; also `EVENTS_ENDPOINT` or `EVENTBRIDGE_ENDPOINT`. Default: AWS's.
    pub events_endpoint: Option<String>,
    /// Step Functions, for `aws-sdk:sfn:*`; also `STEP_FUNCTIONS_ENDPOINT`. Default: AWS's.
    pub step_functions_endpoint: Option<String>,
    /// S3, which a Map's `ItemReader` reads; also `S3_ENDPOINT`. Default: AWS's.
    pub s3_endpoint: Option<String>,
    /// Secrets Manager, for `aws-sdk:secretsmanager:*`; also `SECRETSMANAGER_ENDPOINT`.
    /// Default: AWS's.
    pub secretsmanager_endpoint: Option<String>,
    /// Systems Manager (Parameter Store), for `aws-sdk:ssm:*`; also `SSM_ENDPOINT`.
    /// Default: AWS's.
    pub ssm_endpoint: Option<String>,
    /// Seconds to wait for a connection. Default `5`.
    pub connect_timeout_secs: u64,
    /// Seconds to wait for an answer. Default `60`.
    pub response_timeout_secs: u64,
    /// Most calls in flight to one service. Default `100`.
    pub max_concurrency_per_service: usize,
    /// Sign calls to endpoints that are not AWS's with the configured keys too. Default `false`.
    pub sign: bool,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        Self {
            sqs_endpoint: None,
            sns_endpoint: None,
            dynamodb_endpoint: None,
            events_endpoint: None,
            step_functions_endpoint: None,
            s3_endpoint: None,
            secretsmanager_endpoint: None,
            ssm_endpoint: None,
            connect_timeout_secs: 5,
            response_timeout_secs: 60,
            max_concurrency_per_service: 100,
            sign: false,
        }
    }
}

impl IntegrationsConfig {
    /// The configured endpoint of a service, by its signing name.
    pub fn endpoint(&self, signing_name: &str) -> Option<&str> {
        match signing_name {
            "sqs" => self.sqs_endpoint.as_deref(),
            "sns" => self.sns_endpoint.as_deref(),
            "dynamodb" => self.dynamodb_endpoint.as_deref(),
            "events" => self.events_endpoint.as_deref(),
            "states" => self.step_functions_endpoint.as_deref(),
            "s3" => self.s3_endpoint.as_deref(),
            "secretsmanager" => self.secretsmanager_endpoint.as_deref(),
            "ssm" => self.ssm_endpoint.as_deref(),
            _ => None,
        }
    }
}

impl Default for LambdaConfig {
    fn default() -> Self {
        Self {
            connect_timeout_secs: 5,
            response_timeout_secs: 900,
            max_concurrency_per_function: 100,
            max_calls_in_flight: 1024,
            sign: false,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteConfig {
    /// SQLite's `synchronous`: `FULL` (survives power loss) or `NORMAL` (a crash). Default `FULL`.
    pub synchronous: Synchronous,
    /// Connections for reads. Default `4`.
    pub read_connections: u32,
    /// Largest the database file may grow, in MiB (0: no cap); past it writes are refused
    /// with `ServiceUnavailableException` as on a full disk, and reads go on. Default `0`.
    pub max_size_mib: u64,
    /// WAL pages gathered before the writer copies them into the database (SQLite's
    /// `wal_autocheckpoint`; BENCHMARKS.md has a larger value tried). Default `1000`.
    pub checkpoint_pages: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WriterConfig {
    /// Write requests that may wait for the writer; past this, callers are throttled. Default `16384`.
    pub queue_capacity: usize,
    /// Most write requests committed in one transaction. Default `1024`.
    pub max_batch: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimerConfig {
    /// How far ahead (seconds) deadlines are held in memory; later ones stay on disk. Default `60`.
    pub horizon_secs: u64,
    /// Most timers loaded from disk per page. Default `10000`.
    pub load_batch: usize,
    /// Most timers handled at once; four times as many while over 50 ms late. Default `256`.
    pub max_in_flight: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for people, `json` for log pipelines. Default `pretty`.
    pub format: LogFormat,
    /// Which events are logged, as a `tracing` filter (`debug`, `info,hourglass=debug`); also
    /// read from `RUST_LOG` and, above it, `HOURGLASS_LOG`. Default `info`.
    pub level: String,
}

pub use crate::telemetry::LogFormat;

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 8083,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            node_id: None,
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            wait_time_scale: 1.0,
            lambda_endpoint: "http://127.0.0.1:3001".into(),
            retention_days: 90.0,
            retention_sweep_secs: 60,
            shutdown_grace_secs: 4,
            mock_config: None,
            lambda: LambdaConfig::default(),
            integrations: IntegrationsConfig::default(),
            connections: Default::default(),
            sqlite: SqliteConfig::default(),
            writer: WriterConfig::default(),
            timer: TimerConfig::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            console: ConsoleConfig::default(),
            limits: LimitsConfig::default(),
            cluster: ClusterConfig::default(),
            postgres: PostgresConfig::default(),
        }
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            read_connections: 4,
            max_size_mib: 0,
            checkpoint_pages: 1000,
        }
    }
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 16_384,
            max_batch: 1024,
        }
    }
}

impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            horizon_secs: 60,
            load_batch: 10_000,
            max_in_flight: 256,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers in force.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    /// The layered sources in priority order (see the module docs).
    pub fn figment(config_file: Option<&Path>, overrides: &Overrides) -> Figment {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        match config_file {
            Some(file) => f = f.merge(Toml::file_exact(file)),
            None => {
                if Path::new(DEFAULT_CONFIG_FILE).exists() {
                    f = f.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
                }
            }
        }
        // Account ids are digit strings that may start with 0: read them as text, never as
        // numbers (figment's Env parses "000011112222" as an integer).
        let account = |var: &str| {
            std::env::var(var)
                .ok()
                .map(|v| Serialized::default("account_id", v))
        };
        // HOURGLASS_TEST_* variables belong to the test suite, not to the daemon.
        let mut f = f.merge(
            Env::prefixed("HOURGLASS_")
                .filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_"))
                .split("__")
                .ignore(&["LOG", "ACCOUNT_ID"]),
        );
        if let Some(a) = account("HOURGLASS_ACCOUNT_ID") {
            f = f.merge(a);
        }
        f = f
            .merge(
                Env::raw()
                    .only(&["AWS_DEFAULT_REGION"])
                    .map(|_| "region".into()),
            )
            .merge(
                Env::raw()
                    .only(&["LAMBDA_ENDPOINT"])
                    .map(|_| "lambda_endpoint".into()),
            )
            .merge(
                Env::raw()
                    .only(&["WAIT_TIME_SCALE"])
                    .map(|_| "wait_time_scale".into()),
            )
            .merge(
                Env::raw()
                    .only(&["SFN_MOCK_CONFIG"])
                    .map(|_| "mock_config".into()),
            )
            // Step Functions Local's endpoint variables.
            .merge(
                Env::raw()
                    .only(&[
                        "SQS_ENDPOINT",
                        "SNS_ENDPOINT",
                        "DYNAMODB_ENDPOINT",
                        "EVENTBRIDGE_ENDPOINT",
                        "EVENTS_ENDPOINT",
                        "STEP_FUNCTIONS_ENDPOINT",
                        "S3_ENDPOINT",
                        "SECRETSMANAGER_ENDPOINT",
                        "SSM_ENDPOINT",
                    ])
                    .map(|k| {
                        let key = match k.as_str() {
                            "SQS_ENDPOINT" => "sqs_endpoint",
                            "SNS_ENDPOINT" => "sns_endpoint",
                            "DYNAMODB_ENDPOINT" => "dynamodb_endpoint",
                            "STEP_FUNCTIONS_ENDPOINT" => "step_functions_endpoint",
                            "S3_ENDPOINT" => "s3_endpoint",
                            "SECRETSMANAGER_ENDPOINT" => "secretsmanager_endpoint",
                            "SSM_ENDPOINT" => "ssm_endpoint",
                            _ => "events_endpoint",
                        };
                        format!("integrations.{key}").into()
                    }),
            )
            .merge(Env::raw().only(&["RUST_LOG"]).map(|_| "log.level".into()))
            .merge(
                Env::raw()
                    .only(&["HOURGLASS_LOG"])
                    .map(|_| "log.level".into()),
            )
            // The standard AWS credential variables are the keys Lambda calls are signed with.
            .merge(
                Env::raw()
                    .only(&[
                        "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY",
                        "AWS_SESSION_TOKEN",
                    ])
                    .map(|k| {
                        format!(
                            "lambda.{}",
                            k.as_str().to_ascii_lowercase().trim_start_matches("aws_")
                        )
                        .into()
                    }),
            );
        if let Some(a) = account("AWS_ACCOUNT_ID") {
            f = f.merge(a);
        }
        f.merge(Serialized::defaults(overrides))
    }

    /// Load and check the configuration.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let config: Config = Self::figment(config_file, overrides)
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(self.wait_time_scale.is_finite() && self.wait_time_scale >= 0.0) {
            return Err(ConfigError(format!(
                "wait_time_scale: must be a finite number >= 0, got {}",
                self.wait_time_scale
            )));
        }
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError(format!(
                "account_id: must be 12 digits, got '{}'",
                self.account_id
            )));
        }
        match reqwest::Url::parse(&self.lambda_endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(ConfigError(format!(
                    "lambda_endpoint: must be an http:// or https:// URL, got '{}'",
                    self.lambda_endpoint
                )))
            }
        }
        for (key, url) in [
            ("sqs_endpoint", &self.integrations.sqs_endpoint),
            ("sns_endpoint", &self.integrations.sns_endpoint),
            ("dynamodb_endpoint", &self.integrations.dynamodb_endpoint),
            ("events_endpoint", &self.integrations.events_endpoint),
            (
                "step_functions_endpoint",
                &self.integrations.step_functions_endpoint,
            ),
            ("s3_endpoint", &self.integrations.s3_endpoint),
            (
                "secretsmanager_endpoint",
                &self.integrations.secretsmanager_endpoint,
            ),
            ("ssm_endpoint", &self.integrations.ssm_endpoint),
        ] {
            let Some(url) = url else { continue };
            match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
                _ => {
                    return Err(ConfigError(format!(
                        "integrations.{key}: must be an http:// or https:// URL, got '{url}'"
                    )))
                }
            }
        }
        for (name, c) in &self.connections {
            if let Some(problem) = c.problem() {
                return Err(ConfigError(format!("connections.\"{name}\": {problem}")));
            }
        }
        if let Some(path) = &self.mock_config {
            crate::invoke::mocks::MockConfig::load(path)
                .map_err(|e| ConfigError(format!("mock_config: {e}")))?;
        }
        if self.region.is_empty() {
            return Err(ConfigError("region: must not be empty".into()));
        }
        if self.writer.queue_capacity == 0 || self.writer.max_batch == 0 {
            return Err(ConfigError(
                "writer: queue_capacity and max_batch must be at least 1".into(),
            ));
        }
        if !(self.retention_days.is_finite() && self.retention_days >= 0.0) {
            return Err(ConfigError(format!(
                "retention_days: must be a finite number >= 0, got {}",
                self.retention_days
            )));
        }
        if self.retention_sweep_secs == 0 {
            return Err(ConfigError(
                "retention_sweep_secs: must be at least 1".into(),
            ));
        }
        if self.timer.load_batch == 0 || self.timer.max_in_flight == 0 {
            return Err(ConfigError(
                "timer: load_batch and max_in_flight must be at least 1".into(),
            ));
        }
        // Four times as many run while behind; each holds a task and a commit's place.
        if self.timer.max_in_flight > MAX_TIMERS_IN_FLIGHT {
            return Err(ConfigError(format!(
                "timer.max_in_flight must be at most {MAX_TIMERS_IN_FLIGHT}"
            )));
        }
        if let Some(url) = self.postgres_url() {
            if reqwest::Url::parse(url).is_err() {
                return Err(ConfigError(format!(
                    "database_url: not a URL: '{}'",
                    redact_password(url)
                )));
            }
        }
        if self.cluster.partitions == 0 || self.cluster.lease_secs < 2 {
            return Err(ConfigError(
                "cluster: partitions must be at least 1 and lease_secs at least 2".into(),
            ));
        }
        // SQLite keys a history row by execution and event id, with 24 bits for the id.
        if !(1..=16_777_215).contains(&self.limits.max_history_events) {
            return Err(ConfigError(
                "limits: max_history_events must be from 1 to 16777215".into(),
            ));
        }
        if self.limits.max_concurrent_requests == 0 || self.limits.request_timeout_secs == 0 {
            return Err(ConfigError(
                "limits: max_concurrent_requests and request_timeout_secs must be at least 1"
                    .into(),
            ));
        }
        // hyper adds it to the clock: a day is far past any client's idle limit.
        if self.limits.idle_connection_secs > 86_400 {
            return Err(ConfigError(
                "limits: idle_connection_secs must be from 0 to 86400".into(),
            ));
        }
        if self.lambda.max_calls_in_flight == 0 || self.lambda.max_concurrency_per_function == 0 {
            return Err(ConfigError(
                "lambda: max_calls_in_flight and max_concurrency_per_function must be at least 1"
                    .into(),
            ));
        }
        crate::telemetry::check_filter(&self.log.level).map_err(|e| {
            ConfigError(format!(
                "log.level (also HOURGLASS_LOG, RUST_LOG): '{}' is not a log filter: {e}",
                self.log.level
            ))
        })?;
        Ok(())
    }

    /// A copy safe to print: secrets replaced by `***`.
    pub fn redacted(&self) -> Self {
        let mut c = self.clone();
        let hide = |v: &mut Option<String>| {
            if v.is_some() {
                *v = Some("***".into());
            }
        };
        hide(&mut c.lambda.secret_access_key);
        if let Some(url) = c.database_url.as_mut() {
            *url = redact_password(url);
        }
        hide(&mut c.lambda.session_token);
        for secret in c.auth.keys.values_mut() {
            *secret = "***".into();
        }
        hide(&mut c.console.password);
        c
    }

    /// The PostgreSQL URL, when the daemon runs on PostgreSQL.
    pub fn postgres_url(&self) -> Option<&str> {
        self.database_url
            .as_deref()
            .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("hourglass.db")
    }
}

/// This machine's host name (for a node's default name and address).
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A database URL with its password (if any) replaced by `***`.
fn redact_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Account ids are digits, so environment variables deliver them as numbers.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    Ok(match Either::deserialize(d)? {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    })
}

/// A configuration that cannot be used; the text names the key and the problem.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests;

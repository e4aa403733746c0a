//! hourglass: a durable delayed-task scheduler that speaks the AWS Step Functions API.
//!
//! | module | owns |
//! |---|---|
//! | [`api`] | the AWS JSON 1.0 edge: decode, validate shapes, call engine/store, encode |
//! | [`engine`] | execution lifecycles: event → `asl::step` → commit → effects |
//! | [`asl`] | the Amazon States Language, pure: parse, validate, evaluate, step |
//! | [`store`] | SQL: the ports and rows, SQLite (embedded) and PostgreSQL (cluster), each with one group-committing writer and its read queries; copying SQLite into PostgreSQL |
//! | [`cluster`] | partition ownership: the lease manager, epochs that fence commits, who holds what |
//! | `backend` | opening the store the configuration names, and closing it in order |
//! | [`invoke`] | calling Lambda over its Invoke HTTP API |
//! | [`timer`] | the in-memory window of deadlines (a hashed timing wheel) and its loader |
//! | [`model`] | the shared vocabulary: ARNs, names, ids, statuses, event types, hash, random |
//! | `console` | the web console at `/console/`: pages over the engine's queries |
//! | [`config`], [`telemetry`], [`metrics`], [`sigv4`] | settings, logs, Prometheus metrics, the one SigV4 signer |
//!
//! [`serve`] wires them together; `main.rs` only parses flags and calls it.

#![forbid(unsafe_code)]

pub mod api;
pub mod asl;
mod backend;
pub mod cluster;
pub mod config;
mod console;
pub mod engine;
pub mod http;
pub mod invoke;
pub mod metrics;
pub mod model;
pub mod sigv4;
pub mod store;
pub mod telemetry;
pub mod timer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::asl::StepConfig;
use crate::config::Config;
use crate::engine::{CallLimits, Engine, EngineConfig};
use crate::invoke::lambda::{LambdaInvoker, LambdaSettings, SigningKeys};
use crate::invoke::services::{ServiceInvoker, ServiceSettings};
use crate::invoke::{Invoker, Invokers};
use crate::timer::{SystemClock, TimerService};

/// The store the daemon runs on.
pub use store::Db;

/// Run the daemon on `listener` until `shutdown` is cancelled.
///
/// The HTTP server starts at once: `/health` answers from the first moment, `/ready` answers
/// 503 (and every API request `ServiceUnavailableException`) until recovery is done — the
/// database opened and migrated, the first page of due timers loaded, and the first pass over
/// unfinished calls started; in a cluster `/ready` also waits for a partition. The line
/// `hourglass listening on http://ADDR` is printed on stdout as soon as the socket serves.
///
/// On `shutdown`, in order: stop accepting requests → stop firing timers → let calls in
/// flight finish for `shutdown_grace_secs` → give up the partitions (a cluster) → commit the
/// last batch → close the database.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let addr = listener.local_addr().context("reading the bound address")?;
    let ready = Arc::new(AtomicBool::new(false));
    let engine_slot = Arc::new(OnceLock::new());
    let forwarder_slot = Arc::new(OnceLock::new());
    if config.auth.enabled && config.auth.keys.is_empty() {
        tracing::warn!("auth.enabled is set but auth.keys is empty: every request will be refused");
    }
    let app = api::App {
        engine: engine_slot.clone(),
        ready: ready.clone(),
        auth: config.auth.enabled.then(|| {
            Arc::new(api::auth::Verifier::new(
                &config.auth.keys,
                &config.region,
                Duration::from_secs(config.auth.max_skew_secs),
            ))
        }),
        requests: Arc::new(tokio::sync::Semaphore::new(
            config.limits.max_concurrent_requests.max(1),
        )),
        request_timeout: Duration::from_secs(config.limits.request_timeout_secs.max(1)),
        forwarder: forwarder_slot.clone(),
    };
    let http = tokio::spawn(http::serve(
        listener,
        api::router(app.clone()).merge(console::router(app, &config)),
        shutdown.clone(),
        Duration::from_secs(config.limits.idle_connection_secs),
    ));
    // Not println!, which panics when stdout is closed: the line is for whoever reads it.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "hourglass listening on http://{addr}").and_then(|()| out.flush());
    }
    tracing::info!(%addr, "serving; recovering");

    let opened = tokio::select! {
        r = backend::open(&config, addr) => Some(r),
        _ = shutdown.cancelled() => None,
    };
    let Some(opened) = opened else {
        return stop_http(http).await;
    };
    let backend = opened?;
    let store = backend.store.clone();
    let ownership = backend.ownership.clone();
    if let Some(cluster) = &backend.cluster {
        let _ = forwarder_slot.set(cluster.forwarder.clone());
    }

    let clock = Arc::new(SystemClock);
    let timers = Arc::new(TimerService::new(
        store.clone(),
        ownership.clone(),
        clock.clone(),
        config.timer.horizon_secs,
        config.timer.load_batch,
    ));
    let mocks = match &config.mock_config {
        Some(path) => Some(Arc::new(
            crate::invoke::mocks::MockConfig::load(path).map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    let services = Arc::new(
        ServiceInvoker::new(service_settings(&config), config.connections.clone())
            .context("building the AWS services client")?,
    );
    let remote_step_functions = config
        .integrations
        .step_functions_endpoint
        .as_deref()
        .filter(|url| !is_this_server(url, addr, &config))
        .map(|_| services.clone());
    let invoker: Arc<dyn Invoker> = Arc::new(Invokers {
        mocks: mocks.clone(),
        lambda: Arc::new(
            LambdaInvoker::new(lambda_settings(&config)).context("building the Lambda client")?,
        ),
        services,
    });
    let engine = Arc::new(
        Engine::new(
            store.clone(),
            timers.clone(),
            clock,
            EngineConfig {
                region: config.region.clone(),
                account_id: config.account_id.clone(),
                step: StepConfig {
                    wait_time_scale: config.wait_time_scale,
                    max_history_events: config.limits.max_history_events,
                },
                max_open_executions: config.limits.max_open_executions,
                max_steps: std::thread::available_parallelism().map_or(2, |n| n.get()),
                mocks,
                remote_step_functions,
                invoker: Some(invoker.clone()),
                express_max_duration_secs: config.limits.express_max_duration_secs,
                calls: CallLimits {
                    max_in_flight: config.lambda.max_calls_in_flight,
                    max_queued: config.writer.queue_capacity,
                    page: config.timer.load_batch,
                    ..CallLimits::default()
                },
            },
            ownership.clone(),
        )
        .await
        .context("starting the engine")?,
    );

    // A cluster node takes its share of partitions before it recovers them.
    let leases_stop = CancellationToken::new();
    let leases_task = backend.cluster.as_ref().map(|cluster| {
        tokio::spawn(cluster::leases::run(
            cluster.leases.clone(),
            cluster.settings.clone(),
            ownership.clone(),
            cluster.directory.clone(),
            engine.clone(),
            leases_stop.clone(),
        ))
    });

    // Recovery: the first page of due timers (overdue ones first; later pages follow as these
    // fire, so memory stays bounded however long the daemon was down), pending deletes that
    // lost their last execution to a crash, and the first pass over unfinished calls.
    timers.load().await.context("loading timers")?;
    engine
        .finish_pending_deletes()
        .await
        .context("finishing pending deletes")?;
    let background = TaskTracker::new();
    let timer_stop = CancellationToken::new();
    let (fired_tx, fired_rx) = mpsc::channel(config.timer.max_in_flight.max(1));
    background.spawn(timers.clone().run(fired_tx, timer_stop.clone()));
    background.spawn(engine.clone().run_timers(
        fired_rx,
        config.timer.max_in_flight,
        timer_stop.clone(),
    ));
    background.spawn(engine.clone().run_calls(
        invoker,
        timer_stop.clone(),
        Duration::from_secs(config.shutdown_grace_secs),
    ));
    if config.retention_days > 0.0 {
        background.spawn(engine.clone().run_retention(
            Duration::from_secs_f64(config.retention_days * 86_400.0),
            Duration::from_secs(config.retention_sweep_secs),
            timer_stop.clone(),
        ));
    }
    background.close();
    let _ = engine_slot.set(engine.clone());
    ready.store(true, Ordering::Release);
    tracing::info!("ready");

    shutdown.cancelled().await;
    let served = http.await;
    tracing::info!("shutting down");
    timer_stop.cancel();
    background.wait().await;
    leases_stop.cancel();
    if let Some(task) = leases_task {
        task.await.context("the lease manager panicked")?;
    }
    drop((engine, engine_slot, timers, store));
    backend.close().await?;
    served
        .context("the HTTP server panicked")?
        .context("serving HTTP")?;
    Ok(())
}

/// Shut down before recovery finished: only the HTTP server is running.
async fn stop_http(http: tokio::task::JoinHandle<std::io::Result<()>>) -> anyhow::Result<()> {
    http.await
        .context("the HTTP server panicked")?
        .context("serving HTTP")?;
    Ok(())
}

fn lambda_settings(config: &Config) -> LambdaSettings {
    let l = &config.lambda;
    let signing = match (&l.access_key_id, &l.secret_access_key) {
        (Some(id), Some(secret))
            if !id.is_empty() && !secret.is_empty() && signs_lambda_calls(config) =>
        {
            Some(SigningKeys {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
                session_token: l.session_token.clone(),
                region: config.region.clone(),
            })
        }
        _ => None,
    };
    LambdaSettings {
        endpoint: config.lambda_endpoint.clone(),
        connect_timeout: Duration::from_secs(l.connect_timeout_secs),
        response_timeout: Duration::from_secs(l.response_timeout_secs),
        max_concurrency_per_function: l.max_concurrency_per_function,
        signing,
    }
}

fn service_settings(config: &Config) -> ServiceSettings {
    let i = &config.integrations;
    let l = &config.lambda;
    let keys = match (&l.access_key_id, &l.secret_access_key) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some(SigningKeys {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: l.session_token.clone(),
            region: config.region.clone(),
        }),
        _ => None,
    };
    ServiceSettings {
        endpoints: crate::model::services::SERVICES
            .iter()
            .filter_map(|s| Some((s.signing_name, i.endpoint(s.signing_name)?.to_owned())))
            .chain([("lambda", config.lambda_endpoint.clone())])
            .collect(),
        region: config.region.clone(),
        connect_timeout: Duration::from_secs(i.connect_timeout_secs),
        response_timeout: Duration::from_secs(i.response_timeout_secs),
        max_concurrency_per_service: i.max_concurrency_per_service,
        keys,
        sign_everywhere: i.sign,
    }
}

/// Whether `url` reaches this server (bound at `addr`): then nested executions run here, as
/// Step Functions Local runs them when `STEP_FUNCTIONS_ENDPOINT` names itself.
fn is_this_server(url: &str, addr: std::net::SocketAddr, config: &Config) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    if config
        .cluster
        .advertise_url
        .as_deref()
        .map(|a| a.trim_end_matches('/'))
        == Some(url.trim_end_matches('/'))
    {
        return true;
    }
    if u.port_or_known_default() != Some(addr.port()) {
        return false;
    }
    let Some(host) = u.host_str() else {
        return false;
    };
    match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified() || ip == addr.ip(),
        Err(_) => {
            host.eq_ignore_ascii_case("localhost")
                || crate::config::host_name().eq_ignore_ascii_case(host)
        }
    }
}

/// Whether Lambda calls are signed: when `lambda.sign` says so, or always for AWS's own
/// endpoints over https (which refuse unsigned calls). Credentials in the environment alone
/// never make calls to a local emulator carry them.
fn signs_lambda_calls(config: &Config) -> bool {
    config.lambda.sign
        || reqwest::Url::parse(&config.lambda_endpoint).is_ok_and(|u| {
            u.scheme() == "https"
                && u.host_str()
                    .is_some_and(|h| h == "amazonaws.com" || h.ends_with(".amazonaws.com"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_functions_endpoint_is_this_server_only_at_its_own_port_and_address() {
        let config = Config::default();
        let addr: std::net::SocketAddr = "127.0.0.1:8083".parse().expect("an address");
        for (url, here) in [
            ("http://127.0.0.1:8083", true),
            ("http://localhost:8083/", true),
            ("http://[::1]:8083", true),
            ("http://127.0.0.1:8084", false),
            ("http://10.1.2.3:8083", false),
            ("https://states.us-east-1.amazonaws.com", false),
            ("not a url", false),
        ] {
            assert_eq!(is_this_server(url, addr, &config), here, "{url}");
        }
    }
}

//! hourglass: a durable delayed-task scheduler that speaks the AWS Step Functions API.
//!
//! | module | owns |
//! |---|---|
//! | [`api`] | the AWS JSON 1.0 edge: decode, validate shapes, call engine/store, encode |
//! | [`engine`] | execution lifecycles: event → [`asl::step`] → commit → effects |
//! | [`asl`] | the Amazon States Language, pure: parse, validate, evaluate, step |
//! | [`store`] | SQLite: the single group-committing writer and the read queries |
//! | [`invoke`] | calling Lambda over its Invoke HTTP API |
//! | [`timer`] | the in-memory window of deadlines (a hashed timing wheel) and its loader |
//! | [`config`], [`telemetry`], [`metrics`], [`arn`] | settings, logs, Prometheus metrics, ARNs |
//!
//! [`serve`] wires them together; `main.rs` only parses flags and calls it.

#![forbid(unsafe_code)]

pub mod api;
pub mod arn;
pub mod asl;
pub mod config;
pub mod engine;
pub mod invoke;
pub mod metrics;
pub mod store;
pub mod telemetry;
pub mod timer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::asl::StepConfig;
use crate::config::Config;
use crate::engine::{Engine, EngineConfig};
use crate::invoke::lambda::{LambdaInvoker, LambdaSettings, SigningKeys};
use crate::invoke::Invoker;
use crate::timer::{SystemClock, TimerService};

/// Run the daemon on `listener` until `shutdown` is cancelled, then stop in order: stop
/// accepting requests → stop firing timers → let in-flight work reach the writer → commit the
/// last batch → close the database.
///
/// Recovery (loading the first window of due timers) finishes before the first request is
/// served; the line `hourglass listening on http://ADDR` is printed on stdout at that point.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let addr = listener.local_addr().context("reading the bound address")?;
    let (store, write_conn) = store::sqlite::open(&config)
        .await
        .with_context(|| format!("opening the database in {}", config.data_dir.display()))?;

    let writer_stop = CancellationToken::new();
    let (writer, writer_task) = store::Writer::spawn(
        write_conn,
        config.writer.queue_capacity,
        config.writer.max_batch,
        writer_stop.clone(),
    );

    let clock = Arc::new(SystemClock);
    let timers = Arc::new(TimerService::new(
        store.clone(),
        clock.clone(),
        config.timer.horizon_secs,
        config.timer.load_batch,
    ));
    // Recovery: the first window of deadlines, overdue ones included, before serving.
    while !timers.load().await.context("loading timers")? {}

    let (calls_tx, calls_rx) = mpsc::channel(config.writer.queue_capacity.max(1));
    let invoker: Arc<dyn Invoker> = Arc::new(
        LambdaInvoker::new(lambda_settings(&config)).context("building the Lambda client")?,
    );
    let engine = Arc::new(
        Engine::new(
            store.clone(),
            writer.clone(),
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
            },
            calls_tx,
        )
        .await
        .context("starting the engine")?,
    );

    let background = TaskTracker::new();
    let timer_stop = CancellationToken::new();
    let (fired_tx, fired_rx) = mpsc::channel(config.timer.max_in_flight.max(1));
    background.spawn(timers.clone().run(fired_tx, timer_stop.clone()));
    background.spawn(engine.clone().run_timers(
        fired_rx,
        config.timer.max_in_flight,
        timer_stop.clone(),
    ));
    background.spawn(engine.clone().run_tasks(
        invoker,
        calls_rx,
        timer_stop.clone(),
        std::time::Duration::from_secs(config.shutdown_grace_secs),
    ));
    if config.retention_days > 0.0 {
        background.spawn(engine.clone().run_retention(
            std::time::Duration::from_secs_f64(config.retention_days * 86_400.0),
            std::time::Duration::from_secs(config.retention_sweep_secs),
            timer_stop.clone(),
        ));
    }
    background.close();
    let recovered = engine
        .recover_tasks()
        .await
        .context("recovering scheduled tasks")?;
    if recovered > 0 {
        tracing::info!(
            recovered,
            "making Lambda calls that were in flight at the last stop again"
        );
    }

    let ready = Arc::new(AtomicBool::new(true));
    let app = api::App {
        engine: engine.clone(),
        ready: ready.clone(),
        auth: config.auth.enabled.then(|| {
            Arc::new(api::auth::Verifier::new(
                &config.auth.keys,
                std::time::Duration::from_secs(config.auth.max_skew_secs),
            ))
        }),
    };
    if config.auth.enabled && config.auth.keys.is_empty() {
        tracing::warn!("auth.enabled is set but auth.keys is empty: every request will be refused");
    }
    ready.store(true, Ordering::Release);
    println!("hourglass listening on http://{addr}");
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "serving");

    let served = axum::serve(listener, api::router(app))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;

    tracing::info!("shutting down");
    timer_stop.cancel();
    background.wait().await;
    drop(engine);
    writer_stop.cancel();
    drop(writer);
    let conn = writer_task
        .await
        .context("the writer task panicked")?
        .context("the writer failed")?;
    store::sqlite::close_writer(conn)
        .await
        .context("closing the database")?;
    store.close().await;
    served.context("serving HTTP")?;
    Ok(())
}

fn lambda_settings(config: &Config) -> LambdaSettings {
    let l = &config.lambda;
    let signing = match (&l.access_key_id, &l.secret_access_key) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some(SigningKeys {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: l.session_token.clone(),
            region: config.region.clone(),
        }),
        _ => None,
    };
    LambdaSettings {
        endpoint: config.lambda_endpoint.clone(),
        connect_timeout: std::time::Duration::from_secs(l.connect_timeout_secs),
        response_timeout: std::time::Duration::from_secs(l.response_timeout_secs),
        max_concurrency_per_function: l.max_concurrency_per_function,
        signing,
    }
}

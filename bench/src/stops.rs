//! `stops`: executions all waiting on one instant, stopped through the API before it comes.
//! Their deadlines share one slot of the daemon's timing wheel, so this measures what a stop
//! costs when many timers are held at the same instant (StopExecution per second, latency,
//! the daemon's CPU per stop), and checks that none of them fired.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::client::Client;
use crate::daemon::Nodes;
use crate::db::Store;
use crate::{drive, format_ms, now_ms, pct, AT_TIMESTAMP};

/// The timer horizon the daemon runs with here, so that every deadline is held in the wheel.
pub const HORIZON_SECS: u64 = 1_800;

pub async fn run(
    nodes: &Nodes,
    store: &Store,
    clients: &[Client],
    count: u64,
    concurrency: usize,
) -> Result<()> {
    let client = &clients[0];
    let sm = client
        .create_state_machine("bench-stops", AT_TIMESTAMP)
        .await?;
    // Well inside the horizon, and far enough off to start and stop them all first.
    let due_ms = now_ms() + 1_200_000;
    let at = format_ms(due_ms);
    let r = drive(clients, &sm, 0, count, concurrency, move |_| {
        format!(r#"{{"at":"{at}"}}"#)
    })
    .await?;
    r.print("start (stops)");
    let prefix = sm.replacen(":stateMachine:", ":execution:", 1);
    let next = Arc::new(AtomicU64::new(0));
    let cpu0 = nodes.cpu_seconds()?;
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for c in 0..concurrency {
        let client = clients[c % clients.len()].clone();
        let (prefix, next) = (prefix.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let body = serde_json::json!({"executionArn": format!("{prefix}:e{i}")});
                let t = Instant::now();
                if let Err(e) = client.call("StopExecution", &body).await? {
                    bail!("StopExecution of e{i}: {e}");
                }
                lat.push(t.elapsed().as_micros() as u64);
            }
        }));
    }
    let mut lat = Vec::with_capacity(count as usize);
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = nodes.cpu_seconds()? - cpu0;
    lat.sort_unstable();
    println!(
        "stops: {count} executions waiting on one instant stopped in {secs:.2} s = {:.0}/s; \
         latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms; daemon cpu {:.0} µs per stop",
        count as f64 / secs,
        pct(&lat, 50.0) as f64 / 1000.0,
        pct(&lat, 99.0) as f64 / 1000.0,
        pct(&lat, 99.9) as f64 / 1000.0,
        cpu * 1e6 / count.max(1) as f64,
    );
    let (timers, fired, aborted) = (
        store.count_timers().await?,
        store.count_fired().await?,
        store.count_status("ABORTED").await?,
    );
    if timers != 0 || fired != 0 || aborted != count {
        bail!("after the stops: {timers} timers left, {fired} waits ended, {aborted} of {count} aborted");
    }
    Ok(())
}

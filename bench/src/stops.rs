//! `stops`: executions all waiting on one instant, stopped through the API before it comes.
//! Their deadlines share one slot of the daemon's timing wheel, so this measures what a stop
//! costs when many timers are held at the same instant (StopExecution per second, latency,
//! the daemon's CPU per stop), and checks that none of them fired.

use anyhow::{bail, Result};

use crate::client::Client;
use crate::daemon::Nodes;
use crate::db::Store;
use crate::{call_each, drive, format_ms, now_ms, pct, AT_TIMESTAMP};

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
    let cpu0 = nodes.cpu_seconds()?;
    let stopped = call_each(
        clients,
        "StopExecution",
        count,
        concurrency,
        move |i| serde_json::json!({"executionArn": format!("{prefix}:e{i}")}),
    )
    .await?;
    let cpu = nodes.cpu_seconds()? - cpu0;
    let mut lat = stopped.latencies_us;
    lat.sort_unstable();
    println!(
        "stops: {count} executions waiting on one instant stopped in {:.2} s = {:.0}/s; \
         latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms; daemon cpu {:.0} µs per stop",
        stopped.elapsed.as_secs_f64(),
        count as f64 / stopped.elapsed.as_secs_f64(),
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

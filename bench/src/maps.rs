//! The scenarios of Express and Distributed Map: StartSyncExecution round trips, and one
//! Distributed Map over many items.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::client::Client;
use crate::daemon::Nodes;
use crate::ROLE;

/// Create an Express machine; its ARN.
async fn create_express(client: &Client, name: &str, definition: &str) -> Result<String> {
    let body = json!({"name": name, "definition": definition, "roleArn": ROLE, "type": "EXPRESS"});
    match client.call("CreateStateMachine", &body).await? {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text)?;
            Ok(v["stateMachineArn"].as_str().unwrap_or_default().to_owned())
        }
        Err(e) => bail!("CreateStateMachine failed: {e}"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// `count` StartSyncExecution calls of `definition` from `clients` concurrent clients; each
/// must answer SUCCEEDED.
pub async fn sync_round_trips(
    nodes: &Nodes,
    client: &Client,
    label: &str,
    definition: &str,
    count: u64,
    clients: usize,
) -> Result<()> {
    let sm = create_express(client, &format!("bench-sync-{label}"), definition).await?;
    let cpu0 = nodes.cpu_seconds()?;
    let t0 = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, sm, next) = (client.clone(), sm.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let body = json!({"stateMachineArn": sm, "input": json!({"n": n}).to_string()});
                let t = Instant::now();
                match client.call("StartSyncExecution", &body).await? {
                    Ok(text) => {
                        let v: Value = serde_json::from_str(&text)?;
                        if v["status"] != "SUCCEEDED" {
                            bail!("a synchronous execution answered {v}");
                        }
                    }
                    Err(e) => bail!("StartSyncExecution failed: {e}"),
                }
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = nodes.cpu_seconds()? - cpu0;
    all.sort_unstable();
    println!(
        "sync {label}: {count} round trips in {secs:.2} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms; \
         daemon cpu {:.0} µs per execution, rss {}",
        count as f64 / secs,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        cpu * 1e6 / count as f64,
        nodes.rss_text()?
    );
    Ok(())
}

/// One Distributed Map over `count` items (`[0..count-1]`, made by JSONata), each a Pass
/// child, `concurrency` at a time: time to the end, children per second, peak RSS.
pub async fn distributed_map(
    nodes: &mut Nodes,
    client: &Client,
    count: u64,
    concurrency: u64,
) -> Result<()> {
    let definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map",
            "Items": format!("{{% [0..{}] %}}", count.saturating_sub(1)),
            "MaxConcurrency": concurrency,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "One",
                "States": {"One": {"Type": "Pass", "Output": 1, "End": true}}
            },
            "End": true
        }}
    });
    let sm = client
        .create_state_machine("bench-distributed", &definition.to_string())
        .await?;
    let rss0 = nodes.first().rss_mib()?;
    let cpu0 = nodes.cpu_seconds()?;
    let t0 = Instant::now();
    let body = json!({"stateMachineArn": sm, "name": "big", "input": "{}"});
    let arn = match client.call("StartExecution", &body).await? {
        Ok(text) => serde_json::from_str::<Value>(&text)?["executionArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        Err(e) => bail!("StartExecution failed: {e}"),
    };
    let status = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let d = match client
            .call("DescribeExecution", &json!({ "executionArn": arn }))
            .await?
        {
            Ok(text) => serde_json::from_str::<Value>(&text)?,
            Err(e) => bail!("DescribeExecution failed: {e}"),
        };
        if d["status"] != "RUNNING" {
            break d["status"].as_str().unwrap_or_default().to_owned();
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    let cpu = nodes.cpu_seconds()? - cpu0;
    println!(
        "distributed map of {count} items ({concurrency} at a time): {status} in {secs:.1} s = \
         {:.0} children/s; daemon cpu {:.0} µs per child; rss before {rss0:.1} MiB, peak \
         {:.1} MiB (VmHWM), after {:.1} MiB",
        count as f64 / secs,
        cpu * 1e6 / count as f64,
        nodes.first().peak_rss_mib()?,
        nodes.first().rss_mib()?
    );
    Ok(())
}

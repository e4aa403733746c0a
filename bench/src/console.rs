//! The web console's pages with a big store: `count` executions of one machine (one in a
//! hundred failed, the rest waiting three days) and one execution with a history of about
//! 25,000 events (a loop of Lambda Tasks against a no-op function); each page fetched `samples` times, one after another, and timed.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::client::Client;
use crate::daemon::Nodes;

/// A Choice: `fail` → a Fail state, else a Wait of three days.
const MOSTLY_WAITING: &str = r#"{"StartAt":"Check","States":{"Check":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"No"}],"Default":"Wait"},"No":{"Type":"Fail","Error":"Nope"},"Wait":{"Type":"Wait","Seconds":259200,"End":true}}}"#;
/// Seven events a round (a Lambda Task's five, the Choice's two): 3,560 rounds and the start
/// and end make 24,924, under AWS's 25,000. A Task a round, since an execution may not make
/// 10,000 transitions without waiting.
const LOOP: &str = r#"{"StartAt":"Count","QueryLanguage":"JSONata","States":{"Count":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"noop","Payload":{"i":"{% $states.input.i + 1 %}"}},"Output":"{% $states.result.Payload %}","Next":"More"},"More":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.i < 3560 %}","Next":"Count"}],"Default":"End"},"End":{"Type":"Succeed"}}}"#;

fn enc(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

pub async fn console_pages(
    nodes: &Nodes,
    client: &Client,
    count: u64,
    clients: usize,
    samples: usize,
) -> Result<()> {
    let sm = client
        .create_state_machine("bench-console", MOSTLY_WAITING)
        .await?;
    let fill = crate::drive(std::slice::from_ref(client), &sm, 0, count, clients, |i| {
        json!({"fail": i % 100 == 0}).to_string()
    })
    .await?;
    fill.print("fill");
    let looping = client.create_state_machine("bench-history", LOOP).await?;
    let started = client
        .call(
            "StartExecution",
            &json!({"stateMachineArn": looping, "name": "long", "input": "{\"i\": 0}"}),
        )
        .await?
        .map_err(anyhow::Error::msg)?;
    let long: Value = serde_json::from_str(&started)?;
    let long = long["executionArn"].as_str().context("an ARN")?.to_owned();
    let events = wait_for_end(client, &long).await?;
    println!(
        "store: {count} executions of bench-console, an execution of {events} events; daemon rss {}",
        nodes.rss_text()?
    );

    let base = client.url();
    let http = reqwest::Client::new();
    // The first page's cursor, to time a page further on too.
    let first = http
        .get(format!("{base}/console/machine?arn={}", enc(&sm)))
        .send()
        .await?
        .text()
        .await?;
    let next = first
        .split("after=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let pending = sm.replace(":stateMachine:", ":execution:") + ":e777";
    let pages = [
        ("state machines (counts by status)", "/console/".to_owned()),
        (
            "machine: first page of executions",
            format!("/console/machine?arn={}", enc(&sm)),
        ),
        (
            "machine: second page",
            format!("/console/machine?arn={}&after={next}", enc(&sm)),
        ),
        (
            "machine: FAILED only (1 in 100)",
            format!("/console/machine?arn={}&status=FAILED", enc(&sm)),
        ),
        (
            "machine: names starting e12345",
            format!("/console/machine?arn={}&q=e12345", enc(&sm)),
        ),
        (
            "execution: a waiting one",
            format!("/console/execution?arn={}", enc(&pending)),
        ),
        (
            "execution: 25k events, latest page",
            format!("/console/execution?arn={}", enc(&long)),
        ),
        (
            "execution: 25k events, first page",
            format!("/console/execution?arn={}&from=1", enc(&long)),
        ),
        (
            "execution: live poll",
            format!("/console/execution/live?arn={}", enc(&long)),
        ),
    ];
    println!("page: p50 / p99 / max over {samples} sequential GETs; bytes");
    for (label, path) in pages {
        let url = format!("{base}{path}");
        let mut times = Vec::with_capacity(samples);
        let mut bytes = 0;
        for _ in 0..samples {
            let t = Instant::now();
            let r = http.get(&url).send().await?;
            if !r.status().is_success() {
                bail!("{url}: {}", r.status());
            }
            bytes = r.bytes().await?.len();
            times.push(t.elapsed());
        }
        times.sort_unstable();
        let ms = |p: f64| {
            let i = ((times.len() as f64 - 1.0) * p).round() as usize;
            times[i].as_secs_f64() * 1000.0
        };
        println!(
            "{label}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {bytes} bytes",
            ms(0.5),
            ms(0.99),
            ms(1.0)
        );
    }
    Ok(())
}

/// Wait for an execution to end; its number of events.
async fn wait_for_end(client: &Client, arn: &str) -> Result<i64> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let d = client
            .call("DescribeExecution", &json!({"executionArn": arn}))
            .await?
            .map_err(anyhow::Error::msg)?;
        let d: Value = serde_json::from_str(&d)?;
        if d["status"] != "RUNNING" {
            if d["status"] != "SUCCEEDED" {
                bail!("the long execution ended {d}");
            }
            let h = client
                .call(
                    "GetExecutionHistory",
                    &json!({"executionArn": arn, "reverseOrder": true, "maxResults": 1}),
                )
                .await?
                .map_err(anyhow::Error::msg)?;
            let h: Value = serde_json::from_str(&h)?;
            return h["events"][0]["id"].as_i64().context("an event id");
        }
        if Instant::now() > deadline {
            bail!("the long execution did not end in 10 min");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

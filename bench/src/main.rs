//! `hourglass-bench`: a load generator that starts a real daemon, drives it over HTTP with
//! StartExecution requests as the AWS SDKs send them (AWS JSON 1.0), and prints figures.
//!
//! Scenarios:
//! - `start`: acknowledged starts per second and latency p50/p99/p99.9 for a machine that
//!   waits three days, with N concurrent clients; daemon RSS and CPU time.
//! - `pending`: grow the number of pending executions through the given sizes; at each, the
//!   start throughput, RSS, database size and restart-to-ready time.
//! - `timers`: N executions all due in the same second; fires per second and lateness
//!   p50/p99 (WaitStateExited time minus the deadline, read from the database afterwards).
//! - `stops`: N executions all waiting on one instant, stopped through the API before it;
//!   StopExecution per second, latency, and the daemon's CPU per stop.
//! - `tasks`: N executions of Wait 0 s → lambda:invoke → Pass against a no-op function
//!   server run by the benchmark itself; Task round trips per second.
//! - `activities`: N executions of one activity Task, answered by W worker loops
//!   (GetActivityTask → SendTaskSuccess); activity tasks per second.
//! - `idle-polls`: N GetActivityTask long polls waiting on an activity with no work; the
//!   daemon's memory and CPU while they wait.
//! - `messages`: N executions of Wait 0 s → `sqs:sendMessage` against an SQS emulator
//!   (`--sqs-endpoint`); delayed messages per second, beside the emulator's own ceiling (the
//!   same number of SendMessage calls made straight to it by the clients).
//! - `overload`: far more concurrent clients than the write queue holds; how many starts
//!   were throttled, the daemon's peak RSS, and that every acknowledged start was stored.
//! - `recovery`: N executions whose deadlines all pass while the daemon is stopped; at the
//!   restart, time to ready, RSS (peak while the backlog fires), and the firing rate.
//! - `run`: N executions of Pass → Wait 0 s → Pass, started and run to completion, watched
//!   through the API alone (ListExecutions), so it can drive any Step Functions endpoint
//!   (`--endpoint`), such as moto's server, for a comparison on the same machine.
//! - `soak`: hours of mixed load at a fixed rate (starts, Waits of 1–60 s, Task calls with
//!   retried failures, stops, reads, retention sweeping), a row of figures every minute.
//! - `floor`: no daemon; a server on the daemon's HTTP stack that answers StartExecution and
//!   Lambda's Invoke API and does nothing else, and (`--call URL`) a caller of that Invoke API
//!   through the daemon's Lambda client: for `bench/wrk/floor.sh` to measure what a start and a
//!   Task's call cost at the least.
//! - `cursor`: no daemon; the time to read and to write an execution's cursor, as each step
//!   does, for the `tasks` flow's and an inline Map's, and to pack every text the writer packs
//!   for one execution of the `tasks` flow.
//! - `failover`: on several nodes, SIGKILL the one holding the most partitions while
//!   executions of its partitions are due; time from the kill to the first of them firing on
//!   its new owner, over several runs.
//!
//! With `--database-url` the daemon runs on PostgreSQL (a database created for the run in that
//! server), and `--nodes N` runs N nodes on it with the clients spread over them.
//!
//! Figures go to stdout; BENCHMARKS.md records them with the command that produced them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod client;
mod console;
mod cursor;
mod daemon;
mod db;
mod floor;
mod maps;
mod soak;
mod stops;

use client::Client;
use daemon::{noop_function_server, rss_kib, token_function_server, Nodes};
use db::Store;

#[derive(Parser)]
#[command(
    name = "hourglass-bench",
    about = "Load generator and benchmarks for hourglass"
)]
struct Cli {
    /// The hourglass binary to run [default: next to this one]
    #[arg(long, global = true)]
    daemon: Option<PathBuf>,
    /// Data directory for the daemon [default: a new temporary directory]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Concurrent clients
    #[arg(long, default_value_t = 64, global = true)]
    clients: usize,
    /// sqlite.synchronous for the daemon (FULL or NORMAL)
    #[arg(long, default_value = "FULL", global = true)]
    synchronous: String,
    /// Drive this Step Functions endpoint instead of starting a daemon (`run` only)
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// Run the daemon on PostgreSQL: a new database is created in this server for the run
    /// (its user needs CREATEDB) and dropped at the end
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Nodes on that database (PostgreSQL only); clients are spread over them
    #[arg(long, default_value_t = 1, global = true)]
    nodes: usize,
    /// The nodes' cluster.lease_secs [default: the daemon's]
    #[arg(long, global = true)]
    lease_secs: Option<u64>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// StartExecution throughput and latency.
    Start {
        /// Executions to start
        #[arg(long, default_value_t = 100_000)]
        count: u64,
    },
    /// Pending executions at growing sizes.
    Pending {
        /// Sizes to reach, comma separated
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
        sizes: Vec<u64>,
        /// Starts measured at each size
        #[arg(long, default_value_t = 20_000)]
        sample: u64,
        /// Each execution's input
        #[arg(long, default_value = "{}")]
        input: String,
    },
    /// Many timers due in the same second, or spread evenly over a window.
    Timers {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Spread the deadlines evenly over this many milliseconds (0: all at one instant)
        #[arg(long, default_value_t = 0)]
        spread_ms: i64,
        /// Milliseconds from the first start to the first deadline [default: count / 2 + 2000,
        /// enough to start them all at 2,000/s]
        #[arg(long)]
        lead_ms: Option<i64>,
        /// Clients calling DescribeExecution all along, one call after another
        #[arg(long, default_value_t = 4)]
        readers: u64,
        /// Pace the readers: this many DescribeExecution calls a second between them all, each
        /// client keeping its share's pace (0: back to back, as fast as they are answered). A
        /// paced load asks the same of every build, where back-to-back readers ask more of the
        /// build that answers them faster, on the cores the firing shares with them.
        #[arg(long, default_value_t = 0)]
        read_rate: u64,
    },
    /// Executions all waiting on one instant, stopped through the API before it: StopExecution
    /// per second and the daemon's CPU per stop when many timers are held at the same instant.
    Stops {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
    },
    /// Task round trips against a no-op function.
    Tasks {
        #[arg(long, default_value_t = 20_000)]
        count: u64,
        /// Each execution's input
        #[arg(long, default_value = r#"{"n":1}"#)]
        input: String,
    },
    /// Callback round trips: start, the task token handed to a function, SendTaskSuccess from
    /// the clients, end.
    Callbacks {
        #[arg(long, default_value_t = 20_000)]
        count: u64,
    },
    /// Activity tasks: executions of one activity Task answered by worker loops.
    Activities {
        #[arg(long, default_value_t = 20_000)]
        count: u64,
        /// Worker loops (GetActivityTask → SendTaskSuccess)
        #[arg(long, default_value_t = 16)]
        workers: usize,
    },
    /// Delayed messages: Wait 0 s → sqs:sendMessage against an SQS emulator, beside the
    /// emulator's own ceiling.
    Messages {
        #[arg(long, default_value_t = 5_000)]
        count: u64,
        /// The SQS endpoint (moto's server, LocalStack, ...)
        #[arg(long)]
        sqs_endpoint: String,
    },
    /// Long polls waiting on an activity with no work: memory and CPU while they wait.
    IdlePolls {
        #[arg(long, default_value_t = 1_000)]
        pollers: usize,
        /// Seconds to hold them
        #[arg(long, default_value_t = 20)]
        secs: u64,
    },
    /// Many more clients than the write queue holds: throttling, peak RSS, nothing lost.
    Overload {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// The daemon's writer.queue_capacity for the run
        #[arg(long, default_value_t = 256)]
        queue: usize,
    },
    /// Deadlines that all pass while the daemon is down: memory and readiness at the restart.
    Recovery {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Seconds from the first start to the deadlines; the starts must fit in it
        #[arg(long, default_value_t = 150)]
        lead_secs: i64,
    },
    /// Start executions and run them to completion, through the API alone.
    Run {
        #[arg(long, default_value_t = 2_000)]
        count: u64,
    },
    /// StartSyncExecution round trips of an Express machine: a Pass, then a Lambda Task.
    Sync {
        #[arg(long, default_value_t = 10_000)]
        count: u64,
    },
    /// One Distributed Map over many items, each a child execution.
    Distributed {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// The Map's MaxConcurrency
        #[arg(long, default_value_t = 1_000)]
        concurrency: u64,
    },
    /// The web console's pages over a big store: the machines, a machine's executions
    /// (paged, by status, by name), and an execution with a 25,000-event history.
    Console {
        /// Executions in the store
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Requests timed per page
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Hours of mixed load at a fixed rate, sampled every minute into a CSV file (starts,
    /// Waits of 1–60 s, Task calls with retried failures, stops, reads, retention sweeping).
    Soak {
        /// Executions started per second
        #[arg(long, default_value_t = 1_000)]
        rate: u64,
        /// Minutes to run
        #[arg(long, default_value_t = 120)]
        minutes: u64,
        /// Seconds a closed execution is kept before the retention sweep removes it
        #[arg(long, default_value_t = 300)]
        retention_secs: u64,
        /// Where the per-minute figures go
        #[arg(long, default_value = "soak.csv")]
        csv: PathBuf,
    },
    /// No daemon: answer StartExecution with the daemon's HTTP stack and nothing else, on
    /// 127.0.0.1, until stopped (`bench/wrk/floor.sh` drives it).
    Floor {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Instead of serving: call the Lambda Invoke API at this base URL (another `floor`)
        /// with the daemon's own Lambda client, `--count` times from `--clients` tasks, and
        /// print this process's CPU per call
        #[arg(long)]
        call: Option<String>,
        #[arg(long, default_value_t = 200_000)]
        count: u64,
        /// Also store each start before answering it, in an SQLite database in this
        /// directory: one row in one table, committed in groups with synchronous=FULL
        #[arg(long)]
        durable: Option<PathBuf>,
        /// With `--durable`: each start also calls the Lambda Invoke API at this base URL
        /// (another `floor`) and stores the result before it is answered
        #[arg(long, requires = "durable")]
        task_call: Option<String>,
    },
    /// No daemon: the time to read and to write an execution's cursor, as each step does, and
    /// to pack a Task execution's texts, as the writer does
    Cursor {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
    },
    /// Kill a node (SIGKILL) while executions in its partitions are due; time from the kill
    /// to the first of them firing on another node (PostgreSQL, two nodes or more).
    Failover {
        #[arg(long, default_value_t = 10)]
        runs: u32,
        /// Executions due just after each kill (spread over every partition)
        #[arg(long, default_value_t = 512)]
        count: u64,
    },
}

pub const ROLE: &str = "arn:aws:iam::123456789012:role/bench";
const THREE_DAYS: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":259200,"Next":"Done"},"Done":{"Type":"Succeed"}}}"#;
pub const TASK_FLOW: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":0,"Next":"Task"},"Task":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","OutputPath":"$.Payload","Parameters":{"Payload.$":"$","FunctionName":"noop"},"Next":"Pass"},"Pass":{"Type":"Pass","End":true}}}"#;
const CALLBACK_FLOW: &str = r#"{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"noop","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}"#;
const PASS_WAIT_PASS: &str = r#"{"StartAt":"First","States":{"First":{"Type":"Pass","Result":{"step":1},"ResultPath":"$.first","Next":"Wait"},"Wait":{"Type":"Wait","Seconds":0,"Next":"Last"},"Last":{"Type":"Pass","End":true}}}"#;
const AT_TIMESTAMP: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","TimestampPath":"$.at","Next":"Done"},"Done":{"Type":"Succeed"}}}"#;

fn main() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    if let Scenario::Cursor { count } = cli.scenario {
        return cursor::run(count);
    }
    if let Scenario::Floor {
        port,
        call,
        count,
        durable,
        task_call,
    } = &cli.scenario
    {
        return match call {
            Some(endpoint) => floor::calls(endpoint, *count, cli.clients as u64).await,
            None => floor::serve(*port, durable.as_deref(), task_call.as_deref()).await,
        };
    }
    if let Some(endpoint) = &cli.endpoint {
        let Scenario::Run { count } = cli.scenario else {
            bail!("--endpoint drives the `run` scenario only");
        };
        println!(
            "machine: {} cores; endpoint {endpoint}; clients={}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            cli.clients
        );
        return run_to_completion(&Client::foreign(endpoint), count, cli.clients).await;
    }
    let daemon_bin = match &cli.daemon {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("bench binary has no directory")?
            .join("hourglass"),
    };
    let temp;
    let data_dir = match &cli.data_dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let store = match &cli.database_url {
        Some(url) => Store::create_postgres(url).await?,
        None if cli.nodes > 1 => bail!("--nodes needs --database-url"),
        None => Store::Sqlite(data_dir.clone()),
    };
    let result = scenario(&cli, &daemon_bin, &data_dir, &store).await;
    store.drop_database().await?;
    result
}

async fn scenario(cli: &Cli, daemon_bin: &Path, data_dir: &Path, store: &Store) -> Result<()> {
    println!(
        "machine: {} cores; daemon {}; store {}{}; nodes={}; clients={}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        daemon_bin.display(),
        store.label(),
        match store {
            Store::Sqlite(_) => format!(" (synchronous={})", cli.synchronous),
            Store::Postgres { .. } => String::new(),
        },
        cli.nodes,
        cli.clients
    );
    let mut env: Vec<(String, String)> = vec![(
        "HOURGLASS_SQLITE__SYNCHRONOUS".into(),
        cli.synchronous.clone(),
    )];
    env.extend(store.daemon_env());
    if let Some(secs) = cli.lease_secs {
        env.push(("HOURGLASS_CLUSTER__LEASE_SECS".into(), secs.to_string()));
    }
    if let Scenario::Stops { .. } = cli.scenario {
        env.push((
            "HOURGLASS_TIMER__HORIZON_SECS".into(),
            stops::HORIZON_SECS.to_string(),
        ));
    }
    if let Scenario::Overload { queue, .. } = cli.scenario {
        env.push(("HOURGLASS_WRITER__QUEUE_CAPACITY".into(), queue.to_string()));
    }
    if let Scenario::Messages { sqs_endpoint, .. } = &cli.scenario {
        env.push(("SQS_ENDPOINT".into(), sqs_endpoint.clone()));
    }
    if matches!(
        cli.scenario,
        Scenario::Tasks { .. } | Scenario::Sync { .. } | Scenario::Console { .. }
    ) {
        env.push(("LAMBDA_ENDPOINT".into(), noop_function_server().await?));
    }
    let soak_function = match &cli.scenario {
        Scenario::Soak { retention_secs, .. } => {
            let f = soak::FunctionServer::start().await?;
            env.push(("LAMBDA_ENDPOINT".into(), f.url.clone()));
            env.push((
                "HOURGLASS_RETENTION_DAYS".into(),
                (*retention_secs as f64 / 86_400.0).to_string(),
            ));
            env.push(("HOURGLASS_RETENTION_SWEEP_SECS".into(), "30".into()));
            Some(f)
        }
        _ => None,
    };
    let (token_tx, token_rx) = tokio::sync::mpsc::unbounded_channel();
    if matches!(cli.scenario, Scenario::Callbacks { .. }) {
        env.push((
            "LAMBDA_ENDPOINT".into(),
            token_function_server(token_tx).await?,
        ));
    }
    let single = |what: &str| {
        if cli.nodes > 1 {
            bail!("the {what} scenario runs one node");
        }
        Ok(())
    };
    let mut nodes = Nodes::start(daemon_bin, data_dir, &env, cli.nodes)?;
    if cli.nodes > 1 {
        balanced(store, cli.nodes).await?;
    }
    let clients = nodes.clients();
    let client = clients[0].clone();
    match cli.scenario {
        Scenario::Start { count } => {
            let sm = client
                .create_state_machine("bench-start", THREE_DAYS)
                .await?;
            let cpu0 = nodes.cpu_seconds()?;
            let r = drive(&clients, &sm, 0, count, cli.clients, |_| "{}".to_owned()).await?;
            let cpu = nodes.cpu_seconds()? - cpu0;
            r.print("start");
            println!(
                "daemon: rss {}, cpu {:.1} s ({:.0} µs per start)",
                nodes.rss_text()?,
                cpu,
                cpu * 1e6 / count as f64
            );
        }
        Scenario::Pending {
            ref sizes,
            sample,
            ref input,
        } => {
            single("pending")?;
            let input = input.clone();
            let sm = client
                .create_state_machine("bench-pending", THREE_DAYS)
                .await?;
            let mut client = client;
            let mut done = 0u64;
            let mut baseline: Option<f64> = None;
            for &size in sizes {
                if size > done + sample {
                    let fill = drive(
                        std::slice::from_ref(&client),
                        &sm,
                        done,
                        size - sample - done,
                        cli.clients,
                        {
                            let input = input.clone();
                            move |_| input.clone()
                        },
                    )
                    .await?;
                    fill.print(&format!("fill to {}", size - sample));
                    done = size - sample;
                }
                let r = drive(
                    std::slice::from_ref(&client),
                    &sm,
                    done,
                    sample,
                    cli.clients,
                    {
                        let input = input.clone();
                        move |_| input.clone()
                    },
                )
                .await?;
                done += sample;
                let rate = r.per_second();
                let ratio = baseline.map_or(1.0, |b| rate / b);
                baseline.get_or_insert(rate);
                r.print(&format!("at {done} pending"));
                let daemon = nodes.first();
                let rss = daemon.rss_mib()?;
                let db = store.size_mib().await?;
                let ready = daemon.restart()?;
                client = Client::new(&daemon.url);
                client.wait_ready().await?;
                println!(
                    "pending {done}: start {rate:.0}/s ({:.0}% of the first size), rss {rss:.1} MiB, \
                     db {db:.1} MiB, restart-to-ready {:.0} ms, rss after restart {:.1} MiB",
                    ratio * 100.0,
                    ready.as_secs_f64() * 1000.0,
                    daemon.rss_mib()?
                );
            }
        }
        Scenario::Sync { count } => {
            let pass =
                r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}"#;
            let lambda = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","OutputPath":"$.Payload","Parameters":{"Payload.$":"$","FunctionName":"noop"},"End":true}}}"#;
            maps::sync_round_trips(&nodes, &client, "pass", pass, count, cli.clients).await?;
            maps::sync_round_trips(&nodes, &client, "lambda", lambda, count, cli.clients).await?;
        }
        Scenario::Console { count, samples } => {
            single("console")?;
            console::console_pages(&nodes, &client, count, cli.clients, samples).await?;
        }
        Scenario::Distributed { count, concurrency } => {
            single("distributed")?;
            maps::distributed_map(&mut nodes, &client, count, concurrency).await?;
        }
        Scenario::Stops { count } => {
            single("stops")?;
            stops::run(&nodes, store, &clients, count, cli.clients).await?;
        }
        Scenario::Tasks { count, ref input } => {
            let sm = client
                .create_state_machine("bench-tasks", TASK_FLOW)
                .await?;
            let t0 = Instant::now();
            let cpu0 = nodes.cpu_seconds()?;
            let input = input.clone();
            let r = drive(&clients, &sm, 0, count, cli.clients, move |_| input.clone()).await?;
            r.print("start (tasks)");
            all_succeeded(
                &nodes,
                store,
                count,
                (t0, cpu0),
                "tasks",
                "(Wait 0 → lambda:invoke → Pass)",
                "Task round trips",
            )
            .await?;
        }
        Scenario::Callbacks { count } => {
            let sm = client
                .create_state_machine("bench-callbacks", CALLBACK_FLOW)
                .await?;
            let t0 = Instant::now();
            let cpu0 = nodes.cpu_seconds()?;
            let answerers = answer_tokens(&clients, token_rx, count, cli.clients);
            let r = drive(&clients, &sm, 0, count, cli.clients, |_| "{}".to_owned()).await?;
            r.print("start (callbacks)");
            answerers.await??;
            all_succeeded(
                &nodes,
                store,
                count,
                (t0, cpu0),
                "callbacks",
                "(lambda:invoke.waitForTaskToken → SendTaskSuccess)",
                "callback round trips",
            )
            .await?;
        }
        Scenario::Activities { count, workers } => {
            let activity = client.create_activity("bench-activity").await?;
            let flow = serde_json::json!({"StartAt": "Work", "States": {"Work": {
                "Type": "Task", "Resource": activity, "End": true}}});
            let sm = client
                .create_state_machine("bench-activities", &flow.to_string())
                .await?;
            let t0 = Instant::now();
            let cpu0 = nodes.cpu_seconds()?;
            let answering = activity_workers(&clients, &activity, count, workers);
            let r = drive(&clients, &sm, 0, count, cli.clients, |_| "{}".to_owned()).await?;
            r.print("start (activities)");
            all_succeeded(
                &nodes,
                store,
                count,
                (t0, cpu0),
                "activities",
                &format!(
                    "(one activity Task, {workers} workers: GetActivityTask → SendTaskSuccess)"
                ),
                "activity tasks",
            )
            .await?;
            answering.abort();
        }
        Scenario::Messages {
            count,
            ref sqs_endpoint,
        } => {
            let sqs = Sqs::new(sqs_endpoint);
            // The emulator alone: the same number of SendMessage calls, straight to it (on a
            // queue of their own, so the runs do not share a queue's length).
            let alone_queue = sqs.create_queue("bench-alone").await?;
            let t0 = Instant::now();
            sqs.send_many(&alone_queue, count, cli.clients).await?;
            let alone = count as f64 / t0.elapsed().as_secs_f64();
            println!(
                "messages: the emulator alone took {count} SendMessage calls from {} clients at {alone:.0}/s",
                cli.clients
            );
            let queue = sqs.create_queue("bench-messages").await?;
            let flow = serde_json::json!({"StartAt": "Wait", "States": {
                "Wait": {"Type": "Wait", "Seconds": 0, "Next": "Send"},
                "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                         "Parameters": {"QueueUrl": queue, "MessageBody.$": "$"}, "End": true}}});
            let sm = client
                .create_state_machine("bench-messages", &flow.to_string())
                .await?;
            let t0 = Instant::now();
            let cpu0 = nodes.cpu_seconds()?;
            let r = drive(&clients, &sm, 0, count, cli.clients, |i| {
                format!(r#"{{"n":{i}}}"#)
            })
            .await?;
            r.print("start (messages)");
            all_succeeded(
                &nodes,
                store,
                count,
                (t0, cpu0),
                "messages",
                "(Wait 0 → sqs:sendMessage)",
                "delayed messages",
            )
            .await?;
        }
        Scenario::IdlePolls { pollers, secs } => {
            single("idle-polls")?;
            let activity = client.create_activity("bench-idle").await?;
            let daemon = nodes.first();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let rss0 = daemon.rss_mib()?;
            let cpu0 = daemon.cpu_seconds()?;
            let polls: Vec<_> = (0..pollers)
                .map(|_| {
                    // One connection each, as separate worker processes would hold.
                    let c = Client::new(&clients[0].url());
                    let body = serde_json::json!({"activityArn": activity});
                    tokio::spawn(async move { c.call("GetActivityTask", &body).await })
                })
                .collect();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let rss1 = daemon.rss_mib()?;
            let cpu1 = daemon.cpu_seconds()?;
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let rss2 = daemon.rss_mib()?;
            let cpu2 = daemon.cpu_seconds()?;
            let open = polls.iter().filter(|p| !p.is_finished()).count();
            println!(
                "idle-polls: {pollers} GetActivityTask long polls on an idle activity ({open} still waiting after {secs} s): \
                 daemon rss {rss0:.1} MiB before, {rss1:.1} MiB with them open, {rss2:.1} MiB {secs} s later \
                 = {:.1} KiB per poll; cpu {:.0} ms to open them, {:.1} ms per second while they wait",
                (rss2 - rss0) * 1024.0 / pollers.max(1) as f64,
                (cpu1 - cpu0) * 1e3,
                (cpu2 - cpu1) * 1e3 / secs.max(1) as f64,
            );
            for p in polls {
                p.abort();
            }
        }
        Scenario::Overload { count, queue } => {
            single("overload")?;
            let sm = client
                .create_state_machine("bench-overload", THREE_DAYS)
                .await?;
            let daemon = nodes.first();
            let sampling = PeakRss::sample(daemon.child.id());
            let rss0 = daemon.rss_mib()?;
            let r = drive(&clients, &sm, 0, count, cli.clients, |_| "{}".to_owned()).await?;
            let peak = sampling.stop();
            r.print("start (overload)");
            let stored = store.count_status("RUNNING").await?;
            println!(
                "overload: {} clients against a queue of {queue}: {} of {} requests throttled and retried; \
                 {stored} of {count} acknowledged starts stored; daemon rss {rss0:.1} MiB before, peak {peak:.1} MiB",
                cli.clients,
                r.throttled,
                count + r.throttled,
            );
            if stored != count {
                bail!("{} acknowledged starts are missing", count - stored);
            }
        }
        Scenario::Recovery { count, lead_secs } => {
            single("recovery")?;
            let sm = client
                .create_state_machine("bench-recovery", AT_TIMESTAMP)
                .await?;
            // Deadlines spread over one second, `lead_secs` from now.
            let due_ms = now_ms() + lead_secs * 1000;
            let due_of = move |i: u64| due_ms + (i as i64 * 1000) / count.max(1) as i64;
            let r = drive(&clients, &sm, 0, count, cli.clients, move |i| {
                format!(r#"{{"at":"{}"}}"#, format_ms(due_of(i)))
            })
            .await?;
            r.print("start (recovery)");
            if now_ms() >= due_ms {
                bail!("starting took longer than --lead-secs; raise it");
            }
            let daemon = nodes.first();
            daemon.stop()?;
            let overdue_at = due_ms + 2_000;
            tokio::time::sleep(Duration::from_millis((overdue_at - now_ms()).max(0) as u64)).await;
            println!("recovery: {count} deadlines passed while the daemon was stopped");
            let t0 = Instant::now();
            let ready = daemon.start_again()?;
            let rss_ready = daemon.rss_mib()?;
            let sampling = PeakRss::sample(daemon.child.id());
            wait_until(
                "overdue executions fired",
                count,
                Duration::from_secs(900),
                || async { Ok(count - store.count_status("RUNNING").await?.min(count)) },
            )
            .await?;
            let peak = sampling.stop();
            let firing = t0.elapsed().saturating_sub(ready);
            println!(
                "recovery: ready {:.0} ms after start (rss {rss_ready:.1} MiB); all {count} fired {:.1} s after that = {:.0} fires/s; peak rss {peak:.1} MiB",
                ready.as_secs_f64() * 1000.0,
                firing.as_secs_f64(),
                count as f64 / firing.as_secs_f64().max(0.001),
            );
        }
        Scenario::Run { count } => {
            run_to_completion(&client, count, cli.clients).await?;
            println!("daemon: rss {}", nodes.rss_text()?);
        }
        Scenario::Timers {
            count,
            spread_ms,
            lead_ms,
            readers,
            read_rate,
        } => {
            let sm = client
                .create_state_machine("bench-timers", AT_TIMESTAMP)
                .await?;
            // Leave time to start them all (at ~2k/s in the worst case) plus a margin.
            let lead_ms = lead_ms.unwrap_or((count as i64 / 2).max(3_000) + 2_000);
            let due_ms = now_ms() + lead_ms;
            let due_of = move |i: u64| due_ms + (i as i64 * spread_ms) / count.max(1) as i64;
            let r = drive(&clients, &sm, 0, count, cli.clients, move |i| {
                format!(r#"{{"at":"{}"}}"#, format_ms(due_of(i)))
            })
            .await?;
            r.print("start (timers)");
            if now_ms() >= due_ms {
                bail!("starting took longer than the lead time; use a smaller --count");
            }
            // Clients read executions all along, as a dashboard or pollers would.
            let reading = DescribeLoops::start(&client, &sm, count, readers, read_rate);
            // The stored timers are counted while they fire, twice a second, not the history:
            // counting the whole history every 100 ms took most of a core of the machine under
            // test (on PostgreSQL, 92 ms a count), slowing the daemon it measures. The history
            // is counted once at the end; when the waits ended is read from it, so how often
            // this asks does not change the figures.
            wait_until_every(
                "timers fired",
                count,
                Duration::from_secs(600),
                Duration::from_millis(500),
                || async { Ok(count - store.count_timers().await?.min(count)) },
            )
            .await?;
            let fired = store.count_fired().await?;
            if fired < count {
                bail!("the timers are gone but only {fired} of {count} waits ended");
            }
            let mut during = reading.finish(due_ms).await?;
            during.sort_unstable();
            println!(
                "DescribeExecution during the firing ({} calls from {readers} clients{}): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                during.len(),
                if read_rate > 0 {
                    format!(" paced at {read_rate}/s")
                } else {
                    String::new()
                },
                pct(&during, 50.0) as f64 / 1000.0,
                pct(&during, 99.0) as f64 / 1000.0,
                during.last().copied().unwrap_or(0) as f64 / 1000.0,
            );
            // Each execution is named e{i}, so its deadline is due_of(i).
            let exited = store.exited_times().await?;
            let mut lateness: Vec<i64> = exited
                .iter()
                .filter_map(|(_, name, t)| Some(t - due_of(name.strip_prefix('e')?.parse().ok()?)))
                .collect();
            lateness.sort_unstable();
            let early = lateness.iter().filter(|l| **l < 0).count();
            let last_fire = exited.iter().map(|(_, _, t)| *t).max().unwrap_or(due_ms);
            let window = (last_fire - due_ms).max(1);
            println!(
                "timers: {count} due over {spread_ms} ms; all fired {window} ms after the first deadline = {:.0} fires/s; \
                 lateness p50 {} ms, p99 {} ms, max {} ms; early {early}",
                count as f64 * 1000.0 / window as f64,
                pct(&lateness, 50.0),
                pct(&lateness, 99.0),
                lateness.last().copied().unwrap_or(0),
            );
        }
        Scenario::Soak {
            rate,
            minutes,
            ref csv,
            ..
        } => {
            single("soak")?;
            let function = soak_function.context("the soak's function server")?;
            let opts = soak::Options {
                rate,
                minutes,
                csv: csv.clone(),
            };
            soak::run(&client, nodes.first(), data_dir, &function, &opts).await?;
        }
        Scenario::Failover { runs, count } => {
            if cli.nodes < 2 {
                bail!("the failover scenario needs --nodes 2 or more");
            }
            failover(&mut nodes, store, runs, count, cli.clients).await?;
        }
        Scenario::Floor { .. } | Scenario::Cursor { .. } => {
            bail!("this scenario runs no daemon")
        }
    }
    nodes.stop()?;
    Ok(())
}

/// DescribeExecution of executions `e0..e{count}` of a machine from closed-loop clients.
struct DescribeLoops {
    stop: Arc<std::sync::atomic::AtomicBool>,
    loops: Vec<tokio::task::JoinHandle<Result<Vec<Call>>>>,
}

/// A call: when it began (UTC ms) and how long it took (µs).
type Call = (i64, u64);

impl DescribeLoops {
    /// `clients` loops; with `rate` > 0 they make that many calls a second between them, each
    /// skipping the calls it fell behind on rather than catching up in a burst.
    fn start(client: &Client, sm: &str, count: u64, clients: u64, rate: u64) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let prefix = sm.replacen(":stateMachine:", ":execution:", 1);
        let period = (rate > 0).then(|| {
            Duration::from_secs_f64(clients as f64 / rate as f64).max(Duration::from_micros(1))
        });
        let loops = (0..clients)
            .map(|c| {
                let (client, prefix, stop) = (client.clone(), prefix.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut pace = period.map(|p| {
                        let mut pace = tokio::time::interval(p);
                        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                        pace
                    });
                    let mut calls = Vec::new();
                    let mut i = c;
                    while !stop.load(Ordering::Relaxed) {
                        if let Some(pace) = &mut pace {
                            pace.tick().await;
                        }
                        // A stride prime to any count visits executions all over the store.
                        i = (i + 7_919) % count.max(1);
                        let body = serde_json::json!({"executionArn": format!("{prefix}:e{i}")});
                        let (at, t) = (now_ms(), Instant::now());
                        if let Err(e) = client.call("DescribeExecution", &body).await? {
                            bail!("DescribeExecution failed: {e}");
                        }
                        calls.push((at, t.elapsed().as_micros() as u64));
                    }
                    Ok(calls)
                })
            })
            .collect();
        Self { stop, loops }
    }

    /// Stop the clients; the latencies (µs) of the calls begun at `from_ms` or later.
    async fn finish(self, from_ms: i64) -> Result<Vec<u64>> {
        self.stop.store(true, Ordering::Relaxed);
        let mut out = Vec::new();
        for l in self.loops {
            out.extend(
                l.await??
                    .into_iter()
                    .filter(|(at, _)| *at >= from_ms)
                    .map(|(_, us)| us),
            );
        }
        Ok(out)
    }
}

/// Poll `done` every 100 ms until it reaches `want`, for at most `limit`.
async fn wait_until<F, Fut>(what: &str, want: u64, limit: Duration, done: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64>>,
{
    wait_until_every(what, want, limit, Duration::from_millis(100), done).await
}

/// [`wait_until`], asking every `period`.
async fn wait_until_every<F, Fut>(
    what: &str,
    want: u64,
    limit: Duration,
    period: Duration,
    mut done: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64>>,
{
    let deadline = Instant::now() + limit;
    loop {
        let n = done().await?;
        if n >= want {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {n} of {want} {what} within {limit:?}");
        }
        tokio::time::sleep(period).await;
    }
}

/// The peak resident memory of a process, sampled every 20 ms until stopped.
struct PeakRss {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    fn sample(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let task = {
            let peak = peak.clone();
            tokio::spawn(async move {
                loop {
                    if let Ok(kb) = rss_kib(pid) {
                        peak.fetch_max(kb, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        Self { peak, task }
    }

    /// Stop sampling; the peak in MiB.
    fn stop(self) -> f64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

/// Wait until `count` executions succeeded, then print the rate since `since` (time and the
/// nodes' CPU seconds then) and the CPU per execution.
async fn all_succeeded(
    nodes: &Nodes,
    store: &Store,
    count: u64,
    since: (Instant, f64),
    label: &str,
    flow: &str,
    unit: &str,
) -> Result<()> {
    wait_until(
        "executions finished",
        count,
        Duration::from_secs(600),
        || store.count_status("SUCCEEDED"),
    )
    .await?;
    let took = since.0.elapsed();
    let cpu = nodes.cpu_seconds()? - since.1;
    println!(
        "{label}: {count} executions {flow} finished in {:.2} s = {:.0} {unit}/s; daemon rss {}, cpu {:.0} µs per execution",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64(),
        nodes.rss_text()?,
        cpu * 1e6 / count as f64
    );
    Ok(())
}

/// `clients` tasks that answer every token the function receives with SendTaskSuccess, until
/// `count` were answered.
fn answer_tokens(
    targets: &[Client],
    tokens: tokio::sync::mpsc::UnboundedReceiver<String>,
    count: u64,
    clients: usize,
) -> tokio::task::JoinHandle<Result<()>> {
    let tokens = Arc::new(tokio::sync::Mutex::new(tokens));
    let answered = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let client = targets[c % targets.len()].clone();
            let (tokens, answered) = (tokens.clone(), answered.clone());
            tokio::spawn(async move {
                while answered.fetch_add(1, Ordering::Relaxed) < count {
                    let Some(token) = tokens.lock().await.recv().await else {
                        bail!("the function server stopped");
                    };
                    let body = serde_json::json!({"taskToken": token, "output": "{}"});
                    loop {
                        match client.call("SendTaskSuccess", &body).await? {
                            Ok(_) => break,
                            Err(e)
                                if e.contains("ThrottlingException")
                                    || e.contains("ServiceUnavailableException") =>
                            {
                                tokio::time::sleep(Duration::from_millis(5)).await;
                            }
                            Err(e) => bail!("SendTaskSuccess failed: {e}"),
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    tokio::spawn(async move {
        for t in tasks {
            t.await??;
        }
        Ok(())
    })
}

/// `workers` loops that take activity tasks and answer each with SendTaskSuccess, until
/// `count` were answered; abort the handle to stop the polls still waiting.
fn activity_workers(
    targets: &[Client],
    activity: &str,
    count: u64,
    workers: usize,
) -> tokio::task::JoinHandle<()> {
    let answered = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let client = targets[w % targets.len()].clone();
            let answered = answered.clone();
            let poll = serde_json::json!({"activityArn": activity, "workerName": format!("w{w}")});
            tokio::spawn(async move {
                while answered.load(Ordering::Relaxed) < count {
                    let Ok(Ok(text)) = client.call("GetActivityTask", &poll).await else {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    let task: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    let Some(token) = task["taskToken"].as_str() else {
                        continue;
                    };
                    let body = serde_json::json!({"taskToken": token, "output": "{}"});
                    while !matches!(client.call("SendTaskSuccess", &body).await, Ok(Ok(_))) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::spawn(async move {
        let _stop = AbortAll(tasks);
        std::future::pending::<()>().await;
    })
}

/// A client of an SQS emulator's JSON protocol (the signature is not checked; the credential
/// scope routes the request).
struct Sqs {
    http: reqwest::Client,
    url: String,
}

impl Sqs {
    fn new(url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: format!("{}/", url.trim_end_matches('/')),
        }
    }

    async fn call(&self, op: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AmazonSQS.{op}"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await?;
        let ok = resp.status().is_success();
        let text = resp.text().await?;
        if !ok {
            bail!("{op} failed: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }

    async fn create_queue(&self, name: &str) -> Result<String> {
        let v = self
            .call("CreateQueue", serde_json::json!({ "QueueName": name }))
            .await?;
        Ok(v["QueueUrl"].as_str().unwrap_or_default().to_owned())
    }

    async fn send_many(&self, queue: &str, count: u64, clients: usize) -> Result<()> {
        let next = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (next, http, url) = (next.clone(), self.http.clone(), self.url.clone());
                let sqs = Sqs { http, url };
                let queue = queue.to_owned();
                tokio::spawn(async move {
                    while next.fetch_add(1, Ordering::Relaxed) < count {
                        sqs.call(
                            "SendMessage",
                            serde_json::json!({"QueueUrl": queue, "MessageBody": "x"}),
                        )
                        .await?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        Ok(())
    }
}

/// Aborts its tasks when dropped.
struct AbortAll(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortAll {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Wait until the `nodes` hold every partition between them, each its share (the last to
/// start begins with none, and requests for partitions in handoff would be refused).
async fn balanced(store: &Store, nodes: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut held = Vec::with_capacity(nodes);
        let mut total = 0;
        for i in 0..nodes {
            let (h, t) = store.leases_of(&format!("node{i}")).await?;
            held.push(h.len() as u64);
            total = t;
        }
        let share = total / nodes as u64;
        if held.iter().sum::<u64>() == total && held.iter().all(|&h| h >= share) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the nodes did not balance their partitions in 2 minutes: {held:?} of {total}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each run: `count` executions due 1 s after the kill of the node holding the most
/// partitions; the failover time is from the kill to the first WaitStateExited among the
/// executions of its partitions (fired by their new owner). The node is then started again and
/// takes its share back before the next run.
async fn failover(
    nodes: &mut Nodes,
    store: &Store,
    runs: u32,
    count: u64,
    clients: usize,
) -> Result<()> {
    let sm = nodes.clients()[0]
        .create_state_machine("bench-failover", AT_TIMESTAMP)
        .await?;
    let mut times = Vec::with_capacity(runs as usize);
    for run in 0..runs {
        let mut busiest = (0, Vec::new(), 0);
        for i in 0..nodes.daemons.len() {
            let (held, total) = store.leases_of(&format!("node{i}")).await?;
            if held.len() > busiest.1.len() {
                busiest = (i, held, total);
            }
        }
        let (victim, partitions, total) = busiest;
        let survivors: Vec<Client> = nodes
            .clients()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != victim)
            .map(|(_, c)| c)
            .collect();
        let due_ms = now_ms() + 1_000 + count as i64; // time to start them, then the kill
        let offset = u64::from(run) * count;
        drive(&survivors, &sm, offset, count, clients, move |_| {
            format!(r#"{{"at":"{}"}}"#, format_ms(due_ms + 1_000))
        })
        .await?;
        let wait = due_ms - now_ms();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
        let killed_ms = now_ms();
        nodes.daemons[victim].kill9()?;
        wait_until(
            "failover timers fired",
            offset + count,
            Duration::from_secs(120),
            || store.count_fired(),
        )
        .await?;
        let first = store
            .exited_times()
            .await?
            .into_iter()
            .filter(|(arn, name, _)| {
                name.strip_prefix('e')
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n >= offset)
                    && partitions.contains(&hourglass::model::arn::partition_in(arn, total))
            })
            .map(|(_, _, t)| t)
            .min()
            .context("no execution of the killed node's partitions fired")?;
        let took = first - killed_ms;
        println!(
            "failover run {}: killed node{victim} holding {} of {total} partitions; first of its timers fired {took} ms after the kill",
            run + 1,
            partitions.len()
        );
        times.push(took);
        nodes.daemons[victim].start_again()?;
        // Let it take its share back.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    times.sort_unstable();
    println!(
        "failover: {runs} runs; kill to first fire by the new owner: median {} ms, max {} ms",
        pct(&times, 50.0),
        times.last().copied().unwrap_or(0)
    );
    Ok(())
}

/// Start `count` executions of Pass → Wait 0 → Pass and wait, through ListExecutions, until
/// every one has succeeded.
async fn run_to_completion(client: &Client, count: u64, clients: usize) -> Result<()> {
    let name = format!("bench-run-{}", now_ms());
    let sm = client.create_state_machine(&name, PASS_WAIT_PASS).await?;
    let t0 = Instant::now();
    let r = drive(std::slice::from_ref(client), &sm, 0, count, clients, |i| {
        format!(r#"{{"i":{i}}}"#)
    })
    .await?;
    r.print("start (run)");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = client.count_succeeded(&sm).await?;
        if done >= count {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {done} of {count} executions succeeded in 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "run: {count} executions (Pass → Wait 0 → Pass) started and succeeded in {secs:.2} s = {:.0} executions/s",
        count as f64 / secs
    );
    Ok(())
}

/// Results of a run of starts.
struct Run {
    count: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
    throttled: u64,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, label: &str) {
        let mut l = self.latencies_us.clone();
        l.sort_unstable();
        println!(
            "{label}: {} starts in {:.2} s = {:.0}/s; latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms; throttled or refused and retried {}",
            self.count,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            pct(&l, 50.0) as f64 / 1000.0,
            pct(&l, 99.0) as f64 / 1000.0,
            pct(&l, 99.9) as f64 / 1000.0,
            self.throttled,
        );
    }
}

fn pct<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Start `count` executions named `e{offset..}` from `clients` concurrent clients, spread
/// over the `targets` (the nodes).
async fn drive(
    targets: &[Client],
    sm: &str,
    offset: u64,
    count: u64,
    clients: usize,
    input: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Result<Run> {
    let sm = sm.to_owned();
    call_each(targets, "StartExecution", count, clients, move |i| {
        serde_json::json!({
            "stateMachineArn": sm,
            "name": format!("e{}", offset + i),
            "input": input(i),
        })
    })
    .await
}

/// Make the call `op` with `body(i)` for each `i` below `count`, from `clients` concurrent
/// clients spread over the `targets` (the nodes), retrying as the SDKs do when refused for
/// want of room.
async fn call_each(
    targets: &[Client],
    op: &'static str,
    count: u64,
    clients: usize,
    body: impl Fn(u64) -> serde_json::Value + Send + Sync + 'static,
) -> Result<Run> {
    let next = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));
    let body = Arc::new(body);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let client = targets[c % targets.len()].clone();
        let next = next.clone();
        let throttled = throttled.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let body = body(i);
                loop {
                    let t = Instant::now();
                    match client.call(op, &body).await? {
                        Ok(_) => {
                            lat.push(t.elapsed().as_micros() as u64);
                            break;
                        }
                        // Retried, as the SDKs do: a full queue, or (on a cluster) a
                        // partition between owners.
                        Err(e)
                            if e.contains("ThrottlingException")
                                || e.contains("ServiceUnavailableException") =>
                        {
                            throttled.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(e) => bail!("{op} failed: {e}"),
                    }
                }
            }
        }));
    }
    let mut latencies_us = Vec::with_capacity(count as usize);
    for t in tasks {
        latencies_us.extend(t.await??);
    }
    Ok(Run {
        count,
        elapsed: started.elapsed(),
        latencies_us,
        throttled: throttled.load(Ordering::Relaxed),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn format_ms(ms: i64) -> String {
    hourglass::asl::timestamp::format_ms(ms)
}

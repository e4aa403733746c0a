//! `floor`: the least a StartExecution can cost on this machine with the daemon's HTTP stack.
//!
//! A server on the same runtime, axum, hyper and accept loop as the daemon that answers
//! StartExecution as the daemon must at the least: it checks the target header, parses the
//! request and its input as JSON, reads the machine's ARN, gives the execution a fresh version
//! 7 UUID name and answers with its ARN and start date. It stores nothing, runs no machine and
//! keeps no metrics or logs. `bench/wrk/floor.sh` drives it with the same wrk script as the daemon; its
//! CPU per request is a floor under the daemon's CPU per start.
//!
//! With `--durable DIR` it also stores each start before answering it, the least a durable
//! start can cost: one row (the execution's ARN and its input) in one table with no index, in
//! an SQLite database in WAL mode with `synchronous=FULL`, written by a thread of its own that
//! commits whatever has queued in one transaction (group commit), as the daemon's writer does.
//! Its CPU per start is a floor under a start that survives a crash.
//!
//! The same server answers Lambda's Invoke API with the payload, and [`calls`] calls it with the
//! daemon's own Lambda client from another process: that process's CPU per call is a floor
//! under what a Task's call costs the daemon.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Result;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hourglass::invoke::lambda::{LambdaInvoker, LambdaSettings};
use hourglass::invoke::{Invocation, Invoker};
use hourglass::model::{Name, StateMachineArn};
use tokio::sync::oneshot;

const CONTENT_TYPE: (&str, &str) = ("content-type", "application/x-amz-json-1.0");

/// Serve on `127.0.0.1:port` until the process is stopped. `GET /count` answers how many
/// starts were answered. With `durable`, each start is stored there first; with `task_call`
/// too, each start then calls the Lambda Invoke API at that base URL with its input, through
/// the daemon's Lambda client, and stores the result before answering: the least a durable
/// Task execution can cost (two commits and a call).
pub async fn serve(port: u16, durable: Option<&Path>, task_call: Option<&str>) -> Result<()> {
    let answered = Arc::new(AtomicU64::new(0));
    let counter = answered.clone();
    let store = durable.map(Store::open).transpose()?.map(Arc::new);
    let invoker = task_call.map(|url| invoker(url, 1_000)).transpose()?;
    let app = axum::Router::new()
        .route(
            "/",
            post(move |headers: HeaderMap, body: Bytes| {
                let answered = answered.clone();
                let store = store.clone();
                let invoker = invoker.clone();
                async move {
                    let started = match start(&headers, &body) {
                        Ok(started) => started,
                        Err((kind, message)) => return refuse(kind, &message),
                    };
                    if let Some(store) = &store {
                        let (execution, input) = (started.execution, started.input);
                        let kept = match &invoker {
                            Some(invoker) => task(store, invoker, execution, input).await,
                            None => store.keep(execution, input).await,
                        };
                        if let Err(e) = kept {
                            return refuse("InternalFailure", &e);
                        }
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                    ([CONTENT_TYPE], started.answer).into_response()
                }
            }),
        )
        .route(
            "/2015-03-31/functions/{name}/invocations",
            post(|body: Bytes| async move {
                (
                    [
                        ("content-type", "application/json"),
                        ("x-amz-executed-version", "$LATEST"),
                    ],
                    body,
                )
            }),
        )
        .route(
            "/count",
            get(move || async move { counter.load(Ordering::Relaxed).to_string() }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("floor: serving on {}", listener.local_addr()?);
    hourglass::http::serve(
        listener,
        app,
        tokio_util::sync::CancellationToken::new(),
        std::time::Duration::from_secs(
            hourglass::config::LimitsConfig::default().idle_connection_secs,
        ),
    )
    .await?;
    Ok(())
}

/// The daemon's Lambda client for a function server at `endpoint`, with at most `concurrency`
/// calls in flight.
fn invoker(endpoint: &str, concurrency: usize) -> Result<Arc<LambdaInvoker>> {
    Ok(Arc::new(LambdaInvoker::new(LambdaSettings {
        endpoint: endpoint.to_owned(),
        connect_timeout: std::time::Duration::from_secs(5),
        response_timeout: std::time::Duration::from_secs(30),
        max_concurrency_per_function: concurrency,
        signing: None,
    })?))
}

/// A call of the no-op function with `payload`.
fn invocation(payload: String) -> Invocation {
    Invocation {
        seq: 5,
        function_name: "noop".into(),
        qualifier: None,
        payload,
        invocation_type: "RequestResponse".into(),
        client_context: None,
        log_type: None,
        kind: Default::default(),
        mock: None,
    }
}

/// A durable Task execution at its least: the start stored, the call, its result stored.
async fn task(
    store: &Store,
    invoker: &LambdaInvoker,
    execution: String,
    input: String,
) -> Result<(), String> {
    store.keep(execution.clone(), input.clone()).await?;
    let result = invoker
        .invoke(invocation(input))
        .await
        .map_err(|e| format!("the call failed: {e:?}"))?;
    store.keep(execution, result.payload).await
}

/// `count` calls of a function at `endpoint` through the daemon's Lambda client, from
/// `clients` tasks; prints calls per second and this process's CPU per call.
pub async fn calls(endpoint: &str, count: u64, clients: u64) -> Result<()> {
    let clients = clients.max(1);
    let invoker = invoker(endpoint, clients as usize)?;
    let invocation = invocation(r#"{"expirydate":11,"a":1233333}"#.into());
    let me = std::process::id();
    let cpu0 = crate::daemon::cpu_seconds_of(me)?;
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (invoker, invocation) = (invoker.clone(), invocation.clone());
            let mine = count / clients + u64::from(c < count % clients);
            tokio::spawn(async move {
                for _ in 0..mine {
                    invoker
                        .invoke(invocation.clone())
                        .await
                        .map_err(|e| anyhow::anyhow!("call failed: {e:?}"))?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = crate::daemon::cpu_seconds_of(me)? - cpu0;
    println!(
        "calls: {count} in {secs:.1} s = {:.0} calls/s; the caller's CPU {cpu:.1} s: {:.1} µs per call",
        count as f64 / secs,
        cpu * 1e6 / count as f64
    );
    Ok(())
}

/// A start the floor accepted: the execution's ARN, its input and the answer to send.
struct Started {
    execution: String,
    input: String,
    answer: Vec<u8>,
}

/// Why a start was refused: the error's type and message.
type Refused = (&'static str, String);

fn start(headers: &HeaderMap, body: &[u8]) -> Result<Started, Refused> {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    if target != Some("AWSStepFunctions.StartExecution") {
        return Err((
            "UnknownOperationException",
            "only StartExecution is served".into(),
        ));
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Err(("SerializationException", "the body is not JSON".into()));
    };
    let input = request["input"].as_str().unwrap_or("{}");
    if serde_json::from_str::<serde_json::Value>(input).is_err() {
        return Err(("InvalidExecutionInput", "the input is not JSON".into()));
    }
    let Some(Ok(machine)) = request["stateMachineArn"]
        .as_str()
        .map(StateMachineArn::parse)
    else {
        return Err(("InvalidArn", "no state machine ARN".into()));
    };
    let execution = machine.execution(Name::random().as_str());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let answer = serde_json::json!({
        "executionArn": execution.as_str(),
        "startDate": now.as_millis() as f64 / 1000.0,
    });
    Ok(Started {
        answer: serde_json::to_vec(&answer).map_err(|e| ("InternalFailure", e.to_string()))?,
        execution: execution.into_string(),
        input: input.to_owned(),
    })
}

/// A start to store, and where to say it was committed.
type Kept = (String, String, oneshot::Sender<Result<(), String>>);

/// The durable floor's store: a writer thread with its own SQLite connection.
struct Store {
    queue: std::sync::mpsc::Sender<Kept>,
}

impl Store {
    /// The most starts one commit takes.
    const MAX_BATCH: usize = 1_000;

    fn open(dir: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open(dir.join("floor.db"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             CREATE TABLE IF NOT EXISTS starts (arn TEXT NOT NULL, input TEXT NOT NULL);",
        )?;
        let (queue, rx) = std::sync::mpsc::channel::<Kept>();
        std::thread::Builder::new()
            .name("floor-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < Self::MAX_BATCH {
                        match rx.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let done = Self::commit(&conn, &batch).map_err(|e| e.to_string());
                    for (_, _, ack) in batch {
                        let _ = ack.send(done.clone());
                    }
                }
            })?;
        Ok(Self { queue })
    }

    fn commit(conn: &rusqlite::Connection, batch: &[Kept]) -> rusqlite::Result<()> {
        let tx = conn.unchecked_transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO starts (arn, input) VALUES (?1, ?2)")?;
            for (arn, input, _) in batch {
                insert.execute([arn, input])?;
            }
        }
        tx.commit()
    }

    /// Store a start; `Ok` once it is committed.
    async fn keep(&self, execution: String, input: String) -> Result<(), String> {
        let (ack, committed) = oneshot::channel();
        self.queue
            .send((execution, input, ack))
            .map_err(|_| "the writer stopped".to_owned())?;
        committed
            .await
            .map_err(|_| "the writer stopped".to_owned())?
    }
}

fn refuse(kind: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": kind, "message": message }).to_string();
    (StatusCode::BAD_REQUEST, [CONTENT_TYPE], body).into_response()
}

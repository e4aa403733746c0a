//! Distributed Map runs: the children of a map run, started and followed by the run's driver.
//!
//! The parent's step that starts a run writes the run and one row per item (`map_runs`,
//! `map_run_items`) with the call it waits on ([`CallKind::MapRun`]). The dispatcher hands
//! that call to [`Engine::run_map_run`], which starts children up to the run's
//! `MaxConcurrency` and answers the call when all have ended or too many failed:
//!
//! ```text
//!  parent step ── map_runs + items + tasks row ──> driver: start pending items (≤ concurrency)
//!      child start commit: execution + item RUNNING (+ counted)
//!      child end commit:   item SUCCEEDED/FAILED... with its output (+ counted) ── wakes the driver
//!  all ended ──> results (or ResultWriter) ──> EndMapRun + the call's result ──> parent step
//! ```
//!
//! Every step is a commit, so a crash loses nothing: the call's row makes the driver start
//! again, a child's start and its item's mark are one commit (a child started again after a
//! crash has the same derived name, and the start finds it), and an item's end is counted in
//! the child's last commit. The driver keeps in memory only the page of items it is starting.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::executions::StartWith;
use super::{Engine, Error, Result};
use crate::asl::run::{
    threshold_exceeded, CallKind, MapItemLink, MAX_CHILDREN_AT_ONCE, MAX_PAYLOAD_BYTES,
};
use crate::asl::{catalogue, StatesError};
use crate::invoke::{Invocation, InvokeOutput, Outcome};
use crate::model::StateMachineStatus;
use crate::model::{ExecutionArn, ExecutionStatus, MapRunStatus, ResultFile, StateMachineArn};
use crate::store::{MapItemRow, MapRunRow, StateMachineRow, Store, WhenFull, WriteOp};

/// Children started at once by one driver (each start is a commit).
const STARTS_AT_ONCE: usize = 256;
/// Items read per page.
const PAGE: i64 = 1_000;
/// How long a driver waits for a child's end before it looks again anyway.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Whether more children failed than the run tolerates: the larger of its count and its
/// percentage of the items (none tolerated when it gives neither).
pub(super) fn too_many_failed(run: &MapRunRow) -> bool {
    let failures = run.failed + run.timed_out + run.aborted;
    let by_count = run.tolerated_count.map(|c| c.floor() as i64);
    let by_pct = run
        .tolerated_percentage
        .map(|p| ((p / 100.0) * run.item_count as f64).floor() as i64);
    let tolerated = by_count.into_iter().chain(by_pct).max().unwrap_or(0);
    failures > tolerated
}

/// The children a run may have running at once.
fn concurrency(run: &MapRunRow) -> i64 {
    match run.max_concurrency {
        n if n <= 0 => i64::from(MAX_CHILDREN_AT_ONCE),
        n => n.min(i64::from(MAX_CHILDREN_AT_ONCE)),
    }
}

/// A call's answer with `payload`.
fn answer(payload: String) -> InvokeOutput {
    InvokeOutput {
        status_code: 200,
        payload,
        executed_version: None,
        request_id: uuid::Uuid::new_v4().to_string(),
        headers: Vec::new(),
        mocked: false,
    }
}

impl<S: Store> Engine<S> {
    /// Make a map run's call: run its children until the run ends, and answer with its
    /// result. `None` when the parent left the state (the run is aborted) or the node stops
    /// (the call's row stays, and the next start resumes the run).
    pub(super) async fn run_map_run(
        &self,
        partition: i64,
        inv: &Invocation,
        cancelled: &CancellationToken,
        hard_stop: &CancellationToken,
    ) -> Option<Outcome> {
        let mut from = 0;
        let mut machine: Option<Arc<StateMachineRow>> = None;
        loop {
            let woken = self.map_wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if hard_stop.is_cancelled() {
                return None;
            }
            let step = self
                .map_run_step(partition, inv, cancelled, &mut from, &mut machine)
                .await;
            match step {
                Ok(Some(outcome)) => return Some(outcome),
                Ok(None) if cancelled.is_cancelled() => return None,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, map_run_arn = inv.function_name, "a map run could not go on; trying again");
                }
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(LOOK_AGAIN) => {}
                _ = cancelled.cancelled() => {}
                _ = hard_stop.cancelled() => return None,
            }
        }
    }

    /// One look at a run: end it, or start what may start. `Some` once it has ended.
    async fn map_run_step(
        &self,
        partition: i64,
        inv: &Invocation,
        cancelled: &CancellationToken,
        from: &mut i64,
        machine: &mut Option<Arc<StateMachineRow>>,
    ) -> Result<Option<Outcome>> {
        let Some(run) = self.store.map_run(&inv.function_name).await? else {
            let e = StatesError::runtime("The map run does not exist.");
            return Ok(Some(Err(e)));
        };
        if cancelled.is_cancelled() {
            self.end_map_run(&run, MapRunStatus::Aborted, None).await?;
            return Ok(None);
        }
        match run.status {
            MapRunStatus::Running => {}
            // It ended before its result reached the parent (a crash in between).
            MapRunStatus::Succeeded => return Ok(Some(self.map_run_output(&run).await)),
            // Its parent left the state (the commit that left it aborted the run): stop the
            // children still running, and end when the call is cancelled.
            MapRunStatus::Aborted => {
                self.stop_map_children(&run).await?;
                return Ok(None);
            }
            MapRunStatus::Failed => {
                let e = StatesError::new(
                    run.error.clone().unwrap_or_default(),
                    run.cause.clone().unwrap_or_default(),
                );
                return Ok(Some(Err(e)));
            }
        }
        if too_many_failed(&run) {
            let e = threshold_exceeded();
            self.end_map_run(&run, MapRunStatus::Failed, Some(&e))
                .await?;
            return Ok(Some(Err(e)));
        }
        let ended = run.succeeded + run.failed + run.timed_out + run.aborted;
        if ended >= run.item_count {
            let outcome = self.map_run_output(&run).await;
            let (status, error) = match &outcome {
                Ok(_) => (MapRunStatus::Succeeded, None),
                Err(e) => (MapRunStatus::Failed, Some(e)),
            };
            self.end_map_run(&run, status, error).await?;
            return Ok(Some(outcome));
        }
        let room = concurrency(&run) - (run.started - ended);
        if room <= 0 || run.started >= run.item_count {
            return Ok(None);
        }
        // The run's own key: a redrive answers through a call of its own.
        let key = (run.execution_id, run.seq);
        let items = self
            .store
            .map_items(key, *from, room.min(PAGE), true)
            .await?;
        let Some(last) = items.last() else {
            return Ok(None);
        };
        *from = last.idx + 1;
        let sm = match machine {
            Some(sm) => sm.clone(),
            None => machine.insert(self.map_run_machine(&run).await?).clone(),
        };
        let machine_arn = StateMachineArn::parse(&sm.arn)
            .map_err(|e| Error::Interpreter(format!("a map run's machine: {}", e.0)))?;
        let fits = self.placed_in(partition);
        let starts = items.into_iter().map(|item| {
            let sm = sm.clone();
            // A redrive's children are new executions, named apart from the earlier ones.
            let mut seed = format!("{}|{}|map|{}", key.0, key.1, item.idx);
            if run.redrive_count > 0 {
                seed.push_str(&format!("|redrive {}", run.redrive_count));
            }
            let name = super::children::derived_from(&seed, &|n| fits(&machine_arn, n));
            let machine_arn = machine_arn.clone();
            let link = MapItemLink {
                map_run_arn: run.arn.clone(),
                execution_id: key.0,
                seq: key.1,
                index: item.idx,
            };
            async move {
                self.start_map_child(machine_arn, sm, name, item, link)
                    .await
            }
        });
        let results: Vec<Result<()>> = stream::iter(starts)
            .buffer_unordered(STARTS_AT_ONCE)
            .collect()
            .await;
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            // Start again from the first item not started.
            *from = 0;
            return Err(e);
        }
        self.map_wake.notify_waiters();
        Ok(None)
    }

    /// Start one child (or find the one an earlier try started).
    async fn start_map_child(
        &self,
        machine: StateMachineArn,
        sm: Arc<StateMachineRow>,
        name: crate::model::Name,
        item: MapItemRow,
        link: MapItemLink,
    ) -> Result<()> {
        let input: Value = serde_json::from_str(&item.input).unwrap_or(Value::Null);
        let with = StartWith {
            map_child: Some((sm, link)),
            ..StartWith::default()
        };
        match Box::pin(self.start(&machine, name, &item.input, input, with)).await {
            Ok(_) | Err(Error::ExecutionAlreadyExists(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The state machine a run's children belong to (it has no row of its own).
    async fn map_run_machine(&self, run: &MapRunRow) -> Result<Arc<StateMachineRow>> {
        let rev = self.revision(&run.revision_id).await?;
        let name = run
            .state_machine_arn
            .split_once(":stateMachine:")
            .map_or("", |(_, n)| n)
            .to_owned();
        Ok(Arc::new(StateMachineRow {
            arn: run.state_machine_arn.clone(),
            name,
            machine_type: run.execution_type,
            status: StateMachineStatus::Active,
            revision_id: run.revision_id.clone(),
            creation_date_ms: run.start_ms,
            update_date_ms: None,
            logging_configuration: None,
            tracing_configuration: None,
            definition: String::new(),
            role_arn: rev.role_arn.clone(),
            description: None,
        }))
    }

    /// End a run: record its status, and stop the children still running.
    async fn end_map_run(
        &self,
        run: &MapRunRow,
        status: MapRunStatus,
        error: Option<&StatesError>,
    ) -> Result<()> {
        let mut ops: Vec<WriteOp> = match self.ownership.fence(run.partition) {
            Some(Err(())) => return Err(Error::NotOwner(run.partition)),
            Some(Ok(fence)) => vec![fence],
            None => Vec::new(),
        };
        ops.push(WriteOp::EndMapRun {
            run: (run.execution_id, run.seq),
            status,
            stop_ms: self.clock.now_ms(),
            error: error.map(|e| e.error.clone()),
            cause: error.and_then(|e| e.cause.clone()),
        });
        self.commit(ops, WhenFull::Wait).await?;
        self.stop_map_children(run).await
    }

    /// Stop the children of a run that are still running.
    async fn stop_map_children(&self, run: &MapRunRow) -> Result<()> {
        for item in self
            .store
            .running_map_items((run.execution_id, run.seq))
            .await?
        {
            let Some(arn) = item
                .execution_arn
                .and_then(|a| ExecutionArn::parse(&a).ok())
            else {
                continue;
            };
            if let Err(e) = Box::pin(self.stop_execution(&arn, None, None)).await {
                tracing::warn!(error = %e, child = arn.as_str(), "could not stop a map run's child");
            }
        }
        Ok(())
    }

    /// What a run that ended answers: its children's outputs by index, or where its
    /// `ResultWriter` wrote them.
    async fn map_run_output(&self, run: &MapRunRow) -> Outcome {
        if let Some(writer) = &run.result_writer {
            let writer: Value = serde_json::from_str(writer).unwrap_or(Value::Null);
            return self.write_results(run, &writer).await;
        }
        let mut out = String::from("[");
        let mut from = 0;
        loop {
            let page = self
                .store
                .map_items((run.execution_id, run.seq), from, PAGE, false)
                .await
                .map_err(|e| StatesError::runtime(format!("The map run's results: {e}")))?;
            let Some(last) = page.last() else { break };
            from = last.idx + 1;
            for item in page {
                if out.len() > 1 {
                    out.push(',');
                }
                out.push_str(item.output.as_deref().unwrap_or("null"));
            }
            if out.len() > MAX_PAYLOAD_BYTES {
                return Err(catalogue::map_run_result_too_large(MAX_PAYLOAD_BYTES));
            }
        }
        out.push(']');
        Ok(answer(out))
    }

    /// Write a run's results to S3 as AWS lays them out (`Prefix/<run id>/manifest.json`,
    /// `SUCCEEDED_0.json`, `FAILED_0.json`, `PENDING_0.json`); answer where.
    async fn write_results(&self, run: &MapRunRow, writer: &Value) -> Outcome {
        let Some(invoker) = self.config.invoker.clone() else {
            return Err(StatesError::runtime(
                "This server cannot write a ResultWriter's results.",
            ));
        };
        let bucket = writer["Bucket"].as_str().unwrap_or_default().to_owned();
        let prefix = writer["Prefix"].as_str().unwrap_or_default();
        let run_id = run.arn.rsplit(':').next().unwrap_or_default();
        let base = if prefix.is_empty() {
            run_id.to_owned()
        } else {
            format!("{}/{run_id}", prefix.trim_end_matches('/'))
        };
        let mut by_file: std::collections::BTreeMap<ResultFile, Vec<Value>> = Default::default();
        let mut from = 0;
        loop {
            let page = self
                .store
                .map_items((run.execution_id, run.seq), from, PAGE, false)
                .await
                .map_err(|e| StatesError::runtime(format!("The map run's results: {e}")))?;
            let Some(last) = page.last() else { break };
            from = last.idx + 1;
            for item in page {
                let file = match item.status {
                    Some(ExecutionStatus::Succeeded) => ResultFile::Succeeded,
                    None | Some(ExecutionStatus::Running) => ResultFile::Pending,
                    Some(_) => ResultFile::Failed,
                };
                let output: Value = item
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok())
                    .unwrap_or(Value::Null);
                let status = item
                    .status
                    .map_or(ResultFile::Pending.as_str(), ExecutionStatus::as_str);
                by_file.entry(file).or_default().push(json!({
                    "ExecutionArn": item.execution_arn,
                    "Input": item.input,
                    "Output": output.to_string(),
                    "Status": status,
                }));
            }
        }
        let mut result_files = serde_json::Map::new();
        for file in ResultFile::ALL {
            let mut listed = Vec::new();
            if let Some(entries) = by_file.get(file) {
                let key = format!("{base}/{}_0.json", file.as_str());
                let body = Value::from(entries.clone()).to_string();
                self.put_object(&*invoker, &bucket, &key, body).await?;
                listed.push(json!({"Key": key, "Size": entries.len()}));
            }
            result_files.insert(file.as_str().to_owned(), Value::Array(listed));
        }
        let manifest_key = format!("{base}/manifest.json");
        let manifest = json!({
            "DestinationBucket": bucket,
            "MapRunArn": run.arn,
            "ResultFiles": result_files,
        });
        self.put_object(&*invoker, &bucket, &manifest_key, manifest.to_string())
            .await?;
        let out = json!({
            "MapRunArn": run.arn,
            "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
        });
        Ok(answer(out.to_string()))
    }

    async fn put_object(
        &self,
        invoker: &dyn crate::invoke::Invoker,
        bucket: &str,
        key: &str,
        body: String,
    ) -> std::result::Result<(), StatesError> {
        let inv = Invocation {
            seq: 0,
            function_name: "s3:putObject".into(),
            qualifier: None,
            payload: json!({"Bucket": bucket, "Key": key, "Body": body}).to_string(),
            invocation_type: String::new(),
            client_context: None,
            log_type: None,
            kind: CallKind::ResultWriter,
            mock: None,
        };
        invoker.invoke(inv).await.map(|_| ())
    }
}

impl<S: Store> Engine<S> {
    /// DescribeMapRun.
    pub async fn map_run(&self, arn: &str) -> Result<MapRunRow> {
        self.store
            .map_run(arn)
            .await?
            .ok_or_else(|| Error::ResourceNotFound(arn.to_owned()))
    }

    /// ListMapRuns: the runs an execution started, oldest first.
    pub async fn map_runs_of(&self, execution_arn: &ExecutionArn) -> Result<Vec<MapRunRow>> {
        self.execution(execution_arn).await?;
        Ok(self.store.map_runs_of(execution_arn.as_str()).await?)
    }

    /// UpdateMapRun: its driver reads the new limits on its next look.
    pub async fn update_map_run(
        &self,
        arn: &str,
        max_concurrency: Option<i64>,
        tolerated_count: Option<f64>,
        tolerated_percentage: Option<f64>,
    ) -> Result<()> {
        self.map_run(arn).await?;
        let op = WriteOp::UpdateMapRun {
            arn: arn.to_owned(),
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        };
        self.commit(vec![op], WhenFull::Refuse).await?;
        self.map_wake.notify_waiters();
        Ok(())
    }

    /// The map run that started a child execution (whose machine is `MACHINE/LABEL`).
    pub async fn map_run_of_child(
        &self,
        execution: &crate::store::ExecutionRow,
    ) -> Result<Option<String>> {
        if !execution.state_machine_arn.contains('/') {
            return Ok(None);
        }
        Ok(self.store.map_run_of_child(&execution.arn).await?)
    }

    /// ListExecutions of a map run: its children, newest first.
    pub async fn list_map_run_executions(
        &self,
        arn: &str,
        status: Option<ExecutionStatus>,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<super::queries::Page<crate::store::ExecutionRow, (i64, i64)>> {
        self.map_run(arn).await?;
        let rows = self
            .store
            .list_map_run_executions(arn, status, after, limit + 1)
            .await?;
        Ok(super::queries::Page::of(rows, limit, |e| {
            (e.start_ms, e.id)
        }))
    }
}

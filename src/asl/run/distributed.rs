//! A Distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`): its iterations are child
//! executions of a map run, which the engine creates and follows. Here the Map's frame
//! starts the run and waits for its end as for a call:
//!
//! ```text
//!  MapStateEntered ─ MapStateStarted ─ MapRunStarted ─ (ItemReader: read the items)
//!      ─ Effect::StartMapRun + call MapRun ··· the engine runs the children ···
//!      ─ result ─> MapRunSucceeded ─ MapStateSucceeded ─ MapStateExited
//!      ─ error  ─> MapRunFailed ─ MapStateFailed ─ Retry, Catch or the execution's failure
//! ```
//!
//! The items are not kept in the cursor: they go to the map run's rows in the commit that
//! starts it, so a run of 100,000 items costs the parent's cursor nothing.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::call::{CallKind, Invocation, InvokeOutput, MapRunStart};
use super::cursor::{Frame, MapRunRef, TaskProgress};
use super::io::Io;
use super::outcome::Outcome;
use super::step::Run;
use super::Effect;
use crate::asl::catalogue;
use crate::asl::definition::{Distributed, Kind, MapSpec, State};
use crate::asl::errors::StatesError;
use crate::asl::history;
use crate::model::HistoryEventType;

/// A run's limits, read when it starts.
struct Limits {
    max_concurrency: Option<f64>,
    tolerated_count: Option<f64>,
    tolerated_percentage: Option<f64>,
    result_writer: Option<Value>,
}

/// The most children a map run runs at once (AWS's limit; a `MaxConcurrency` of 0 means it).
pub const MAX_CHILDREN_AT_ONCE: u32 = 10_000;

impl Run<'_> {
    /// Start a Distributed Map: `read` are the items its `ItemReader` read (then its run
    /// has started already).
    pub(super) fn start_distributed(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        spec: &MapSpec,
        dist: &Distributed,
        read: Option<Vec<Value>>,
    ) -> Result<Outcome, StatesError> {
        let state = io.state;
        let earlier = f.resume.take().filter(|p| p.state == state.name);
        if let (Some(run), None) = (earlier.and_then(|p| p.map_run), &read) {
            return Ok(self.redrive_map_run(f, run));
        }
        f.last_partial = None;
        let Some(items) = read else {
            if let Some(reader) = &spec.item_reader {
                // The items are read within the run: its events come first.
                self.map_state_started(0);
                let arn = self.map_run_started(state, f, dist);
                let run = json!({"MapRunArn": arn, "MapRunSeq": self.journal.last_id()});
                return self.read_items(io, f, reader, f.entered_event_id, run);
            }
            // Items that cannot be selected fail the state before it starts, and limits that
            // cannot be read before its run starts.
            let inputs = self.map_inputs(io, spec, f, None)?;
            self.map_state_started(inputs.len());
            let limits = self.limits(io, spec, dist)?;
            let arn = self.map_run_started(state, f, dist);
            let seq = self.journal.last_id();
            return Ok(self.launch(io, f, dist, (arn, seq), inputs, limits));
        };
        // The run started before the read: its ARN and event id were kept with the call.
        let run = f.task.take().map(|t| t.parameters).unwrap_or_default();
        let arn = run["MapRunArn"].as_str().unwrap_or_default().to_owned();
        let seq = run["MapRunSeq"].as_i64().unwrap_or_default();
        let ready = self
            .map_inputs(io, spec, f, Some(items))
            .and_then(|inputs| Ok((inputs, self.limits(io, spec, dist)?)));
        match ready {
            Ok((inputs, limits)) => Ok(self.launch(io, f, dist, (arn, seq), inputs, limits)),
            Err(e) => Ok(self.map_run_failed(e)),
        }
    }

    /// A run's concurrency, tolerated failures and evaluated `ResultWriter`.
    fn limits(
        &self,
        io: &Io<'_>,
        spec: &MapSpec,
        dist: &Distributed,
    ) -> Result<Limits, StatesError> {
        let count = |c, field| super::fanout::count(io, c, field);
        Ok(Limits {
            max_concurrency: count(&spec.max_concurrency, "MaxConcurrency")?,
            tolerated_count: count(&spec.tolerated_count, "ToleratedFailureCount")?,
            tolerated_percentage: count(&spec.tolerated_percentage, "ToleratedFailurePercentage")?,
            result_writer: match &dist.result_writer {
                Some(w) => Some(self.result_writer(io, w)?),
                None => None,
            },
        })
    }

    /// Ask for a Map's items from its `ItemReader`: a call keyed by `seq` (the Map's
    /// StateEntered event), answered as the items (see [`super::call::CallKind::ItemReader`]);
    /// `kept` is kept with it until the answer.
    pub(super) fn read_items(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        reader: &Value,
        seq: i64,
        kept: Value,
    ) -> Result<Outcome, StatesError> {
        let resource = reader
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let parameters = match (reader.get("Arguments"), reader.get("Parameters")) {
            (Some(a), _) if io.state.jsonata => io.jsonata(a, "Arguments", None, None)?,
            (_, Some(p)) => io.select_item(p, &io.context)?,
            _ => Value::Object(Map::new()),
        };
        let mut config = reader.get("ReaderConfig").cloned().unwrap_or(Value::Null);
        if let Some(path) = config.get("MaxItemsPath").and_then(Value::as_str) {
            let n = io.query(path, io.input()?)?;
            config["MaxItems"] = n;
        }
        let invocation = super::call::Invocation {
            seq,
            function_name: resource,
            qualifier: None,
            payload: serde_json::json!({"Parameters": parameters, "ReaderConfig": config})
                .to_string(),
            invocation_type: String::new(),
            client_context: None,
            log_type: None,
            kind: super::call::CallKind::ItemReader,
            mock: None,
        };
        f.task = Some(Box::new(super::cursor::TaskProgress {
            invocation: invocation.clone(),
            parameters: kept,
            in_flight: Some(seq),
            timeout: None,
            timeout_secs: None,
            heartbeat_secs: None,
            submitted: false,
            early: None,
            heartbeat: None,
        }));
        self.effects.push(super::Effect::Invoke(invocation));
        Ok(Outcome::Blocked)
    }

    /// The answer of a Map's `ItemReader` (start its iterations over the items read), or
    /// the end of a Distributed Map's run.
    pub(super) fn items_read(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        outer: &Map<String, Value>,
        result: Result<super::call::InvokeOutput, StatesError>,
    ) -> Result<Outcome, StatesError> {
        if f.task
            .as_ref()
            .is_some_and(|t| t.invocation.kind == super::call::CallKind::MapRun)
        {
            return self.map_run_ended(io.state, f, outer, result);
        }
        let items = result.and_then(|out| match serde_json::from_str(&out.payload) {
            Ok(Value::Array(items)) => Ok(items),
            _ => Err(catalogue::not_iterable()),
        });
        let distributed = matches!(&io.state.kind, Kind::Map(s) if s.distributed.is_some());
        match items {
            Ok(items) => self.start_fanout(io, f, outer, Some(items)),
            Err(e) if distributed => {
                f.task = None;
                Ok(self.map_run_failed(e))
            }
            Err(e) => {
                f.task = None;
                Err(e)
            }
        }
    }

    fn map_state_started(&mut self, length: usize) {
        self.journal.append(
            HistoryEventType::MapStateStarted,
            history::map_state_started(length),
        );
    }

    /// `MapRunStarted`; the run's ARN.
    fn map_run_started(&mut self, state: &State, f: &Frame, dist: &Distributed) -> String {
        let arn = map_run_arn(
            &self.info.state_machine_arn,
            &label(state, dist),
            &self.info.arn,
            f.entered_event_id,
        );
        self.journal.append(
            HistoryEventType::MapRunStarted,
            history::map_run_started(&arn),
        );
        arn
    }

    /// Ask for the run `(ARN, seq)`: its rows, and the call the engine answers with its end.
    fn launch(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        dist: &Distributed,
        (arn, seq): (String, i64),
        items: Vec<Value>,
        limits: Limits,
    ) -> Outcome {
        let machine = format!("{}/{}", self.info.state_machine_arn, label(io.state, dist));
        self.effects.push(Effect::StartMapRun(Box::new(MapRunStart {
            seq,
            arn: arn.clone(),
            state_machine_arn: machine,
            express: dist.express,
            definition: dist.processor_text.clone(),
            items,
            max_concurrency: limits
                .max_concurrency
                .map_or(0, |m| m.min(f64::from(u32::MAX)) as u32),
            tolerated_count: limits.tolerated_count,
            tolerated_percentage: limits.tolerated_percentage,
            result_writer: limits.result_writer,
        })));
        let run = MapRunRef {
            arn,
            seq,
            redrives: 0,
        };
        self.wait_for_run(f, run, seq);
        Outcome::Blocked
    }

    /// `ResultWriter` with its parameters evaluated.
    fn result_writer(&self, io: &Io<'_>, writer: &Value) -> Result<Value, StatesError> {
        let params = match (writer.get("Arguments"), writer.get("Parameters")) {
            (Some(a), _) if io.state.jsonata => io.jsonata(a, "Arguments", None, None)?,
            (_, Some(p)) => io.select_item(p, &io.context)?,
            _ => Value::Object(Map::new()),
        };
        let mut out = params;
        if !out.is_object() {
            out = Value::Object(Map::new());
        }
        out["Resource"] = writer.get("Resource").cloned().unwrap_or(Value::Null);
        if let Some(config) = writer.get("WriterConfig") {
            out["WriterConfig"] = config.clone();
        }
        Ok(out)
    }

    /// The run ended: its result is the Map's, or its error the Map's failure.
    pub(super) fn map_run_ended(
        &mut self,
        state: &State,
        f: &mut Frame,
        outer: &Map<String, Value>,
        result: Result<InvokeOutput, StatesError>,
    ) -> Result<Outcome, StatesError> {
        // Which run this was, kept for a redrive should the state fail.
        let run = f.task.take().map(|t| MapRunRef::of(&t));
        let value = result.and_then(|out| {
            serde_json::from_str::<Value>(&out.payload)
                .map_err(|e| StatesError::runtime(format!("The map run's result: {e}")))
        });
        match value {
            Ok(value) => {
                self.journal.append(HistoryEventType::MapRunSucceeded, None);
                self.journal
                    .append(HistoryEventType::MapStateSucceeded, None);
                self.complete(state, f, outer, value)
            }
            Err(e) => {
                f.last_partial = Some(Box::new(super::cursor::Partial {
                    state: state.name.clone(),
                    map_run: run,
                    ..Default::default()
                }));
                Ok(self.map_run_failed(e))
            }
        }
    }

    /// A redrive of the execution came back to this state, whose run `run` had not
    /// succeeded: its items that did not succeed run again (`MapRunRedriven`).
    fn redrive_map_run(&mut self, f: &mut Frame, mut run: MapRunRef) -> Outcome {
        run.redrives += 1;
        self.journal.append(
            HistoryEventType::MapRunRedriven,
            history::map_run_redriven(&run.arn, run.redrives),
        );
        let seq = self.journal.last_id();
        self.effects.push(Effect::RedriveMapRun { seq: run.seq });
        self.wait_for_run(f, run, seq);
        Outcome::Blocked
    }

    /// Block the frame on the call `seq` that answers with the end of `run`.
    fn wait_for_run(&mut self, f: &mut Frame, run: MapRunRef, seq: i64) {
        let invocation = Invocation {
            seq,
            function_name: run.arn.clone(),
            qualifier: None,
            payload: String::new(),
            invocation_type: String::new(),
            client_context: None,
            log_type: None,
            kind: CallKind::MapRun,
            mock: None,
        };
        f.task = Some(Box::new(TaskProgress {
            invocation: invocation.clone(),
            parameters: json!({"MapRunSeq": run.seq, "Redrives": run.redrives}),
            in_flight: Some(seq),
            timeout: None,
            timeout_secs: None,
            heartbeat_secs: None,
            submitted: false,
            early: None,
            heartbeat: None,
        }));
        self.effects.push(Effect::Invoke(invocation));
    }

    /// `MapRunFailed` and `MapStateFailed`: the error goes to the state's Retry and Catch.
    pub(super) fn map_run_failed(&mut self, e: StatesError) -> Outcome {
        let error = (!e.error.is_empty()).then_some(e.error.as_str());
        self.journal.append(
            HistoryEventType::MapRunFailed,
            history::map_run_failed(error, e.cause.as_deref()),
        );
        self.journal.append(HistoryEventType::MapStateFailed, None);
        Outcome::Raise(e)
    }
}

/// The map run's label: the state's `Label`, or one made from its name.
fn label(state: &State, dist: &Distributed) -> String {
    if let Some(l) = &dist.label {
        return l.clone();
    }
    let fits = state.name.chars().count() <= 40
        && state
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        state.name.clone()
    } else {
        let d = Sha256::digest(state.name.as_bytes());
        d[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A map run's ARN: `arn:aws:states:R:A:mapRun:MACHINE/LABEL:UUID`, the UUID derived from
/// the execution and the Map's entry (the same on every replay of the step).
pub fn map_run_arn(machine_arn: &str, label: &str, execution_arn: &str, entered: i64) -> String {
    let d = Sha256::new()
        .chain_update(b"hourglass map run|")
        .chain_update(execution_arn.as_bytes())
        .chain_update(b"|")
        .chain_update(entered.to_string().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let base = machine_arn.replacen(":stateMachine:", ":mapRun:", 1);
    format!("{base}/{label}:{id}")
}

/// The error a map run fails with when more children failed than it tolerates.
pub fn threshold_exceeded() -> StatesError {
    catalogue::tolerated_failure_exceeded()
}

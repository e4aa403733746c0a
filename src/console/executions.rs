//! An execution's page: the graph coloured by what happened, what a running execution waits
//! for, its history (paged), its input and output, the executions and map runs around it;
//! Stop and Redrive, each after a confirmation. The live part of the page is served alone
//! too, for the page's script to swap in while the execution runs.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{self, link, time};
use super::machines::{executions_table, graph_box};
use super::outcome::{details, Visit, Visits};
use super::{graph, html_page, same_origin, Console, Fail, Token};
use crate::api::{perform, Operation};
use crate::model::{ExecutionArn, ExecutionStatus, HistoryEventType as T};
use crate::store::{EventRow, ExecutionRow, MapRunRow};

/// History events on a page.
const HISTORY_PAGE: usize = 250;

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    arn: String,
    /// The first history event shown (its id); the page holding the newest when absent.
    #[serde(default)]
    from: Option<i64>,
    /// `live`: only the part that changes while the execution runs.
    #[serde(default)]
    part: String,
}

fn parse_arn(arn: &str) -> Result<ExecutionArn, Fail> {
    ExecutionArn::parse(arn).map_err(|e| Fail::Bad(e.0))
}

/// An execution.
pub async fn show(
    State(console): State<Console>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, Fail> {
    let engine = console.engine()?;
    let arn = parse_arn(&query.arn)?;
    let e = engine.execution(&arn).await?;
    let ran = engine.machine_for_execution(&arn).await?;
    let events = engine.whole_history(e.id).await?;
    let visits = Visits::read(&events, e.status);
    let timers = engine.timers_of(e.id).await?;
    let map_runs = engine.map_runs_of(&arn).await?;
    let map_run = engine.map_run_of_child(&e).await?;
    let parent = match &map_run {
        Some(run) => Some(engine.map_run(run).await?.execution_arn),
        None => started_by(&e.input),
    };
    let redrivable = match e.status {
        ExecutionStatus::Running => false,
        _ => engine.redrive_info(&e).await?.not_redrivable.is_none(),
    };
    let through = engine.execution_version(e.id).await?;
    let now = engine.now_ms();
    let outcomes: BTreeMap<&str, &str> = visits
        .by_state()
        .into_iter()
        .map(|(k, v)| (k, v.word()))
        .collect();
    let live = Live {
        e: &e,
        events: &events,
        visits: &visits,
        outcomes: json!(outcomes),
        graph: graph::of(&ran.revision.definition),
        timers: &timers,
        map_runs: &map_runs,
        redrivable,
        from: query.from,
        now,
    };
    if query.part == "live" {
        return Ok(html_page(live.render()));
    }
    let machine_name = ran.machine.name.clone();
    // A map run's child runs `MACHINE/LABEL`: its page is the machine's.
    let machine_arn = e.state_machine_arn.split('/').next().unwrap_or_default();
    let body = html! {
        h1 { (e.name) }
        dl.facts {
            dt { "ARN" } dd.mono { (e.arn) }
            dt { "State machine" } dd { a href=(link("machine", &[("arn", machine_arn)])) { (machine_name) } }
            @if let Some((version, alias)) = &through {
                dt { "Started through" } dd.mono { (alias.as_deref().unwrap_or(version)) }
            }
            @if let Some(p) = &parent {
                dt { "Parent execution" } dd { a href=(link("execution", &[("arn", p)])) { (p.rsplit(':').next().unwrap_or(p)) } }
            }
            @if let Some(run) = &map_run {
                dt { "Map run" } dd { a href=(link("map-run", &[("arn", run)])) { (run.rsplit(':').next().unwrap_or(run)) } }
            }
        }
        div #live data-arn=(e.arn) data-status=(e.status.as_str()) data-last=(e.last_event_id) {
            (live.render())
        }
        (children(&events))
        (layout::json_block("Input", Some(&e.input)))
    };
    let trail = [
        (
            machine_name.as_str(),
            link("machine", &[("arn", machine_arn)]),
        ),
        (e.name.as_str(), link("execution", &[("arn", &e.arn)])),
    ];
    Ok(html_page(layout::page(&e.name, &trail, body)))
}

/// The parent named in an execution's input by a `states:startExecution` Task.
fn started_by(input: &str) -> Option<String> {
    let v: Value = serde_json::from_str(input).ok()?;
    v.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")?
        .as_str()
        .map(str::to_owned)
}

/// The part of an execution's page that changes while it runs.
struct Live<'a> {
    e: &'a ExecutionRow,
    events: &'a [EventRow],
    visits: &'a Visits,
    outcomes: Value,
    graph: Value,
    timers: &'a [(i64, i64)],
    map_runs: &'a [MapRunRow],
    redrivable: bool,
    from: Option<i64>,
    now: i64,
}

impl Live<'_> {
    fn render(&self) -> Markup {
        let e = self.e;
        html! {
            div.headline {
                (layout::status(e.status))
                span.when {
                    "Started " (time(e.start_ms, self.now))
                    @if let Some(stop) = e.stop_ms {
                        " · ended " (time(stop, self.now)) " · took " (layout::span(stop - e.start_ms))
                    } @else {
                        " · running for " (layout::span(self.now - e.start_ms))
                    }
                }
                span.actions {
                    @if e.status == ExecutionStatus::Running {
                        a.button.danger href=(link("execution/stop", &[("arn", &e.arn)])) { "Stop…" }
                    }
                    @if self.redrivable {
                        a.button href=(link("execution/redrive", &[("arn", &e.arn)])) { "Redrive…" }
                    }
                }
            }
            @if e.status == ExecutionStatus::Running { (self.now_doing()) }
            @if e.error.is_some() || e.cause.is_some() {
                section.block.failure {
                    h2 { "Error" }
                    p.mono.error { (e.error.as_deref().unwrap_or("")) }
                    @if let Some(c) = &e.cause { pre.json tabindex="0" { (layout::pretty(c)) } }
                }
            }
            section.block {
                h2 { "Graph" }
                (graph_box(&self.graph, &self.outcomes))
            }
            @if !self.map_runs.is_empty() { (map_runs_table(self.map_runs, self.now)) }
            @if e.status == ExecutionStatus::Succeeded {
                (layout::json_block("Output", e.output.as_deref()))
            }
            (self.history())
        }
    }

    /// What the open states are doing: a Wait's wake-up, a Task's call or callback.
    fn now_doing(&self) -> Markup {
        html! {
            section.block.now {
                h2 { "Now" }
                ul #now {
                    @for v in self.visits.open() { li { (self.doing(v)) } }
                    @for (seq, due) in self.timers.iter().filter(|t| t.0 == 0) {
                        li { "The execution times out " (countdown(*due, self.now)) span.hidden { (seq) } }
                    }
                    @if self.visits.open().next().is_none() { li { "Between states." } }
                }
            }
        }
    }

    fn doing(&self, v: &Visit) -> Markup {
        let timer = |seq: i64| self.timers.iter().find(|t| t.0 == seq).map(|t| t.1);
        let since =
            html! { " (since " (layout::relative(v.last.2, self.now).replace(" ago", "")) ")" };
        // A failure followed by a pending timer keyed by it is a retry's back-off.
        let retry_at = timer(v.last.1);
        let what = match (&v.doing, v.last.0, retry_at) {
            _ if v.kind == T::WaitStateEntered => match timer(v.entered_id) {
                Some(due) => html! { "wakes " (countdown(due, self.now)) },
                None => html! { "waits" },
            },
            (
                _,
                T::TaskFailed | T::LambdaFunctionFailed | T::ActivityFailed | T::TaskTimedOut,
                Some(due),
            ) => html! { "failed; retries " (countdown(due, self.now)) },
            (Some((T::ActivityScheduled, d)), t, _) => {
                let activity = d.what();
                match t {
                    T::ActivityStarted => {
                        html! { "a worker is working on activity " code { (activity) } (since) }
                    }
                    _ => {
                        html! { "waits for a worker of activity " code { (activity) } " to call GetActivityTask" (since) }
                    }
                }
            }
            (Some((T::MapRunStarted, d)), _, _) => {
                let run = d.what();
                html! { "runs its items as child executions of " a href=(link("map-run", &[("arn", &run)])) { "its map run" } }
            }
            (Some((_, d)), t, _) => {
                let resource = d.what();
                if resource.ends_with(".waitForTaskToken") {
                    html! { "waits for its task token to come back (SendTaskSuccess or SendTaskFailure) from " code { (resource) } (since) }
                } else if t == T::TaskSubmitted {
                    html! { "waits for " code { (resource) } " to finish" (since) }
                } else {
                    html! { "waits for the answer of " code { (resource) } (since) }
                }
            }
            _ => html! { "running" (since) },
        };
        html! { code { (v.state) } " " (what) }
    }

    /// The history, a page at a time (the newest page first shown).
    fn history(&self) -> Markup {
        let n = self.events.len();
        let last_page_start = n.saturating_sub(1) / HISTORY_PAGE * HISTORY_PAGE;
        let start = match self.from {
            Some(id) => usize::try_from(id.max(1) - 1)
                .unwrap_or(0)
                .min(last_page_start),
            None => last_page_start,
        };
        let shown = &self.events[start..(start + HISTORY_PAGE).min(n)];
        let arn = self.e.arn.as_str();
        let page_link =
            |i: usize| link("execution", &[("arn", arn), ("from", &(i + 1).to_string())]);
        html! {
            section.block #history {
                h2 { "History " span.muted { "(" (n) " events)" } }
                @if n > HISTORY_PAGE {
                    nav.pager aria-label="History pages" {
                        @if start > 0 {
                            a href=(page_link(0)) { "« First" }
                            a href=(page_link(start - HISTORY_PAGE)) { "‹ Earlier" }
                        }
                        span { "Events " (start + 1) "–" (start + shown.len()) " of " (n) }
                        @if start < last_page_start {
                            a href=(page_link(start + HISTORY_PAGE)) { "Later ›" }
                            a href=(page_link(last_page_start)) { "Latest »" }
                        }
                    }
                }
                div.scroll {
                    table.list.history {
                        thead { tr {
                            th.num scope="col" { "ID" } th scope="col" { "Type" } th scope="col" { "State" }
                            th scope="col" { "Time (UTC)" } th.num scope="col" { "Since start" } th scope="col" { "Details" }
                        } }
                        tbody {
                            @for ev in shown { (self.event_row(ev)) }
                        }
                    }
                }
            }
        }
    }

    fn event_row(&self, ev: &EventRow) -> Markup {
        let t = ev.event_type.as_str();
        let details = details(ev);
        let class = if t.ends_with("Failed") || t.ends_with("TimedOut") {
            "ev-failed"
        } else if t.ends_with("Aborted") {
            "ev-aborted"
        } else if t.ends_with("Succeeded") {
            "ev-succeeded"
        } else {
            ""
        };
        html! {
            tr class=(class) data-type=(t) {
                td.num { (ev.id) }
                td { (t) }
                td { (self.visits.state_of(ev.id).unwrap_or("")) }
                td.mono { (layout::utc(ev.timestamp_ms)) }
                td.num.mono { "+" (layout::span(ev.timestamp_ms - self.e.start_ms)) }
                td {
                    @if details.as_object().is_some_and(|o| !o.is_empty()) {
                        details {
                            summary { (summary(&details)) }
                            @for (k, v) in details.as_object().into_iter().flatten() {
                                @if k != "name" {
                                    div.field {
                                        span.key { (k) }
                                        pre.json tabindex="0" { (pretty_value(v)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The first line of an event's details: its error, or what it holds.
fn summary(details: &Value) -> String {
    if let Some(err) = details.get("error").and_then(Value::as_str) {
        return err.to_owned();
    }
    let keys: Vec<&str> = details
        .as_object()
        .map(|o| {
            o.keys()
                .map(String::as_str)
                .filter(|k| *k != "name")
                .collect()
        })
        .unwrap_or_default();
    keys.join(", ")
}

/// A value of an event's details, indented; a string holding JSON (an input, an output, a
/// cause) as the JSON it holds.
fn pretty_value(v: &Value) -> String {
    match v {
        Value::String(s) => layout::pretty(s),
        v => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

/// A time to come, with a countdown the page's script keeps current.
fn countdown(due: i64, now: i64) -> Markup {
    html! {
        time.countdown datetime=(layout::utc(due)) data-ms=(due) {
            (layout::utc(due)) ", " span.rel { (layout::relative(due, now)) }
        }
    }
}

/// Executions a `states:startExecution` Task started, found in the history.
fn children(events: &[EventRow]) -> Markup {
    let mut arns: Vec<String> = Vec::new();
    for ev in events {
        let names_one = ev
            .details
            .as_deref()
            .is_some_and(|d| d.contains("ExecutionArn"));
        if !matches!(ev.event_type, T::TaskSubmitted | T::TaskSucceeded) || !names_one {
            continue;
        }
        let d = details(ev);
        let output: Value = d["output"]
            .as_str()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null);
        if let Some(a) = output.get("ExecutionArn").and_then(Value::as_str) {
            if !arns.iter().any(|x| x == a) {
                arns.push(a.to_owned());
            }
        }
    }
    html! {
        @if !arns.is_empty() {
            section.block {
                h2 { "Child executions" }
                ul { @for a in &arns { li { a href=(link("execution", &[("arn", a)])) { (a) } } } }
            }
        }
    }
}

fn map_runs_table(runs: &[MapRunRow], now: i64) -> Markup {
    html! {
        section.block {
            h2 { "Map runs" }
            div.scroll { table.list {
                thead { tr { th { "Map run" } th { "Status" } th { "Started" } th.num { "Items" } th.num { "Succeeded" } th.num { "Failed" } } }
                tbody { @for r in runs { tr {
                    td { a href=(link("map-run", &[("arn", &r.arn)])) { (r.arn.rsplit(':').next().unwrap_or(&r.arn)) } }
                    td { span class={"badge st-" (r.status.as_str().to_ascii_lowercase())} { (layout::title_case(r.status.as_str())) } }
                    td { (time(r.start_ms, now)) }
                    td.num { (r.item_count) } td.num { (r.succeeded) } td.num { (r.failed + r.timed_out + r.aborted) }
                } } }
            } }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ArnQuery {
    arn: String,
    #[serde(default)]
    after: String,
}

/// What the page's script polls while an execution runs.
pub async fn live(
    State(console): State<Console>,
    Query(query): Query<ArnQuery>,
) -> Result<Response, Fail> {
    let engine = console.engine()?;
    let e = engine.execution(&parse_arn(&query.arn)?).await?;
    let body = json!({"status": e.status.as_str(), "lastEventId": e.last_event_id});
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response())
}

/// A map run: its counts and its children.
pub async fn map_run(
    State(console): State<Console>,
    Query(query): Query<ArnQuery>,
) -> Result<Response, Fail> {
    let engine = console.engine()?;
    let run = engine.map_run(&query.arn).await?;
    let after = query
        .after
        .split_once('.')
        .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)));
    let page = engine
        .list_map_run_executions(&run.arn, None, after, 50)
        .await?;
    let now = engine.now_ms();
    let label = run.arn.rsplit(':').next().unwrap_or(&run.arn).to_owned();
    let body = html! {
        h1 { "Map run " (label) }
        dl.facts {
            dt { "ARN" } dd.mono { (run.arn) }
            dt { "Status" } dd { span class={"badge st-" (run.status.as_str().to_ascii_lowercase())} { (layout::title_case(run.status.as_str())) } }
            dt { "Parent execution" } dd { a href=(link("execution", &[("arn", &run.execution_arn)])) { (run.execution_arn) } }
            dt { "Started" } dd { (time(run.start_ms, now)) }
            dt { "Items" } dd { (run.item_count) " · started " (run.started) " · succeeded " (run.succeeded)
                " · failed " (run.failed) " · timed out " (run.timed_out) " · aborted " (run.aborted) }
            dt { "Most at once" } dd { (run.max_concurrency) }
        }
        section.block {
            h2 { "Child executions" }
            (executions_table(&page.items, now))
            @if page.items.is_empty() { p.empty { "No child execution has started yet." } }
            @if let Some((s, i)) = page.next {
                nav.pager { a href=(link("map-run", &[("arn", &run.arn), ("after", &format!("{s}.{i}"))])) { "Next page →" } }
            }
        }
    };
    let trail = [(
        "Parent execution",
        link("execution", &[("arn", &run.execution_arn)]),
    )];
    Ok(html_page(layout::page(
        &format!("Map run {label}"),
        &trail,
        body,
    )))
}

/// Stop or Redrive.
#[derive(Debug, Clone, Copy)]
enum Action {
    Stop,
    Redrive,
}

impl Action {
    fn of(name: &str) -> Result<Self, Fail> {
        match name {
            "stop" => Ok(Action::Stop),
            "redrive" => Ok(Action::Redrive),
            _ => Err(Fail::NotFound(format!("There is no page {name}."))),
        }
    }

    fn done(self) -> &'static str {
        match self {
            Action::Stop => "stopped",
            Action::Redrive => "redriven",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Action::Stop => "Stop",
            Action::Redrive => "Redrive",
        }
    }
}

/// The confirmation before Stop or Redrive.
pub async fn confirm(
    State(console): State<Console>,
    Path(action): Path<String>,
    Extension(token): Extension<Token>,
    Query(query): Query<ArnQuery>,
) -> Result<Response, Fail> {
    let action = Action::of(&action)?;
    let engine = console.engine()?;
    let e = engine.execution(&parse_arn(&query.arn)?).await?;
    let verb = action.verb();
    let body = html! {
        h1 { (verb) " execution " (e.name) "?" }
        @match action {
            Action::Stop => p { "The execution ends as ABORTED: its running state is left, its pending calls are not waited for, and nothing after it runs." },
            Action::Redrive => p { "The execution runs again from the states that did not succeed; the ones that succeeded keep their results." },
        }
        form.confirm method="post" action=(link(&format!("execution/{}", verb.to_lowercase()), &[])) {
            input type="hidden" name="arn" value=(e.arn);
            input type="hidden" name="token" value=(token.0);
            @if let Action::Stop = action {
                label for="error" { "Error (optional)" }
                input #error name="error" maxlength="256";
                label for="cause" { "Cause (optional)" }
                textarea #cause name="cause" rows="3" maxlength="32768" {}
            }
            div.buttons {
                button.danger[matches!(action, Action::Stop)] type="submit" #confirm { (verb) " execution" }
                a.button href=(link("execution", &[("arn", &e.arn)])) { "Cancel" }
            }
        }
    };
    Ok(html_page(layout::page(verb, &[], body)))
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    arn: String,
    token: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    cause: String,
}

/// Stop or Redrive, through the API's own path.
pub async fn act(
    State(console): State<Console>,
    Path(action): Path<String>,
    Extension(token): Extension<Token>,
    headers: HeaderMap,
    Form(form): Form<ActForm>,
) -> Result<Response, Fail> {
    let action = Action::of(&action)?;
    if !same_origin(&headers, &token, &form.token) {
        return Err(Fail::Forbidden(
            "This request did not come from this console's own page; nothing was done.".into(),
        ));
    }
    let mut req = json!({"executionArn": form.arn});
    let op = match action {
        Action::Stop => {
            if !form.error.is_empty() {
                req["error"] = json!(form.error);
            }
            if !form.cause.is_empty() {
                req["cause"] = json!(form.cause);
            }
            Operation::StopExecution
        }
        Action::Redrive => Operation::RedriveExecution,
    };
    match perform(&console.app, op, &req).await {
        Ok(_) => Ok(Redirect::to(&link("execution", &[("arn", &form.arn)])).into_response()),
        Err((kind, message)) => {
            let body = html! {
                h1 { "The execution was not " (action.done()) }
                p.notice { strong { (kind) } ": " (message) }
                p { a href=(link("execution", &[("arn", &form.arn)])) { "Back to the execution" } }
            };
            let page = layout::page(action.verb(), &[], body);
            Ok((StatusCode::BAD_REQUEST, html_page(page)).into_response())
        }
    }
}

//! The state machines page, and a state machine's page: its graph, definition, versions and
//! aliases, and its executions (by status, by name, paged).

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, link, time};
use super::{graph, html_page, Console, Fail};
use crate::engine::Page;
use crate::model::{ExecutionStatus, StateMachineArn};
use crate::store::{ExecutionRow, StateMachineRow};

/// Rows on a page of machines or executions.
const PAGE: i64 = 50;
/// Machines read at a time while searching by name.
const SEARCH_BATCH: i64 = 1000;

/// The statuses shown, in order (an execution waiting for its redrive shows as its old one).
pub const STATUSES: [ExecutionStatus; 5] = [
    ExecutionStatus::Running,
    ExecutionStatus::Succeeded,
    ExecutionStatus::Failed,
    ExecutionStatus::TimedOut,
    ExecutionStatus::Aborted,
];

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

/// The state machines: name, type, creation date, executions by status; search by name.
pub async fn list(
    State(console): State<Console>,
    Query(query): Query<ListQuery>,
) -> Result<Response, Fail> {
    let engine = console.engine()?;
    let needle = query.q.trim().to_lowercase();
    let mut after = (!query.after.is_empty()).then(|| query.after.clone());
    let mut machines: Vec<StateMachineRow> = Vec::new();
    let mut more = None;
    // Names are matched here, a batch at a time: a node holds thousands of machines at most.
    let full = |m: &Vec<StateMachineRow>| m.len() as i64 == PAGE;
    'pages: loop {
        let batch = if needle.is_empty() {
            PAGE
        } else {
            SEARCH_BATCH
        };
        let page = engine.list_state_machines(after.as_deref(), batch).await?;
        for m in page.items {
            if full(&machines) {
                more = machines.last().map(|m| m.arn.clone());
                break 'pages;
            }
            if needle.is_empty() || m.name.to_lowercase().contains(&needle) {
                machines.push(m);
            }
        }
        match page.next {
            None => break,
            Some(_) if full(&machines) => {
                more = machines.last().map(|m| m.arn.clone());
                break;
            }
            Some(n) => after = Some(n),
        }
    }
    let mut rows = Vec::with_capacity(machines.len());
    for m in machines {
        let arn = StateMachineArn::parse(&m.arn).map_err(|e| Fail::Internal(e.0))?;
        let counts = engine.execution_counts(&arn).await?;
        rows.push((m, counts));
    }
    let now = engine.now_ms();
    let body = html! {
        h1 { "State machines" }
        form.filters role="search" method="get" action={(layout::BASE) "/"} {
            label for="q" { "Name contains" }
            input #q type="search" name="q" value=(query.q) placeholder="order";
            button type="submit" { "Search" }
            @if !query.q.is_empty() { a href={(layout::BASE) "/"} { "Clear" } }
        }
        @if rows.is_empty() {
            div.empty {
                @if query.q.is_empty() && query.after.is_empty() {
                    p { "No state machines yet." }
                    p { "Create one with the AWS CLI (or any AWS SDK) pointed at this daemon:" }
                    pre { "aws stepfunctions create-state-machine --endpoint-url http://HOST:PORT \\\n  --name my-machine --role-arn arn:aws:iam::123456789012:role/any \\\n  --definition file://machine.asl.json" }
                } @else {
                    p { "No state machine's name contains \u{201c}" (query.q) "\u{201d}." }
                }
            }
        } @else {
            div.scroll {
                table.list #machines {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Created" }
                        @for s in STATUSES { th.num scope="col" { (layout::title_case(s.as_str())) } }
                    } }
                    tbody {
                        @for (m, counts) in &rows {
                            tr {
                                td { a href=(link("machine", &[("arn", &m.arn)])) { (m.name) } }
                                td { (layout::title_case(m.machine_type.as_str())) }
                                td { (time(m.creation_date_ms, now)) }
                                @for s in STATUSES {
                                    @let n = counts.iter().find(|c| c.0 == s).map_or(0, |c| c.1);
                                    td.num data-status=(s.as_str()) {
                                        @if n > 0 {
                                            a href=(link("machine", &[("arn", &m.arn), ("status", s.as_str())])) { (n) }
                                        } @else { span.muted { "0" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &more {
                nav.pager aria-label="Pages" {
                    a href=(link("", &[("q", &query.q), ("after", next)])) { "Next page →" }
                }
            }
        }
    };
    Ok(html_page(layout::page("State machines", &[], body)))
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    arn: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

/// A state machine: its graph, definition, versions, aliases, and executions.
pub async fn show(
    State(console): State<Console>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, Fail> {
    let engine = console.engine()?;
    let arn = StateMachineArn::parse(&query.arn).map_err(|e| Fail::Bad(e.0))?;
    let machine = engine.state_machine(&arn).await?;
    let status = match query.status.as_str() {
        "" => None,
        s => Some(
            STATUSES
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| Fail::Bad(format!("No execution status is called {s}.")))?,
        ),
    };
    let counts = engine.execution_counts(&arn).await?;
    let page: Page<ExecutionRow, String> = if query.q.is_empty() {
        let after = match query.after.split_once('.') {
            Some((s, i)) => Some((
                s.parse()
                    .map_err(|_| Fail::Bad("A bad page cursor.".into()))?,
                i.parse()
                    .map_err(|_| Fail::Bad("A bad page cursor.".into()))?,
            )),
            None => None,
        };
        let p = engine.list_executions(&arn, status, after, PAGE).await?;
        Page {
            items: p.items,
            next: p.next.map(|(s, i)| format!("{s}.{i}")),
        }
    } else {
        let after = (!query.after.is_empty()).then_some(query.after.as_str());
        engine
            .executions_named(&arn, &query.q, status, after, PAGE)
            .await?
    };
    let versions = engine.versions(arn.as_str()).await?;
    let aliases = engine.aliases(arn.as_str()).await?;
    let now = engine.now_ms();
    let total: i64 = counts.iter().map(|c| c.1).sum();
    let shown = |s: ExecutionStatus| counts.iter().find(|c| c.0 == s).map_or(0, |c| c.1);
    let graph = graph::of(&machine.definition);
    let body = html! {
        h1 { (machine.name) }
        dl.facts {
            dt { "ARN" } dd.mono { (machine.arn) }
            dt { "Type" } dd { (layout::title_case(machine.machine_type.as_str())) }
            dt { "Status" } dd { (layout::title_case(machine.status.as_str())) }
            dt { "Created" } dd { (time(machine.creation_date_ms, now)) }
            @if let Some(u) = machine.update_date_ms { dt { "Updated" } dd { (time(u, now)) } }
            dt { "Role" } dd.mono { (machine.role_arn) }
            @if let Some(d) = &machine.description { dt { "Description" } dd { (d) } }
        }
        nav.counts aria-label="Executions by status" {
            a.current[status.is_none()] href=(link("machine", &[("arn", &machine.arn), ("q", &query.q)])) {
                "All " span.n { (total) }
            }
            @for s in STATUSES {
                a class={"st-" (s.as_str().to_ascii_lowercase()) @if status == Some(s) { " current" }}
                    href=(link("machine", &[("arn", &machine.arn), ("status", s.as_str()), ("q", &query.q)])) {
                    (layout::title_case(s.as_str())) " " span.n { (shown(s)) }
                }
            }
        }
        section.block {
            h2 { "Graph" }
            (graph_box(&graph, &serde_json::json!({})))
        }
        section.block #executions {
            h2 { "Executions" }
            form.filters role="search" method="get" action={(layout::BASE) "/machine"} {
                input type="hidden" name="arn" value=(machine.arn);
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[status.is_none()] { "Any" }
                    @for s in STATUSES {
                        option value=(s.as_str()) selected[status == Some(s)] { (layout::title_case(s.as_str())) }
                    }
                }
                label for="q" { "Name starts with" }
                input #q type="search" name="q" value=(query.q);
                button type="submit" { "Filter" }
            }
            (executions_table(&page.items, now))
            @if page.items.is_empty() {
                div.empty {
                    @if total == 0 {
                        p { "No executions yet. Start one:" }
                        pre { "aws stepfunctions start-execution --endpoint-url http://HOST:PORT \\\n  --state-machine-arn " (machine.arn) " --input '{}'" }
                    } @else {
                        p { "No execution matches. " a href=(link("machine", &[("arn", &machine.arn)])) { "Show all executions" } }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if !query.after.is_empty() {
                    a href=(link("machine", &[("arn", &machine.arn), ("status", &query.status), ("q", &query.q)])) { "← First page" }
                }
                @if let Some(next) = &page.next {
                    a href=(link("machine", &[("arn", &machine.arn), ("status", &query.status), ("q", &query.q), ("after", next)])) { "Next page →" }
                }
            }
        }
        @if !versions.is_empty() || !aliases.is_empty() {
            section.block {
                h2 { "Versions and aliases" }
                @if !versions.is_empty() {
                    table.list {
                        thead { tr { th { "Version" } th { "Description" } th { "Created" } } }
                        tbody { @for v in &versions { tr {
                            td.mono { (v.version) } td { (v.description.as_deref().unwrap_or("")) } td { (time(v.creation_date_ms, now)) }
                        } } }
                    }
                }
                @if !aliases.is_empty() {
                    table.list {
                        thead { tr { th { "Alias" } th { "Routing" } th { "Description" } th { "Updated" } } }
                        tbody { @for a in &aliases { tr {
                            td { (a.name) } td.mono { (routing(&a.routing)) }
                            td { (a.description.as_deref().unwrap_or("")) } td { (time(a.update_date_ms, now)) }
                        } } }
                    }
                }
            }
        }
        section.block {
            h2 { "Definition" }
            pre.json tabindex="0" { (layout::pretty(&machine.definition)) }
        }
    };
    let trail = [(
        machine.name.as_str(),
        link("machine", &[("arn", &machine.arn)]),
    )];
    Ok(html_page(layout::page(&machine.name, &trail, body)))
}

/// An alias's routing: `version 3: 90%, version 4: 10%`.
fn routing(text: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    v.as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let version = r["stateMachineVersionArn"]
                .as_str()
                .and_then(|a| a.rsplit(':').next())
                .unwrap_or("?");
            format!("version {version}: {}%", r["weight"])
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The box the page's script draws a graph in, with the states' outcomes.
pub fn graph_box(graph: &serde_json::Value, outcomes: &serde_json::Value) -> Markup {
    html! {
        div.graph #graph role="img" aria-label="The state machine as a graph"
            data-graph=(layout::data(graph)) data-outcomes=(layout::data(outcomes)) {
            p.muted.placeholder { "Laying out the graph…" }
        }
        ul.legend aria-label="Colours" {
            @for (class, word) in [("succeeded", "Succeeded"), ("failed", "Failed"), ("caught", "Caught"),
                                   ("running", "Running"), ("waiting", "Waiting"), ("aborted", "Aborted"), ("none", "Not reached")] {
                li { span class={"swatch o-" (class)} {} (word) }
            }
        }
    }
}

/// A table of executions.
pub fn executions_table(items: &[ExecutionRow], now: i64) -> Markup {
    html! {
        @if !items.is_empty() {
            div.scroll {
                table.list.executions {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Status" }
                        th scope="col" { "Started" } th scope="col" { "Duration" }
                    } }
                    tbody {
                        @for e in items {
                            tr data-status=(e.status.as_str()) {
                                td { a href=(link("execution", &[("arn", &e.arn)])) { (e.name) } }
                                td { (layout::status(e.status)) }
                                td { (time(e.start_ms, now)) }
                                td {
                                    @match e.stop_ms {
                                        Some(stop) => (layout::span(stop - e.start_ms)),
                                        None => { "running for " (layout::span(now - e.start_ms)) },
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

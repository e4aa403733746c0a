//! Every metric hourglass exports, and the helpers that update them.
//!
//! Names follow Prometheus conventions: `hourglass_` prefix, base units, counters end in
//! `_total`. Label values come from bounded sets (operation names, statuses), never from ARNs
//! or messages. Hot paths (the writer, the timer loop) record once per batch, not per row.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabel {
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<OperationLabel>,
    executions_started: Counter,
    executions_finished: Family<StatusLabel, Counter>,
    commit_batch_requests: Histogram,
    commit_seconds: Histogram,
    timers_fired: Counter,
    timer_lateness_seconds: Histogram,
    timers_in_memory: Gauge,
    timers_on_disk: Gauge,
    executions_running: Gauge,
    sqlite_memory: Gauge,
    retention_removed: Counter,
    pages_released: Counter,
    partitions_held: Family<NodeLabel, Gauge>,
    lease_acquisitions: Family<NodeLabel, Counter>,
    lease_losses: Family<NodeLabel, Counter>,
    fenced_commits: Family<NodeLabel, Counter>,
    forwarded_requests: Family<NodeLabel, Counter>,
    lambda_invocations: Family<LambdaLabels, Counter>,
    lambda_seconds: HistogramFamily<FunctionLabel>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LambdaLabels {
    function: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FunctionLabel {
    function: String,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~3.3 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("hourglass");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "api_requests",
            "API requests by operation and outcome (ok, client_error, server_error)",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<OperationLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "api_request_duration_seconds",
            "API request latency by operation",
            request_seconds.clone(),
        );
        let executions_started = Counter::default();
        registry.register(
            "executions_started",
            "Executions started",
            executions_started.clone(),
        );
        let executions_finished = Family::<StatusLabel, Counter>::default();
        registry.register(
            "executions_finished",
            "Executions finished, by final status",
            executions_finished.clone(),
        );
        let commit_batch_requests = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register(
            "store_commit_batch_requests",
            "Write requests committed per transaction",
            commit_batch_requests.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register(
            "store_commit_duration_seconds",
            "Time to commit one batch",
            commit_seconds.clone(),
        );
        let timers_fired = Counter::default();
        registry.register("timers_fired", "Timers that fired", timers_fired.clone());
        let timer_lateness_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "timer_lateness_seconds",
            "How long after its deadline a timer was handled",
            timer_lateness_seconds.clone(),
        );
        let timers_in_memory = Gauge::default();
        registry.register(
            "timers_in_memory",
            "Timers held in the in-memory window",
            timers_in_memory.clone(),
        );
        let timers_on_disk = Gauge::default();
        registry.register(
            "timers_on_disk",
            "Timers stored in the database (pending deadlines of every horizon)",
            timers_on_disk.clone(),
        );
        let executions_running = Gauge::default();
        registry.register(
            "executions_running",
            "Executions in the RUNNING state",
            executions_running.clone(),
        );
        let sqlite_memory = Gauge::default();
        registry.register(
            "sqlite_memory_bytes",
            "Memory SQLite holds for every connection of this process (page caches, \
             statements, buffers)",
            sqlite_memory.clone(),
        );
        let partitions_held = Family::<NodeLabel, Gauge>::default();
        registry.register(
            "partitions_held",
            "Partitions this node holds a lease on (every partition on one node)",
            partitions_held.clone(),
        );
        let lease_acquisitions = Family::<NodeLabel, Counter>::default();
        registry.register(
            "lease_acquisitions",
            "Partition leases taken",
            lease_acquisitions.clone(),
        );
        let lease_losses = Family::<NodeLabel, Counter>::default();
        registry.register(
            "lease_losses",
            "Partition leases lost (expired, taken over, or given up for another node)",
            lease_losses.clone(),
        );
        let fenced_commits = Family::<NodeLabel, Counter>::default();
        registry.register(
            "fenced_commits",
            "Commits refused because the node no longer held their partition",
            fenced_commits.clone(),
        );
        let forwarded_requests = Family::<NodeLabel, Counter>::default();
        registry.register(
            "forwarded_requests",
            "API requests forwarded to the node that holds their partition",
            forwarded_requests.clone(),
        );
        let retention_removed = Counter::default();
        registry.register(
            "retention_removed",
            "Closed executions removed with their history after the retention period",
            retention_removed.clone(),
        );
        let pages_released = Counter::default();
        registry.register(
            "database_pages_released",
            "Free pages of the SQLite file the retention sweep asked to give back to the file system",
            pages_released.clone(),
        );
        let lambda_invocations = Family::<LambdaLabels, Counter>::default();
        registry.register(
            "lambda_invocations",
            "Lambda calls by function and outcome (ok, error)",
            lambda_invocations.clone(),
        );
        let lambda_seconds: HistogramFamily<FunctionLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "lambda_invocation_duration_seconds",
            "Lambda call latency by function",
            lambda_seconds.clone(),
        );
        Metrics {
            registry,
            timers_on_disk,
            executions_running,
            sqlite_memory,
            retention_removed,
            pages_released,
            partitions_held,
            lease_acquisitions,
            lease_losses,
            fenced_commits,
            forwarded_requests,
            lambda_invocations,
            lambda_seconds,
            requests,
            request_seconds,
            executions_started,
            executions_finished,
            commit_batch_requests,
            commit_seconds,
            timers_fired,
            timer_lateness_seconds,
            timers_in_memory,
        }
    })
}

/// Where [`render`] reads how much memory SQLite holds. The binary sets it: asking SQLite is a
/// call through its C interface, and the library has no unsafe code.
static SQLITE_MEMORY: OnceLock<fn() -> i64> = OnceLock::new();

/// `probe` answers how many bytes SQLite holds now; `hourglass_sqlite_memory_bytes` reads it at
/// each scrape. Only the first call counts.
pub fn sqlite_memory_from(probe: fn() -> i64) {
    let _ = SQLITE_MEMORY.set(probe);
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let m = metrics();
    if let Some(probe) = SQLITE_MEMORY.get() {
        m.sqlite_memory.set(probe());
    }
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &m.registry).is_err() {
        out.clear();
    }
    out
}

/// An API request finished. `status` is the HTTP status code.
pub fn record_request(operation: &str, status: u16, elapsed: Duration) {
    let m = metrics();
    let outcome = match status {
        200..=299 => "ok",
        400..=499 => "client_error",
        _ => "server_error",
    };
    m.requests
        .get_or_create(&RequestLabels {
            operation: operation.to_owned(),
            outcome,
        })
        .inc();
    m.request_seconds
        .get_or_create(&OperationLabel {
            operation: operation.to_owned(),
        })
        .observe(elapsed.as_secs_f64());
}

pub fn execution_started() {
    metrics().executions_started.inc();
}

/// `status` is one of AWS's terminal statuses.
pub fn execution_finished(status: &'static str) {
    metrics()
        .executions_finished
        .get_or_create(&StatusLabel { status })
        .inc();
}

/// The writer committed `requests` requests in `elapsed`.
pub fn record_commit(requests: usize, elapsed: Duration) {
    let m = metrics();
    m.commit_batch_requests.observe(requests as f64);
    m.commit_seconds.observe(elapsed.as_secs_f64());
}

/// A timer was handled `lateness_ms` after its deadline.
pub fn timer_fired(lateness_ms: i64) {
    let m = metrics();
    m.timers_fired.inc();
    m.timer_lateness_seconds
        .observe(lateness_ms.max(0) as f64 / 1000.0);
}

pub fn set_timers_in_memory(n: usize) {
    metrics()
        .timers_in_memory
        .set(i64::try_from(n).unwrap_or(i64::MAX));
}

/// Distinct `function` label values; calls to further functions are counted under
/// [`OTHER_FUNCTIONS`], since a state's input can name any function (`FunctionName.$`).
const MAX_FUNCTION_LABELS: usize = 100;
/// The `function` label of calls past the first 100 functions.
pub const OTHER_FUNCTIONS: &str = "_other";

/// The label a call to `function` is counted under.
fn function_label(function: &str) -> String {
    static SEEN: OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.contains(function) {
        return function.to_owned();
    }
    if seen.len() < MAX_FUNCTION_LABELS {
        seen.insert(function.to_owned());
        return function.to_owned();
    }
    OTHER_FUNCTIONS.to_owned()
}

/// A Lambda call to `function` finished.
pub fn lambda_invocation(function: &str, ok: bool, elapsed: Duration) {
    let m = metrics();
    let function = function_label(function);
    m.lambda_seconds
        .get_or_create(&FunctionLabel {
            function: function.clone(),
        })
        .observe(elapsed.as_secs_f64());
    m.lambda_invocations
        .get_or_create(&LambdaLabels {
            function,
            outcome: if ok { "ok" } else { "error" },
        })
        .inc();
}

/// This node's name in the cluster metrics' `node` label (`local` on one node).
static NODE: OnceLock<NodeLabel> = OnceLock::new();

/// Name this node in the `node` label. Call once, at start.
pub fn set_node(node_id: &str) {
    let _ = NODE.set(NodeLabel {
        node: node_id.to_owned(),
    });
}

fn node() -> &'static NodeLabel {
    NODE.get_or_init(|| NodeLabel {
        node: "local".into(),
    })
}

/// A commit was refused because this node no longer held its partition.
pub fn fenced_commit() {
    metrics().fenced_commits.get_or_create(node()).inc();
}

/// The partitions held now.
pub fn set_partitions_held(n: usize) {
    metrics()
        .partitions_held
        .get_or_create(node())
        .set(i64::try_from(n).unwrap_or(i64::MAX));
}

/// Leases taken and lost in a round of the lease manager.
pub fn leases_changed(acquired: usize, lost: usize) {
    let m = metrics();
    m.lease_acquisitions
        .get_or_create(node())
        .inc_by(acquired as u64);
    m.lease_losses.get_or_create(node()).inc_by(lost as u64);
}

/// A request was forwarded to another node.
pub fn request_forwarded() {
    metrics().forwarded_requests.get_or_create(node()).inc();
}

/// Timers were stored (`delta > 0`) or removed (`delta < 0`).
pub fn timers_on_disk_add(delta: i64) {
    metrics().timers_on_disk.inc_by(delta);
}

/// Executions entered (`delta > 0`) or left (`delta < 0`) the RUNNING state.
/// Executions RUNNING now (exact: every commit moves it by what it changed).
pub fn executions_running() -> i64 {
    metrics().executions_running.get()
}

pub fn executions_running_add(delta: i64) {
    metrics().executions_running.inc_by(delta);
}

pub fn retention_removed(n: u64) {
    metrics().retention_removed.inc_by(n);
}

pub fn pages_released(n: u64) {
    metrics().pages_released.inc_by(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_labels_are_bounded() {
        for i in 0..3 * MAX_FUNCTION_LABELS {
            lambda_invocation(&format!("fn-{i}"), true, Duration::from_millis(1));
        }
        let text = render();
        let labels: std::collections::HashSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("hourglass_lambda_invocations_total{"))
            .filter_map(|l| l.split("function=\"").nth(1)?.split('"').next())
            .collect();
        assert!(labels.len() <= MAX_FUNCTION_LABELS + 1, "{}", labels.len());
        assert!(labels.contains(OTHER_FUNCTIONS));
    }

    #[test]
    fn sqlite_memory_is_read_from_its_probe_at_each_scrape() {
        fn probe() -> i64 {
            1_234_567
        }
        sqlite_memory_from(probe);
        assert!(render().contains("\nhourglass_sqlite_memory_bytes 1234567\n"));
    }
}

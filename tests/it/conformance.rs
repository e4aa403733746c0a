//! The recorded AWS behaviour in `tests/conformance/` (a copy of the shared corpus, so a fresh
//! clone runs it), replayed against the real daemon by the corpus's own runner.
//!
//! The run fails when the pass rate of the selected cases drops below the floor recorded in
//! `tests/conformance/FLOOR` (raise it as features land). The runner prints a pass table by
//! feature and one line per failed case; `cargo test conformance -- --nocapture` shows it.

use std::path::Path;
use std::process::Command;

use crate::support::{test_venv, TestDaemon};

/// Selection of cases this build is expected to run: every core case (those a standalone
/// server with a Lambda endpoint can pass), the Lambda ones against the corpus's own
/// function server.
const SELECTION: &[&str] = &["--core"];

#[tokio::test]
async fn conformance_cases_pass_above_the_recorded_floor() {
    let venv = test_venv();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let floor: f64 = std::fs::read_to_string(corpus.join("FLOOR"))
        .expect("tests/conformance/FLOOR")
        .trim()
        .parse()
        .expect("FLOOR holds a percentage");
    // The runner starts the corpus's Lambda server on this port for the length of the run.
    let lambda_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{lambda_port}");
    let daemon =
        TestDaemon::start_with_env(&[("WAIT_TIME_SCALE", "1"), ("LAMBDA_ENDPOINT", &endpoint)])
            .await;
    let report = tempfile::NamedTempFile::new().expect("report file");
    let out = Command::new(venv.join("bin/python"))
        .arg(corpus.join("run_corpus.py"))
        .arg(daemon.url())
        .arg(&corpus)
        .args(SELECTION)
        .args(["--timeout", "30", "--show-failures", "400"])
        .arg("--lambda-server")
        .arg(lambda_port.to_string())
        .arg("--min-pass-rate")
        .arg(floor.to_string())
        .arg("--report")
        .arg(report.path())
        .output()
        .expect("run the conformance runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    // Cases left out are counted, not hidden: every case is either run or skipped for a
    // need this server does not meet (another AWS service, activities, Distributed Map, ...).
    let index: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("index.json")).expect("tests/conformance/index.json"),
    )
    .expect("index.json is a JSON array");
    let core_needs: std::collections::BTreeSet<&str> = index
        .iter()
        .filter(|c| c["core"] == true)
        .flat_map(|c| c["needs"].as_array().into_iter().flatten())
        .filter_map(|n| n.as_str())
        .collect();
    let mut skipped: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut run = 0;
    for c in &index {
        if c["core"] == true {
            run += 1;
            continue;
        }
        for need in c["needs"].as_array().into_iter().flatten() {
            if let Some(n) = need.as_str().filter(|n| !core_needs.contains(n)) {
                *skipped.entry(n).or_default() += 1;
            }
        }
    }
    println!(
        "{} cases: {run} run, {} skipped; skipped cases by what they need:",
        index.len(),
        index.len() - run
    );
    for (need, n) in &skipped {
        println!("  {need:<32} {n}");
    }
    assert!(
        stdout.contains(&format!(": {run} cases in")),
        "the runner did not run all {run} core cases"
    );
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    assert!(
        out.status.success(),
        "conformance pass rate fell below the floor of {floor}%: {last}"
    );
    assert!(last.contains("passed"), "the runner printed no summary");
}

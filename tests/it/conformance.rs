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
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    assert!(
        out.status.success(),
        "conformance pass rate fell below the floor of {floor}%: {last}"
    );
    assert!(last.contains("passed"), "the runner printed no summary");
}

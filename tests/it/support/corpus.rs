//! Replaying a corpus of Step Functions cases (`tests/conformance`, `tests/fidelity`) against the
//! real daemon with the corpus runner `tests/conformance/run_corpus.py` and its Lambda function
//! server, which answers as the functions the cases of the given corpus name.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{test_venv, TestDaemon};

/// What one run of the corpus runner printed and wrote.
pub struct Replay {
    pub corpus: PathBuf,
    /// The pass rate the corpus's `FLOOR` file asks for, in percent.
    pub floor: f64,
    pub stdout: String,
    /// The runner exited 0: the pass rate reached the floor.
    pub above_floor: bool,
    /// `index.json`: one entry per case.
    pub index: Vec<Value>,
    /// The runner's `--report`: `{"results": [{"name", "ok", "detail", ...}]}`.
    pub report: Value,
}

/// Start the daemon (real waits, Lambda calls to the runner's function server), run the corpus
/// in `tests/<corpus>` with `selection` (runner options), print what the runner printed.
pub async fn replay(corpus: &str, selection: &[&str]) -> Replay {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(corpus);
    let floor: f64 = std::fs::read_to_string(dir.join("FLOOR"))
        .unwrap_or_else(|e| panic!("tests/{corpus}/FLOOR: {e}"))
        .trim()
        .parse()
        .expect("FLOOR holds a percentage");
    replay_with_floor(corpus, selection, floor).await
}

/// [`replay`] with a floor of its own (a selection held to a bar other than the corpus's).
pub async fn replay_with_floor(corpus: &str, selection: &[&str], floor: f64) -> Replay {
    replay_against(corpus, selection, floor, None).await
}

/// [`replay_with_floor`] with S3 at `s3` (moto's server): the daemon reads and writes there,
/// and the runner creates the buckets the cases' `ResultWriter`s name.
pub async fn replay_with_s3(corpus: &str, selection: &[&str], floor: f64, s3: &str) -> Replay {
    replay_against(corpus, selection, floor, Some(s3)).await
}

async fn replay_against(corpus: &str, selection: &[&str], floor: f64, s3: Option<&str>) -> Replay {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests").join(corpus);
    let runner = root.join("tests/conformance/run_corpus.py");
    let venv = test_venv();
    // The runner starts the Lambda server on this port for the length of the run.
    let lambda_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{lambda_port}");
    let mut env = vec![
        ("WAIT_TIME_SCALE", "1"),
        ("LAMBDA_ENDPOINT", endpoint.as_str()),
    ];
    env.extend(s3.map(|url| ("S3_ENDPOINT", url)));
    let daemon = TestDaemon::start_with_env(&env).await;
    let s3_args: Vec<&str> = s3.map(|url| vec!["--s3-endpoint", url]).unwrap_or_default();
    let report = tempfile::NamedTempFile::new().expect("report file");
    let out = Command::new(venv.join("bin/python"))
        .arg(&runner)
        .arg(daemon.url())
        .arg(&dir)
        .args(selection)
        .args(&s3_args)
        .args(["--timeout", "30", "--show-failures", "400"])
        .arg("--lambda-server")
        .arg(lambda_port.to_string())
        .arg("--min-pass-rate")
        .arg(floor.to_string())
        .arg("--report")
        .arg(report.path())
        .output()
        .expect("run the corpus runner");
    drop(daemon);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let index: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("index.json"))
            .unwrap_or_else(|e| panic!("tests/{corpus}/index.json: {e}")),
    )
    .expect("index.json is a JSON array");
    let report: Value = std::fs::read_to_string(report.path())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    Replay {
        corpus: dir,
        floor,
        stdout,
        above_floor: out.status.success(),
        index,
        report,
    }
}

impl Replay {
    /// The cases marked `core`: those a standalone server with a Lambda endpoint can pass.
    pub fn core_cases(&self) -> usize {
        self.index.iter().filter(|c| c["core"] == true).count()
    }

    /// How many cases the runner ran.
    pub fn ran(&self) -> usize {
        self.outcomes().len()
    }

    /// The runner ran `n` cases and printed its summary, and the pass rate reached the floor.
    pub fn assert_ran_and_reached_floor(&self, n: usize) {
        assert!(
            self.stdout.contains(&format!(": {n} cases in")),
            "the runner did not run all {n} selected cases of {}",
            self.corpus.display()
        );
        let last = self.stdout.lines().last().unwrap_or_default();
        assert!(
            self.above_floor,
            "pass rate of {} fell below the floor of {}%: {last}",
            self.corpus.display(),
            self.floor
        );
        assert!(last.contains("passed"), "the runner printed no summary");
    }

    /// Whether each case passed, by name, from the runner's report.
    pub fn outcomes(&self) -> std::collections::BTreeMap<String, bool> {
        self.report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r["name"].as_str()?.to_owned(), r["ok"] == true)))
            .collect()
    }
}

//! The layout's rules, checked on the source tree: the engine and the API name no database
//! crate and read nothing around the engine; statuses and event types are spelled only in the
//! shared vocabulary; no two sibling modules import each other; files stay small enough to read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .expect("read a source directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The code of a file: comments and `#[cfg(test)]` modules left out.
fn code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..cut]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_test_file(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
        || path
            .file_name()
            .is_some_and(|f| f == "tests.rs" || f == "fuzz.rs")
}

#[test]
fn the_engine_the_api_and_the_console_name_no_database_crate_and_read_only_through_the_engine() {
    for room in ["engine", "api", "console"] {
        for (path, text) in sources(&src().join(room)) {
            let code = code(&text);
            assert!(!code.contains("sqlx"), "{} names sqlx", path.display());
            assert!(
                !code.contains("store()"),
                "{} reads around the engine",
                path.display()
            );
        }
    }
}

#[test]
fn statuses_and_event_types_are_spelled_only_in_the_vocabulary() {
    let mut words: Vec<String> = [
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "TIMED_OUT",
        "ABORTED",
        "ACTIVE",
        "DELETING",
    ]
    .iter()
    .map(|w| format!("\"{w}\""))
    .collect();
    for kind in [
        "Pass",
        "Task",
        "Wait",
        "Map",
        "Parallel",
        "Choice",
        "Execution",
        "Lambda",
    ] {
        for what in [
            "Entered",
            "Exited",
            "Started",
            "Succeeded",
            "Failed",
            "Scheduled",
        ] {
            words.push(format!("\"{kind}{what}\""));
            words.push(format!("\"{kind}State{what}\""));
            words.push(format!("\"{kind}Function{what}\""));
        }
    }
    for (path, text) in sources(&src()) {
        let shared = path.starts_with(src().join("model")) || path.ends_with("asl/history.rs");
        if shared || is_test_file(&path) {
            continue;
        }
        let code = code(&text);
        for w in &words {
            assert!(!code.contains(w.as_str()), "{} spells {w}", path.display());
        }
    }
}

/// The module a `use` path names, from the module `at` (`crate::a::b`, `super::c`).
fn target(at: &[String], path: &str) -> Option<Vec<String>> {
    let mut parts = path.split("::");
    let mut out: Vec<String> = match parts.next()? {
        "crate" => Vec::new(),
        "super" => at[..at.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    for p in parts {
        if p == "super" {
            out.pop()?;
        } else if p.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            out.push(p.to_owned());
        } else {
            break;
        }
    }
    Some(out)
}

#[test]
fn no_two_sibling_modules_import_each_other() {
    let root = src();
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for (path, text) in sources(&root) {
        let rel = path.strip_prefix(&root).expect("under src");
        let mut parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        modules.insert(parts, code(&text));
    }
    let known: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    let mut edges: BTreeSet<(Vec<String>, Vec<String>)> = BTreeSet::new();
    for (m, code) in &modules {
        for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
            let Some(mut t) = target(m, word) else {
                continue;
            };
            while !t.is_empty() && !known.contains(&t) {
                t.pop();
            }
            // Reduce both ends to the children of their closest common ancestor.
            let common = m.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common >= m.len() || common >= t.len() {
                continue;
            }
            edges.insert((m[..=common].to_vec(), t[..=common].to_vec()));
        }
    }
    let mutual: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{} <-> {}", a.join("::"), b.join("::")))
        .collect();
    assert!(
        mutual.is_empty(),
        "modules importing each other: {mutual:?}"
    );
}

#[test]
fn files_stay_small_enough_to_read() {
    for (path, text) in sources(&src()) {
        let lines = text.lines().count();
        assert!(lines <= 800, "{} has {lines} lines", path.display());
        if path.starts_with(src().join("asl/run")) && !is_test_file(&path) {
            assert!(lines <= 400, "{} has {lines} lines", path.display());
        }
    }
}

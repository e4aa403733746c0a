//! Logging with `tracing`: a filter (the configuration's `log.level`, which `HOURGLASS_LOG`
//! and `RUST_LOG` set) and a format; human-readable or JSON lines on stderr.

use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people.
    Pretty,
    /// One JSON object per line, for log pipelines.
    Json,
}

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Check a filter: comma-separated directives, each a level (`debug`) or `target=level`
/// (`hourglass::engine=debug`). A bare word that is not a level would be taken by `tracing`
/// as a target to log at every level, silently logging nothing else (`HOURGLASS_LOG=loud`),
/// so it is refused.
pub fn check_filter(filter: &str) -> Result<(), String> {
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = match directive.rsplit_once('=') {
            Some((_, level)) => level,
            None if directive.contains("::") || directive.contains('[') => continue,
            None => directive,
        };
        if !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(level)) {
            return Err(format!(
                "'{directive}' names no level (one of {})",
                LEVELS.join(", ")
            ));
        }
    }
    EnvFilter::try_new(filter)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Install the global subscriber. Call once, early in `main`, with a checked filter.
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A line that cannot be written (a full disk, a file size limit) is lost. By default
        // the failure is reported with `eprintln!`, which panics when stderr fails, and would
        // take down whichever thread logged, the store's writer among them.
        .log_internal_errors(false);
    // A second init (tests) is not an error worth stopping for.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_filters() {
        let cases = [
            ("a level", "debug", true),
            ("upper case", "WARN", true),
            ("targets", "info,hourglass::engine=debug,sqlx=warn", true),
            ("a crate name with a level", "hourglass=trace", true),
            ("a word that is no level", "loud", false),
            ("a bad level for a target", "hourglass=loud", false),
            ("a number", "5", false),
            ("empty", "", true),
        ];
        for (name, filter, ok) in cases {
            assert_eq!(check_filter(filter).is_ok(), ok, "{name}: {filter}");
        }
    }
}

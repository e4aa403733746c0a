//! The cases in `tests/fidelity/`: behaviours where AWS's exact answer is known from its
//! documentation and observed behaviour (parser messages, error causes, JSONata sequences,
//! validation diagnostics, history event sequences), written in the corpus's case format and
//! replayed against the real daemon by the corpus runner with `--strict-history`, so a history
//! whose event types differ fails its case.
//!
//! The run fails when the pass rate drops below `tests/fidelity/FLOOR`, which is raised as
//! behaviours are fixed. `tests/fidelity/README.md` says how each expected value was derived.

use std::collections::BTreeMap;

use crate::support::corpus;

#[tokio::test]
async fn fidelity_cases_pass_above_the_recorded_floor() {
    let replay = corpus::replay("fidelity", &["--core", "--strict-history"]).await;
    // Pass counts by behaviour (each case names the behaviour it checks in the index).
    let outcomes = replay.outcomes();
    let mut by_behaviour: BTreeMap<&str, (usize, usize, Vec<&str>)> = BTreeMap::new();
    for c in &replay.index {
        let (Some(name), Some(behaviour)) = (c["name"].as_str(), c["behaviour"].as_str()) else {
            continue;
        };
        let row = by_behaviour.entry(behaviour).or_default();
        row.1 += 1;
        if outcomes.get(name).copied().unwrap_or(false) {
            row.0 += 1;
        } else {
            row.2.push(name);
        }
    }
    println!(
        "{:<28} {:>6} {:>6}  failing",
        "behaviour", "passed", "total"
    );
    for (behaviour, (passed, total, failing)) in &by_behaviour {
        println!(
            "{behaviour:<28} {passed:>6} {total:>6}  {}",
            failing.join(" ")
        );
    }
    replay.assert_ran_and_reached_floor(replay.core_cases());
}

//! Property tests over generated definitions: validation never panics, and every definition
//! it accepts parses and runs (timers fired, calls answered with successes and failures)
//! without panicking, to its end or to a bounded number of events.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::definition::{validate_definition, Definition};
use super::errors::StatesError;
use super::run::tests::driver;
use super::run::StepConfig;

const NAMES: [&str; 4] = ["A", "B", "C", "D"];
const TYPES: [&str; 9] = [
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Bogus",
];
const FIELDS: [&str; 30] = [
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "Result",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "Default",
    "ItemsPath",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailureCount",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "Error",
    "Cause",
    "ErrorPath",
    "CausePath",
    "Assign",
    "Output",
    "Arguments",
    "QueryLanguage",
    "Items",
    "ItemSelector",
    "Comment",
    "Retry",
    "Catch",
];

/// Leaves: literals and the strings the interpreter treats specially.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        (0u64..5).prop_map(Value::from),
        prop::sample::select(vec![
            "$",
            "$.a",
            "$.a[0]",
            "$.a[*]",
            "$..a",
            "$$.Execution.Id",
            "$$.Map.Item.Value",
            "$v",
            "$.a.length()",
            "States.Format('x {}', $.a)",
            "States.Array($.a, 1)",
            "States.MathAdd($.n, 1)",
            "States.StringToJson($.s)",
            "States.Hash($.a, 'SHA-1')",
            "States.UUID()",
            "{% $states.input %}",
            "{% $states.input.a + 1 %}",
            "{% $nope %}",
            "{% 1 + %}",
            "{% $count($states.input) %}",
            "2026-01-01T00:00:00Z",
            "JSONata",
            "JSONPath",
            "arn:aws:states:::lambda:invoke",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        "[a-z$.{}%\\[\\]() ']{0,10}".prop_map(Value::String),
    ]
}

/// Leaves, arrays and objects, keys sometimes ending in `.$`.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-c]{1,2}(\\.\\$)?", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn rule() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "StringEquals",
            "NumericGreaterThan",
            "BooleanEquals",
            "IsPresent",
            "StringMatches",
            "NumericEqualsPath",
            "Condition",
        ]),
        leaf(),
        prop::sample::select(NAMES.to_vec()),
    )
        .prop_map(|(op, operand, next)| {
            if op == "Condition" {
                json!({"Condition": operand, "Next": next})
            } else {
                json!({"Variable": "$.a", op: operand, "Next": next})
            }
        })
}

fn retrier_or_catcher() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "States.ALL",
            "States.TaskFailed",
            "E",
            "States.Timeout",
        ]),
        prop::option::of(0u64..3),
        prop::sample::select(NAMES.to_vec()),
    )
        .prop_map(|(e, n, next)| match n {
            Some(n) => json!({"ErrorEquals": [e], "MaxAttempts": n, "IntervalSeconds": 1}),
            None => json!({"ErrorEquals": [e], "Next": next}),
        })
}

/// A small machine: up to four states of any type with any mix of fields.
fn machine(depth: u32) -> BoxedStrategy<Value> {
    let state = (
        prop::sample::select(TYPES.to_vec()),
        prop::collection::vec((prop::sample::select(FIELDS.to_vec()), value()), 0..5),
        prop::option::of(prop::sample::select(NAMES.to_vec())),
        any::<bool>(),
        prop::collection::vec(rule(), 0..3),
        prop::collection::vec(retrier_or_catcher(), 0..2),
        if depth == 0 {
            Just(None).boxed()
        } else {
            prop::option::of(machine(depth - 1)).boxed()
        },
    )
        .prop_map(|(kind, fields, next, end, rules, handlers, nested)| {
            let mut s = Map::new();
            s.insert("Type".into(), Value::String(kind.to_owned()));
            for (k, v) in fields {
                s.insert(k.to_owned(), v);
            }
            match next {
                Some(n) => {
                    s.insert("Next".into(), Value::String(n.to_owned()));
                }
                None if end => {
                    s.insert("End".into(), Value::Bool(true));
                }
                None => {}
            }
            match kind {
                "Choice" => {
                    s.insert("Choices".into(), Value::Array(rules));
                }
                "Task" => {
                    s.entry("Resource").or_insert_with(|| {
                        json!("arn:aws:lambda:us-east-1:123456789012:function:f")
                    });
                    let (retry, catch): (Vec<Value>, Vec<Value>) =
                        handlers.into_iter().partition(|h| h.get("Next").is_none());
                    s.insert("Retry".into(), Value::Array(retry));
                    s.insert("Catch".into(), Value::Array(catch));
                }
                "Parallel" => {
                    if let Some(m) = &nested {
                        s.insert("Branches".into(), json!([m, m]));
                    }
                }
                "Map" => {
                    if let Some(m) = nested {
                        s.insert("ItemProcessor".into(), m);
                    }
                }
                _ => {}
            }
            Value::Object(s)
        });
    (
        prop::collection::vec(state, 1..5),
        prop::sample::select(NAMES.to_vec()),
        prop::option::of(prop::sample::select(vec!["JSONata", "JSONPath"])),
    )
        .prop_map(|(states, start_at, ql)| {
            let mut m = Map::new();
            for (name, s) in NAMES.iter().zip(states) {
                m.insert((*name).to_owned(), s);
            }
            let mut top = json!({"StartAt": start_at, "States": m});
            if let Some(q) = ql {
                top["QueryLanguage"] = json!(q);
            }
            top
        })
        .boxed()
}

/// Run a definition: fire timers in order, answer calls alternately with an echo and an error.
fn run(def: &Definition, input: Value) {
    let cfg = StepConfig {
        max_history_events: 500,
        ..StepConfig::default()
    };
    let mut answered = 0u32;
    driver::drive(def, input, &cfg, 300, |inv| {
        answered += 1;
        if answered.is_multiple_of(2) {
            Err(StatesError::new("E", "generated failure"))
        } else {
            Ok(driver::echo(inv))
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn generated_definitions_validate_and_run_without_panicking(
        def in machine(1),
        input in value(),
    ) {
        let text = def.to_string();
        let diagnostics = validate_definition(&text);
        if diagnostics.is_empty() {
            let parsed = Definition::parse(&text);
            // Whatever validation accepts, the interpreter can build.
            prop_assert!(parsed.is_ok(), "accepted but not parsed: {:?}\n{}", parsed.err(), text);
            if let Ok(parsed) = parsed {
                run(&parsed, input);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_validation(text in "\\PC{0,200}") {
        let _ = validate_definition(&text);
    }
}

//! Validation and the typed build, by topic: AWS's diagnostics for definitions it rejects,
//! every recorded definition accepted, and what validation accepts always builds.

use serde_json::Value;

use super::fields::{reads_context, retrier};
use super::{
    invalid_definition_message, parse, validate_definition, Definition, Kind, TaskResource,
};

fn message(def: &str) -> Option<String> {
    let d = validate_definition(def);
    (!d.is_empty()).then(|| invalid_definition_message(&d))
}

#[test]
fn definitions() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("valid pass", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#, None),
        (
            "no States",
            r#"{"Comment": "BASE_INVALID_DER", "StartAt": "State_1"}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"),
        ),
        (
            "no StartAt",
            r#"{"States":{"P":{"Type":"Pass","End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /'"),
        ),
        (
            "missing target and unreachable state",
            r#"{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}"#,
            Some("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"),
        ),
        (
            "loop without end",
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}"#,
            Some("Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state'"),
        ),
        (
            "timestamp without offset",
            r#"{"StartAt":"WaitUntil","States":{"WaitUntil":{"Type":"Wait","Timestamp":"2016-12-05T21:29:29","End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/WaitUntil/Timestamp'"),
        ),
        (
            "bad intrinsic escape",
            r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"parsed.$":"States.StringToJson('{\"text\":\"An \\\"escaped\\\" here\"}')"},"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at /States/I/Parameters'"),
        ),
        (
            "credentials without role",
            r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{},"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/T/Credentials'"),
        ),
        (
            "choice rule without next",
            r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","StringMatches":"x"}],"Default":"S"},"S":{"Type":"Succeed"}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/C/Choices[0]'"),
        ),
        ("valid intrinsic", r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"x.$":"States.Format('a\\'b {}', $.n)"},"End":true}}}"#, None),
        (
            "parallel branch checked",
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}],"End":true}}}"#,
            Some("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Y at /States/P/Branches[0]/States/X/Next, MISSING_END_STATE: Workflow has no terminal state'"),
        ),
        (
            "jsonata state with a jsonpath field",
            r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a","End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage at /States/P'"),
        ),
        (
            "jsonpath state with a jsonata field",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Output":{"a":1},"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage at /States/P'"),
        ),
        (
            "jsonpath state in a jsonata machine",
            r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine at /States/P'"),
        ),
        (
            "jsonata expression that does not parse",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"x":"{% 1 + %}"},"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The JSONata expression '1 +' is invalid"),
        ),
        (
            "an intrinsic call with an argument that is not one",
            r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"x.$":"States.Format('a {}', foo)"},"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call at /States/I/Parameters'"),
        ),
        (
            "text after an intrinsic call",
            r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"x.$":"States.Array() x"},"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call at /States/I/Parameters'"),
        ),
        (
            "a nested intrinsic call",
            r#"{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"x.$":"States.ArrayGetItem(States.StringSplit($.s, ','), 0)"},"End":true}}}"#,
            None,
        ),
        (
            "a shape the interpreter cannot use is reported once, at the root",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":5,"ResultPath":true,"End":true}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Expected a string at /States/P/InputPath, SCHEMA_VALIDATION_FAILED: Expected a string at /States/P/ResultPath'"),
        ),
        (
            "a catch entry whose ResultPath is a number",
            r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"T","ResultPath":3}]}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ResultPath must be a string or null at /'"),
        ),
        (
            "a map processor's own graph",
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}}}}"#,
            Some("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/M/ItemProcessor/States/A/Next, MISSING_END_STATE: Workflow has no terminal state'"),
        ),
        (
            "a jsonata map's processor takes the machine's language, not the map's",
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","QueryLanguage":"JSONata","Items":"{% [1] %}","End":true,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage at /States/M/ItemProcessor/States/P'"),
        ),
        (
            "its states may say JSONata themselves",
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","QueryLanguage":"JSONata","Items":"{% [1] %}","End":true,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}}}}}}"#,
            None,
        ),
        (
            "a processor cannot declare a query language",
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"QueryLanguage":"JSONPath","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/M/ItemProcessor'"),
        ),
        (
            "a jsonpath state nested in a jsonata machine",
            r#"{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}}}}"#,
            Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine at /States/M/ItemProcessor/States/P'"),
        ),
    ];
    for (name, def, want) in cases {
        let got = message(def);
        match want {
            // A parser's message is checked up to where it starts.
            Some(w) if w.ends_with("is invalid") => assert!(
                got.as_deref().is_some_and(|g| g.starts_with(w)),
                "{name}: {got:?}"
            ),
            _ => assert_eq!(got.as_deref(), *want, "{name}"),
        }
    }
}

#[test]
fn not_json() {
    let d = validate_definition("not a definition");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "INVALID_JSON_DESCRIPTION");
    assert_eq!(
        d[0].location,
        "[Source: (String)\"not a definition\"; line: 1, column: 4]"
    );
    assert_eq!(
        d[0].message,
        "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
    );
}

/// Every definition that ran on AWS in the conformance cases is accepted.
#[test]
fn every_recorded_definition_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/cases");
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("the conformance cases must be at {dir}: {e}"));
    let mut checked = 0;
    let mut refused = Vec::new();
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(case) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if case["kind"] != "execution" || case["definition"].is_null() {
            continue;
        }
        checked += 1;
        let diags = validate_definition(&case["definition"].to_string());
        if !diags.is_empty() {
            refused.push(format!(
                "{}: {}",
                case["name"],
                invalid_definition_message(&diags)
            ));
        }
    }
    assert!(checked > 500, "only {checked} cases found");
    assert!(
        refused.is_empty(),
        "{} of {checked} refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

/// Whatever validation accepts, the interpreter can build; and what it builds is what the
/// definition says.
#[test]
fn a_valid_definition_builds_into_its_typed_form() {
    let text = r#"{"StartAt":"T","TimeoutSeconds":60,"States":{
        "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":5,
             "Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":2}],
             "Catch":[{"ErrorEquals":["States.ALL"],"Next":"M","ResultPath":null}],"Next":"M"},
        "M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":2,"End":true,
             "Parameters":{"v.$":"$$.Map.Item.Value"},
             "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}}}}"#;
    let parsed = parse(text);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let def = parsed.definition.expect("builds");
    assert_eq!(
        (def.start_at.as_str(), def.timeout_seconds),
        ("T", Some(60))
    );
    let task = def.state("T").expect("T");
    assert!(matches!(task.kind, Kind::Task(_)));
    assert_eq!((task.retry.len(), task.catch.len()), (1, 1));
    assert_eq!(task.catch[0].result_path, Some(None));
    let Kind::Map(map) = &def.state("M").expect("M").kind else {
        panic!("M is not a Map");
    };
    // The older `Parameters` of a Map is its ItemSelector.
    assert!(map.item_selector.is_some());
    assert!(def.state("M").expect("M").parameters.is_none());
    assert!(map.processor.state("W").is_some());
}

#[test]
fn a_definition_that_cannot_be_built_says_why() {
    let cases = [
        (
            "not JSON",
            "{",
            "EOF while parsing an object at line 1 column 1",
        ),
        ("not an object", "[]", "The definition is not an object"),
        ("no StartAt", r#"{"States":{}}"#, "StartAt is missing"),
        (
            "StartAt names no state",
            r#"{"StartAt":"X","States":{"P":{"Type":"Pass","End":true}}}"#,
            "StartAt 'X' names no state",
        ),
        (
            "a branch that is not an object",
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[1]}}}"#,
            "The definition is not an object",
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(
            Definition::parse(text).err().as_deref(),
            Some(want),
            "{name}"
        );
        assert!(
            !validate_definition(text).is_empty(),
            "{name}: validation agrees"
        );
    }
}

#[test]
fn a_state_reads_the_context_when_its_text_can() {
    let cases = [
        (r#"{"Type":"Pass","End":true}"#, false),
        (r#"{"Parameters":{"x.$":"$.a"}}"#, false),
        (r#"{"Parameters":{"x.$":"$$.Execution.Id"}}"#, true),
        (r#"{"Parameters":{"x.$":"States.UUID()"}}"#, true),
        (r#"{"Parameters":{"x.$":"States.MathRandom(1, 9)"}}"#, true),
        (r#"{"Output":"{% $states.input.a %}"}"#, false),
        (r#"{"Output":"{% $states.result %}"}"#, false),
        (r#"{"Output":"{% $states.context.Execution.Id %}"}"#, true),
        (r#"{"Output":"{% $states %}"}"#, true),
        (r#"{"Output":"{% $keys($states) %}"}"#, true),
    ];
    for (text, want) in cases {
        assert_eq!(reads_context(text), want, "{text}");
    }
}

#[test]
fn retry_rules_take_aws_defaults() {
    let r = retrier(&serde_json::json!({"ErrorEquals": ["X"]})).expect("a rule");
    assert_eq!(
        (
            r.interval_seconds,
            r.max_attempts,
            r.backoff_rate,
            r.max_delay_seconds,
            r.full_jitter
        ),
        (1.0, 3, 2.0, None, false)
    );
    let r = retrier(
        &serde_json::json!({"ErrorEquals": ["X"], "JitterStrategy": "FULL", "MaxAttempts": 0}),
    )
    .expect("a rule");
    assert_eq!((r.max_attempts, r.full_jitter), (0, true));
}

#[test]
fn task_resources() {
    let cases = [
        (
            "integration",
            "arn:aws:states:::lambda:invoke",
            TaskResource::LambdaInvoke,
        ),
        (
            "function ARN",
            "arn:aws:lambda:us-east-1:function:HelloWorldFunction:$LATEST",
            TaskResource::LambdaFunction {
                function: "arn:aws:lambda:us-east-1:function:HelloWorldFunction:$LATEST".into(),
            },
        ),
        (
            "a service of the table, waiting for its token",
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            TaskResource::Service {
                call: crate::model::services::ServiceCall::parse("sqs:sendMessage")
                    .expect("in the table"),
                resource_type: "sqs".into(),
                resource: "sendMessage.waitForTaskToken".into(),
            },
        ),
        (
            "the AWS SDK form",
            "arn:aws:states:::aws-sdk:dynamodb:query",
            TaskResource::Service {
                call: crate::model::services::ServiceCall::parse("aws-sdk:dynamodb:query")
                    .expect("in the table"),
                resource_type: "aws-sdk:dynamodb".into(),
                resource: "query".into(),
            },
        ),
        (
            "an activity",
            "arn:aws:states:us-east-1:123456789012:activity:a",
            TaskResource::Activity {
                arn: "arn:aws:states:us-east-1:123456789012:activity:a".into(),
            },
        ),
        (
            "an HTTP API",
            "arn:aws:states:::http:invoke",
            TaskResource::Http,
        ),
        (
            "a service not offered",
            "arn:aws:states:::s3:putObject",
            TaskResource::Other("arn:aws:states:::s3:putObject".into()),
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(TaskResource::parse(text), want, "{name}");
    }
}

#[test]
fn short_steps() {
    let task = r#""T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}"#;
    let cases = [
        (
            "a Pass, a Wait and a Task",
            format!(
                r#"{{"StartAt": "P", "States": {{"P": {{"Type": "Pass", "Next": "W"}},
                   "W": {{"Type": "Wait", "Seconds": 1, "Next": "T"}}, {task}}}}}"#
            ),
            true,
        ),
        (
            "a Choice looping back to a Pass",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "C"},
               "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "P"}],
                     "Default": "E"}, "E": {"Type": "Succeed"}}}"#
                .to_owned(),
            false,
        ),
        (
            "a Catch looping back to its Task",
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task",
               "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true,
               "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "T"}]}}}"#
                .to_owned(),
            false,
        ),
        (
            "a diamond, two ways to one state",
            r#"{"StartAt": "C", "States": {
               "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "A"}],
                     "Default": "B"},
               "A": {"Type": "Pass", "Next": "E"}, "B": {"Type": "Pass", "Next": "E"},
               "E": {"Type": "Succeed"}}}"#
                .to_owned(),
            true,
        ),
        (
            "a Parallel",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
               {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}]}}}"#
                .to_owned(),
            false,
        ),
        (
            "JSONata",
            r#"{"QueryLanguage": "JSONata", "StartAt": "P",
               "States": {"P": {"Type": "Pass", "End": true}}}"#
                .to_owned(),
            false,
        ),
    ];
    for (name, text, want) in cases {
        let d = Definition::parse(&text).expect(name);
        assert_eq!(d.has_short_steps(), want, "{name}");
    }
}

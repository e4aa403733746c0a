//! Each error of the catalogue, the text it gives, and where that wording comes from.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;

mod definition;

/// Where an entry's wording comes from.
enum Source {
    /// A public case recorded against AWS holds this part of the cause (all of it unless the
    /// recording masked a value).
    Recorded(&'static str, &'static str),
    /// AWS's wording, known from executions recorded outside this repository.
    Reported,
    /// Hourglass's own wording: AWS's is not known, or AWS has no such case.
    Own,
}

struct Entry {
    built: StatesError,
    error: &'static str,
    cause: &'static str,
    source: Source,
}

fn entry(built: StatesError, error: &'static str, cause: &'static str, source: Source) -> Entry {
    Entry {
        built,
        error,
        cause,
        source,
    }
}

/// The whole cause is in the case.
fn recorded(case: &'static str) -> Source {
    Source::Recorded(case, "")
}

const RUNTIME: &str = "States.Runtime";
const QUERY: &str = "States.QueryEvaluationError";
const INTRINSIC: &str = "States.IntrinsicFailure";

fn entries() -> Vec<Entry> {
    use intrinsic as i;
    vec![
        // Wait
        entry(
            seconds_path_missing("$.input.waitSeconds"),
            RUNTIME,
            "The SecondsPath parameter does not reference an input value: $.input.waitSeconds",
            recorded("v2_logs_test_logs.py_TestLogs_test_base[wait_seconds_path.json5_ALL_True].json"),
        ),
        entry(
            seconds_path_negative("$.s", "-1"),
            RUNTIME,
            "The SecondsPath parameter references a negative value: $.s == -1",
            Source::Reported,
        ),
        entry(
            seconds_path_not_long("$.s", "1.5"),
            RUNTIME,
            "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5",
            Source::Reported,
        ),
        entry(
            seconds_not_natural(&json!(-3)),
            QUERY,
            "The Seconds field must be a non-negative integer but was: -3",
            Source::Own,
        ),
        entry(
            timestamp_path_missing("$.at"),
            RUNTIME,
            "The TimestampPath parameter does not reference an input value: $.at",
            Source::Own,
        ),
        entry(
            timestamp_path_invalid("$.start_at", &json!("2026-11-25T01:11:51.000000")),
            RUNTIME,
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.start_at == 2026-11-25T01:11:51.000000",
            recorded("v2_base_test_wait.py_TestSfnWait_test_wait_timestamppath[.000000].json"),
        ),
        entry(
            timestamp_invalid(&json!("2016-12-05T25:29:29Z")),
            QUERY,
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T25:29:29Z",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_wait_timestamp_jsonata[INVALID_TIME].json"),
        ),
        entry(
            wait_too_long(),
            RUNTIME,
            "Wait state delay is too long.",
            recorded("v2_base_test_wait.py_TestSfnWait_test_timestamp_too_far_in_future_boundary[24856].json"),
        ),
        // Paths and templates
        entry(
            invalid_path("$.NoSuchInputPath", "No results for path: $['NoSuchInputPath']"),
            RUNTIME,
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_INPUTPATH].json"),
        ),
        entry(
            invalid_path("$.no.such.result.path", "Missing property in path $['no']"),
            RUNTIME,
            "Invalid path '$.no.such.result.path' : Missing property in path $['no']",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_catch_states_runtime.json"),
        ),
        entry(
            path_not_found("$.NoSuchCausePath", "CausePath", &json!({"a": 1})),
            RUNTIME,
            "The JSONPath '$.NoSuchCausePath' specified for the field 'CausePath' could not be found in the input '{\"a\":1}'",
            Source::Recorded(
                "v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_CAUSEPATH].json",
                "The JSONPath '$.NoSuchCausePath' specified for the field 'CausePath' could not be found in the input '",
            ),
        ),
        entry(
            path_not_found("$$.Execution.Input.no_such_jsonpath", "value.$", &json!({})),
            RUNTIME,
            "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{}'",
            Source::Recorded(
                "v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_invalid_jsonpath[INVALID_JSONPATH_IN_STRING_EXPR_CONTEXTPATH].json",
                "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '",
            ),
        ),
        entry(
            not_a_path("parsed.$"),
            RUNTIME,
            "The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_illegal_escapes[ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION]__api0.json"),
        ),
        entry(
            result_path_unapplicable("$.a.b", Some(&json!([1]))),
            "States.ResultPathMatchFailure",
            "Unable to apply ResultPath \"$.a.b\" to input \"[1]\"",
            Source::Reported,
        ),
        entry(
            result_path_unapplicable("$[0]", None),
            "States.ResultPathMatchFailure",
            "Unable to apply ResultPath \"$[0]\"",
            Source::Own,
        ),
        entry(
            reference_not_array("$"),
            RUNTIME,
            "Reference path \"$\" must point to array.",
            recorded("v2_test_state_test_state_context_object.py_TestStateContextObject_test_state_map_context_object[ALL]__ts0.json"),
        ),
        // Choice
        entry(
            no_choice_matched(),
            "States.NoChoiceMatched",
            "No Matches!",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_choice_aws_docs_scenario[CHOICE_STATE_AWS_SCENARIO].json"),
        ),
        entry(
            condition_in_jsonpath("{% $x %}"),
            QUERY,
            "JSONata conditions are not supported in a JSONPath state: {% $x %}",
            Source::Own,
        ),
        // JSONata
        entry(
            jsonata_failed("$doesNotExist", "Arguments", JsonataFailure::Undefined),
            QUERY,
            "The JSONata expression '$doesNotExist' specified for the field 'Arguments' returned nothing (undefined).",
            recorded("v2_assign_test_assign_reference_variables.py_TestAssignReferenceVariables_test_undefined_reference[BASE_UNDEFINED_ARGUMENTS].json"),
        ),
        entry(
            jsonata_failed("$fn := function($x){$x}", "Items", JsonataFailure::Unsupported),
            QUERY,
            "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' returned an unsupported result type.",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_state_items_eval_jsonata_fail[function].json"),
        ),
        entry(
            jsonata_failed("$x(", "Output", JsonataFailure::Error("Expected expression")),
            QUERY,
            "The JSONata expression '$x(' specified for the field 'Output' threw an error during evaluation: Expected expression",
            Source::Reported,
        ),
        entry(
            jsonata_unexpected_type("null", "Items", "array", "null", &Value::Null),
            QUERY,
            "The JSONata expression 'null' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'null' for value: null",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_state_items_eval_jsonata_fail[null].json"),
        ),
        entry(
            jsonata_not_positive("TimeoutSeconds", &json!(0)),
            QUERY,
            "The TimeoutSeconds field must be a positive integer but was: 0",
            Source::Own,
        ),
        entry(
            jsonata_not_number("ToleratedFailureCount", &json!("x")),
            QUERY,
            "The ToleratedFailureCount field must be a number but was: \"x\"",
            Source::Own,
        ),
        // Task
        entry(
            seconds_path_not_positive("TimeoutSecondsPath", &json!(0), "$.t"),
            RUNTIME,
            "The TimeoutSecondsPath field refers to value 0 which is not a valid positive integer: $.t",
            Source::Own,
        ),
        entry(
            seconds_expr_in_jsonpath("HeartbeatSecondsPath", "{% $h %}"),
            RUNTIME,
            "The HeartbeatSecondsPath value '{% $h %}' is not a positive integer.",
            Source::Own,
        ),
        entry(
            data_limit_exceeded("lambda"),
            "States.DataLimitExceeded",
            "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit.",
            recorded("v2_error_handling_test_states_errors.py_TestStatesErrors_test_service_task_lambada_data_limit_exceeded_on_large_utf8_response.json"),
        ),
        entry(
            task_failed(),
            "States.TaskFailed",
            "The task failed.",
            recorded("v2_test_state_test_test_state_scenarios.py_TestStateCaseScenarios_test_state_task_catch_error[DEBUG]__ts1.json"),
        ),
        entry(
            function_name_required(),
            RUNTIME,
            "The field 'FunctionName' is required by the lambda:invoke integration.",
            Source::Own,
        ),
        entry(
            resource_unsupported("arn:aws:states:::glue:startJobRun"),
            RUNTIME,
            "The resource 'arn:aws:states:::glue:startJobRun' is not supported by this server (see README: Calling AWS services).",
            Source::Own,
        ),
        entry(
            activity_missing("arn:aws:states:us-east-1:123456789012:activity:a"),
            RUNTIME,
            "The activity 'arn:aws:states:us-east-1:123456789012:activity:a' does not exist.",
            Source::Own,
        ),
        // Map
        entry(
            map_input_not_array(&json!(true), true),
            QUERY,
            "Map state input must be an array but was: true",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_state_items_input_types[boolean].json"),
        ),
        entry(
            map_input_not_array(&json!({"a": 1}), false),
            RUNTIME,
            "Map state input must be an array but was: {\"a\":1}",
            Source::Own,
        ),
        entry(
            tolerated_failure_exceeded(),
            "States.ExceedToleratedFailureThreshold",
            "The specified tolerated failure threshold was exceeded",
            recorded("v2_test_state_test_state_configuration.py_TestStateConfiguration_test_map_state_failure_count[TRACE-BASE_MAP_STATE_RETRY]__ts1.json"),
        ),
        entry(
            tolerated_count_negative(),
            RUNTIME,
            "ToleratedFailureCount cannot be negative.",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_state_tolerated_failure_count_path[-1].json"),
        ),
        entry(
            tolerated_percentage_range(),
            RUNTIME,
            "ToleratedFailurePercentage must be between 0 and 100.",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_state_tolerated_failure_percentage_path[-1.1].json"),
        ),
        entry(
            count_path_not_integer("MaxConcurrency", &json!("NoNumber"), "$.MaxConcurrencyValue"),
            RUNTIME,
            "The MaxConcurrencyPath field refers to value \"NoNumber\" which is not a valid integer: $.MaxConcurrencyValue",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_max_concurrency_path[NoNumber].json"),
        ),
        entry(
            count_path_not_integer("ToleratedFailureCount", &json!({}), "$.ToleratedFailureCount"),
            RUNTIME,
            "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: $.ToleratedFailureCount",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_state_tolerated_failure_count_path[tolerated_failure_count_value0].json"),
        ),
        entry(
            not_iterable(),
            "States.ItemReaderFailed",
            "Attempting to map over non-iterable node.",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_item_reader_json_no_json_list_object.json"),
        ),
        entry(
            csv_duplicate_headers(),
            "States.ItemReaderFailed",
            "CSV headers cannot contain duplicates.",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_map_item_reader_csv_headers_decl_duplicate_headers.json"),
        ),
        entry(
            map_run_result_too_large(262_144),
            "States.DataLimitExceeded",
            "The Map Run's result exceeds the maximum size of 262144 bytes; a ResultWriter writes it to S3 instead.",
            Source::Own,
        ),
        // The execution
        entry(
            state_missing("X"),
            RUNTIME,
            "The state 'X' does not exist.",
            Source::Own,
        ),
        entry(
            state_type_unsupported("Loop"),
            RUNTIME,
            "The state type 'Loop' is not supported by this server.",
            Source::Own,
        ),
        entry(
            too_many_transitions(10_000),
            RUNTIME,
            "The execution made more than 10000 transitions without waiting.",
            Source::Own,
        ),
        entry(
            history_full(25_000),
            RUNTIME,
            "The execution reached the maximum number of history events (25000).",
            Source::Own,
        ),
        // Services
        entry(
            service_error_v1(
                "SNS.NotFoundException",
                "Topic does not exist",
                "AmazonSNS",
                404,
                "NotFound",
                "<request_id>",
            ),
            "SNS.NotFoundException",
            "Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound; Request ID: <request_id>; Proxy: null)",
            recorded("v2_services_test_sns_task_service.py_TestTaskServiceSns_test_publish_base_error_topic_arn.json"),
        ),
        entry(
            service_error_v1(
                "Lambda.ResourceNotFoundException",
                "Function not found: arn:aws:lambda:us-east-1:111111111111:function:no_such_lambda_func_9cafe901:$LATEST",
                "AWSLambda",
                404,
                "ResourceNotFoundException",
                "<request_id>",
            ),
            "Lambda.ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:111111111111:function:no_such_lambda_func_9cafe901:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: <request_id>; Proxy: null)",
            recorded("v2_error_handling_test_task_service_lambda.py_TestTaskServiceLambda_test_no_such_function.json"),
        ),
        entry(
            service_error_v2(
                "ResourceNotFoundException",
                "Requested resource not found",
                "DynamoDb",
                400,
                "<request_id>",
            ),
            "DynamoDb.ResourceNotFoundException",
            "Requested resource not found (Service: DynamoDb, Status Code: 400, Request ID: <request_id>)",
            recorded("v2_error_handling_test_aws_sdk.py_TestAwsSdk_test_dynamodb_put_item_no_such_table.json"),
        ),
        entry(
            service_error_s3(
                "NoSuchBucketException",
                "The specified bucket does not exist",
                404,
                "<request_id>",
                "<extended_request_id>",
            ),
            "S3.NoSuchBucketException",
            "The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: <request_id>, Extended Request ID: <extended_request_id>)",
            recorded("v2_error_handling_test_aws_sdk.py_TestAwsSdk_test_no_such_bucket.json"),
        ),
        entry(
            sdk_client_error(
                "SQS",
                "Unable to execute HTTP request: no-such-queue-fa484d45: Name or service not known",
            ),
            "SQS.SdkClientException",
            "Unable to execute HTTP request: no-such-queue-fa484d45: Name or service not known",
            recorded("v2_error_handling_test_task_service_sqs.py_TestTaskServiceSqs_test_send_message_no_such_queue_no_catch.json"),
        ),
        // Intrinsic functions
        entry(i::trailing_text("States.UUID() x"), INTRINSIC, "Unexpected text after the call in 'States.UUID() x'", Source::Own),
        entry(i::nested_too_deeply(), INTRINSIC, "Intrinsic functions are nested too deeply", Source::Own),
        entry(i::expected_call("x"), INTRINSIC, "Expected an intrinsic function at 'x'", Source::Own),
        entry(i::expected_paren("States.UUID"), INTRINSIC, "Expected '(' after States.UUID", Source::Own),
        entry(i::expected_separator("States.Array"), INTRINSIC, "Expected ',' or ')' in a call to States.Array", Source::Own),
        entry(i::invalid_argument("1x"), INTRINSIC, "Invalid argument '1x'", Source::Own),
        entry(i::invalid_escape(), INTRINSIC, "Invalid escape in a string literal", Source::Own),
        entry(i::unclosed_string(), INTRINSIC, "A string literal is not closed", Source::Own),
        entry(i::unknown_function("States.Nope"), INTRINSIC, "Unknown intrinsic function States.Nope", Source::Own),
        entry(i::arity("States.Hash", "2", 1), INTRINSIC, "Invalid number of arguments for States.Hash: expected 2, got 1", Source::Own),
        entry(i::argument_type(2, "States.Hash", "a string"), INTRINSIC, "Argument 2 of States.Hash must be a string", Source::Own),
        entry(i::not_numbers("States.MathAdd"), INTRINSIC, "The arguments of States.MathAdd must be numbers", Source::Own),
        entry(i::format_template_missing(), INTRINSIC, "States.Format needs a format string", Source::Own),
        entry(i::format_template_not_string(), INTRINSIC, "The first argument of States.Format must be a string", Source::Own),
        entry(i::format_too_few_arguments(), INTRINSIC, "States.Format has more placeholders than arguments", Source::Own),
        entry(i::format_too_many_arguments(), INTRINSIC, "States.Format has more arguments than placeholders", Source::Own),
        entry(i::invalid_json("{", "EOF"), INTRINSIC, "Invalid JSON string '{': EOF", Source::Own),
        entry(i::chunk_not_positive(), INTRINSIC, "The chunk size of States.ArrayPartition must be positive", Source::Own),
        entry(i::step_zero(), INTRINSIC, "The step of States.ArrayRange must not be 0", Source::Own),
        entry(i::range_too_long(1000), INTRINSIC, "States.ArrayRange may produce at most 1000 items", Source::Own),
        entry(i::index_out_of_bounds(3, 2), INTRINSIC, "Index 3 is out of bounds of an array of 2", Source::Own),
        entry(i::base64_too_long("States.Base64Encode", 10000), INTRINSIC, "States.Base64Encode takes at most 10000 characters", Source::Own),
        entry(i::invalid_base64("@", "bad"), INTRINSIC, "Invalid base64 '@': bad", Source::Own),
        entry(i::decoded_not_utf8(), INTRINSIC, "The decoded data is not UTF-8 text", Source::Own),
        entry(i::unknown_hash("MD4"), INTRINSIC, "Unknown hash algorithm 'MD4': use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", Source::Own),
        entry(i::deep_merge(), INTRINSIC, "States.JsonMerge supports only a shallow merge (false)", Source::Own),
        entry(i::merge_not_objects(), INTRINSIC, "The arguments of States.JsonMerge must be objects", Source::Own),
        entry(i::random_bounds(), INTRINSIC, "The end of States.MathRandom must be greater than its start", Source::Own),
    ]
}

#[test]
fn each_error_gives_its_name_and_cause() {
    for e in entries() {
        assert_eq!(e.built.error, e.error, "{}", e.cause);
        assert_eq!(e.built.cause.as_deref(), Some(e.cause));
    }
}

/// Every string value in a JSON document.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// Every string value of a public case recorded against AWS.
fn case_strings(case: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases");
    let text = std::fs::read_to_string(dir.join(case)).expect("the cited case exists");
    let doc: Value = serde_json::from_str(&text).expect("the case is JSON");
    let mut all = Vec::new();
    strings(&doc, &mut all);
    all
}

/// The cited case holds the recorded wording: the catalogue quotes AWS, not itself.
#[test]
fn recorded_wordings_are_in_the_cases_recorded_against_aws() {
    let mut checked = 0;
    for e in entries() {
        let Source::Recorded(case, part) = e.source else {
            continue;
        };
        let part = if part.is_empty() { e.cause } else { part };
        assert!(
            e.cause.starts_with(part),
            "{part} is not the start of {}",
            e.cause
        );
        let all = case_strings(case);
        // Recorded causes of runtime errors carry AWS's prefix; definitions' messages
        // carry theirs: the wording must follow one of them, or be the whole string.
        assert!(
            all.iter().any(|s| s == part
                || s.contains(&format!(". {part}"))
                || s.contains(&format!(": {part}"))),
            "{case} does not hold: {part}"
        );
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} recorded entries");
}

/// The public functions of `source` that `called` does not find called in a test table.
fn untested(source: &str, called: impl Fn(&str) -> bool) -> Vec<&str> {
    source
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub fn "))
        .map(|rest| rest.split('(').next().unwrap_or_default())
        .filter(|name| !called(name))
        .collect()
}

/// Each function of the catalogue is in the table, so none goes untested.
#[test]
fn every_function_of_the_catalogue_is_in_the_table() {
    let table = include_str!("tests.rs");
    let missing = untested(include_str!("../catalogue.rs"), |name| {
        name == "shown"
            || table.contains(&format!(" {name}("))
            || table.contains(&format!("i::{name}("))
    });
    assert!(missing.is_empty(), "not in the table: {missing:?}");
}

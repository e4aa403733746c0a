//! Each message of a definition's diagnostics, and where its wording comes from.

use super::{case_strings, untested, Source};
use crate::asl::catalogue::definition::*;

struct Message {
    built: String,
    text: &'static str,
    source: Source,
}

fn m(built: String, text: &'static str, source: Source) -> Message {
    Message {
        built,
        text,
        source,
    }
}

fn recorded(case: &'static str) -> Source {
    Source::Recorded(case, "")
}

fn messages() -> Vec<Message> {
    use Source::{Own, Reported};
    vec![
        m(
            fields_required(&["States"]),
            "These fields are required: [States]",
            recorded("v2_test_sfn_api.py_TestSnfApi_test_create_delete_invalid_sm__api0.json"),
        ),
        m(
            fields_required(&["StartAt"]),
            "These fields are required: [StartAt]",
            recorded("v2_test_sfn_api_validation.py_TestSfnApiValidation_test_validate_state_machine_definition_type_express[INVALID_BASE_NO_STARTAT]__val0.json"),
        ),
        m(expected("a string"), "Expected a string", Own),
        m(query_language_value(), "Value is not one of [JSONPath, JSONata]", Own),
        m(state_name_too_long(80), "State name cannot be longer than 80 characters", Own),
        m(
            state_type_unknown(),
            "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
            recorded("v2_test_state_test_test_state_machine_scenarios.py_TestStateMachineScenarios_test_state_name_invalid_state_definition__api0.json"),
        ),
        m(next_and_end(), "Only one of Next or End may be set", Own),
        m(next_or_end_required(), "These fields are required: [Next or End]", Own),
        m(only_one_of("Error", "ErrorPath"), "Only one of Error or ErrorPath may be set", Own),
        m(
            credentials_role_required(),
            "The field 'RoleArn' is required but was missing",
            recorded("v2_credentials_test_credentials_base.py_TestCredentialsBase_test_invalid_credentials_field[EMPTY_CREDENTIALS]__api0.json"),
        ),
        m(
            wait_exactly_one(),
            "Exactly one of [Seconds, SecondsPath, Timestamp, TimestampPath] is required",
            Own,
        ),
        m(
            timestamp_not_rfc3339(),
            "String does not match RFC3339 timestamp",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_wait_timestamp_invalid[NO_Z]__api0.json"),
        ),
        m(
            value_empty(),
            "Value cannot be empty",
            recorded("v2_test_state_test_state_mock_validation.py_TestStateMockValidation_test_parallel_state_empty_branches__api0.json"),
        ),
        m(states_all_alone(), "States.ALL must appear alone in ErrorEquals", Own),
        m(states_all_last("Retry"), "States.ALL must be the last Retry rule", Own),
        m(
            template_value("parsed.$"),
            "The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call",
            recorded("v2_scenarios_test_base_scenarios.py_TestBaseScenarios_test_illegal_escapes[ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION]__api0.json"),
        ),
        m(
            jsonpath_state_in_jsonata_machine(),
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            Reported,
        ),
        m(
            field_of_other_language("Parameters", "JSONata"),
            "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage",
            Reported,
        ),
        m(
            field_of_other_language("Output", "JSONPath"),
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
            Reported,
        ),
        m(
            processor_query_language(),
            "Field 'QueryLanguage' is not supported",
            Reported,
        ),
        m(
            jsonata_invalid("$x(", "Expected expression"),
            "The JSONata expression '$x(' is invalid: Expected expression",
            Own,
        ),
        m(
            express_activity(),
            "Express state machine does not support Activity ARN",
            recorded("v2_test_sfn_api_express.py_TestSfnApiExpress_test_illegal_activity_task__api0.json"),
        ),
        m(
            express_pattern(".sync"),
            "Express state machine does not support '.sync' service integration ",
            recorded("v2_test_sfn_api_express.py_TestSfnApiExpress_test_illegal_callbacks[SYNC]__api0.json"),
        ),
        m(
            express_pattern(".waitForTaskToken"),
            "Express state machine does not support '.waitForTaskToken' service integration ",
            recorded("v2_test_sfn_api_validation.py_TestSfnApiValidation_test_validate_state_machine_definition_type_express[ILLEGAL_WFTT]__val0.json"),
        ),
        m(missing_target("B"), "Missing 'Next' target: B", Reported),
        m(unreachable("B"), "State \"B\" is not reachable.", Reported),
        m(no_terminal_state(), "Workflow has no terminal state", Reported),
        m(blank(), "The definition is blank.", Own),
        m(
            label_invalid_character("'['"),
            "Label contains invalid character: '['",
            recorded("v2_test_sfn_api_map_run.py_TestSnfApiMapRun_test_map_state_label_invalid_char_fail[[]__api0.json"),
        ),
        m(
            label_too_long(40),
            "Label cannot exceed 40 characters",
            recorded("v2_test_sfn_api_map_run.py_TestSnfApiMapRun_test_map_state_label_too_long_fail__api0.json"),
        ),
        m(not_an_object("The state A"), "The state A is not an object", Own),
        m(not_an_array("Branches"), "Branches is not an array", Own),
        m(missing("States"), "States is missing", Own),
        m(start_at_names_no_state("X"), "StartAt 'X' names no state", Own),
        m(parallel_without_branches(), "Parallel needs Branches", Own),
        m(map_without_processor(), "Map needs an ItemProcessor", Own),
        m(not_a_string("Next", "1"), "Next must be a string, found 1", Own),
        m(not_a_path("1"), "expected a path string, found 1", Own),
        m(not_a_number("MaxConcurrency"), "MaxConcurrency must be a number", Own),
        m(not_positive("TimeoutSeconds"), "TimeoutSeconds must be a positive integer", Own),
        m(not_natural("Seconds"), "Seconds must be a non-negative integer", Own),
        m(timestamp_unreadable(), "Timestamp is not RFC 3339", Own),
        m(
            wait_without_time(),
            "Wait needs Seconds, SecondsPath, Timestamp or TimestampPath",
            Own,
        ),
        m(error_equals_not_strings(), "ErrorEquals holds a non-string", Own),
        m(result_path_type(), "ResultPath must be a string or null", Own),
        m(unusable(), "The definition is not usable", Own),
    ]
}

#[test]
fn each_message_gives_its_text() {
    for m in messages() {
        assert_eq!(m.built, m.text);
    }
}

#[test]
fn recorded_messages_are_in_the_cases_recorded_against_aws() {
    let mut checked = 0;
    for m in messages() {
        let Source::Recorded(case, _) = m.source else {
            continue;
        };
        // AWS trims the trailing space of the Express messages inside InvalidDefinition.
        let text = m.text.trim_end();
        assert!(
            case_strings(case).iter().any(|s| s.contains(text)),
            "{case} does not hold: {text}"
        );
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} recorded messages");
}

#[test]
fn every_message_of_the_catalogue_is_in_the_table() {
    let table = include_str!("definition.rs");
    let missing = untested(include_str!("../definition.rs"), |name| {
        table.contains(&format!("{name}("))
    });
    assert!(missing.is_empty(), "not in the table: {missing:?}");
}

//! Client errors with AWS's codes and messages: malformed ARNs and names, model constraints,
//! unknown executions, invalid definitions, unknown operations and bodies that are not JSON.

use aws_sdk_sfn::types::ExecutionStatus;

use crate::support::api::{code_and_message, post_raw};
use crate::support::sfn::create;
use crate::support::{TestDaemon, PASS_DEFINITION, ROLE_ARN};

const MALFORMED_ARN: &str = "invalid_state_machine_arn";
const INVALID_ARN_MESSAGE: &str = "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'";

/// Names AWS refuses for state machines and executions.
const FORBIDDEN_NAMES: [&str; 10] = [
    "with space",
    "a<b",
    "a{b",
    "a[b",
    "a?b",
    "a*b",
    "a:b",
    "a/b",
    "a\u{1f}b",
    "a\u{7f}b",
];

#[tokio::test]
async fn a_malformed_arn_is_invalid_arn_for_every_operation_that_takes_one() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let answers = [
        (
            "DescribeStateMachine",
            code_and_message(
                &sfn.describe_state_machine()
                    .state_machine_arn(MALFORMED_ARN)
                    .send()
                    .await
                    .expect_err("DescribeStateMachine"),
            ),
        ),
        (
            "StartExecution",
            code_and_message(
                &sfn.start_execution()
                    .state_machine_arn(MALFORMED_ARN)
                    .send()
                    .await
                    .expect_err("StartExecution"),
            ),
        ),
        (
            "ListExecutions",
            code_and_message(
                &sfn.list_executions()
                    .state_machine_arn(MALFORMED_ARN)
                    .send()
                    .await
                    .expect_err("ListExecutions"),
            ),
        ),
        (
            "DescribeExecution",
            code_and_message(
                &sfn.describe_execution()
                    .execution_arn(MALFORMED_ARN)
                    .send()
                    .await
                    .expect_err("DescribeExecution"),
            ),
        ),
        (
            "GetExecutionHistory",
            code_and_message(
                &sfn.get_execution_history()
                    .execution_arn(MALFORMED_ARN)
                    .send()
                    .await
                    .expect_err("GetExecutionHistory"),
            ),
        ),
        (
            "StopExecution",
            code_and_message(
                &sfn.stop_execution()
                    .execution_arn(MALFORMED_ARN)
                    .send()
                    .await
                    .expect_err("StopExecution"),
            ),
        ),
    ];

    for (operation, (code, message)) in answers {
        assert_eq!(code, "InvalidArn", "{operation}");
        assert_eq!(message, INVALID_ARN_MESSAGE, "{operation}");
    }
}

#[tokio::test]
async fn a_state_machine_name_with_a_forbidden_character_is_invalid_name() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    for name in FORBIDDEN_NAMES {
        let err = sfn
            .create_state_machine()
            .name(name)
            .definition(PASS_DEFINITION)
            .role_arn(ROLE_ARN)
            .send()
            .await
            .expect_err("a forbidden name");

        let (code, message) = code_and_message(&err);
        assert_eq!(code, "InvalidName", "name {name:?}");
        assert_eq!(message, format!("Invalid Name: '{name}'"), "name {name:?}");
    }
}

#[tokio::test]
async fn an_execution_name_with_a_forbidden_character_is_invalid_name() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "named", PASS_DEFINITION).await;

    for name in FORBIDDEN_NAMES {
        let err = sfn
            .start_execution()
            .state_machine_arn(&sm)
            .name(name)
            .send()
            .await
            .expect_err("a forbidden name");

        let (code, message) = code_and_message(&err);
        assert_eq!(code, "InvalidName", "name {name:?}");
        assert_eq!(message, format!("Invalid Name: '{name}'"), "name {name:?}");
    }
}

#[tokio::test]
async fn a_name_longer_than_80_characters_is_a_validation_exception() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "long-names", PASS_DEFINITION).await;
    let name = "n".repeat(81);
    let want = format!("1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80");

    let machine = sfn
        .create_state_machine()
        .name(&name)
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect_err("a state machine name of 81 characters");
    let execution = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .name(&name)
        .send()
        .await
        .expect_err("an execution name of 81 characters");

    assert_eq!(
        code_and_message(&machine),
        ("ValidationException".to_owned(), want.clone()),
        "CreateStateMachine"
    );
    assert_eq!(
        code_and_message(&execution),
        ("ValidationException".to_owned(), want),
        "StartExecution"
    );
}

#[tokio::test]
async fn a_name_of_exactly_80_characters_is_accepted() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let name = "n".repeat(80);

    let created = sfn
        .create_state_machine()
        .name(&name)
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await;

    assert!(created.is_ok(), "80 characters is allowed: {created:?}");
}

#[tokio::test]
async fn max_results_over_1000_is_a_validation_exception() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "paged", PASS_DEFINITION).await;
    let execution = crate::support::sfn::start(&sfn, &sm, "run", "{}").await;
    let want = (
        "ValidationException".to_owned(),
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000".to_owned(),
    );

    let machines = sfn
        .list_state_machines()
        .max_results(1001)
        .send()
        .await
        .expect_err("ListStateMachines");
    let executions = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .max_results(1001)
        .send()
        .await
        .expect_err("ListExecutions");
    let history = sfn
        .get_execution_history()
        .execution_arn(&execution)
        .max_results(1001)
        .send()
        .await
        .expect_err("GetExecutionHistory");

    assert_eq!(code_and_message(&machines), want, "ListStateMachines");
    assert_eq!(code_and_message(&executions), want, "ListExecutions");
    assert_eq!(code_and_message(&history), want, "GetExecutionHistory");
}

#[tokio::test]
async fn a_status_filter_outside_the_enum_is_a_validation_exception() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "filtered", PASS_DEFINITION).await;

    let err = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .status_filter(ExecutionStatus::from("succeeded"))
        .send()
        .await
        .expect_err("a lower-case status");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
    );
    assert!(err.into_service_error().is_validation_exception());
}

#[tokio::test]
async fn a_next_token_the_daemon_did_not_issue_is_invalid_token() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "tokens", PASS_DEFINITION).await;
    let execution = crate::support::sfn::start(&sfn, &sm, "run", "{}").await;

    let machines = sfn
        .list_state_machines()
        .next_token("made-up")
        .send()
        .await
        .expect_err("ListStateMachines");
    let executions = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .next_token("made-up")
        .send()
        .await
        .expect_err("ListExecutions");
    let history = sfn
        .get_execution_history()
        .execution_arn(&execution)
        .next_token("made-up")
        .send()
        .await
        .expect_err("GetExecutionHistory");

    assert_eq!(
        code_and_message(&machines).0,
        "InvalidToken",
        "ListStateMachines"
    );
    assert_eq!(
        code_and_message(&executions).0,
        "InvalidToken",
        "ListExecutions"
    );
    assert_eq!(
        code_and_message(&history).0,
        "InvalidToken",
        "GetExecutionHistory"
    );
}

/// Members checked against the model as AWS checks them: `includedData`'s enum, the 1024
/// characters of GetExecutionHistory's token, the 256 of a version's description, and the
/// characters of `traceHeader` and a redrive's `clientToken`.
#[tokio::test]
async fn less_used_members_are_checked_against_the_model() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "members", PASS_DEFINITION).await;
    let execution = crate::support::sfn::start(&sfn, &sm, "run", "{}").await;
    let enum_refusal = "1 validation error detected: Value 'SOME' at 'includedData' failed to \
                        satisfy constraint: Member must satisfy enum value set: [ALL_DATA, \
                        METADATA_ONLY]";
    for (operation, member, arn) in [
        ("DescribeStateMachine", "stateMachineArn", &sm),
        ("DescribeExecution", "executionArn", &execution),
        (
            "DescribeStateMachineForExecution",
            "executionArn",
            &execution,
        ),
    ] {
        let body = format!(r#"{{"{member}":"{arn}","includedData":"SOME"}}"#);
        let answer = post_raw(
            &daemon.url(),
            &format!("AWSStepFunctions.{operation}"),
            &body,
        )
        .await;
        assert_eq!(answer.error_type(), "ValidationException", "{operation}");
        assert_eq!(answer.body["message"], enum_refusal, "{operation}");
    }
    let metadata_only = sfn
        .describe_execution()
        .execution_arn(&execution)
        .included_data(aws_sdk_sfn::types::IncludedData::MetadataOnly)
        .send()
        .await;
    assert!(metadata_only.is_ok(), "{metadata_only:?}");

    let err = sfn
        .get_execution_history()
        .execution_arn(&execution)
        .next_token("t".repeat(1025))
        .send()
        .await
        .expect_err("a token over 1024 characters");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert!(
        message.ends_with("Member must have length less than or equal to 1024"),
        "{message}"
    );

    let err = sfn
        .update_state_machine()
        .state_machine_arn(&sm)
        .definition(PASS_DEFINITION)
        .publish(true)
        .version_description("d".repeat(257))
        .send()
        .await
        .expect_err("a version description over 256 characters");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'versionDescription'"), "{message}");

    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .trace_header("Root=é")
        .send()
        .await
        .expect_err("a trace header that is not ASCII");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern"),
        "{message}"
    );
    let err = sfn
        .redrive_execution()
        .execution_arn(&execution)
        .client_token("with space")
        .send()
        .await
        .expect_err("a client token with a space");
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("at 'clientToken'"), "{message}");
}

#[tokio::test]
async fn an_unknown_execution_is_execution_does_not_exist() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    // The machine exists; only the execution is unknown.
    create(&sfn, "known", PASS_DEFINITION).await;
    let arn = "arn:aws:states:us-east-1:123456789012:execution:known:never-started";
    let want = (
        "ExecutionDoesNotExist".to_owned(),
        format!("Execution Does Not Exist: '{arn}'"),
    );

    let describe = sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect_err("DescribeExecution");
    let history = sfn
        .get_execution_history()
        .execution_arn(arn)
        .send()
        .await
        .expect_err("GetExecutionHistory");
    let stop = sfn
        .stop_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect_err("StopExecution");
    let machine = sfn
        .describe_state_machine_for_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect_err("DescribeStateMachineForExecution");

    assert_eq!(code_and_message(&describe), want, "DescribeExecution");
    assert_eq!(code_and_message(&history), want, "GetExecutionHistory");
    assert_eq!(code_and_message(&stop), want, "StopExecution");
    assert_eq!(
        code_and_message(&machine),
        want,
        "DescribeStateMachineForExecution"
    );
}

#[tokio::test]
async fn a_definition_that_is_not_json_is_invalid_definition() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "kept", PASS_DEFINITION).await;

    for definition in ["not a definition", "{\"StartAt\":", "{} trailing"] {
        let created = sfn
            .create_state_machine()
            .name("broken")
            .definition(definition)
            .role_arn(ROLE_ARN)
            .send()
            .await
            .expect_err("CreateStateMachine with invalid JSON");
        let updated = sfn
            .update_state_machine()
            .state_machine_arn(&sm)
            .definition(definition)
            .send()
            .await
            .expect_err("UpdateStateMachine with invalid JSON");

        for (operation, (code, message)) in [
            ("create", code_and_message(&created)),
            ("update", code_and_message(&updated)),
        ] {
            assert_eq!(code, "InvalidDefinition", "{operation} {definition:?}");
            assert!(
                message
                    .starts_with("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: "),
                "{operation} {definition:?}: {message}"
            );
        }
    }
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.definition(),
        PASS_DEFINITION,
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn a_definition_without_start_at_is_invalid_definition() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let err = sfn
        .create_state_machine()
        .name("no-start")
        .definition(r#"{"States":{"P":{"Type":"Pass","End":true}}}"#)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect_err("a definition without StartAt");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "InvalidDefinition");
    assert_eq!(
        message,
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /'"
    );
}

#[tokio::test]
async fn a_request_for_an_unknown_operation_is_unknown_operation_exception() {
    let daemon = TestDaemon::start().await;

    let answer = post_raw(&daemon.url(), "AWSStepFunctions.LaunchRocket", "{}").await;
    let no_target = post_raw(&daemon.url(), "", "{}").await;

    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.error_type(), "UnknownOperationException");
    assert_eq!(no_target.status, 400, "{no_target:?}");
    assert_eq!(no_target.error_type(), "UnknownOperationException");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_serialization_exception() {
    let daemon = TestDaemon::start().await;

    let not_json = post_raw(
        &daemon.url(),
        "AWSStepFunctions.ListStateMachines",
        "this is not json",
    )
    .await;
    let not_an_object = post_raw(&daemon.url(), "AWSStepFunctions.ListStateMachines", "[1]").await;
    let wrong_member_type = post_raw(
        &daemon.url(),
        "AWSStepFunctions.DescribeStateMachine",
        r#"{"stateMachineArn": 42}"#,
    )
    .await;

    for (what, answer) in [
        ("not JSON", not_json),
        ("not an object", not_an_object),
        ("a member of the wrong type", wrong_member_type),
    ] {
        assert_eq!(answer.status, 400, "{what}: {answer:?}");
        assert_eq!(answer.error_type(), "SerializationException", "{what}");
    }
}

/// Every operation of the Step Functions model botocore ships is answered: none with
/// `UnknownOperationException`.
#[tokio::test]
async fn every_operation_of_the_botocore_model_is_known() {
    let daemon = TestDaemon::start().await;
    let listed = std::process::Command::new(crate::support::test_venv().join("bin/python"))
        .args([
            "-c",
            "import botocore.session; m = botocore.session.get_session().get_service_model('stepfunctions'); print('\\n'.join(m.operation_names))",
        ])
        .output()
        .expect("python");
    assert!(listed.status.success(), "{listed:?}");
    let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        names.len() >= 37,
        "the model lists {} operations",
        names.len()
    );
    let mut unknown = Vec::new();
    for name in &names {
        if name == "GetActivityTask" {
            continue; // a long poll; it is known (its own tests call it)
        }
        let answer = post_raw(&daemon.url(), &format!("AWSStepFunctions.{name}"), "{}").await;
        if answer.error_type_or_ok() == "UnknownOperationException" {
            unknown.push(name.clone());
        }
    }
    assert!(unknown.is_empty(), "unknown operations: {unknown:?}");
}

//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition and tagging, through the SDK.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sfn::types::{
    CloudWatchLogsLogGroup, ExecutionStatus, LogDestination, LogLevel, LoggingConfiguration,
    StateMachineStatus, StateMachineType, Tag, ValidateStateMachineDefinitionResultCode,
    ValidateStateMachineDefinitionSeverity,
};
use aws_sdk_sfn::Client;

use crate::support::api::code_and_message;
use crate::support::sfn::{create, finished, start};
use crate::support::{eventually, TestDaemon, PASS_DEFINITION, ROLE_ARN};

const ARN_PREFIX: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";

/// Waits `seconds`, then a Pass whose result is `result`.
fn wait_then_result(seconds: u32, result: &str) -> String {
    format!(
        r#"{{"StartAt":"Wait","States":{{"Wait":{{"Type":"Wait","Seconds":{seconds},"Next":"Done"}},"Done":{{"Type":"Pass","Result":"{result}","End":true}}}}}}"#
    )
}

/// Wait until DescribeStateMachine answers StateMachineDoesNotExist.
async fn gone(sfn: &Client, arn: &str) {
    eventually(
        "the state machine to be deleted",
        Duration::from_secs(15),
        || {
            let sfn = sfn.clone();
            let arn = arn.to_owned();
            async move {
                match sfn
                    .describe_state_machine()
                    .state_machine_arn(arn)
                    .send()
                    .await
                {
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_state_machine_does_not_exist()) =>
                    {
                        Some(())
                    }
                    _ => None,
                }
            }
        },
    )
    .await;
}

#[tokio::test]
async fn create_state_machine_returns_an_arn_of_region_account_and_name() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let created = sfn
        .create_state_machine()
        .name("orders")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create");

    assert_eq!(created.state_machine_arn(), format!("{ARN_PREFIX}orders"));
    assert!(created.creation_date().secs() > 0, "a creation date is set");
}

#[tokio::test]
async fn create_state_machine_again_with_the_same_request_returns_the_same_arn_and_creation_date() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let request = sfn
        .create_state_machine()
        .name("same")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN);
    let first = request.clone().send().await.expect("first create");

    let second = request.send().await.expect("second create");

    assert_eq!(second.state_machine_arn(), first.state_machine_arn());
    assert_eq!(second.creation_date(), first.creation_date());
}

#[tokio::test]
async fn create_state_machine_with_a_taken_name_and_another_definition_is_state_machine_already_exists(
) {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    create(&sfn, "taken", PASS_DEFINITION).await;

    let err = sfn
        .create_state_machine()
        .name("taken")
        .definition(r#"{"StartAt":"Other","States":{"Other":{"Type":"Pass","End":true}}}"#)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect_err("a second machine of the same name");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineAlreadyExists");
    assert_eq!(
        message,
        format!("State Machine Already Exists: '{ARN_PREFIX}taken'")
    );
    assert!(err.into_service_error().is_state_machine_already_exists());
}

#[tokio::test]
async fn create_state_machine_again_with_another_role_returns_the_original_and_keeps_its_role() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let first = sfn
        .create_state_machine()
        .name("role-kept")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("first create");

    let second = sfn
        .create_state_machine()
        .name("role-kept")
        .definition(PASS_DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/Other")
        .send()
        .await
        .expect("AWS treats a different roleArn as the same request");

    assert_eq!(second.state_machine_arn(), first.state_machine_arn());
    assert_eq!(second.creation_date(), first.creation_date());
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(first.state_machine_arn())
        .send()
        .await
        .expect("describe");
    assert_eq!(d.role_arn(), ROLE_ARN, "the role is not updated");
}

#[tokio::test]
async fn create_state_machine_again_with_another_logging_configuration_is_state_machine_already_exists(
) {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    create(&sfn, "logged", PASS_DEFINITION).await;
    let logging = LoggingConfiguration::builder()
        .level(LogLevel::Error)
        .include_execution_data(false)
        .destinations(
            LogDestination::builder()
                .cloud_watch_logs_log_group(
                    CloudWatchLogsLogGroup::builder()
                        .log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:sfn:*")
                        .build(),
                )
                .build(),
        )
        .build();

    let err = sfn
        .create_state_machine()
        .name("logged")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .logging_configuration(logging)
        .send()
        .await
        .expect_err("the same name with another logging configuration");

    let (code, _) = code_and_message(&err);
    assert_eq!(code, "StateMachineAlreadyExists");
}

#[tokio::test]
async fn create_state_machine_with_the_name_of_a_deleting_machine_is_state_machine_deleting() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "reborn", &wait_then_result(60, "done")).await;
    start(&sfn, &sm, "keeps-it-open", "{}").await;
    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");

    let err = sfn
        .create_state_machine()
        .name("reborn")
        .definition(wait_then_result(60, "done"))
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect_err("a create while the old machine is deleting");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDeleting");
    assert_eq!(message, format!("State Machine is being deleted: '{sm}'"));
}

#[tokio::test]
async fn describe_state_machine_returns_every_field_of_the_created_machine() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let created = sfn
        .create_state_machine()
        .name("described")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create");

    let d = sfn
        .describe_state_machine()
        .state_machine_arn(created.state_machine_arn())
        .send()
        .await
        .expect("describe");

    assert_eq!(d.state_machine_arn(), created.state_machine_arn());
    assert_eq!(d.name(), "described");
    assert_eq!(d.status(), Some(&StateMachineStatus::Active));
    assert_eq!(d.definition(), PASS_DEFINITION);
    assert_eq!(d.role_arn(), ROLE_ARN);
    assert_eq!(d.r#type(), &StateMachineType::Standard);
    assert_eq!(d.creation_date(), created.creation_date());
    let logging = d.logging_configuration().expect("loggingConfiguration");
    assert_eq!(logging.level(), Some(&LogLevel::Off));
    assert!(!logging.include_execution_data(), "includeExecutionData");
    assert!(logging.destinations().is_empty(), "no log destinations");
    let tracing = d.tracing_configuration().expect("tracingConfiguration");
    assert!(!tracing.enabled(), "tracing is off");
}

#[tokio::test]
async fn describe_state_machine_of_an_unknown_arn_is_state_machine_does_not_exist() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = format!("{ARN_PREFIX}nobody");

    let err = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect_err("an unknown machine");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(message, format!("State Machine Does Not Exist: '{arn}'"));
}

#[tokio::test]
async fn update_state_machine_returns_a_new_revision_id_and_update_date() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let created = sfn
        .create_state_machine()
        .name("updated")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create");
    let arn = created.state_machine_arn();
    let new_definition =
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"second","End":true}}}"#;

    let first = sfn
        .update_state_machine()
        .state_machine_arn(arn)
        .definition(new_definition)
        .send()
        .await
        .expect("first update");
    let second = sfn
        .update_state_machine()
        .state_machine_arn(arn)
        .role_arn("arn:aws:iam::123456789012:role/Other")
        .send()
        .await
        .expect("second update");

    let first_revision = first.revision_id().expect("a revision id");
    let second_revision = second.revision_id().expect("a revision id");
    assert!(!first_revision.is_empty(), "the revision id is not empty");
    assert_ne!(first_revision, second_revision, "each update is a revision");
    assert!(first.update_date() >= created.creation_date());
    assert!(second.update_date() >= first.update_date());
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.definition(), new_definition, "the updated definition");
    assert_eq!(d.role_arn(), "arn:aws:iam::123456789012:role/Other");
    assert_eq!(d.revision_id(), Some(second_revision));
    assert_eq!(d.creation_date(), created.creation_date(), "creation stays");
}

#[tokio::test]
async fn an_execution_started_before_an_update_keeps_the_definition_it_started_with() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let old_definition = wait_then_result(2, "old");
    let sm = create(&sfn, "versioned", &old_definition).await;
    let running = start(&sfn, &sm, "before-update", "{}").await;
    let new_definition =
        r#"{"StartAt":"Done","States":{"Done":{"Type":"Pass","Result":"new","End":true}}}"#;

    sfn.update_state_machine()
        .state_machine_arn(&sm)
        .definition(new_definition)
        .send()
        .await
        .expect("update while the execution waits");

    assert_eq!(
        finished(&sfn, &running, Duration::from_secs(15)).await,
        ExecutionStatus::Succeeded
    );
    let d = sfn
        .describe_execution()
        .execution_arn(&running)
        .send()
        .await
        .expect("describe execution");
    assert_eq!(d.output(), Some(r#""old""#), "the old definition's result");
    let ran = sfn
        .describe_state_machine_for_execution()
        .execution_arn(&running)
        .send()
        .await
        .expect("describe state machine for execution");
    assert_eq!(ran.definition(), old_definition);
    let after = start(&sfn, &sm, "after-update", "{}").await;
    assert_eq!(
        finished(&sfn, &after, Duration::from_secs(15)).await,
        ExecutionStatus::Succeeded
    );
    let d = sfn
        .describe_execution()
        .execution_arn(&after)
        .send()
        .await
        .expect("describe execution");
    assert_eq!(
        d.output(),
        Some(r#""new""#),
        "a new execution runs the update"
    );
}

#[tokio::test]
async fn update_state_machine_without_any_field_is_missing_required_parameter() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "unchanged", PASS_DEFINITION).await;

    let err = sfn
        .update_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect_err("an update with nothing to change");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "MissingRequiredParameter");
    assert_eq!(
        message,
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"
    );
}

#[tokio::test]
async fn update_state_machine_of_an_unknown_arn_is_state_machine_does_not_exist() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = format!("{ARN_PREFIX}nobody");

    let err = sfn
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(PASS_DEFINITION)
        .send()
        .await
        .expect_err("an update of an unknown machine");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(message, format!("State Machine Does Not Exist: '{arn}'"));
}

#[tokio::test]
async fn update_state_machine_on_a_deleting_state_machine_is_state_machine_deleting() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "closing", &wait_then_result(60, "done")).await;
    start(&sfn, &sm, "keeps-it-open", "{}").await;
    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");

    let err = sfn
        .update_state_machine()
        .state_machine_arn(&sm)
        .definition(PASS_DEFINITION)
        .send()
        .await
        .expect_err("an update of a deleting machine");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDeleting");
    assert_eq!(message, format!("State Machine is being deleted: '{sm}'"));
}

#[tokio::test]
async fn delete_state_machine_of_an_unknown_arn_succeeds() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let deleted = sfn
        .delete_state_machine()
        .state_machine_arn(format!("{ARN_PREFIX}never-created"))
        .send()
        .await;

    assert!(
        deleted.is_ok(),
        "deleting nothing is not an error: {deleted:?}"
    );
}

#[tokio::test]
async fn delete_state_machine_without_executions_removes_it() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "short-lived", PASS_DEFINITION).await;

    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");

    gone(&sfn, &sm).await;
}

#[tokio::test]
async fn delete_state_machine_with_a_waiting_execution_is_deleting_until_the_execution_ends() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "draining", &wait_then_result(2, "done")).await;
    let running = start(&sfn, &sm, "last-one", "{}").await;

    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");

    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("describe while the execution runs");
    assert_eq!(d.status(), Some(&StateMachineStatus::Deleting));
    assert_eq!(
        finished(&sfn, &running, Duration::from_secs(15)).await,
        ExecutionStatus::Succeeded,
        "the execution runs to its end"
    );
    gone(&sfn, &sm).await;
}

#[tokio::test]
async fn start_execution_on_a_deleting_state_machine_is_state_machine_deleting() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "closing", &wait_then_result(60, "done")).await;
    start(&sfn, &sm, "keeps-it-open", "{}").await;
    sfn.delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");

    let err = sfn
        .start_execution()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect_err("a start on a deleting machine");

    let (code, message) = code_and_message(&err);
    assert_eq!(code, "StateMachineDeleting");
    assert_eq!(message, format!("State Machine is being deleted: '{sm}'"));
}

#[tokio::test]
async fn list_state_machines_pages_through_every_machine_exactly_once() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let mut created = HashSet::new();
    for name in ["m1", "m2", "m3", "m4", "m5"] {
        created.insert(create(&sfn, name, PASS_DEFINITION).await);
    }

    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sfn
            .list_state_machines()
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("list a page");
        pages.push(
            page.state_machines()
                .iter()
                .map(|m| m.state_machine_arn().to_owned())
                .collect::<Vec<_>>(),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 10, "the pages never end");
    }

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1], "page sizes");
    let listed: Vec<String> = pages.into_iter().flatten().collect();
    let unique: HashSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "no machine twice: {listed:?}");
    assert_eq!(unique, created, "every machine listed");
}

#[tokio::test]
async fn list_state_machines_items_carry_name_type_and_creation_date() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let created = sfn
        .create_state_machine()
        .name("listed")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect("create");

    let listed = sfn.list_state_machines().send().await.expect("list");

    let [item] = listed.state_machines() else {
        panic!("one machine: {:?}", listed.state_machines());
    };
    assert_eq!(item.state_machine_arn(), created.state_machine_arn());
    assert_eq!(item.name(), "listed");
    assert_eq!(item.r#type(), &StateMachineType::Standard);
    assert_eq!(item.creation_date(), created.creation_date());
    assert_eq!(listed.next_token(), None);
}

#[tokio::test]
async fn validate_state_machine_definition_accepts_a_valid_definition() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let v = sfn
        .validate_state_machine_definition()
        .definition(PASS_DEFINITION)
        .send()
        .await
        .expect("validate");

    assert_eq!(v.result(), &ValidateStateMachineDefinitionResultCode::Ok);
    assert!(v.diagnostics().is_empty(), "{:?}", v.diagnostics());
    assert_eq!(v.truncated(), Some(false));
}

#[tokio::test]
async fn validate_state_machine_definition_reports_a_missing_start_at() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let v = sfn
        .validate_state_machine_definition()
        .definition(r#"{"States": {"StartState": {"Type": "Pass", "End": true}}}"#)
        .send()
        .await
        .expect("validate");

    assert_eq!(v.result(), &ValidateStateMachineDefinitionResultCode::Fail);
    let [diagnostic] = v.diagnostics() else {
        panic!("one diagnostic: {:?}", v.diagnostics());
    };
    assert_eq!(
        diagnostic.severity(),
        &ValidateStateMachineDefinitionSeverity::Error
    );
    assert_eq!(diagnostic.code(), "SCHEMA_VALIDATION_FAILED");
    assert_eq!(diagnostic.message(), "These fields are required: [StartAt]");
    assert_eq!(diagnostic.location(), Some("/"));
}

#[tokio::test]
async fn validate_state_machine_definition_reports_text_that_is_not_json() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();

    let v = sfn
        .validate_state_machine_definition()
        .definition("not a definition")
        .send()
        .await
        .expect("validate");

    assert_eq!(v.result(), &ValidateStateMachineDefinitionResultCode::Fail);
    let [diagnostic] = v.diagnostics() else {
        panic!("one diagnostic: {:?}", v.diagnostics());
    };
    assert_eq!(
        diagnostic.severity(),
        &ValidateStateMachineDefinitionSeverity::Error
    );
    assert_eq!(diagnostic.code(), "INVALID_JSON_DESCRIPTION");
}

#[tokio::test]
async fn tags_round_trip_through_tag_list_and_untag() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "tagged", PASS_DEFINITION).await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();

    sfn.tag_resource()
        .resource_arn(&sm)
        .tags(tag("team", "payments"))
        .tags(tag("env", "test"))
        .send()
        .await
        .expect("tag");
    let listed = sfn
        .list_tags_for_resource()
        .resource_arn(&sm)
        .send()
        .await
        .expect("list tags");
    let mut tags: Vec<(String, String)> = listed
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("env".to_owned(), "test".to_owned()),
            ("team".to_owned(), "payments".to_owned())
        ]
    );

    sfn.untag_resource()
        .resource_arn(&sm)
        .tag_keys("env")
        .send()
        .await
        .expect("untag");

    let listed = sfn
        .list_tags_for_resource()
        .resource_arn(&sm)
        .send()
        .await
        .expect("list tags after untag");
    let keys: Vec<&str> = listed.tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(keys, ["team"]);
}

#[tokio::test]
async fn tagging_a_tag_key_again_replaces_its_value() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(&sfn, "retagged", PASS_DEFINITION).await;
    for value in ["one", "two"] {
        sfn.tag_resource()
            .resource_arn(&sm)
            .tags(Tag::builder().key("k").value(value).build())
            .send()
            .await
            .expect("tag");
    }

    let listed = sfn
        .list_tags_for_resource()
        .resource_arn(&sm)
        .send()
        .await
        .expect("list tags");

    let tags: Vec<(Option<&str>, Option<&str>)> =
        listed.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [(Some("k"), Some("two"))]);
}

#[tokio::test]
async fn tag_operations_on_an_unknown_state_machine_are_resource_not_found() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let arn = format!("{ARN_PREFIX}untaggable");

    let tag = sfn
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .expect_err("tag an unknown machine");
    let untag = sfn
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("k")
        .send()
        .await
        .expect_err("untag an unknown machine");
    let list = sfn
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect_err("list the tags of an unknown machine");

    let want = (
        "ResourceNotFound".to_owned(),
        format!("Resource not found: '{arn}'"),
    );
    assert_eq!(code_and_message(&tag), want, "TagResource");
    assert_eq!(code_and_message(&untag), want, "UntagResource");
    assert_eq!(code_and_message(&list), want, "ListTagsForResource");
}

/// An Express machine refuses on update what it refuses on create (AWS's message), and a
/// standard one takes the same definition.
#[tokio::test]
async fn an_express_machine_refuses_an_activity_on_update_too() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let act = crate::support::sfn::activity(&sfn, "approve").await;
    let with_activity = format!(
        r#"{{"StartAt":"ActivityTask","States":{{"ActivityTask":{{"Type":"Task","Resource":"{act}","End":true}}}}}}"#
    );
    let express = sfn
        .create_state_machine()
        .name("quick")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .r#type(StateMachineType::Express)
        .send()
        .await
        .expect("create an Express machine")
        .state_machine_arn()
        .to_owned();
    let err = sfn
        .update_state_machine()
        .state_machine_arn(&express)
        .definition(&with_activity)
        .send()
        .await
        .expect_err("an activity in an Express machine");
    assert_eq!(
        code_and_message(&err),
        (
            "InvalidDefinition".to_owned(),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine \
             does not support Activity ARN at /States/ActivityTask/Resource'"
                .to_owned()
        )
    );
    let standard = create(&sfn, "slow", PASS_DEFINITION).await;
    sfn.update_state_machine()
        .state_machine_arn(&standard)
        .definition(&with_activity)
        .send()
        .await
        .expect("a standard machine takes an activity");
}

/// DescribeStateMachine fills what AWS fills: a logging configuration given without a level or
/// `includeExecutionData` shows their defaults, and the encryption is AWS's own key.
#[tokio::test]
async fn a_partial_logging_configuration_is_shown_with_the_defaults() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = sfn
        .create_state_machine()
        .name("quiet")
        .definition(PASS_DEFINITION)
        .role_arn(ROLE_ARN)
        .logging_configuration(LoggingConfiguration::builder().build())
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned();
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("describe");
    // As sent, not as the SDK fills it in.
    let raw = crate::support::api::post_raw(
        &daemon.url(),
        "AWSStepFunctions.DescribeStateMachine",
        &serde_json::json!({ "stateMachineArn": sm }).to_string(),
    )
    .await;
    assert_eq!(raw.status, 200, "{:?}", raw.body);
    assert_eq!(
        raw.body["loggingConfiguration"],
        serde_json::json!({"level": "OFF", "includeExecutionData": false})
    );
    let encryption = d
        .encryption_configuration()
        .expect("an encryption configuration");
    assert_eq!(
        encryption.r#type(),
        &aws_sdk_sfn::types::EncryptionType::AwsOwnedKey
    );
}

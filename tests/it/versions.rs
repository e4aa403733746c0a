//! Versions and aliases through the SDK: publishing (with Create, Update and on its own,
//! idempotent per revision), describing and listing versions, starting executions on a
//! version or through an alias (weighted between two versions), the conflicts AWS enforces,
//! numbers never given twice, and everything surviving `kill -9`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, RoutingConfigurationListItem};
use aws_sdk_sfn::Client;

use crate::support::api::code_and_message;
use crate::support::sfn::{describe, finished, start};
use crate::support::{TestDaemon, ROLE_ARN};

/// A machine whose output names the version it was published as.
fn answering(word: &str) -> String {
    format!(r#"{{"StartAt":"P","States":{{"P":{{"Type":"Pass","Result":"{word}","End":true}}}}}}"#)
}

fn route(version: &str, weight: i32) -> RoutingConfigurationListItem {
    RoutingConfigurationListItem::builder()
        .state_machine_version_arn(version)
        .weight(weight)
        .build()
        .expect("a route")
}

/// CreateStateMachine of a machine answering "one", published: its ARN and version 1's.
async fn created_and_published(sfn: &Client, name: &str) -> (String, String) {
    let created = sfn
        .create_state_machine()
        .name(name)
        .definition(answering("one"))
        .role_arn(ROLE_ARN)
        .publish(true)
        .send()
        .await
        .expect("CreateStateMachine");
    let version = created
        .state_machine_version_arn()
        .expect("a version")
        .to_owned();
    (created.state_machine_arn().to_owned(), version)
}

/// UpdateStateMachine to a machine answering `word`, published: the new version's ARN.
async fn updated_and_published(sfn: &Client, sm: &str, word: &str) -> String {
    sfn.update_state_machine()
        .state_machine_arn(sm)
        .definition(answering(word))
        .publish(true)
        .send()
        .await
        .expect("UpdateStateMachine")
        .state_machine_version_arn()
        .expect("a version")
        .to_owned()
}

async fn output_of(sfn: &Client, arn: &str) -> String {
    assert_eq!(
        finished(sfn, arn, Duration::from_secs(10)).await,
        ExecutionStatus::Succeeded
    );
    describe(sfn, arn)
        .await
        .output()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn versions_and_aliases_route_starts_and_survive_a_sigkill() {
    let mut daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let created = sfn
        .create_state_machine()
        .name("orders")
        .definition(answering("one"))
        .role_arn(ROLE_ARN)
        .publish(true)
        .version_description("first")
        .send()
        .await
        .expect("CreateStateMachine");
    let sm = created.state_machine_arn().to_owned();
    let v1 = created
        .state_machine_version_arn()
        .expect("a version")
        .to_owned();
    assert_eq!(v1, format!("{sm}:1"));

    let updated = sfn
        .update_state_machine()
        .state_machine_arn(&sm)
        .definition(answering("two"))
        .publish(true)
        .send()
        .await
        .expect("UpdateStateMachine");
    let v2 = updated
        .state_machine_version_arn()
        .expect("a version")
        .to_owned();
    assert_eq!(v2, format!("{sm}:2"));
    // Publishing the same revision again gives the same version.
    let again = sfn
        .publish_state_machine_version()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("PublishStateMachineVersion");
    assert_eq!(again.state_machine_version_arn(), v2);
    let stale = sfn
        .publish_state_machine_version()
        .state_machine_arn(&sm)
        .revision_id("not-the-current-one")
        .send()
        .await
        .expect_err("a stale revision");
    assert_eq!(code_and_message(&stale).0, "ConflictException");

    let listed = sfn
        .list_state_machine_versions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("ListStateMachineVersions");
    let arns: Vec<&str> = listed
        .state_machine_versions()
        .iter()
        .map(|v| v.state_machine_version_arn())
        .collect();
    assert_eq!(arns, [v2.as_str(), v1.as_str()]);
    let d1 = sfn
        .describe_state_machine()
        .state_machine_arn(&v1)
        .send()
        .await
        .expect("DescribeStateMachine of a version");
    assert_eq!(d1.definition(), answering("one"));
    assert_eq!(d1.description(), Some("first"));

    // A start on a version runs that version.
    let on_v1 = start(&sfn, &v1, "on-v1", "{}").await;
    assert_eq!(output_of(&sfn, &on_v1).await, r#""one""#);
    let d = describe(&sfn, &on_v1).await;
    assert_eq!(d.state_machine_arn(), sm);
    assert_eq!(d.state_machine_version_arn(), Some(v1.as_str()));
    assert_eq!(d.state_machine_alias_arn(), None);

    // An alias: all to v1, then half and half.
    let alias = sfn
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&v1, 100))
        .send()
        .await
        .expect("CreateStateMachineAlias")
        .state_machine_alias_arn()
        .to_owned();
    assert_eq!(alias, format!("{sm}:prod"));
    let via = start(&sfn, &alias, "via-alias", "{}").await;
    assert_eq!(output_of(&sfn, &via).await, r#""one""#);
    let d = describe(&sfn, &via).await;
    assert_eq!(d.state_machine_alias_arn(), Some(alias.as_str()));
    assert_eq!(d.state_machine_version_arn(), Some(v1.as_str()));
    sfn.update_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .routing_configuration(route(&v1, 50))
        .routing_configuration(route(&v2, 50))
        .send()
        .await
        .expect("UpdateStateMachineAlias");
    let mut seen = BTreeMap::new();
    for i in 0..40 {
        let arn = start(&sfn, &alias, &format!("split-{i}"), "{}").await;
        *seen.entry(output_of(&sfn, &arn).await).or_insert(0) += 1;
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        [r#""one""#, r#""two""#],
        "{seen:?}"
    );
    let through_v2 = sfn
        .list_executions()
        .state_machine_arn(&v2)
        .send()
        .await
        .expect("ListExecutions of a version");
    assert_eq!(through_v2.executions().len(), seen[r#""two""#]);
    let through_alias = sfn
        .list_executions()
        .state_machine_arn(&alias)
        .max_results(1000)
        .send()
        .await
        .expect("ListExecutions of an alias");
    assert_eq!(through_alias.executions().len(), 41);
    // Each item shows what it came through.
    for e in through_v2.executions() {
        assert_eq!(e.state_machine_version_arn(), Some(v2.as_str()));
    }
    for e in through_alias.executions() {
        assert_eq!(e.state_machine_alias_arn(), Some(alias.as_str()));
        let version = e.state_machine_version_arn().unwrap_or_default();
        assert!(version == v1 || version == v2, "{version}");
    }
    // Listed by the machine's own ARN, each still shows what it came through (as AWS does).
    let by_machine = sfn
        .list_executions()
        .state_machine_arn(&sm)
        .max_results(1000)
        .send()
        .await
        .expect("ListExecutions of the machine");
    let via_alias = by_machine
        .executions()
        .iter()
        .filter(|e| e.state_machine_alias_arn() == Some(alias.as_str()))
        .count();
    assert_eq!(via_alias, through_alias.executions().len());
    let direct = by_machine
        .executions()
        .iter()
        .find(|e| e.execution_arn() == on_v1)
        .expect("the start on v1");
    assert_eq!(direct.state_machine_version_arn(), Some(v1.as_str()));
    assert_eq!(direct.state_machine_alias_arn(), None);

    // A version an alias routes to cannot be deleted.
    let refused = sfn
        .delete_state_machine_version()
        .state_machine_version_arn(&v1)
        .send()
        .await
        .expect_err("v1 is routed to");
    assert_eq!(
        code_and_message(&refused),
        (
            "ConflictException".to_owned(),
            "Version to be deleted must not be referenced by an alias. Current list of aliases \
             referencing this version: [prod]"
                .to_owned()
        ),
        "the aliases by name, as AWS lists them"
    );

    // Everything survives a kill -9.
    daemon.kill9_and_restart().await;
    let sfn = daemon.sfn();
    let shown = sfn
        .describe_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .expect("DescribeStateMachineAlias");
    assert_eq!(shown.routing_configuration().len(), 2);
    assert_eq!(
        describe(&sfn, &on_v1).await.state_machine_version_arn(),
        Some(v1.as_str())
    );

    // Routed away from, v1 goes; its number is not given again.
    sfn.update_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .routing_configuration(route(&v2, 100))
        .send()
        .await
        .expect("UpdateStateMachineAlias");
    sfn.delete_state_machine_version()
        .state_machine_version_arn(&v1)
        .send()
        .await
        .expect("DeleteStateMachineVersion");
    let gone = sfn
        .describe_state_machine()
        .state_machine_arn(&v1)
        .send()
        .await
        .expect_err("v1 is deleted");
    assert_eq!(code_and_message(&gone).0, "StateMachineDoesNotExist");
    let v3 = updated_and_published(&sfn, &sm, "three").await;
    assert_eq!(v3, format!("{sm}:3"));

    let aliases = sfn
        .list_state_machine_aliases()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("ListStateMachineAliases");
    assert_eq!(aliases.state_machine_aliases().len(), 1);
    sfn.delete_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .expect("DeleteStateMachineAlias");
    let missing = sfn
        .describe_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .expect_err("the alias is deleted");
    assert_eq!(code_and_message(&missing).0, "ResourceNotFound");

    // Routes are checked as AWS checks them.
    let bad = sfn
        .create_state_machine_alias()
        .name("half")
        .routing_configuration(route(&v2, 50))
        .send()
        .await
        .expect_err("weights must add up to 100");
    assert_eq!(code_and_message(&bad).0, "ValidationException");
    let missing_version = sfn
        .create_state_machine_alias()
        .name("ghost")
        .routing_configuration(route(&format!("{sm}:99"), 100))
        .send()
        .await
        .expect_err("no version 99");
    assert_eq!(code_and_message(&missing_version).0, "ResourceNotFound");
}

/// An alias routing 90/10 between two versions splits 1,000 starts within binomial bounds:
/// the second version's share is 100 expected, with a standard deviation of 9.5; five of them
/// either side is what is allowed (a 50/50 or inverted split falls far outside).
#[tokio::test]
async fn an_alias_routing_90_10_splits_1000_starts_within_binomial_bounds() {
    const STARTS: usize = 1_000;
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let (sm, v1) = created_and_published(&sfn, "split").await;
    let v2 = updated_and_published(&sfn, &sm, "two").await;
    let alias = sfn
        .create_state_machine_alias()
        .name("split")
        .routing_configuration(route(&v1, 90))
        .routing_configuration(route(&v2, 10))
        .send()
        .await
        .expect("CreateStateMachineAlias")
        .state_machine_alias_arn()
        .to_owned();
    for chunk in (0..STARTS).collect::<Vec<_>>().chunks(50) {
        let starts = chunk.iter().map(|&i| {
            let sfn = sfn.clone();
            let alias = alias.clone();
            tokio::spawn(async move {
                sfn.start_execution()
                    .state_machine_arn(&alias)
                    .name(format!("s{i}"))
                    .send()
                    .await
                    .map(|_| ())
            })
        });
        for started in crate::support::join_all(starts).await {
            started
                .expect("a start task")
                .expect("StartExecution through the alias");
        }
    }
    let mut through = BTreeMap::new();
    for version in [&v1, &v2] {
        let mut n = 0;
        let mut token = None;
        loop {
            let page = sfn
                .list_executions()
                .state_machine_arn(version)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .expect("ListExecutions of a version");
            n += page.executions().len();
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        through.insert(version.clone(), n);
    }
    assert_eq!(through[&v1] + through[&v2], STARTS, "{through:?}");
    println!(
        "alias 90/10 over {STARTS} starts: {} to version 1, {} to version 2",
        through[&v1], through[&v2]
    );
    let second = through[&v2] as f64;
    let (mean, sd) = (100.0, (1000.0_f64 * 0.1 * 0.9).sqrt());
    assert!(
        (second - mean).abs() <= 5.0 * sd,
        "{second} of {STARTS} starts went to the 10% version"
    );
}

/// The refusals of versions and aliases, with AWS's codes and messages as recorded against AWS:
/// names, routes, conflicts, a missing alias, and version ARNs where a machine or a resource
/// that takes tags is asked for.
#[tokio::test]
async fn versions_and_aliases_are_refused_in_aws_words() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let (sm, v1) = created_and_published(&sfn, "worded").await;
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(&v1)
        .send()
        .await
        .expect("DescribeStateMachine of v1");
    assert_eq!(
        described.revision_id(),
        None,
        "the first revision has no id"
    );
    let v2 = updated_and_published(&sfn, &sm, "two").await;
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(&v2)
        .send()
        .await
        .expect("DescribeStateMachine of v2");
    assert!(described.revision_id().is_some(), "an update's revision");

    let refusal = |name: &str| {
        format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: \
             ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"
        )
    };
    for name in ["123", "INVALID ALIAS", "!INVALID", "ALIAS@"] {
        let err = sfn
            .create_state_machine_alias()
            .name(name)
            .routing_configuration(route(&v1, 100))
            .send()
            .await
            .expect_err(name);
        assert_eq!(
            code_and_message(&err),
            ("ValidationException".to_owned(), refusal(name))
        );
    }
    let dotted = sfn
        .create_state_machine_alias()
        .name("live.v1")
        .routing_configuration(route(&v1, 100))
        .send()
        .await
        .expect("a name with a dot")
        .state_machine_alias_arn()
        .to_owned();

    let refused = |routes: Vec<RoutingConfigurationListItem>| {
        let sfn = sfn.clone();
        async move {
            let err = sfn
                .create_state_machine_alias()
                .name("routed")
                .set_routing_configuration(Some(routes))
                .send()
                .await
                .expect_err("refused routes");
            code_and_message(&err)
        }
    };
    let invalid = |message: String| ("ValidationException".to_owned(), message);
    assert_eq!(
        refused(vec![route(&sm, 50), route(&v2, 50)]).await,
        invalid(format!(
            "Routing configuration must contain state machine version ARNs. Received: [{sm}, {v2}]"
        ))
    );
    assert_eq!(
        refused(vec![route(&v1, 70), route(&v2, 29)]).await,
        invalid("Sum of routing configuration weights must equal 100. Received: [70, 29]".into())
    );
    assert_eq!(
        refused(vec![route(&v1, 50), route(&v1, 50)]).await,
        invalid(format!(
            "Routing configuration must contain distinct state machine version ARNs. \
             Received: [{v1}, {v1}]"
        ))
    );
    assert_eq!(
        refused(vec![route(&v1, 101)]).await,
        invalid(
            "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' \
             failed to satisfy constraint: Member must have value less than or equal to 100"
                .into()
        )
    );
    assert_eq!(
        refused(vec![route(&v1, 50), route(&v2, 30), route(&v1, 20)]).await,
        invalid(format!(
            "1 validation error detected: Value '[RoutingConfigurationListItem(\
             stateMachineVersionArn={v1}, weight=50), RoutingConfigurationListItem(\
             stateMachineVersionArn={v2}, weight=30), RoutingConfigurationListItem(\
             stateMachineVersionArn={v1}, weight=20)]' at 'routingConfiguration' failed to \
             satisfy constraint: Member must have length less than or equal to 2"
        ))
    );

    // Conflicts.
    let alias = sfn
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&v2, 100))
        .send()
        .await
        .expect("CreateStateMachineAlias")
        .state_machine_alias_arn()
        .to_owned();
    let err = sfn
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&v1, 100))
        .send()
        .await
        .expect_err("the same name, other routes");
    assert_eq!(
        code_and_message(&err),
        (
            "ConflictException".to_owned(),
            "Failed to create alias because an alias with the same name and a different routing \
             configuration already exists."
                .to_owned()
        )
    );
    let err = sfn
        .delete_state_machine_version()
        .state_machine_version_arn(&v2)
        .send()
        .await
        .expect_err("v2 is routed to");
    assert_eq!(
        code_and_message(&err),
        (
            "ConflictException".to_owned(),
            "Version to be deleted must not be referenced by an alias. Current list of aliases \
             referencing this version: [prod]"
                .to_owned()
        )
    );
    let current = sfn
        .describe_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("DescribeStateMachine")
        .revision_id()
        .expect("the current revision")
        .to_owned();
    let err = sfn
        .publish_state_machine_version()
        .state_machine_arn(&sm)
        .revision_id("an-old-one")
        .send()
        .await
        .expect_err("a stale revision");
    assert_eq!(
        code_and_message(&err),
        (
            "ConflictException".to_owned(),
            format!(
                "Failed to publish the State Machine version for revision an-old-one. The \
                 current State Machine revision is {current}."
            )
        )
    );

    // A missing alias, and the aliases of one version.
    let err = sfn
        .update_state_machine_alias()
        .state_machine_alias_arn(format!("{sm}:nosuch"))
        .description("d")
        .send()
        .await
        .expect_err("no such alias");
    assert_eq!(
        code_and_message(&err),
        (
            "ResourceNotFound".to_owned(),
            "Request references a resource that does not exist.".to_owned()
        )
    );
    let of_version = |version: String| {
        let sfn = sfn.clone();
        async move {
            let listed = sfn
                .list_state_machine_aliases()
                .state_machine_arn(version)
                .send()
                .await
                .expect("ListStateMachineAliases of a version");
            let arns: Vec<String> = listed
                .state_machine_aliases()
                .iter()
                .map(|a| a.state_machine_alias_arn().to_owned())
                .collect();
            arns
        }
    };
    assert_eq!(of_version(v1.clone()).await, [dotted]);
    assert_eq!(of_version(v2.clone()).await, [alias]);

    // A version is not a machine to update, nor a resource that takes tags.
    let err = sfn
        .update_state_machine()
        .state_machine_arn(&v2)
        .role_arn(ROLE_ARN)
        .send()
        .await
        .expect_err("a version is not updated");
    assert_eq!(
        code_and_message(&err),
        (
            "StateMachineDoesNotExist".to_owned(),
            format!("State Machine Does Not Exist: '{v2}'")
        )
    );
    let err = sfn
        .tag_resource()
        .resource_arn(&v1)
        .tags(
            aws_sdk_sfn::types::Tag::builder()
                .key("k")
                .value("v")
                .build(),
        )
        .send()
        .await
        .expect_err("a version takes no tags");
    assert_eq!(
        code_and_message(&err),
        (
            "ResourceNotFound".to_owned(),
            format!("Resource not found: '{v1}'")
        )
    );
    // A machine's ARN where a version's is asked for: its reason once, not twice.
    let err = sfn
        .delete_state_machine_version()
        .state_machine_version_arn(&sm)
        .send()
        .await
        .expect_err("not a version");
    assert_eq!(
        code_and_message(&err),
        ("InvalidArn".to_owned(), format!("Invalid Arn: '{sm}'"))
    );
}

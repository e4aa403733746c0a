//! TestState through the SDK: a state run on its own with DEBUG inspection, a Choice's next
//! state, a Task's call made for real to a function, a mocked error caught, Retry left, and
//! the API's refusals; nothing is created.

use aws_sdk_sfn::types::{InspectionLevel, MockErrorOutput, MockInput, TestExecutionStatus};
use serde_json::{json, Value};

use crate::support::api::code_and_message;
use crate::support::sfn::unprefix;
use crate::support::{FakeLambda, TestDaemon, ROLE_ARN};

/// `send()` without the `sync-` host prefix the SDK puts on TestState.
pub trait SendUnprefixed {
    async fn send_unprefixed(
        self,
    ) -> Result<
        aws_sdk_sfn::operation::test_state::TestStateOutput,
        aws_sdk_sfn::error::SdkError<aws_sdk_sfn::operation::test_state::TestStateError>,
    >;
}

impl SendUnprefixed for aws_sdk_sfn::operation::test_state::builders::TestStateFluentBuilder {
    async fn send_unprefixed(
        self,
    ) -> Result<
        aws_sdk_sfn::operation::test_state::TestStateOutput,
        aws_sdk_sfn::error::SdkError<aws_sdk_sfn::operation::test_state::TestStateError>,
    > {
        self.customize().mutate_request(unprefix).send().await
    }
}

fn json(text: Option<&str>) -> Value {
    serde_json::from_str(text.unwrap_or("null")).expect("JSON text")
}

#[tokio::test]
async fn states_run_on_their_own_with_their_stages_shown() {
    let lambda = FakeLambda::start().await;
    let endpoint = lambda.endpoint();
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", endpoint.as_str())]).await;
    let sfn = daemon.sfn();

    // A Pass state: every stage of the data flow.
    let out = sfn
        .test_state()
        .definition(
            r#"{"Type":"Pass","InputPath":"$.order","Parameters":{"id.$":"$.id"},"ResultPath":"$.picked","Next":"Ship"}"#,
        )
        .input(r#"{"order":{"id":7,"extra":1}}"#)
        .inspection_level(InspectionLevel::Debug)
        .send_unprefixed()
        .await
        .expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(out.next_state(), Some("Ship"));
    assert_eq!(
        json(out.output()),
        json!({"order": {"id": 7, "extra": 1}, "picked": {"id": 7}}),
        "ResultPath places the result in the raw input"
    );
    let data = out.inspection_data().expect("inspection data");
    assert_eq!(json(data.after_input_path()), json!({"id": 7, "extra": 1}));
    assert_eq!(json(data.after_parameters()), json!({"id": 7}));

    // A Choice names its next state.
    let out = sfn
        .test_state()
        .definition(r#"{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"Big"}],"Default":"Small"}"#)
        .input(r#"{"n":9}"#)
        .send_unprefixed()
        .await
        .expect("TestState");
    assert_eq!(out.next_state(), Some("Big"));

    // A Task calls its function for real.
    let out = sfn
        .test_state()
        .definition(r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"ResultSelector":{"echoed.$":"$.Payload"},"End":true}"#)
        .role_arn(ROLE_ARN)
        .input(r#"{"ping":1}"#)
        .inspection_level(InspectionLevel::Trace)
        .send_unprefixed()
        .await
        .expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(json(out.output()), json!({"echoed": {"ping": 1}}));
    assert_eq!(lambda.calls_to("echo").len(), 1);

    // A mocked error: caught, or left to a Retry.
    let task = |retry: &str| {
        format!(
            r#"{{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{{"FunctionName":"f"}},{retry}"Catch":[{{"ErrorEquals":["Boom"],"ResultPath":"$.err","Next":"Handle"}}],"End":true}}"#
        )
    };
    let boom = MockInput::builder()
        .error_output(
            MockErrorOutput::builder()
                .error("Boom")
                .cause("it broke")
                .build(),
        )
        .build();
    let out = sfn
        .test_state()
        .definition(task(""))
        .input(r#"{"k":1}"#)
        .mock(boom.clone())
        .send_unprefixed()
        .await
        .expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::CaughtError));
    assert_eq!(out.next_state(), Some("Handle"));
    assert_eq!(
        json(out.output()),
        json!({"k": 1, "err": {"Error": "Boom", "Cause": "it broke"}})
    );
    let out = sfn
        .test_state()
        .definition(task(
            r#""Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2}],"#,
        ))
        .mock(boom)
        .send_unprefixed()
        .await
        .expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Retriable));

    // Refusals.
    let no_role = sfn
        .test_state()
        .definition(r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo"},"End":true}"#)
        .send_unprefixed()
        .await
        .expect_err("a real call needs a role");
    assert_eq!(
        code_and_message(&no_role).1,
        "RoleArn must be specified when testing a Task state"
    );
    let missing = sfn
        .test_state()
        .definition(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#)
        .state_name("B")
        .send_unprefixed()
        .await
        .expect_err("no state B");
    assert_eq!(
        code_and_message(&missing).1,
        "State not found in definition"
    );

    // A mocked result is checked against the call's output shape, as strictly as asked.
    let start = r#"{"Type":"Task","Resource":"arn:aws:states:::states:startExecution","Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:m"},"End":true}"#;
    let mocked = |mode: Option<&str>| {
        let mut m = MockInput::builder().result("{}");
        if let Some(mode) = mode {
            m = m.field_validation_mode(mode.into());
        }
        sfn.test_state().definition(start).mock(m.build())
    };
    let strict = mocked(None).send_unprefixed().await.expect_err("strict");
    assert_eq!(
        code_and_message(&strict).1,
        "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    );
    let present = mocked(Some("PRESENT"))
        .send_unprefixed()
        .await
        .expect("PRESENT lets a member be missing");
    assert_eq!(present.status(), Some(&TestExecutionStatus::Succeeded));

    // A service this server does not call is tested with a mock of its result, as on AWS;
    // without a mock, the state fails as it would in an execution.
    let gateway = r#"{"Type":"Task","QueryLanguage":"JSONata","Resource":"arn:aws:states:::apigateway:invoke","Arguments":{"ApiEndpoint":"example.execute-api.us-east-1.amazonaws.com","Method":"POST","Path":"/approval"},"Output":{"approved":"{% $states.result.approval %}"},"End":true}"#;
    let out = sfn
        .test_state()
        .definition(gateway)
        .input(r#"{"cost":10}"#)
        .mock(MockInput::builder().result(r#"{"approval":true}"#).build())
        .send_unprefixed()
        .await
        .expect("a mocked call of a service not called here");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(json(out.output()), json!({"approved": true}));
    let out = sfn
        .test_state()
        .definition(gateway)
        .role_arn(ROLE_ARN)
        .send_unprefixed()
        .await
        .expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Failed));
    assert_eq!(out.error(), Some("States.Runtime"));
    assert!(
        out.cause()
            .unwrap_or_default()
            .contains("apigateway:invoke"),
        "{:?}",
        out.cause()
    );

    // Nothing was created.
    let machines = sfn
        .list_state_machines()
        .send()
        .await
        .expect("ListStateMachines");
    assert!(machines.state_machines().is_empty());
}

//! DescribeStateMachine and DescribeStateMachineForExecution list the variables each state
//! reads (`variableReferences`), on definitions whose answers were recorded against AWS.

use serde_json::{json, Value};

use crate::support::sfn::{create, finished, start};
use crate::support::TestDaemon;

/// DescribeStateMachine's `variableReferences`, as JSON (null when absent).
async fn references(sfn: &aws_sdk_sfn::Client, arn: &str) -> Value {
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .expect("DescribeStateMachine");
    json!(d.variable_references())
}

#[tokio::test]
async fn a_machine_shows_the_variables_each_state_reads() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let choice = json!({"StartAt": "Setup", "States": {
        "Setup": {"Type": "Pass", "Assign": {"guess": "the_guess", "answer": "the_answer"}, "Next": "CheckAnswer"},
        "CheckAnswer": {"Type": "Choice",
                        "Choices": [{"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "CorrectAnswer"}],
                        "Default": "WrongAnswer"},
        "CorrectAnswer": {"Type": "Pass", "Result": {"state": "CORRECT"}, "End": true},
        "WrongAnswer": {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Result": {"state": "WRONG"}, "Next": "CheckAnswer"}}});
    let arn = create(&sfn, "choice", &choice.to_string()).await;
    assert_eq!(
        references(&sfn, &arn).await,
        json!({"CheckAnswer": ["answer", "guess"], "WrongAnswer": ["answer"]})
    );
    let execution = start(&sfn, &arn, "run", "{}").await;
    finished(&sfn, &execution, std::time::Duration::from_secs(20)).await;
    let d = sfn
        .describe_state_machine_for_execution()
        .execution_arn(&execution)
        .send()
        .await
        .expect("DescribeStateMachineForExecution");
    assert_eq!(
        json!(d.variable_references()),
        json!({"CheckAnswer": ["answer", "guess"], "WrongAnswer": ["answer"]})
    );

    // States inside a Map's processor are listed by their own names; `$$` is not a variable.
    let map = json!({"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Assign": {"AnswerTemplate": "It's {}!", "Question": "Who?"},
                  "Result": ["a", "b"], "Next": "MapIterateState"},
        "MapIterateState": {"Type": "Map", "MaxConcurrency": 1,
            "ItemSelector": {"AnnouncePokemon.$": "States.Format($AnswerTemplate, $$.Map.Item.Value)"},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Pass", "States": {
                "Pass": {"Type": "Pass", "Parameters": {"Question.$": "$Question", "Answer.$": "$.AnnouncePokemon"}, "End": true}}},
            "End": true}}});
    let arn = create(&sfn, "map", &map.to_string()).await;
    assert_eq!(
        references(&sfn, &arn).await,
        json!({"MapIterateState": ["AnswerTemplate"], "Pass": ["Question"]})
    );

    // No state reads a variable: no variableReferences at all ($states and functions are not
    // variables).
    let none = json!({"StartAt": "CheckResult", "States": {
        "CheckResult": {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [
            {"Condition": "{% $states.input.result.done %}", "Next": "FinishTrue"},
            {"Condition": "{% $not($states.input.result.done) %}", "Next": "FinishFalse"}]},
        "FinishTrue": {"End": true, "Type": "Pass"},
        "FinishFalse": {"End": true, "Type": "Pass"}}});
    let arn = create(&sfn, "none", &none.to_string()).await;
    assert_eq!(references(&sfn, &arn).await, Value::Null);
}

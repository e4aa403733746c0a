//! Step Functions Local's mocked responses (`SFN_MOCK_CONFIG`): a file naming, for each state
//! machine, test cases that answer some of its Task states with prepared results or errors.
//! An execution started on `stateMachineArn#TestCaseName` runs that test case.
//!
//! ```json
//! {"StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}},
//!  "MockedResponses": {"ChargeOk": {"0": {"Return": {"StatusCode": 200, "Payload": {"ok": true}}},
//!                                   "1-2": {"Throw": {"Error": "Lambda.TooManyRequestsException",
//!                                                     "Cause": "Rate exceeded"}}}}}
//! ```
//!
//! A mocked state writes the same history events as a real call; its `Return` is the result as
//! the state sees it, its `Throw` the error raised to Retry and Catch. The keys number the
//! state's calls in the execution from 0 (`"1-2"`: the second and third); a call past the last
//! one numbered gets the last response. States the test case does not name are called for real.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::{InvokeOutput, Outcome};
use crate::asl::run::MockCall;
use crate::asl::StatesError;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct File {
    #[serde(default)]
    state_machines: HashMap<String, Machine>,
    #[serde(default)]
    mocked_responses: HashMap<String, HashMap<String, Answer>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Machine {
    #[serde(default)]
    test_cases: HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
enum Answer {
    Return(Value),
    Throw {
        #[serde(rename = "Error")]
        error: String,
        #[serde(rename = "Cause", default)]
        cause: Option<String>,
    },
}

/// A mock file, checked: every response a test case names exists, every key is `N` or `N-M`.
#[derive(Debug, Default)]
pub struct MockConfig {
    /// machine → test case → state → response name.
    cases: HashMap<String, HashMap<String, HashMap<String, String>>>,
    /// response name → `(first, last, answer)`, by `first`.
    responses: HashMap<String, Vec<(u32, u32, Answer)>>,
}

impl MockConfig {
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("mock file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("mock file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut responses = HashMap::new();
        for (name, numbered) in file.mocked_responses {
            let mut list = Vec::new();
            for (key, answer) in numbered {
                let (first, last) = match key.split_once('-') {
                    Some((a, b)) => (a.trim().parse(), b.trim().parse()),
                    None => (key.trim().parse(), key.trim().parse()),
                };
                let (Ok(first), Ok(last)) = (first, last) else {
                    return Err(format!(
                        "MockedResponses.{name}: '{key}' is not a call number or range (0, 1-2)"
                    ));
                };
                if first > last {
                    return Err(format!("MockedResponses.{name}: '{key}' is an empty range"));
                }
                list.push((first, last, answer));
            }
            list.sort_by_key(|(first, _, _)| *first);
            responses.insert(name, list);
        }
        let mut cases = HashMap::new();
        for (machine, m) in file.state_machines {
            for (case, states) in &m.test_cases {
                for (state, response) in states {
                    if !responses.contains_key(response) {
                        return Err(format!(
                            "StateMachines.{machine}.TestCases.{case}.{state}: no mocked response '{response}'"
                        ));
                    }
                }
            }
            cases.insert(machine, m.test_cases);
        }
        Ok(Self { cases, responses })
    }

    /// Whether `machine` has the test case `case`.
    pub fn has_test_case(&self, machine: &str, case: &str) -> bool {
        self.cases
            .get(machine)
            .is_some_and(|c| c.contains_key(case))
    }

    /// The mocked answer of a call, or `None` when its test case does not mock its state.
    pub fn answer(&self, call: &MockCall) -> Option<Outcome> {
        let response = self
            .cases
            .get(&call.machine)?
            .get(&call.test_case)?
            .get(&call.state)?;
        let list = self.responses.get(response)?;
        let answer = list
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&call.index))
            .or_else(|| list.last())
            .map(|(_, _, a)| a)?;
        Some(match answer {
            Answer::Return(v) => Ok(InvokeOutput {
                status_code: 200,
                payload: v.to_string(),
                executed_version: None,
                request_id: uuid::Uuid::new_v4().to_string(),
                headers: Vec::new(),
                mocked: true,
            }),
            Answer::Throw { error, cause } => Err(StatesError {
                error: error.clone(),
                cause: cause.clone(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "StateMachines": {"LambdaSQSIntegration": {"TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry"}}}},
      "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {"body": "hi"}}}},
        "MockedLambdaRetry": {
          "0": {"Throw": {"Error": "Lambda.ResourceNotFoundException", "Cause": "not found"}},
          "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
          "3": {"Return": {"StatusCode": 200, "Payload": {"body": "at last"}}}}}}"#;

    fn call(case: &str, state: &str, index: u32) -> MockCall {
        MockCall {
            machine: "LambdaSQSIntegration".into(),
            test_case: case.into(),
            state: state.into(),
            index,
        }
    }

    #[test]
    fn calls_are_answered_by_their_number_and_the_last_answer_repeats() {
        let mocks = MockConfig::parse(FILE).expect("a valid file");
        assert!(mocks.has_test_case("LambdaSQSIntegration", "RetryPath"));
        assert!(!mocks.has_test_case("LambdaSQSIntegration", "Nope"));
        let errors: Vec<String> = (0..3)
            .map(|i| {
                mocks
                    .answer(&call("RetryPath", "LambdaState", i))
                    .and_then(Result::err)
                    .map(|e| e.error)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            errors,
            [
                "Lambda.ResourceNotFoundException",
                "Lambda.TimeoutException",
                "Lambda.TimeoutException"
            ]
        );
        for i in [3, 7] {
            let out = mocks
                .answer(&call("RetryPath", "LambdaState", i))
                .and_then(Result::ok)
                .expect("a return");
            assert_eq!(
                out.payload,
                r#"{"StatusCode":200,"Payload":{"body":"at last"}}"#
            );
            assert!(out.mocked);
        }
        assert!(mocks.answer(&call("HappyPath", "Other", 0)).is_none());
    }

    #[test]
    fn a_file_naming_a_missing_response_or_a_bad_range_is_refused() {
        let missing = r#"{"StateMachines": {"M": {"TestCases": {"T": {"S": "Nope"}}}}, "MockedResponses": {}}"#;
        assert!(MockConfig::parse(missing)
            .expect_err("refused")
            .contains("no mocked response 'Nope'"));
        let range = r#"{"MockedResponses": {"R": {"2-1": {"Return": 1}}}}"#;
        assert!(MockConfig::parse(range).is_err());
        let word = r#"{"MockedResponses": {"R": {"first": {"Return": 1}}}}"#;
        assert!(MockConfig::parse(word).is_err());
    }
}

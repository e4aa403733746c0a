//! The catalogue of errors an execution can fail with: every `States.*` error the interpreter
//! raises, with its cause worded as AWS words it.
//!
//! Each function builds one error. The tests (`catalogue/tests.rs`) hold, for each, the text
//! it must give and where that wording comes from:
//!
//! - **recorded**: a public case recorded against AWS (`tests/conformance/cases/`) holds the
//!   same text, which the tests check in the case file itself;
//! - **reported**: AWS's wording seen in executions recorded outside this repository;
//! - **own**: AWS's wording is not known (or the behaviour is hourglass's alone, like a
//!   resource it does not serve), so the message says plainly what happened.
//!
//! [`in_state`](crate::asl::run) prefixes `States.Runtime` and `States.QueryEvaluationError`
//! causes with the state and the event it entered at, as AWS does; the causes here are the
//! part after that prefix.
//!
//! A definition's diagnostics are worded in [`definition`]; the JSON parser's syntax errors
//! (an unreadable definition or execution input) in [`jackson`](crate::asl::jackson). The API's own errors
//! (`ValidationException`, `ExecutionDoesNotExist`, ...) are worded in `api::error::ApiError`,
//! the one type the API answers errors with.
//! Faults of hourglass's own machinery (a database read that fails, a partition another node
//! holds) have no AWS counterpart and are worded where they are raised.

use serde_json::Value;

use super::errors::{names, StatesError};

pub mod definition;

fn runtime(cause: String) -> StatesError {
    StatesError::runtime(cause)
}

fn query(cause: String) -> StatesError {
    StatesError::new(names::QUERY_EVALUATION_ERROR, cause)
}

/// A JSON value as AWS prints it inside a cause: a string without its quotes.
pub fn shown(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

// ---- Wait ------------------------------------------------------------------------------

pub fn seconds_path_missing(path: &str) -> StatesError {
    runtime(format!(
        "The SecondsPath parameter does not reference an input value: {path}"
    ))
}

/// `text` is the value's JSON text.
pub fn seconds_path_negative(path: &str, text: &str) -> StatesError {
    runtime(format!(
        "The SecondsPath parameter references a negative value: {path} == {text}"
    ))
}

/// A fraction, a word, anything AWS cannot read as a long.
pub fn seconds_path_not_long(path: &str, text: &str) -> StatesError {
    runtime(format!(
        "The SecondsPath parameter cannot be parsed as a long value: {path} == {text}"
    ))
}

/// A JSONata `Seconds` that is not a non-negative integer.
pub fn seconds_not_natural(v: &Value) -> StatesError {
    query(format!(
        "The Seconds field must be a non-negative integer but was: {v}"
    ))
}

pub fn timestamp_path_missing(path: &str) -> StatesError {
    runtime(format!(
        "The TimestampPath parameter does not reference an input value: {path}"
    ))
}

pub fn timestamp_path_invalid(path: &str, v: &Value) -> StatesError {
    runtime(format!(
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {path} == {}",
        shown(v)
    ))
}

/// A JSONata `Timestamp` that is not a timestamp.
pub fn timestamp_invalid(v: &Value) -> StatesError {
    query(format!(
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
        shown(v)
    ))
}

/// A Wait whose wake-up lies beyond what AWS schedules.
pub fn wait_too_long() -> StatesError {
    runtime("Wait state delay is too long.".to_owned())
}

// ---- Paths and templates ---------------------------------------------------------------

/// A JSONPath (`InputPath`, `OutputPath`, `ItemsPath`, a Choice's `Variable`, a `*Path`
/// field) that selects nothing; `reason` is the path engine's (`No results for path:
/// $['x']`, `Missing property in path $['no']`).
pub fn invalid_path(path: &str, reason: &str) -> StatesError {
    runtime(format!("Invalid path '{path}' : {reason}"))
}

/// A template's `key.$` (or a `*Path` field of `Fail`) that selects nothing in `input`.
pub fn path_not_found(path: &str, field: &str, input: &Value) -> StatesError {
    runtime(format!(
        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"
    ))
}

/// A template's `key.$` whose value is neither a JSONPath nor an intrinsic call.
pub fn not_a_path(field: &str) -> StatesError {
    runtime(format!(
        "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
    ))
}

/// `ResultPath` cannot be applied; `input` is given when it is not an object.
pub fn result_path_unapplicable(path: &str, input: Option<&Value>) -> StatesError {
    let cause = match input {
        Some(input) => format!("Unable to apply ResultPath \"{path}\" to input \"{input}\""),
        None => format!("Unable to apply ResultPath \"{path}\""),
    };
    StatesError::new(names::RESULT_PATH_MATCH_FAILURE, cause)
}

/// TestState's context object, where an array was needed.
pub fn reference_not_array(path: &str) -> StatesError {
    runtime(format!("Reference path \"{path}\" must point to array."))
}

// ---- Choice ----------------------------------------------------------------------------

pub fn no_choice_matched() -> StatesError {
    StatesError::new(names::NO_CHOICE_MATCHED, "No Matches!")
}

/// A JSONata `Condition` reached in a JSONPath state.
pub fn condition_in_jsonpath(expr: &str) -> StatesError {
    query(format!(
        "JSONata conditions are not supported in a JSONPath state: {expr}"
    ))
}

// ---- JSONata ---------------------------------------------------------------------------

/// How a JSONata expression failed.
pub enum JsonataFailure<'a> {
    /// It gave no value.
    Undefined,
    /// It gave a function or another value JSON cannot hold.
    Unsupported,
    /// It raised this error.
    Error(&'a str),
}

pub fn jsonata_failed(expr: &str, field: &str, how: JsonataFailure<'_>) -> StatesError {
    let detail = match how {
        JsonataFailure::Undefined => "returned nothing (undefined).".to_owned(),
        JsonataFailure::Unsupported => "returned an unsupported result type.".to_owned(),
        JsonataFailure::Error(e) => format!("threw an error during evaluation: {e}"),
    };
    query(format!(
        "The JSONata expression '{expr}' specified for the field '{field}' {detail}"
    ))
}

/// A result of the wrong type; `expected` and `found` are JSONata's type names.
pub fn jsonata_unexpected_type(
    expr: &str,
    field: &str,
    expected: &str,
    found: &str,
    value: &Value,
) -> StatesError {
    query(format!(
        "The JSONata expression '{expr}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{found}' for value: {value}"
    ))
}

/// A JSONata `TimeoutSeconds` or `HeartbeatSeconds` that is not a positive integer.
pub fn jsonata_not_positive(field: &str, v: &Value) -> StatesError {
    query(format!(
        "The {field} field must be a positive integer but was: {v}"
    ))
}

/// A JSONata `ToleratedFailure*` that is not a number.
pub fn jsonata_not_number(field: &str, v: &Value) -> StatesError {
    query(format!("The {field} field must be a number but was: {v}"))
}

// ---- Task ------------------------------------------------------------------------------

/// A JSONPath `TimeoutSecondsPath` or `HeartbeatSecondsPath` whose value is not a positive
/// integer; `field` is the `*Path` field's name.
pub fn seconds_path_not_positive(field: &str, v: &Value, path: &str) -> StatesError {
    runtime(format!(
        "The {field} field refers to value {v} which is not a valid positive integer: {path}"
    ))
}

/// A `TimeoutSeconds` or `HeartbeatSeconds` written as a JSONata expression in a JSONPath
/// state; `field` is the `*Path` field's name.
pub fn seconds_expr_in_jsonpath(field: &str, expr: &str) -> StatesError {
    runtime(format!(
        "The {field} value '{expr}' is not a positive integer."
    ))
}

/// A result over AWS's 256 KiB payload limit. `what` is the Lambda function or the service
/// a Task called (`lambda` for `lambda:invoke`), or the state's name for a state's output.
pub fn data_limit_exceeded(what: &str) -> StatesError {
    StatesError::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// A callback's `SendTaskFailure`, or a Task that failed with no error of its own.
pub fn task_failed() -> StatesError {
    StatesError::new(names::TASK_FAILED, "The task failed.")
}

pub fn function_name_required() -> StatesError {
    runtime("The field 'FunctionName' is required by the lambda:invoke integration.".to_owned())
}

/// A Task resource hourglass does not serve.
pub fn resource_unsupported(resource: &str) -> StatesError {
    runtime(format!(
        "The resource '{resource}' is not supported by this server (see README: Calling AWS services)."
    ))
}

/// An activity Task whose activity was deleted.
pub fn activity_missing(activity: &str) -> StatesError {
    runtime(format!("The activity '{activity}' does not exist."))
}

// ---- Map -------------------------------------------------------------------------------

/// The items to iterate are not an array; JSONata states raise it as a query error.
pub fn map_input_not_array(v: &Value, jsonata: bool) -> StatesError {
    let cause = format!("Map state input must be an array but was: {v}");
    if jsonata {
        query(cause)
    } else {
        runtime(cause)
    }
}

pub fn tolerated_failure_exceeded() -> StatesError {
    StatesError::new(
        names::EXCEEDED_TOLERATED_FAILURE_THRESHOLD,
        "The specified tolerated failure threshold was exceeded",
    )
}

pub fn tolerated_count_negative() -> StatesError {
    runtime("ToleratedFailureCount cannot be negative.".to_owned())
}

pub fn tolerated_percentage_range() -> StatesError {
    runtime("ToleratedFailurePercentage must be between 0 and 100.".to_owned())
}

/// A `MaxConcurrencyPath` or `ToleratedFailure*Path` whose value is not an integer; `field`
/// names the field without `Path`. A string is quoted as JSON; anything else is quoted too.
pub fn count_path_not_integer(field: &str, v: &Value, path: &str) -> StatesError {
    let quoted = if v.is_string() {
        v.to_string()
    } else {
        format!("\"{v}\"")
    };
    runtime(format!(
        "The {field}Path field refers to value {quoted} which is not a valid integer: {path}"
    ))
}

/// An ItemReader's object that is neither an array nor lines of items.
pub fn not_iterable() -> StatesError {
    StatesError::new(
        names::ITEM_READER_FAILED,
        "Attempting to map over non-iterable node.",
    )
}

pub fn csv_duplicate_headers() -> StatesError {
    StatesError::new(
        names::ITEM_READER_FAILED,
        "CSV headers cannot contain duplicates.",
    )
}

/// A distributed Map's result over the payload limit, with no ResultWriter.
pub fn map_run_result_too_large(limit: usize) -> StatesError {
    StatesError::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The Map Run's result exceeds the maximum size of {limit} bytes; a ResultWriter writes it to S3 instead."
        ),
    )
}

// ---- The execution ---------------------------------------------------------------------

pub fn state_missing(name: &str) -> StatesError {
    runtime(format!("The state '{name}' does not exist."))
}

pub fn state_type_unsupported(type_name: &str) -> StatesError {
    runtime(format!(
        "The state type '{type_name}' is not supported by this server."
    ))
}

/// A loop of states that never waits, cut off so that one execution cannot hold a worker.
pub fn too_many_transitions(limit: usize) -> StatesError {
    runtime(format!(
        "The execution made more than {limit} transitions without waiting."
    ))
}

/// AWS's limit of 25,000 history events (configurable here).
pub fn history_full(limit: i64) -> StatesError {
    runtime(format!(
        "The execution reached the maximum number of history events ({limit})."
    ))
}

// ---- Services a Task calls -------------------------------------------------------------

/// A service's error answer as AWS SDK for Java v1 reports it, which the optimised
/// integrations (`arn:aws:states:::sns:publish`, `lambda:invoke`, a Lambda ARN) show:
/// `<prefix>.<exception>` with the service's name, status, code and request id.
pub fn service_error_v1(
    error: &str,
    message: &str,
    service: &str,
    status: u16,
    code: &str,
    request_id: &str,
) -> StatesError {
    StatesError::new(
        error,
        format!(
            "{message} (Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
        ),
    )
}

/// A service's error answer as AWS SDK for Java v2 reports it, which the `aws-sdk:`
/// integrations show; `service` is the error name's prefix (`DynamoDb`, `S3`).
pub fn service_error_v2(
    exception: &str,
    message: &str,
    service: &str,
    status: u16,
    request_id: &str,
) -> StatesError {
    StatesError::new(
        format!("{service}.{exception}"),
        format!("{message} (Service: {service}, Status Code: {status}, Request ID: {request_id})"),
    )
}

/// An S3 error in the AWS SDK form: SDK v2 names S3's extended request id too.
pub fn service_error_s3(
    exception: &str,
    message: &str,
    status: u16,
    request_id: &str,
    extended_request_id: &str,
) -> StatesError {
    StatesError::new(
        format!("S3.{exception}"),
        format!(
            "{message} (Service: S3, Status Code: {status}, Request ID: {request_id}, Extended Request ID: {extended_request_id})"
        ),
    )
}

/// A call that got no answer from the service (`prefix` is `SQS`, `Lambda`, ...).
pub fn sdk_client_error(prefix: &str, cause: &str) -> StatesError {
    StatesError::new(format!("{prefix}.SdkClientException"), cause)
}

// ---- Intrinsic functions ---------------------------------------------------------------

/// Errors of `States.*` intrinsic calls (`States.IntrinsicFailure`).
pub mod intrinsic {
    use super::{names, StatesError};

    fn fail(cause: String) -> StatesError {
        StatesError::new(names::INTRINSIC_FAILURE, cause)
    }

    pub fn trailing_text(expr: &str) -> StatesError {
        fail(format!("Unexpected text after the call in '{expr}'"))
    }

    pub fn nested_too_deeply() -> StatesError {
        fail("Intrinsic functions are nested too deeply".to_owned())
    }

    pub fn expected_call(at: &str) -> StatesError {
        fail(format!("Expected an intrinsic function at '{at}'"))
    }

    pub fn expected_paren(name: &str) -> StatesError {
        fail(format!("Expected '(' after {name}"))
    }

    pub fn expected_separator(name: &str) -> StatesError {
        fail(format!("Expected ',' or ')' in a call to {name}"))
    }

    pub fn invalid_argument(text: &str) -> StatesError {
        fail(format!("Invalid argument '{text}'"))
    }

    pub fn invalid_escape() -> StatesError {
        fail("Invalid escape in a string literal".to_owned())
    }

    pub fn unclosed_string() -> StatesError {
        fail("A string literal is not closed".to_owned())
    }

    pub fn unknown_function(name: &str) -> StatesError {
        fail(format!("Unknown intrinsic function {name}"))
    }

    /// `expected` is a count or a range of counts (`1`, `2 to 3`).
    pub fn arity(name: &str, expected: &str, got: usize) -> StatesError {
        fail(format!(
            "Invalid number of arguments for {name}: expected {expected}, got {got}"
        ))
    }

    /// `kind` is `a string`, `an array`, `an integer`.
    pub fn argument_type(position: usize, name: &str, kind: &str) -> StatesError {
        fail(format!("Argument {position} of {name} must be {kind}"))
    }

    pub fn not_numbers(name: &str) -> StatesError {
        fail(format!("The arguments of {name} must be numbers"))
    }

    pub fn format_template_missing() -> StatesError {
        fail("States.Format needs a format string".to_owned())
    }

    pub fn format_template_not_string() -> StatesError {
        fail("The first argument of States.Format must be a string".to_owned())
    }

    pub fn format_too_few_arguments() -> StatesError {
        fail("States.Format has more placeholders than arguments".to_owned())
    }

    pub fn format_too_many_arguments() -> StatesError {
        fail("States.Format has more arguments than placeholders".to_owned())
    }

    pub fn invalid_json(text: &str, reason: &str) -> StatesError {
        fail(format!("Invalid JSON string '{text}': {reason}"))
    }

    pub fn chunk_not_positive() -> StatesError {
        fail("The chunk size of States.ArrayPartition must be positive".to_owned())
    }

    pub fn step_zero() -> StatesError {
        fail("The step of States.ArrayRange must not be 0".to_owned())
    }

    pub fn range_too_long(limit: usize) -> StatesError {
        fail(format!(
            "States.ArrayRange may produce at most {limit} items"
        ))
    }

    pub fn index_out_of_bounds(index: i64, len: usize) -> StatesError {
        fail(format!(
            "Index {index} is out of bounds of an array of {len}"
        ))
    }

    /// `name` is `States.Base64Encode` or `States.Base64Decode`.
    pub fn base64_too_long(name: &str, limit: usize) -> StatesError {
        fail(format!("{name} takes at most {limit} characters"))
    }

    pub fn invalid_base64(text: &str, reason: &str) -> StatesError {
        fail(format!("Invalid base64 '{text}': {reason}"))
    }

    pub fn decoded_not_utf8() -> StatesError {
        fail("The decoded data is not UTF-8 text".to_owned())
    }

    pub fn unknown_hash(algorithm: &str) -> StatesError {
        fail(format!(
            "Unknown hash algorithm '{algorithm}': use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
        ))
    }

    pub fn deep_merge() -> StatesError {
        fail("States.JsonMerge supports only a shallow merge (false)".to_owned())
    }

    pub fn merge_not_objects() -> StatesError {
        fail("The arguments of States.JsonMerge must be objects".to_owned())
    }

    pub fn random_bounds() -> StatesError {
        fail("The end of States.MathRandom must be greater than its start".to_owned())
    }
}

#[cfg(test)]
mod tests;

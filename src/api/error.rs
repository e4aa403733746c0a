//! [`ApiError`]: the only place that knows AWS's error names and message wording.
//!
//! Client errors are HTTP 400 with `{"__type": "<namespace>#<Name>", "message": "..."}`;
//! internal faults are HTTP 500 with a generic message, their cause logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{engine, store};

const SFN: &str = "com.amazonaws.swf.service.v2.model";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Serialization(String),
    /// Model constraint failures, each already worded as AWS words them.
    #[error("{} validation error{} detected: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join("; "))]
    Validation(Vec<String>),
    /// A ValidationException whose whole message is given (not a model constraint).
    #[error("{0}")]
    ValidationMessage(String),
    #[error("{0}")]
    MissingRequiredParameter(String),
    #[error("Invalid Arn: '{0}'")]
    InvalidArn(String),
    #[error("Invalid Name: '{0}'")]
    InvalidName(String),
    #[error("Invalid Token: '{0}'")]
    InvalidToken(String),
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("Invalid State Machine Execution Input: '{0}'")]
    InvalidExecutionInput(String),
    #[error("Invalid Logging Configuration: {0}")]
    InvalidLoggingConfiguration(String),
    #[error("State Machine Does Not Exist: '{0}'")]
    StateMachineDoesNotExist(String),
    #[error("State Machine Already Exists: '{0}'")]
    StateMachineAlreadyExists(String),
    #[error("State Machine is being deleted: '{0}'")]
    StateMachineDeleting(String),
    #[error("Execution Does Not Exist: '{0}'")]
    ExecutionDoesNotExist(String),
    #[error("Execution Already Exists: '{0}'")]
    ExecutionAlreadyExists(String),
    #[error("Resource not found: '{0}'")]
    ResourceNotFound(String),
    /// ResourceNotFound as AWS answers an update of an alias that does not exist.
    #[error("Request references a resource that does not exist.")]
    NoSuchResource,
    #[error("Task Does Not Exist: '{0}'")]
    TaskDoesNotExist(String),
    #[error("Task Timed Out: '{0}'")]
    TaskTimedOut(String),
    #[error("Invalid Output: '{0}'")]
    InvalidOutput(String),
    #[error("Activity Does Not Exist: '{0}'")]
    ActivityDoesNotExist(String),
    #[error("{0}")]
    ActivityWorkerLimitExceeded(String),
    #[error("Too many tags: {0}")]
    TooManyTags(String),
    #[error("{0}")]
    StateMachineTypeNotSupported(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    ServiceQuotaExceeded(String),
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    #[error("Rate exceeded")]
    Throttling,
    #[error("Execution Limit Exceeded: {0}")]
    ExecutionLimitExceeded(String),
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// Another node holds the execution's partition: the request is forwarded there, or, if it
    /// cannot be, answered 503 (the AWS SDKs retry).
    #[error("No node of this cluster holds partition {0} right now; retry shortly.")]
    Elsewhere(i64),
    /// The store cannot take writes (disk full, I/O error): retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The `__type` AWS sends for this error.
    pub fn type_name(&self) -> String {
        let (ns, name) = match self {
            ApiError::UnknownOperation(_) => {
                ("com.amazon.coral.service", "UnknownOperationException")
            }
            ApiError::Serialization(_) => ("com.amazon.coral.service", "SerializationException"),
            ApiError::Validation(_) | ApiError::ValidationMessage(_) => {
                ("com.amazon.coral.validate", "ValidationException")
            }
            ApiError::Throttling => ("com.amazon.coral.availability", "ThrottlingException"),
            ApiError::Unavailable(_) | ApiError::Elsewhere(_) => (
                "com.amazon.coral.availability",
                "ServiceUnavailableException",
            ),
            ApiError::MissingAuthenticationToken => (
                "com.amazon.coral.service",
                "MissingAuthenticationTokenException",
            ),
            ApiError::IncompleteSignature(_) => {
                ("com.amazon.coral.service", "IncompleteSignatureException")
            }
            ApiError::InvalidSignature(_) => {
                ("com.amazon.coral.service", "InvalidSignatureException")
            }
            ApiError::UnrecognizedClient => {
                ("com.amazon.coral.service", "UnrecognizedClientException")
            }
            ApiError::ExecutionLimitExceeded(_) => (SFN, "ExecutionLimitExceeded"),
            ApiError::Internal(_) => ("com.amazon.coral.service", "InternalFailure"),
            ApiError::MissingRequiredParameter(_) => (SFN, "MissingRequiredParameter"),
            ApiError::InvalidArn(_) => (SFN, "InvalidArn"),
            ApiError::InvalidName(_) => (SFN, "InvalidName"),
            ApiError::InvalidToken(_) => (SFN, "InvalidToken"),
            ApiError::InvalidDefinition(_) => (SFN, "InvalidDefinition"),
            ApiError::InvalidExecutionInput(_) => (SFN, "InvalidExecutionInput"),
            ApiError::InvalidLoggingConfiguration(_) => (SFN, "InvalidLoggingConfiguration"),
            ApiError::StateMachineDoesNotExist(_) => (SFN, "StateMachineDoesNotExist"),
            ApiError::StateMachineAlreadyExists(_) => (SFN, "StateMachineAlreadyExists"),
            ApiError::StateMachineDeleting(_) => (SFN, "StateMachineDeleting"),
            ApiError::ExecutionDoesNotExist(_) => (SFN, "ExecutionDoesNotExist"),
            ApiError::ExecutionAlreadyExists(_) => (SFN, "ExecutionAlreadyExists"),
            ApiError::ResourceNotFound(_) | ApiError::NoSuchResource => (SFN, "ResourceNotFound"),
            ApiError::TaskDoesNotExist(_) => (SFN, "TaskDoesNotExist"),
            ApiError::TaskTimedOut(_) => (SFN, "TaskTimedOut"),
            ApiError::InvalidOutput(_) => (SFN, "InvalidOutput"),
            ApiError::TooManyTags(_) => (SFN, "TooManyTags"),
            ApiError::StateMachineTypeNotSupported(_) => (SFN, "StateMachineTypeNotSupported"),
            ApiError::Conflict(_) => (SFN, "ConflictException"),
            ApiError::ServiceQuotaExceeded(_) => (SFN, "ServiceQuotaExceededException"),
            ApiError::ExecutionNotRedrivable(_) => (SFN, "ExecutionNotRedrivable"),
            ApiError::ActivityDoesNotExist(_) => (SFN, "ActivityDoesNotExist"),
            ApiError::ActivityWorkerLimitExceeded(_) => (SFN, "ActivityWorkerLimitExceeded"),
        };
        format!("{ns}#{name}")
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) | ApiError::Elsewhere(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Busy => ApiError::Throttling,
            store::Error::Fenced(p) => ApiError::Unavailable(format!(
                "Partition {p} moved to another node while the request ran; nothing was written. Retry."
            )),
            store::Error::Stale(arn) => ApiError::Unavailable(format!(
                "The state machine {arn} changed while the request ran; nothing was written. Retry."
            )),
            e @ store::Error::Locked(_) => {
                tracing::error!(error = %e, "the store is locked by another program");
                ApiError::Unavailable(
                    "The service cannot reach its database now (another program holds it locked). Retry later."
                        .into(),
                )
            }
            e if e.is_storage_fault() => {
                tracing::error!(error = %e, "the store cannot write");
                ApiError::Unavailable(
                    "The service cannot store the request now (the disk is full or failing); nothing was written. Retry later."
                        .into(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<engine::Error> for ApiError {
    fn from(e: engine::Error) -> Self {
        use engine::Error as E;
        match e {
            E::StateMachineDoesNotExist(a) => ApiError::StateMachineDoesNotExist(a),
            E::StateMachineDeleting(a) => ApiError::StateMachineDeleting(a),
            E::StateMachineAlreadyExists(a) => ApiError::StateMachineAlreadyExists(a),
            E::ExecutionDoesNotExist(a) => ApiError::ExecutionDoesNotExist(a),
            E::ExecutionAlreadyExists(a) => ApiError::ExecutionAlreadyExists(a),
            E::ResourceNotFound(a) => ApiError::ResourceNotFound(a),
            E::Conflict(m) => ApiError::Conflict(m),
            E::ServiceQuotaExceeded(m) => ApiError::ServiceQuotaExceeded(m),
            E::NotRedrivable(m) => ApiError::ExecutionNotRedrivable(m),
            E::Invalid(m) => ApiError::ValidationMessage(m),
            E::NotOwner(p) => ApiError::Elsewhere(p),
            E::InvalidToken => ApiError::InvalidToken("Invalid token".into()),
            E::TaskDoesNotExist => ApiError::TaskDoesNotExist(
                "Provided task does not exist anymore".into(),
            ),
            E::TaskTimedOut => {
                ApiError::TaskTimedOut("Provided task does not exist anymore".into())
            }
            E::ActivityDoesNotExist(a) => ApiError::ActivityDoesNotExist(a),
            E::NoSuchTestCase(m) => ApiError::ValidationMessage(m),
            E::ActivityWorkerLimitExceeded(a) => ApiError::ActivityWorkerLimitExceeded(format!(
                "At most {} workers may poll activity '{a}' at once",
                crate::engine::MAX_POLLERS
            )),
            E::TooManyTags(n) => {
                ApiError::TooManyTags(format!("a resource can have at most {n} tags"))
            }
            E::ExecutionLimitExceeded(n) => ApiError::ExecutionLimitExceeded(format!(
                "{n} executions are already open, the most this server allows (limits.max_open_executions)"
            )),
            e @ (E::InvalidDefinition(_) | E::Interpreter(_)) => ApiError::internal(e),
            E::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal failure");
            "An internal error occurred.".to_owned()
        } else {
            self.to_string()
        };
        let body = json!({"__type": self.type_name(), "message": message});
        (
            status,
            [("content-type", "application/x-amz-json-1.0")],
            body.to_string(),
        )
            .into_response()
    }
}

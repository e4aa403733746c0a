//! Making calls: the [`Invoker`] trait the engine sees, its Lambda implementation, and the
//! AWS services of [`crate::model::services`].

pub mod connections;
pub mod lambda;
pub mod mocks;
pub mod output_shapes;
pub mod services;

use std::future::Future;
use std::pin::Pin;

pub use crate::asl::task::{Invocation, InvokeOutput};
use crate::asl::StatesError;

/// A call's result: the function's output, or the ASL error it maps to
/// (`Lambda.ResourceNotFoundException`, the function's own `errorType`, ...).
pub type Outcome = Result<InvokeOutput, StatesError>;

/// Something that can run an [`Invocation`].
pub trait Invoker: Send + Sync + std::fmt::Debug {
    fn invoke(&self, invocation: Invocation) -> Pin<Box<dyn Future<Output = Outcome> + Send + '_>>;

    /// The mocked answer of a call of a test case, when the mock file has one: the call is
    /// then not made (whatever it calls: a function, a service, an activity, an execution).
    fn mocked(&self, _invocation: &Invocation) -> Option<Outcome> {
        None
    }

    /// Make an HTTP Task's call and say what went over the wire (TestState's `TRACE`):
    /// `{"request": {...}, "response": {...}}` as `inspectionData` shows them. What a
    /// connection adds to the request is left out unless `reveal_secrets`.
    fn invoke_traced(
        &self,
        invocation: Invocation,
        _reveal_secrets: bool,
    ) -> Pin<Box<dyn Future<Output = (Outcome, Option<serde_json::Value>)> + Send + '_>> {
        Box::pin(async move { (self.invoke(invocation).await, None) })
    }
}

/// The daemon's invoker: Lambda calls to Lambda, service calls to their services.
#[derive(Debug)]
pub struct Invokers {
    pub lambda: std::sync::Arc<dyn Invoker>,
    pub services: std::sync::Arc<dyn Invoker>,
    /// Step Functions Local's mocked responses, when a mock file is configured.
    pub mocks: Option<std::sync::Arc<mocks::MockConfig>>,
}

impl Invoker for Invokers {
    fn invoke(&self, invocation: Invocation) -> Pin<Box<dyn Future<Output = Outcome> + Send + '_>> {
        match invocation.kind {
            crate::asl::run::CallKind::Service
            | crate::asl::run::CallKind::Http
            | crate::asl::run::CallKind::ItemReader
            | crate::asl::run::CallKind::ResultWriter => self.services.invoke(invocation),
            _ => self.lambda.invoke(invocation),
        }
    }

    fn mocked(&self, invocation: &Invocation) -> Option<Outcome> {
        self.mocks.as_ref()?.answer(invocation.mock.as_ref()?)
    }

    fn invoke_traced(
        &self,
        invocation: Invocation,
        reveal_secrets: bool,
    ) -> Pin<Box<dyn Future<Output = (Outcome, Option<serde_json::Value>)> + Send + '_>> {
        self.services.invoke_traced(invocation, reveal_secrets)
    }
}

/// Split what a state names as its function into the name for the URL and a qualifier.
///
/// Accepts `name`, `name:qualifier`, `ACCOUNT:function:name[:qualifier]`,
/// `arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier]`, and the account-less form
/// Step Functions Local setups use, `arn:aws:lambda:REGION:function:name[:qualifier]`.
/// `$LATEST` is the default version, so it is dropped.
pub fn split_function_name(raw: &str) -> (String, Option<String>) {
    let rest = match raw.split_once(":function:") {
        Some((_, rest)) => rest,
        None => raw,
    };
    let (name, qualifier) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, None),
    };
    let qualifier = qualifier
        .filter(|q| !q.is_empty() && *q != "$LATEST")
        .map(str::to_owned);
    (name.to_owned(), qualifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        let cases = [
            ("name", "f", ("f", None)),
            ("name and qualifier", "f:prod", ("f", Some("prod"))),
            ("partial arn", "123456789012:function:f", ("f", None)),
            (
                "full arn with version",
                "arn:aws:lambda:us-east-1:123456789012:function:f:7",
                ("f", Some("7")),
            ),
            (
                "step functions local form",
                "arn:aws:lambda:us-east-1:function:HelloWorldFunction:$LATEST",
                ("HelloWorldFunction", None),
            ),
        ];
        for (case, raw, (name, qualifier)) in cases {
            assert_eq!(
                split_function_name(raw),
                (name.to_owned(), qualifier.map(str::to_owned)),
                "{case}"
            );
        }
    }
}

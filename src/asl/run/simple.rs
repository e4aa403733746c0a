//! The states that do their work at once: Pass, Choice, Succeed and Fail.
//!
//! Like every handler, these read the state's data only through [`Io`] and return an
//! [`Outcome`]; none of them applies Retry or Catch (that is [`super::recovery`]'s).

use serde_json::Value;

use super::cursor::Frame;
use super::io::Io;
use super::outcome::Outcome;
use super::step::Run;
use crate::asl::catalogue;
use crate::asl::errors::StatesError;
use crate::asl::expr::choice::{self, ChoiceRule};
use crate::asl::expr::{intrinsics, path, Scope};

impl Run<'_> {
    /// Pass: its `Result` (or its input) through the data flow, then its transition.
    pub(super) fn pass(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        result: Option<&Value>,
    ) -> Result<Outcome, StatesError> {
        let exit = io.pass(result)?;
        Ok(self.leave(io.state, f, exit))
    }

    /// Succeed: its output ends the frame.
    pub(super) fn succeed(&mut self, io: &Io<'_>, f: &mut Frame) -> Result<Outcome, StatesError> {
        let output = io.output(io.state.output.as_ref())?;
        self.journal.state_exited(f, io.state, &output);
        Ok(Outcome::Succeed(output))
    }

    /// Fail: the frame fails with the state's error and cause, written or read from a path.
    pub(super) fn fail(
        &mut self,
        io: &Io<'_>,
        error: (Option<&String>, Option<&String>),
        cause: (Option<&String>, Option<&String>),
    ) -> Result<Outcome, StatesError> {
        let scope = io.scope();
        let error = match error {
            (_, Some(p)) => Some(string_from_path(p, &scope, "ErrorPath")?),
            (written, None) => io.text(written, "Error")?,
        };
        let cause = match cause {
            (_, Some(p)) => Some(string_from_path(p, &scope, "CausePath")?),
            (written, None) => io.text(written, "Cause")?,
        };
        Ok(Outcome::Fail(StatesError {
            error: error.unwrap_or_default(),
            cause,
        }))
    }

    /// Choice: the first rule that matches (else `Default`) names the next state; the rule's
    /// `Output` and `Assign` apply, else the state's.
    pub(super) fn choice(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        rules: &[ChoiceRule],
        default: Option<&String>,
    ) -> Result<Outcome, StatesError> {
        let state = io.state;
        let (next, output, assign) = match io.choose(rules)? {
            Some(r) => (
                r.next().to_owned(),
                r.output.as_ref().or(state.output.as_ref()),
                r.assign.as_ref().or(state.assign.as_ref()),
            ),
            None => (
                default.cloned().ok_or_else(choice::no_match)?,
                state.output.as_ref(),
                state.assign.as_ref(),
            ),
        };
        let output = io.output(output)?;
        let assigned = io.assign(assign, None, None)?;
        f.variables.extend(assigned);
        self.journal.state_exited(f, state, &output);
        Ok(Outcome::Next(next, output))
    }
}

/// `ErrorPath` / `CausePath`: a path or an intrinsic call, its value as text.
pub(super) fn string_from_path(
    p: &str,
    scope: &Scope<'_>,
    field: &str,
) -> Result<String, StatesError> {
    let v = if intrinsics::is_intrinsic(p) {
        intrinsics::evaluate(p, scope)?
    } else {
        path::query(p, scope).map_err(|_| catalogue::path_not_found(p, field, scope.input))?
    };
    match v {
        Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

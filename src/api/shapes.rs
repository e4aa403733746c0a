//! Decoding request members and checking them against the model's constraints, with AWS's
//! wording: `1 validation error detected: Value 'x' at 'name' failed to satisfy constraint:
//! Member must have length less than or equal to 80`.

use serde_json::{Map, Value};

use super::ApiError;
use crate::model::arn::{self, Resource};
use crate::model::name::{NameError, MAX_NAME_CHARS};
use crate::model::{ExecutionArn, Name, StateMachineArn};

/// A request body: typed access to its members. A member of the wrong JSON type is a
/// SerializationException, as AWS answers it.
#[derive(Debug)]
pub struct Req(Map<String, Value>);

impl Req {
    pub fn new(v: Value) -> Self {
        match v {
            Value::Object(m) => Self(m),
            _ => Self(Map::new()),
        }
    }

    fn wrong_type(field: &str, want: &str) -> ApiError {
        ApiError::Serialization(format!("Member '{field}' must be {want}"))
    }

    pub fn str(&self, field: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Self::wrong_type(field, "a string")),
        }
    }

    pub fn int(&self, field: &str) -> Result<Option<i64>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong_type(field, "an integer")),
            Some(_) => Err(Self::wrong_type(field, "an integer")),
        }
    }

    pub fn float(&self, field: &str) -> Result<Option<f64>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(Self::wrong_type(field, "a number")),
        }
    }

    pub fn bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Self::wrong_type(field, "a boolean")),
        }
    }

    pub fn object(&self, field: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(Self::wrong_type(field, "a structure")),
        }
    }

    pub fn array(&self, field: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(Self::wrong_type(field, "a list")),
        }
    }

    /// `[{"key": "k", "value": "v"}, ...]` as AWS's Tag list.
    pub fn tags(
        &self,
        field: &str,
        checks: &mut Checks,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let mut out = Vec::new();
        for (i, t) in self.array(field)?.into_iter().flatten().enumerate() {
            let t = Req::new(t.clone());
            let key = t.str("key")?.unwrap_or_default().to_owned();
            let value = t.str("value")?.unwrap_or_default().to_owned();
            checks.length(&format!("{field}.{}.member.key", i + 1), Some(&key), 1, 128);
            checks.length(
                &format!("{field}.{}.member.value", i + 1),
                Some(&value),
                0,
                256,
            );
            out.push((key, value));
        }
        Ok(out)
    }

    pub fn string_list(&self, field: &str) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        for v in self.array(field)?.into_iter().flatten() {
            match v {
                Value::String(s) => out.push(s.clone()),
                _ => return Err(Self::wrong_type(field, "a list of strings")),
            }
        }
        Ok(out)
    }
}

/// Model-constraint violations, collected so one answer lists them all (as AWS does).
#[derive(Debug, Default)]
pub struct Checks(Vec<String>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, field: &str, shown: Option<&str>, constraint: &str) {
        let value = match shown {
            Some(v) => format!("Value '{v}' at"),
            None => "Value null at".to_owned(),
        };
        self.0.push(format!(
            "{value} '{field}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member.
    pub fn required<T>(&mut self, field: &str, v: Option<T>) -> Option<T> {
        if v.is_none() {
            self.push(field, None, "Member must not be null");
        }
        v
    }

    /// Length bounds (in characters) of an optional string.
    pub fn length(&mut self, field: &str, v: Option<&str>, min: usize, max: usize) {
        self.length_inner(field, v, min, max, true);
    }

    /// Like [`Checks::length`] for members AWS treats as sensitive: the value is not echoed.
    pub fn length_sensitive(&mut self, field: &str, v: Option<&str>, min: usize, max: usize) {
        self.length_inner(field, v, min, max, false);
    }

    /// Size bounds in UTF-8 bytes of a sensitive member: AWS's 256 KiB payload and 1 MiB
    /// definition limits count bytes, so `é` counts twice. AWS words these as sizes and leaves
    /// the value out: `Value at 'input' failed to satisfy constraint: Member must have size
    /// less than or equal to 262144 bytes in UTF-8 encoding`.
    pub fn byte_length_sensitive(&mut self, field: &str, v: Option<&str>, min: usize, max: usize) {
        let Some(n) = v.map(str::len) else { return };
        let bound = if n > max {
            format!("less than or equal to {max}")
        } else if n < min {
            format!("greater than or equal to {min}")
        } else {
            return;
        };
        self.0.push(format!(
            "Value at '{field}' failed to satisfy constraint: Member must have size {bound} \
             bytes in UTF-8 encoding"
        ));
    }

    fn length_inner(&mut self, field: &str, v: Option<&str>, min: usize, max: usize, show: bool) {
        self.bounds(field, v, v.map(|s| s.chars().count()), min, max, show);
    }

    fn bounds(
        &mut self,
        field: &str,
        v: Option<&str>,
        n: Option<usize>,
        min: usize,
        max: usize,
        show: bool,
    ) {
        let (Some(s), Some(n)) = (v, n) else { return };
        let shown = show.then_some(s);
        if n > max {
            self.push(
                field,
                shown.or(Some("***")),
                &format!("Member must have length less than or equal to {max}"),
            );
        } else if n < min {
            self.push(
                field,
                shown.or(Some("***")),
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
    }

    pub fn range(&mut self, field: &str, v: Option<i64>, min: i64, max: i64) {
        let Some(n) = v else { return };
        let shown = n.to_string();
        if n > max {
            self.push(
                field,
                Some(&shown),
                &format!("Member must have value less than or equal to {max}"),
            );
        } else if n < min {
            self.push(
                field,
                Some(&shown),
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    /// A string member that must match the model's `pattern`; `ok` is whether it does.
    pub fn pattern(&mut self, field: &str, v: Option<&str>, pattern: &str, ok: bool) {
        let Some(s) = v else { return };
        if !ok {
            self.push(
                field,
                Some(s),
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// A list member of more or fewer items than the model allows, shown as `shown`.
    pub fn list_length(&mut self, field: &str, shown: &str, n: usize, min: usize, max: usize) {
        if n > max {
            self.push(
                field,
                Some(shown),
                &format!("Member must have length less than or equal to {max}"),
            );
        } else if n < min {
            self.push(
                field,
                Some(shown),
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
    }

    pub fn one_of(&mut self, field: &str, v: Option<&str>, allowed: &[&str]) {
        let Some(s) = v else { return };
        if !allowed.contains(&s) {
            self.push(
                field,
                Some(s),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    pub fn done(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// Milliseconds as the epoch-seconds number AWS JSON 1.0 uses for timestamps.
pub fn epoch_seconds(ms: i64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A required ARN member of 1 to 256 characters, as given.
pub fn arn_text<'a>(req: &'a Req, field: &str) -> Result<&'a str, ApiError> {
    let mut checks = Checks::new();
    let arn = checks.required(field, req.str(field)?);
    checks.length(field, arn, 1, 256);
    checks.done()?;
    Ok(arn.unwrap_or_default())
}

/// A state machine ARN from the client.
pub fn state_machine_arn(arn: &str) -> Result<StateMachineArn, ApiError> {
    // Parsed once when it names a state machine; parsed again only to say what else it names.
    StateMachineArn::parse(arn).map_err(|_| wrong_resource(arn::parse(arn)))
}

/// An execution ARN from the client.
pub fn execution_arn(arn: &str) -> Result<ExecutionArn, ApiError> {
    ExecutionArn::parse(arn).map_err(|_| wrong_resource(arn::parse(arn)))
}

/// An activity ARN from the client.
pub fn activity_arn(arn: &str) -> Result<String, ApiError> {
    match arn::parse(arn) {
        Ok(Resource::Activity { .. }) => Ok(arn.to_owned()),
        other => Err(wrong_resource(other)),
    }
}

/// InvalidArn for an ARN that does not parse, or names another kind of resource.
fn wrong_resource(parsed: Result<Resource, arn::ArnError>) -> ApiError {
    match parsed {
        Ok(r) => ApiError::InvalidArn(format!(
            "Resource type not valid in this context: {}",
            r.kind()
        )),
        Err(e) => ApiError::InvalidArn(e.0),
    }
}

/// A name for a state machine or execution. A name of the wrong length is a model constraint
/// (collected in `checks`, answered with the others); a character AWS does not allow is
/// InvalidName.
pub fn name(field: &str, v: &str, checks: &mut Checks) -> Result<Option<Name>, ApiError> {
    checks.length(field, Some(v), 1, MAX_NAME_CHARS);
    match Name::parse(v) {
        Ok(name) => Ok(Some(name)),
        Err(NameError::Length) => Ok(None),
        Err(NameError::Character) => Err(ApiError::InvalidName(v.to_owned())),
    }
}

/// `includedData` (`ALL_DATA`, the default, or `METADATA_ONLY`), checked: whether all data
/// is asked for.
pub fn included_data(req: &Req, checks: &mut Checks) -> Result<bool, ApiError> {
    let included = req.str("includedData")?;
    checks.one_of("includedData", included, &["ALL_DATA", "METADATA_ONLY"]);
    Ok(included != Some("METADATA_ONLY"))
}

/// Page size: `maxResults` 0..=1000, where 0 (or absent) means the default of 100.
pub fn page_size(req: &Req, checks: &mut Checks) -> Result<i64, ApiError> {
    let n = req.int("maxResults")?;
    checks.range("maxResults", n, 0, 1000);
    Ok(match n {
        Some(n) if n > 0 => n.min(1000),
        _ => 100,
    })
}

/// A List request's `maxResults` and `nextToken` (of `kind`), checked: the page size and the
/// cursor to go on after.
pub fn page_request<'a>(req: &'a Req, kind: &str) -> Result<(i64, Option<&'a str>), ApiError> {
    let mut checks = Checks::new();
    let limit = page_size(req, &mut checks)?;
    let token = req.str("nextToken")?;
    checks.length("nextToken", token, 1, 1024);
    checks.done()?;
    Ok((limit, decode_token(kind, token)?))
}

/// Tokens are opaque to clients; inside they are `<kind>:<cursor>`.
pub fn encode_token(kind: &str, cursor: &str) -> String {
    format!("{kind}:{cursor}")
}

pub fn decode_token<'a>(kind: &str, token: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    match token {
        None => Ok(None),
        Some(t) => t
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix(':'))
            .map(Some)
            .ok_or_else(|| ApiError::InvalidToken("Invalid Token".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_read_like_aws() {
        let mut c = Checks::new();
        let statuses = crate::model::ExecutionStatus::MODEL_ORDER.map(|s| s.as_str());
        c.one_of("statusFilter", Some("succeeded"), &statuses);
        let e = c.done().expect_err("enum");
        assert_eq!(e.to_string(), "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]");

        let mut c = Checks::new();
        c.required::<&str>("name", None);
        c.range("maxResults", Some(1001), 0, 1000);
        let e = c.done().expect_err("two");
        assert_eq!(e.to_string(), "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000");
    }
}

//! Intrinsic functions: `States.Format('Hello {}', $.name)` and the rest, evaluated against a
//! [`Scope`]. Pure: `States.UUID` and `States.MathRandom` draw from a generator seeded by the
//! execution and the expression (or by the seed argument), never from the OS.
//!
//! `parse` is the only parser of these calls: the interpreter evaluates what it gives, and
//! validation asks [`is_valid_call`].
//!
//! Arguments are string literals in single quotes (escapes `\'`, `\{`, `\}`, `\\`), numbers,
//! `true`/`false`/`null`, paths (`$...`, `$$...`, `$var...`) and nested calls. Failures are
//! `States.IntrinsicFailure` (`States.Runtime` for a path that selects nothing).

use serde_json::{Number, Value};

use super::{path, Scope};
use crate::asl::catalogue::{self, intrinsic};
use crate::asl::errors::StatesError;

mod functions;

/// Nesting allowed in one expression, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// True when `s` looks like an intrinsic call: `States.<Name>(...)`.
pub fn is_intrinsic(s: &str) -> bool {
    let s = s.trim();
    s.strip_prefix("States.").is_some_and(|rest| {
        rest.find('(')
            .is_some_and(|i| i > 0 && rest[..i].chars().all(|c| c.is_ascii_alphanumeric()))
    }) && s.ends_with(')')
}

/// Whether `s` is an intrinsic call the interpreter can run: it looks like one
/// ([`is_intrinsic`]) and it parses. Validation accepts a template's `key.$` value when it is
/// a path or this, so a validated definition never meets a call that does not parse.
pub fn is_valid_call(s: &str) -> bool {
    is_intrinsic(s) && parse(s).is_ok()
}

/// Parse and evaluate an intrinsic call against the scope.
pub fn evaluate(expr: &str, scope: &Scope<'_>) -> Result<Value, StatesError> {
    parse(expr)?.eval(scope, expr)
}

/// The one parser of intrinsic calls: the whole text must be one call.
fn parse(expr: &str) -> Result<Call, StatesError> {
    let mut p = Parser {
        src: expr.trim(),
        pos: 0,
    };
    let call = p.call(0)?;
    p.skip_ws();
    if p.pos != p.src.len() {
        return Err(intrinsic::trailing_text(expr));
    }
    Ok(call)
}

/// Call an intrinsic on values already evaluated (JSONata's `$partition`, `$hash`, ...).
pub fn call(name: &str, args: &[Value]) -> Result<Value, StatesError> {
    let call = Call {
        name: name.to_owned(),
        args: args.iter().cloned().map(Arg::Lit).collect(),
    };
    let (input, context, variables) = (Value::Null, Value::Null, serde_json::Map::new());
    let scope = Scope {
        input: &input,
        context: &context,
        variables: &variables,
    };
    call.eval(&scope, name)
}

#[derive(Debug, Clone)]
enum Arg {
    /// A string literal: the unescaped text, and the raw text for States.Format's template.
    Str {
        value: String,
        raw: String,
    },
    Lit(Value),
    Path(String),
    Call(Call),
}

#[derive(Debug, Clone)]
struct Call {
    name: String,
    args: Vec<Arg>,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn call(&mut self, depth: usize) -> Result<Call, StatesError> {
        if depth > MAX_DEPTH {
            return Err(intrinsic::nested_too_deeply());
        }
        self.skip_ws();
        let rest = self.rest();
        let Some(after) = rest.strip_prefix("States.") else {
            return Err(intrinsic::expected_call(rest));
        };
        let name_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let name = format!("States.{}", &after[..name_len]);
        self.pos += "States.".len() + name_len;
        self.skip_ws();
        if !self.rest().starts_with('(') {
            return Err(intrinsic::expected_paren(&name));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.rest().starts_with(')') {
            self.pos += 1;
            return Ok(Call { name, args });
        }
        loop {
            args.push(self.arg(depth)?);
            self.skip_ws();
            match self.rest().chars().next() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Call { name, args });
                }
                _ => return Err(intrinsic::expected_separator(&name)),
            }
        }
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, StatesError> {
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string();
        }
        if rest.starts_with("States.") {
            return Ok(Arg::Call(self.call(depth + 1)?));
        }
        if rest.starts_with('$') {
            // A path runs to the next ',' or ')' outside brackets and quotes.
            let (mut depth_b, mut quote) = (0i32, None::<char>);
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '\'' | '"') => quote = Some(c),
                    (None, '[' | '(') => depth_b += 1,
                    (None, ']') => depth_b -= 1,
                    (None, ')') if depth_b > 0 => depth_b -= 1,
                    (None, ',' | ')') if depth_b == 0 => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let p = rest[..end].trim().to_owned();
            self.pos += end;
            return Ok(Arg::Path(p));
        }
        let end = rest.find([',', ')']).unwrap_or(rest.len());
        let token = rest[..end].trim().to_owned();
        self.pos += end;
        match token.as_str() {
            "true" => Ok(Arg::Lit(Value::Bool(true))),
            "false" => Ok(Arg::Lit(Value::Bool(false))),
            "null" => Ok(Arg::Lit(Value::Null)),
            t => serde_json::from_str::<Number>(t)
                .map(|n| Arg::Lit(Value::Number(n)))
                .map_err(|_| intrinsic::invalid_argument(t)),
        }
    }

    fn string(&mut self) -> Result<Arg, StatesError> {
        let mut value = String::new();
        let mut raw = String::new();
        let mut chars = self.rest()[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '{' | '}' | '\\'))) => {
                        value.push(e);
                        raw.push('\\');
                        raw.push(e);
                    }
                    _ => return Err(intrinsic::invalid_escape()),
                },
                '\'' => {
                    self.pos += 1 + i + 1;
                    return Ok(Arg::Str { value, raw });
                }
                c => {
                    value.push(c);
                    raw.push(c);
                }
            }
        }
        Err(intrinsic::unclosed_string())
    }
}

impl Call {
    fn eval(&self, scope: &Scope<'_>, expr: &str) -> Result<Value, StatesError> {
        let args = self
            .args
            .iter()
            .map(|a| match a {
                Arg::Str { value, .. } => Ok(Value::String(value.clone())),
                Arg::Lit(v) => Ok(v.clone()),
                Arg::Path(p) => {
                    path::query(p, scope).map_err(|e| catalogue::invalid_path(p, &e.reason))
                }
                Arg::Call(c) => c.eval(scope, expr),
            })
            .collect::<Result<Vec<Value>, StatesError>>()?;
        // A literal template keeps its escapes for States.Format.
        let literal = match self.args.first() {
            Some(Arg::Str { raw, .. }) => Some(raw.as_str()),
            _ => None,
        };
        functions::apply(&self.name, &args, literal, scope, expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn eval(expr: &str, input: Value) -> Result<Value, StatesError> {
        let context = json!({"Execution": {"Id": "arn:x", "Name": "e"}, "State": {"EnteredTime": "t"}, "StateMachine": {"Id": "arn:sm", "Name": "sm-name-1"}});
        let vars = Map::new();
        evaluate(
            expr,
            &Scope {
                input: &input,
                context: &context,
                variables: &vars,
            },
        )
    }

    #[test]
    fn failures() {
        let cases = [
            ("unknown function", "States.Nope(1)"),
            ("too few arguments", "States.ArrayGetItem($.a)"),
            ("index out of bounds", "States.ArrayGetItem($.a, 5)"),
            ("zero chunk", "States.ArrayPartition($.a, 0)"),
            ("format count", "States.Format('{} {}', 1)"),
            ("bad escape", "States.Format('\\\"')"),
            ("unclosed string", "States.Format('abc)"),
            ("deep merge", "States.JsonMerge($.o, $.o, true)"),
            ("bad hash", "States.Hash('x', 'SHA-3')"),
            ("not an array", "States.ArrayLength($.o)"),
            ("garbage after", "States.Array() x"),
        ];
        for (name, expr) in cases {
            let err = eval(expr, json!({"a": [1], "o": {"k": 1}})).expect_err(name);
            assert_eq!(err.error, "States.IntrinsicFailure", "{name}: {err}");
        }
        let deep = format!("{}1{}", "States.Array(".repeat(40), ")".repeat(40));
        assert!(
            eval(&deep, json!({})).is_err(),
            "deep nesting is refused, not a stack overflow"
        );
    }

    #[test]
    fn validation_accepts_what_the_parser_parses() {
        let cases = [
            ("a call", "States.Format('a {}', $.n)", true),
            (
                "nested",
                "States.ArrayGetItem(States.StringSplit($.s, ','), 0)",
                true,
            ),
            ("escapes", "States.Format('\\{\\} \\'')", true),
            ("no arguments", "States.UUID()", true),
            ("a bare word argument", "States.Format('a', foo)", false),
            ("text after the call", "States.Array() x", false),
            ("an empty name", "States.()", false),
            ("a bad escape", "States.Format('\\\"')", false),
            ("an unclosed string", "States.Format('abc)", false),
            ("a path", "$.a", false),
        ];
        for (name, text, want) in cases {
            assert_eq!(is_valid_call(text), want, "{name}");
        }
    }
}

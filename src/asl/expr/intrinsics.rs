//! Intrinsic functions: `States.Format('Hello {}', $.name)` and the rest, evaluated against a
//! [`Scope`]. Pure: `States.UUID` and `States.MathRandom` draw from a generator seeded by the
//! execution and the expression (or by the seed argument), never from the OS.
//!
//! [`parse`] is the only parser of these calls: the interpreter evaluates what it gives, and
//! validation asks [`is_valid_call`].
//!
//! Arguments are string literals in single quotes (escapes `\'`, `\{`, `\}`, `\\`), numbers,
//! `true`/`false`/`null`, paths (`$...`, `$$...`, `$var...`) and nested calls. Failures are
//! `States.IntrinsicFailure` (`States.Runtime` for a path that selects nothing).

use base64::Engine as _;
use md5::Digest as _;
use serde_json::{Map, Number, Value};

use super::{path, Scope};
use crate::asl::errors::StatesError;
use crate::asl::rng::SplitMix64;

/// Nesting allowed in one expression, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 16;
/// AWS's limits on States.ArrayRange and States.Base64Encode/Decode.
const MAX_RANGE_ITEMS: usize = 1000;
const MAX_BASE64_INPUT: usize = 10_000;

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
        return Err(fail(format!("Unexpected text after the call in '{expr}'")));
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

fn fail(msg: impl Into<String>) -> StatesError {
    StatesError::intrinsic(msg)
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
            return Err(fail("Intrinsic functions are nested too deeply"));
        }
        self.skip_ws();
        let rest = self.rest();
        let Some(after) = rest.strip_prefix("States.") else {
            return Err(fail(format!("Expected an intrinsic function at '{rest}'")));
        };
        let name_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let name = format!("States.{}", &after[..name_len]);
        self.pos += "States.".len() + name_len;
        self.skip_ws();
        if !self.rest().starts_with('(') {
            return Err(fail(format!("Expected '(' after {name}")));
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
                _ => return Err(fail(format!("Expected ',' or ')' in a call to {name}"))),
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
                .map_err(|_| fail(format!("Invalid argument '{t}'"))),
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
                    _ => return Err(fail("Invalid escape in a string literal")),
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
        Err(fail("A string literal is not closed"))
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
                Arg::Path(p) => path::query(p, scope).map_err(|e| {
                    StatesError::runtime(format!("Invalid path '{p}' : {}", e.reason))
                }),
                Arg::Call(c) => c.eval(scope, expr),
            })
            .collect::<Result<Vec<Value>, StatesError>>()?;
        let name = self.name.as_str();
        let count = |n: std::ops::RangeInclusive<usize>| -> Result<(), StatesError> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(fail(format!(
                    "Invalid number of arguments for {name}: expected {}, got {}",
                    if n.start() == n.end() {
                        n.start().to_string()
                    } else {
                        format!("{} to {}", n.start(), n.end())
                    },
                    args.len()
                )))
            }
        };
        let string = |i: usize| -> Result<&str, StatesError> {
            args[i]
                .as_str()
                .ok_or_else(|| fail(format!("Argument {} of {name} must be a string", i + 1)))
        };
        let array = |i: usize| -> Result<&Vec<Value>, StatesError> {
            args[i]
                .as_array()
                .ok_or_else(|| fail(format!("Argument {} of {name} must be an array", i + 1)))
        };
        let integer = |i: usize| -> Result<i64, StatesError> {
            match &args[i] {
                Value::Number(n) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                    .ok_or_else(|| {
                        fail(format!("Argument {} of {name} must be an integer", i + 1))
                    }),
                _ => Err(fail(format!(
                    "Argument {} of {name} must be an integer",
                    i + 1
                ))),
            }
        };
        match name {
            "States.Format" => {
                if args.is_empty() {
                    return Err(fail("States.Format needs a format string"));
                }
                // A literal template keeps its escapes; one read from a path or variable is
                // taken as it is.
                let template = match (self.args.first(), &args[0]) {
                    (Some(Arg::Str { raw, .. }), _) => raw.clone(),
                    (_, Value::String(s)) => s.clone(),
                    _ => return Err(fail("The first argument of States.Format must be a string")),
                };
                format(&template, &args[1..])
            }
            "States.StringToJson" => {
                count(1..=1)?;
                let s = string(0)?;
                if s.trim().is_empty() {
                    return Ok(Value::Null);
                }
                serde_json::from_str(s).map_err(|e| fail(format!("Invalid JSON string '{s}': {e}")))
            }
            "States.JsonToString" => {
                count(1..=1)?;
                Ok(Value::String(args[0].to_string()))
            }
            "States.Array" => Ok(Value::Array(args)),
            "States.ArrayPartition" => {
                count(2..=2)?;
                let size = integer(1)?;
                if size <= 0 {
                    return Err(fail(
                        "The chunk size of States.ArrayPartition must be positive",
                    ));
                }
                let items = array(0)?;
                Ok(Value::Array(
                    items
                        .chunks(size as usize)
                        .map(|c| Value::Array(c.to_vec()))
                        .collect(),
                ))
            }
            "States.ArrayContains" => {
                count(2..=2)?;
                Ok(Value::Bool(array(0)?.contains(&args[1])))
            }
            "States.ArrayRange" => {
                count(3..=3)?;
                let (start, end, step) = (integer(0)?, integer(1)?, integer(2)?);
                if step == 0 {
                    return Err(fail("The step of States.ArrayRange must not be 0"));
                }
                let mut out = Vec::new();
                let mut i = start;
                while (step > 0 && i <= end) || (step < 0 && i >= end) {
                    if out.len() >= MAX_RANGE_ITEMS {
                        return Err(fail(format!(
                            "States.ArrayRange may produce at most {MAX_RANGE_ITEMS} items"
                        )));
                    }
                    out.push(Value::from(i));
                    i = i.saturating_add(step);
                }
                Ok(Value::Array(out))
            }
            "States.ArrayGetItem" => {
                count(2..=2)?;
                let items = array(0)?;
                let index = integer(1)?;
                usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        fail(format!(
                            "Index {index} is out of bounds of an array of {}",
                            items.len()
                        ))
                    })
            }
            "States.ArrayLength" => {
                count(1..=1)?;
                Ok(Value::from(array(0)?.len()))
            }
            "States.ArrayUnique" => {
                count(1..=1)?;
                let mut out: Vec<Value> = Vec::new();
                for v in array(0)? {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                Ok(Value::Array(out))
            }
            "States.Base64Encode" => {
                count(1..=1)?;
                let s = string(0)?;
                if s.len() > MAX_BASE64_INPUT {
                    return Err(fail(format!(
                        "States.Base64Encode takes at most {MAX_BASE64_INPUT} characters"
                    )));
                }
                Ok(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(s),
                ))
            }
            "States.Base64Decode" => {
                count(1..=1)?;
                let s = string(0)?;
                if s.len() > MAX_BASE64_INPUT {
                    return Err(fail(format!(
                        "States.Base64Decode takes at most {MAX_BASE64_INPUT} characters"
                    )));
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| fail(format!("Invalid base64 '{s}': {e}")))?;
                String::from_utf8(bytes)
                    .map(Value::String)
                    .map_err(|_| fail("The decoded data is not UTF-8 text"))
            }
            "States.Hash" => {
                count(2..=2)?;
                let data = match &args[0] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let hex =
                    |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
                let digest = match string(1)? {
                    "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
                    "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
                    "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
                    "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
                    "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
                    other => {
                        return Err(fail(format!(
                            "Unknown hash algorithm '{other}': use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                        )))
                    }
                };
                Ok(Value::String(digest))
            }
            "States.JsonMerge" => {
                count(3..=3)?;
                if args[2] != Value::Bool(false) {
                    return Err(fail(
                        "States.JsonMerge supports only a shallow merge (false)",
                    ));
                }
                match (&args[0], &args[1]) {
                    (Value::Object(a), Value::Object(b)) => {
                        let mut out: Map<String, Value> = a.clone();
                        out.extend(b.clone());
                        Ok(Value::Object(out))
                    }
                    _ => Err(fail("The arguments of States.JsonMerge must be objects")),
                }
            }
            "States.MathRandom" => {
                count(2..=3)?;
                let (start, end) = (round(&args[0], name)?, round(&args[1], name)?);
                if end <= start {
                    return Err(fail(
                        "The end of States.MathRandom must be greater than its start",
                    ));
                }
                let seed = match args.get(2) {
                    Some(s) => round(s, name)? as u64,
                    None => seed_from(scope, expr),
                };
                let span = (end - start) as u64;
                Ok(Value::from(
                    start + (SplitMix64::new(seed).next_u64() % span) as i64,
                ))
            }
            "States.MathAdd" => {
                count(2..=2)?;
                Ok(Value::from(
                    round(&args[0], name)?.saturating_add(round(&args[1], name)?),
                ))
            }
            "States.StringSplit" => {
                count(2..=2)?;
                let (s, delimiters) = (string(0)?, string(1)?);
                let parts: Vec<Value> = s
                    .split(|c| delimiters.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_owned()))
                    .collect();
                Ok(Value::Array(parts))
            }
            "States.UUID" => {
                count(0..=0)?;
                let seed = seed_from(scope, expr);
                // Two streams, the second seeded apart from the first.
                let a = SplitMix64::new(seed).next_u64();
                let b = SplitMix64::new(seed ^ 0x5851_F42D_4C95_7F2D).next_u64();
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&a.to_be_bytes());
                bytes[8..].copy_from_slice(&b.to_be_bytes());
                Ok(Value::String(
                    uuid::Builder::from_random_bytes(bytes)
                        .into_uuid()
                        .to_string(),
                ))
            }
            other => Err(fail(format!("Unknown intrinsic function {other}"))),
        }
    }
}

/// Numbers rounded to integers as AWS does (half up: MathAdd(1.49, 1.5) is 3).
fn round(v: &Value, name: &str) -> Result<i64, StatesError> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .map(|f| (f + 0.5).floor() as i64)
        .ok_or_else(|| fail(format!("The arguments of {name} must be numbers")))
}

/// A seed from the execution, the state's entry time and the expression.
fn seed_from(scope: &Scope<'_>, expr: &str) -> u64 {
    let key = format!(
        "{}|{}|{}",
        scope.context["Execution"]["Id"], scope.context["State"]["EnteredTime"], expr
    );
    crate::arn::stable_hash(&key)
}

/// States.Format: `{}` takes the next argument; `\{` and `\}` are literal braces.
fn format(raw: &str, args: &[Value]) -> Result<Value, StatesError> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(e) = chars.next() {
                    out.push(e);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let arg = args
                    .get(next)
                    .ok_or_else(|| fail("States.Format has more placeholders than arguments"))?;
                out.push_str(&display(arg));
                next += 1;
            }
            c => out.push(c),
        }
    }
    if next != args.len() {
        return Err(fail("States.Format has more arguments than placeholders"));
    }
    Ok(Value::String(out))
}

/// How States.Format shows a value: strings as they are, objects and arrays in Java's
/// `{k=v, ...}` / `[a, b]` form (as AWS prints them).
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(display).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", display(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn functions() {
        let cases: Vec<(&str, &str, Value, Value)> = vec![
            (
                "format",
                "States.Format('Hello {}, {}!', $.a, 2)",
                json!({"a": "you"}),
                json!("Hello you, 2!"),
            ),
            (
                "format escapes",
                "States.Format('\\{{}\\}', 'x')",
                json!({}),
                json!("{x}"),
            ),
            (
                "format object",
                "States.Format('{}', $$.StateMachine)",
                json!({}),
                json!("{Id=arn:sm, Name=sm-name-1}"),
            ),
            (
                "string to json",
                "States.StringToJson($.s)",
                json!({"s": "{\"k\":[1]}"}),
                json!({"k": [1]}),
            ),
            (
                "empty string to json",
                "States.StringToJson('')",
                json!({}),
                Value::Null,
            ),
            (
                "json to string",
                "States.JsonToString($.o)",
                json!({"o": {"b": 1, "a": [true]}}),
                json!("{\"b\":1,\"a\":[true]}"),
            ),
            (
                "array",
                "States.Array('a', 1, $.x, null)",
                json!({"x": [2]}),
                json!(["a", 1, [2], null]),
            ),
            ("empty array", "States.Array()", json!({}), json!([])),
            (
                "partition",
                "States.ArrayPartition($.a, 2)",
                json!({"a": [1, 2, 3]}),
                json!([[1, 2], [3]]),
            ),
            (
                "contains",
                "States.ArrayContains($.a, 2)",
                json!({"a": [1, 2]}),
                json!(true),
            ),
            (
                "range",
                "States.ArrayRange(0, 9, 3)",
                json!({}),
                json!([0, 3, 6, 9]),
            ),
            (
                "range down",
                "States.ArrayRange(3, 1, -1)",
                json!({}),
                json!([3, 2, 1]),
            ),
            (
                "get item",
                "States.ArrayGetItem($.a, 1)",
                json!({"a": ["x", "y"]}),
                json!("y"),
            ),
            (
                "length",
                "States.ArrayLength($.a)",
                json!({"a": [1, 2, 3]}),
                json!(3),
            ),
            (
                "unique",
                "States.ArrayUnique($.a)",
                json!({"a": [1, 1, "1", [], []]}),
                json!([1, "1", []]),
            ),
            (
                "base64",
                "States.Base64Encode('Data to encode')",
                json!({}),
                json!("RGF0YSB0byBlbmNvZGU="),
            ),
            (
                "base64 decode",
                "States.Base64Decode('RGF0YSB0byBlbmNvZGU=')",
                json!({}),
                json!("Data to encode"),
            ),
            (
                "sha-256",
                "States.Hash('input data', 'SHA-256')",
                json!({}),
                json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
            ),
            (
                "md5",
                "States.Hash('abc', 'MD5')",
                json!({}),
                json!("900150983cd24fb0d6963f7d28e17f72"),
            ),
            (
                "merge",
                "States.JsonMerge($.a, $.b, false)",
                json!({"a": {"x": 1, "y": 1}, "b": {"y": 2}}),
                json!({"x": 1, "y": 2}),
            ),
            (
                "add rounds",
                "States.MathAdd(1.49, 1.5)",
                json!({}),
                json!(3),
            ),
            (
                "add negative",
                "States.MathAdd(-5, 2)",
                json!({}),
                json!(-3),
            ),
            (
                "split",
                "States.StringSplit('a,b,,c', ',')",
                json!({}),
                json!(["a", "b", "c"]),
            ),
            (
                "nested",
                "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)",
                json!({}),
                json!("sm"),
            ),
        ];
        for (name, expr, input, want) in cases {
            assert_eq!(eval(expr, input).expect(name), want, "{name}");
        }
    }

    #[test]
    fn generated_values_have_the_right_shape() {
        let r = eval("States.MathRandom(1, 10)", json!({})).expect("random");
        assert!((1..10).contains(&r.as_i64().expect("int")), "{r}");
        let seeded = eval("States.MathRandom(0, 999, 3)", json!({})).expect("seeded");
        assert_eq!(
            seeded,
            eval("States.MathRandom(0, 999, 3)", json!({})).expect("again"),
            "a seed repeats"
        );
        let u = eval("States.UUID()", json!({})).expect("uuid");
        let parsed = uuid::Uuid::parse_str(u.as_str().expect("string")).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4);
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
}

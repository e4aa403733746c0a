//! What each `States.*` function computes, from arguments already evaluated.
//!
//! | function | arguments | result |
//! |---|---|---|
//! | `Format` | template, values | `{}` replaced in order; `\\{`, `\\}` literal braces |
//! | `StringToJson`, `JsonToString` | text / value | parsed / compact JSON text |
//! | `Array`, `ArrayPartition`, `ArrayContains`, `ArrayRange`, `ArrayGetItem`, `ArrayLength`, `ArrayUnique` | arrays, integers | arrays and their parts (a range has at most 1,000 items) |
//! | `Base64Encode`, `Base64Decode` | text (at most 10,000 characters) | text |
//! | `Hash` | value, algorithm | hex digest (MD5, SHA-1, SHA-256, SHA-384, SHA-512) |
//! | `JsonMerge` | two objects, `false` | shallow merge |
//! | `MathRandom`, `MathAdd` | numbers rounded half up | integers |
//! | `StringSplit` | text, delimiter characters | non-empty parts |
//! | `UUID` | none | a version 4 UUID |
//!
//! `MathRandom` without a seed and `UUID` draw from the one seeded generator, seeded by the
//! execution, the state's entry time and the expression. Failures are
//! `States.IntrinsicFailure`.

use base64::Engine as _;
use md5::Digest as _;
use serde_json::{Map, Value};

use super::Scope;
use crate::asl::catalogue::intrinsic as fail;
use crate::asl::errors::StatesError;
use crate::asl::rng::SplitMix64;

/// AWS's limits on States.ArrayRange and States.Base64Encode/Decode.
const MAX_RANGE_ITEMS: usize = 1000;
const MAX_BASE64_INPUT: usize = 10_000;

/// Apply the function `name` to `args`; `literal` is the raw text of the first argument when
/// it is a string literal (States.Format keeps its escapes), `expr` the whole expression
/// (part of the seed).
pub fn apply(
    name: &str,
    args: &[Value],
    literal: Option<&str>,
    scope: &Scope<'_>,
    expr: &str,
) -> Result<Value, StatesError> {
    let count = |n: std::ops::RangeInclusive<usize>| -> Result<(), StatesError> {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            let expected = if n.start() == n.end() {
                n.start().to_string()
            } else {
                format!("{} to {}", n.start(), n.end())
            };
            Err(fail::arity(name, &expected, args.len()))
        }
    };
    let string = |i: usize| -> Result<&str, StatesError> {
        args[i]
            .as_str()
            .ok_or_else(|| fail::argument_type(i + 1, name, "a string"))
    };
    let array = |i: usize| -> Result<&Vec<Value>, StatesError> {
        args[i]
            .as_array()
            .ok_or_else(|| fail::argument_type(i + 1, name, "an array"))
    };
    let integer = |i: usize| -> Result<i64, StatesError> {
        match &args[i] {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| fail::argument_type(i + 1, name, "an integer")),
            _ => Err(fail::argument_type(i + 1, name, "an integer")),
        }
    };
    match name {
        "States.Format" => {
            if args.is_empty() {
                return Err(fail::format_template_missing());
            }
            // A literal template keeps its escapes; one read from a path or variable is
            // taken as it is.
            let template = match (literal, &args[0]) {
                (Some(raw), _) => raw.to_owned(),
                (_, Value::String(s)) => s.clone(),
                _ => return Err(fail::format_template_not_string()),
            };
            format(&template, &args[1..])
        }
        "States.StringToJson" => {
            count(1..=1)?;
            let s = string(0)?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(s).map_err(|e| fail::invalid_json(s, &e.to_string()))
        }
        "States.JsonToString" => {
            count(1..=1)?;
            Ok(Value::String(args[0].to_string()))
        }
        "States.Array" => Ok(Value::Array(args.to_vec())),
        "States.ArrayPartition" => {
            count(2..=2)?;
            let size = integer(1)?;
            if size <= 0 {
                return Err(fail::chunk_not_positive());
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
                return Err(fail::step_zero());
            }
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && i <= end) || (step < 0 && i >= end) {
                if out.len() >= MAX_RANGE_ITEMS {
                    return Err(fail::range_too_long(MAX_RANGE_ITEMS));
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
                .ok_or_else(|| fail::index_out_of_bounds(index, items.len()))
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
                return Err(fail::base64_too_long(name, MAX_BASE64_INPUT));
            }
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s),
            ))
        }
        "States.Base64Decode" => {
            count(1..=1)?;
            let s = string(0)?;
            if s.len() > MAX_BASE64_INPUT {
                return Err(fail::base64_too_long(name, MAX_BASE64_INPUT));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| fail::invalid_base64(s, &e.to_string()))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail::decoded_not_utf8())
        }
        "States.Hash" => {
            count(2..=2)?;
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
            let digest = match string(1)? {
                "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
                "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
                "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
                "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
                "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
                other => return Err(fail::unknown_hash(other)),
            };
            Ok(Value::String(digest))
        }
        "States.JsonMerge" => {
            count(3..=3)?;
            if args[2] != Value::Bool(false) {
                return Err(fail::deep_merge());
            }
            match (&args[0], &args[1]) {
                (Value::Object(a), Value::Object(b)) => {
                    let mut out: Map<String, Value> = a.clone();
                    out.extend(b.clone());
                    Ok(Value::Object(out))
                }
                _ => Err(fail::merge_not_objects()),
            }
        }
        "States.MathRandom" => {
            count(2..=3)?;
            let (start, end) = (round(&args[0], name)?, round(&args[1], name)?);
            if end <= start {
                return Err(fail::random_bounds());
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
        other => Err(fail::unknown_function(other)),
    }
}

/// Numbers rounded to integers as AWS does (half up: MathAdd(1.49, 1.5) is 3).
fn round(v: &Value, name: &str) -> Result<i64, StatesError> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .map(|f| (f + 0.5).floor() as i64)
        .ok_or_else(|| fail::not_numbers(name))
}

/// A seed from the execution, the state's entry time and the expression.
fn seed_from(scope: &Scope<'_>, expr: &str) -> u64 {
    let key = format!(
        "{}|{}|{}",
        scope.context["Execution"]["Id"], scope.context["State"]["EnteredTime"], expr
    );
    crate::model::hash::stable_hash(&key)
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
                let arg = args.get(next).ok_or_else(fail::format_too_few_arguments)?;
                out.push_str(&display(arg));
                next += 1;
            }
            c => out.push(c),
        }
    }
    if next != args.len() {
        return Err(fail::format_too_many_arguments());
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
    use serde_json::{json, Map, Value};

    use super::super::evaluate;
    use crate::asl::errors::StatesError;
    use crate::asl::expr::Scope;

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
        #[rustfmt::skip]
        let cases: Vec<(&str, &str, Value, Value)> = vec![
            ("format",               "States.Format('Hello {}, {}!', $.a, 2)", json!({"a": "you"}), json!("Hello you, 2!")),
            ("format escapes",       "States.Format('\\{{}\\}', 'x')", json!({}), json!("{x}")),
            ("format object",        "States.Format('{}', $$.StateMachine)", json!({}), json!("{Id=arn:sm, Name=sm-name-1}")),
            ("string to json",       "States.StringToJson($.s)", json!({"s": "{\"k\":[1]}"}), json!({"k": [1]})),
            ("empty string to json", "States.StringToJson('')", json!({}), Value::Null),
            ("json to string",       "States.JsonToString($.o)", json!({"o": {"b": 1, "a": [true]}}), json!("{\"b\":1,\"a\":[true]}")),
            ("array",                "States.Array('a', 1, $.x, null)", json!({"x": [2]}), json!(["a", 1, [2], null])),
            ("empty array",          "States.Array()", json!({}), json!([])),
            ("partition",            "States.ArrayPartition($.a, 2)", json!({"a": [1, 2, 3]}), json!([[1, 2], [3]])),
            ("contains",             "States.ArrayContains($.a, 2)", json!({"a": [1, 2]}), json!(true)),
            ("range",                "States.ArrayRange(0, 9, 3)", json!({}), json!([0, 3, 6, 9])),
            ("range down",           "States.ArrayRange(3, 1, -1)", json!({}), json!([3, 2, 1])),
            ("get item",             "States.ArrayGetItem($.a, 1)", json!({"a": ["x", "y"]}), json!("y")),
            ("length",               "States.ArrayLength($.a)", json!({"a": [1, 2, 3]}), json!(3)),
            ("unique",               "States.ArrayUnique($.a)", json!({"a": [1, 1, "1", [], []]}), json!([1, "1", []])),
            ("base64",               "States.Base64Encode('Data to encode')", json!({}), json!("RGF0YSB0byBlbmNvZGU=")),
            ("base64 decode",        "States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!({}), json!("Data to encode")),
            ("sha-256",              "States.Hash('input data', 'SHA-256')", json!({}), json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")),
            ("md5",                  "States.Hash('abc', 'MD5')", json!({}), json!("900150983cd24fb0d6963f7d28e17f72")),
            ("merge",                "States.JsonMerge($.a, $.b, false)", json!({"a": {"x": 1, "y": 1}, "b": {"y": 2}}), json!({"x": 1, "y": 2})),
            ("add rounds",           "States.MathAdd(1.49, 1.5)", json!({}), json!(3)),
            ("add negative",         "States.MathAdd(-5, 2)", json!({}), json!(-3)),
            ("split",                "States.StringSplit('a,b,,c', ',')", json!({}), json!(["a", "b", "c"])),
            ("nested",               "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)", json!({}), json!("sm")),
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
}

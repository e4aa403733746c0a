//! Choice rules in both query languages: parsing the `Choices` array and finding the first
//! rule that matches. The state around them (Default, Output, Assign) is the interpreter's.
//!
//! JSONPath: a rule compares the value at `Variable` with a literal or with the value at
//! another path (the `...Path` operators), tests its type (`IsNull`, `IsPresent`, ...), or
//! combines rules (`And`, `Or`, `Not`). As on AWS, a comparison between values of the wrong
//! types is simply false (`StringEquals` on a number), while a `Variable` or operand path that
//! selects nothing is a `States.Runtime` error — except under `IsPresent`, which exists to ask.
//!
//! JSONata: a rule's `Condition` (`"{% $states.input.n > 1 %}"`, or a literal `true`/`false`)
//! must evaluate to a boolean; anything else is a `States.QueryEvaluationError`. A rule
//! written the JSONPath way never matches in a JSONata state, and a `Condition` in a JSONPath
//! state is a `States.QueryEvaluationError` when it is reached.

use serde_json::Value;

use super::jsonata::{self, Bindings};
use super::{path, Scope};
use crate::asl::catalogue;
use crate::asl::errors::StatesError;
use crate::asl::timestamp;

/// One top-level entry of `Choices`: a condition and where it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    next: String,
    condition: Condition,
    /// The rule's `Assign`, applied when it matches.
    pub assign: Option<Value>,
    /// The rule's JSONata `Output`, used when it matches.
    pub output: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        variable: String,
        op: Op,
        operand: Operand,
    },
    Test {
        variable: String,
        test: TypeTest,
        expect: bool,
    },
    /// A JSONata `Condition`: an expression, or `true`/`false` as text.
    Jsonata(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Path(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
    Matches,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Op {
    kind: Kind,
    cmp: Cmp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

/// Operator names and what they mean, `...Path` forms derived from these.
const OPERATORS: &[(&str, Kind, Cmp)] = &[
    ("StringEquals", Kind::String, Cmp::Equals),
    ("StringLessThan", Kind::String, Cmp::LessThan),
    ("StringGreaterThan", Kind::String, Cmp::GreaterThan),
    ("StringLessThanEquals", Kind::String, Cmp::LessThanEquals),
    (
        "StringGreaterThanEquals",
        Kind::String,
        Cmp::GreaterThanEquals,
    ),
    ("StringMatches", Kind::String, Cmp::Matches),
    ("NumericEquals", Kind::Numeric, Cmp::Equals),
    ("NumericLessThan", Kind::Numeric, Cmp::LessThan),
    ("NumericGreaterThan", Kind::Numeric, Cmp::GreaterThan),
    ("NumericLessThanEquals", Kind::Numeric, Cmp::LessThanEquals),
    (
        "NumericGreaterThanEquals",
        Kind::Numeric,
        Cmp::GreaterThanEquals,
    ),
    ("BooleanEquals", Kind::Boolean, Cmp::Equals),
    ("TimestampEquals", Kind::Timestamp, Cmp::Equals),
    ("TimestampLessThan", Kind::Timestamp, Cmp::LessThan),
    ("TimestampGreaterThan", Kind::Timestamp, Cmp::GreaterThan),
    (
        "TimestampLessThanEquals",
        Kind::Timestamp,
        Cmp::LessThanEquals,
    ),
    (
        "TimestampGreaterThanEquals",
        Kind::Timestamp,
        Cmp::GreaterThanEquals,
    ),
];

const TESTS: &[(&str, TypeTest)] = &[
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

/// Parse a definition's `Choices` array. Never panics; a shape it cannot use is an `Err`.
pub fn parse_choices(choices: &Value) -> Result<Vec<ChoiceRule>, String> {
    let list = choices.as_array().ok_or("Choices must be an array")?;
    list.iter().map(parse_rule).collect()
}

/// Parse one entry of `Choices`.
pub fn parse_rule(c: &Value) -> Result<ChoiceRule, String> {
    let next = c
        .get("Next")
        .and_then(Value::as_str)
        .ok_or("a Choice rule has no Next")?
        .to_owned();
    Ok(ChoiceRule {
        next,
        condition: parse_condition(c)?,
        assign: c.get("Assign").cloned(),
        output: c.get("Output").cloned(),
    })
}

fn parse_condition(v: &Value) -> Result<Condition, String> {
    let m = v.as_object().ok_or("a Choice rule must be an object")?;
    if let Some(c) = m.get("Condition") {
        return match c {
            Value::String(s) => Ok(Condition::Jsonata(s.clone())),
            Value::Bool(b) => Ok(Condition::Jsonata(b.to_string())),
            _ => Err("Condition must be a string".into()),
        };
    }
    let nested = |key: &str| -> Result<Vec<Condition>, String> {
        m.get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{key} must be an array"))?
            .iter()
            .map(parse_condition)
            .collect()
    };
    if m.contains_key("And") {
        return Ok(Condition::And(nested("And")?));
    }
    if m.contains_key("Or") {
        return Ok(Condition::Or(nested("Or")?));
    }
    if let Some(inner) = m.get("Not") {
        return Ok(Condition::Not(Box::new(parse_condition(inner)?)));
    }
    let variable = m
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or("a Choice rule has no Variable")?
        .to_owned();
    for (name, test) in TESTS {
        if let Some(expect) = m.get(*name) {
            let expect = expect
                .as_bool()
                .ok_or_else(|| format!("{name} must be true or false"))?;
            return Ok(Condition::Test {
                variable,
                test: *test,
                expect,
            });
        }
    }
    for (name, kind, cmp) in OPERATORS {
        let op = Op {
            kind: *kind,
            cmp: *cmp,
        };
        if let Some(lit) = m.get(*name) {
            let fits = match kind {
                Kind::String | Kind::Timestamp => lit.is_string(),
                Kind::Numeric => lit.is_number(),
                Kind::Boolean => lit.is_boolean(),
            };
            if !fits {
                return Err(format!(
                    "{name} expects {}, found {lit}",
                    match kind {
                        Kind::String | Kind::Timestamp => "a string",
                        Kind::Numeric => "a number",
                        Kind::Boolean => "true or false",
                    }
                ));
            }
            return Ok(Condition::Compare {
                variable,
                op,
                operand: Operand::Literal(lit.clone()),
            });
        }
        if let Some(p) = m.get(&format!("{name}Path")) {
            let p = p
                .as_str()
                .ok_or_else(|| format!("{name}Path must be a path"))?;
            return Ok(Condition::Compare {
                variable,
                op,
                operand: Operand::Path(p.to_owned()),
            });
        }
    }
    Err("a Choice rule has no comparison operator".into())
}

impl ChoiceRule {
    pub fn next(&self) -> &str {
        &self.next
    }

    /// JSONPath: does the rule match the scope's input?
    pub fn matches(&self, scope: &Scope<'_>) -> Result<bool, StatesError> {
        self.condition.eval(scope)
    }

    /// JSONata: does the `Condition` of rule number `index` hold? A rule without one does not.
    pub fn holds(&self, index: usize, bindings: &Bindings<'_>) -> Result<bool, StatesError> {
        let Condition::Jsonata(text) = &self.condition else {
            return Ok(false);
        };
        let expr = jsonata::expression(text).unwrap_or(text);
        let field = format!("Choices[{index}].Condition");
        match jsonata::evaluate_field(expr, &field, bindings)? {
            Value::Bool(b) => Ok(b),
            other => Err(jsonata::unexpected_type(expr, &field, "boolean", &other)),
        }
    }
}

/// JSONPath: the first rule that matches the scope's input, if any.
pub fn first_match<'r>(
    rules: &'r [ChoiceRule],
    scope: &Scope<'_>,
) -> Result<Option<&'r ChoiceRule>, StatesError> {
    for rule in rules {
        if rule.matches(scope)? {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

/// JSONata: the first rule whose `Condition` holds, if any.
pub fn first_true<'r>(
    rules: &'r [ChoiceRule],
    bindings: &Bindings<'_>,
) -> Result<Option<&'r ChoiceRule>, StatesError> {
    for (index, rule) in rules.iter().enumerate() {
        if rule.holds(index, bindings)? {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

/// No rule matched and the state has no `Default`.
pub fn no_match() -> StatesError {
    catalogue::no_choice_matched()
}

fn resolve(p: &str, scope: &Scope<'_>) -> Result<Value, StatesError> {
    path::query(p, scope).map_err(|e| catalogue::invalid_path(p, &e.reason))
}

impl Condition {
    fn eval(&self, scope: &Scope<'_>) -> Result<bool, StatesError> {
        match self {
            Condition::And(all) => {
                for c in all {
                    if !c.eval(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(any) => {
                for c in any {
                    if c.eval(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(inner) => Ok(!inner.eval(scope)?),
            Condition::Test {
                variable,
                test,
                expect,
            } => {
                let value = path::query(variable, scope);
                let holds = match (test, value) {
                    (TypeTest::Present, v) => v.is_ok(),
                    (_, Err(e)) => return Err(catalogue::invalid_path(variable, &e.reason)),
                    (TypeTest::Null, Ok(v)) => v.is_null(),
                    (TypeTest::Numeric, Ok(v)) => v.is_number(),
                    (TypeTest::String, Ok(v)) => v.is_string(),
                    (TypeTest::Boolean, Ok(v)) => v.is_boolean(),
                    (TypeTest::Timestamp, Ok(v)) => v
                        .as_str()
                        .is_some_and(|s| timestamp::parse_rfc3339_ms(s).is_some()),
                };
                Ok(holds == *expect)
            }
            Condition::Compare {
                variable,
                op,
                operand,
            } => {
                let left = resolve(variable, scope)?;
                let right = match operand {
                    Operand::Literal(v) => v.clone(),
                    Operand::Path(p) => resolve(p, scope)?,
                };
                Ok(compare(&left, *op, &right))
            }
            Condition::Jsonata(expr) => Err(catalogue::condition_in_jsonpath(expr)),
        }
    }
}

fn ordered(cmp: Cmp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match cmp {
        Cmp::Equals => ord == Equal,
        Cmp::LessThan => ord == Less,
        Cmp::GreaterThan => ord == Greater,
        Cmp::LessThanEquals => ord != Greater,
        Cmp::GreaterThanEquals => ord != Less,
        Cmp::Matches => false,
    }
}

/// Compare two values under an operator; values of the wrong type never match.
fn compare(left: &Value, op: Op, right: &Value) -> bool {
    match op.kind {
        Kind::String => match (left.as_str(), right.as_str()) {
            (Some(l), Some(r)) if op.cmp == Cmp::Matches => wildcard_match(r, l),
            (Some(l), Some(r)) => ordered(op.cmp, l.cmp(r)),
            _ => false,
        },
        Kind::Numeric => match (left, right) {
            (Value::Number(l), Value::Number(r)) => match (l.as_i64(), r.as_i64()) {
                (Some(a), Some(b)) => ordered(op.cmp, a.cmp(&b)),
                _ => match (l.as_f64(), r.as_f64()) {
                    (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordered(op.cmp, o)),
                    _ => false,
                },
            },
            _ => false,
        },
        Kind::Boolean => match (left.as_bool(), right.as_bool()) {
            (Some(l), Some(r)) => op.cmp == Cmp::Equals && l == r,
            _ => false,
        },
        Kind::Timestamp => {
            let parse = |v: &Value| v.as_str().and_then(timestamp::parse_rfc3339_ms);
            match (parse(left), parse(right)) {
                (Some(l), Some(r)) => ordered(op.cmp, l.cmp(&r)),
                _ => false,
            }
        }
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` a literal star, `\\` a backslash.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => toks.push(Tok::Char(escaped)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Iterative glob matching with one backtrack point.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn eval(rule: Value, input: Value) -> Result<bool, StatesError> {
        let mut rule = rule;
        rule["Next"] = json!("N");
        let rules = parse_choices(&json!([rule])).expect("parse");
        let context = json!({});
        let vars = Map::new();
        rules[0].matches(&Scope {
            input: &input,
            context: &context,
            variables: &vars,
        })
    }

    /// (name, rule, input, matches)
    #[test]
    fn comparisons() {
        #[rustfmt::skip]
        let cases = [
            ("string equals",           r#"{"Variable": "$.v", "StringEquals": "a"}"#, r#"{"v": "a"}"#, true),
            ("string vs number",        r#"{"Variable": "$.v", "StringEquals": "1"}"#, r#"{"v": 1}"#, false),
            ("string less",             r#"{"Variable": "$.v", "StringLessThan": "b"}"#, r#"{"v": "a"}"#, true),
            ("int equals float",        r#"{"Variable": "$.v", "NumericEquals": 1.0}"#, r#"{"v": 1}"#, true),
            ("float not equal",         r#"{"Variable": "$.v", "NumericEquals": 0.0}"#, r#"{"v": 1.1}"#, false),
            ("numeric vs null",         r#"{"Variable": "$.v", "NumericEquals": 0}"#, r#"{"v": null}"#, false),
            ("numeric vs string",       r#"{"Variable": "$.v", "NumericEquals": 0}"#, r#"{"v": ""}"#, false),
            ("numeric gte",             r#"{"Variable": "$.v", "NumericGreaterThanEquals": 2}"#, r#"{"v": 2}"#, true),
            ("boolean",                 r#"{"Variable": "$.v", "BooleanEquals": true}"#, r#"{"v": true}"#, true),
            ("boolean vs string",       r#"{"Variable": "$.v", "BooleanEquals": true}"#, r#"{"v": "true"}"#, false),
            ("timestamp",               r#"{"Variable": "$.v", "TimestampLessThan": "2020-01-01T00:00:00Z"}"#, r#"{"v": "2019-12-31T23:59:59Z"}"#, true),
            ("bad timestamp",           r#"{"Variable": "$.v", "TimestampEquals": "2020-01-01T00:00:00Z"}"#, r#"{"v": "2020-01-01"}"#, false),
            ("path operand",            r#"{"Variable": "$.a", "NumericEqualsPath": "$.b"}"#, r#"{"a": 3, "b": 3}"#, true),
            ("matches",                 r#"{"Variable": "$.v", "StringMatches": "log-*.txt"}"#, r#"{"v": "log-2024.txt"}"#, true),
            ("matches escaped star",    r#"{"Variable": "$.v", "StringMatches": "a\\*b"}"#, r#"{"v": "a*b"}"#, true),
            ("escaped star is literal", r#"{"Variable": "$.v", "StringMatches": "a\\*b"}"#, r#"{"v": "axb"}"#, false),
            ("is present",              r#"{"Variable": "$.x", "IsPresent": true}"#, r#"{}"#, false),
            ("is null",                 r#"{"Variable": "$.v", "IsNull": true}"#, r#"{"v": null}"#, true),
            ("is numeric false",        r#"{"Variable": "$.v", "IsNumeric": false}"#, r#"{"v": "1"}"#, true),
            ("is timestamp",            r#"{"Variable": "$.v", "IsTimestamp": true}"#, r#"{"v": "2016-03-14T01:59:00Z"}"#, true),
            ("and",                     r#"{"And": [{"Variable": "$.a", "IsPresent": true}, {"Variable": "$.a", "NumericLessThan": 5}]}"#, r#"{"a": 1}"#, true),
            ("or",                      r#"{"Or": [{"Variable": "$.a", "StringEquals": "x"}, {"Variable": "$.a", "StringEquals": "y"}]}"#, r#"{"a": "y"}"#, true),
            ("not",                     r#"{"Not": {"Variable": "$.a", "StringEquals": "x"}}"#, r#"{"a": "y"}"#, true),
        ];
        for (name, rule, input, want) in cases {
            let rule: Value = serde_json::from_str(rule).expect(name);
            let input: Value = serde_json::from_str(input).expect(name);
            assert_eq!(eval(rule, input).expect(name), want, "{name}");
        }
    }

    #[test]
    fn a_missing_variable_is_a_runtime_error() {
        let err = eval(
            json!({"Variable": "$.nope", "StringEquals": "a"}),
            json!({}),
        )
        .expect_err("missing");
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause.as_deref(),
            Some("Invalid path '$.nope' : No results for path: $['nope']")
        );
    }

    #[test]
    fn no_match_without_default() {
        let rules = parse_choices(&json!([{"Variable": "$.a", "StringEquals": "x", "Next": "X"}]))
            .expect("parse");
        let input = json!({"a": "y"});
        let context = json!({});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &context,
            variables: &vars,
        };
        assert_eq!(first_match(&rules, &scope).expect("no error"), None);
        let input = json!({"a": "x"});
        let scope = Scope {
            input: &input,
            ..scope
        };
        let chosen = first_match(&rules, &scope).expect("no error");
        assert_eq!(chosen.map(ChoiceRule::next), Some("X"));
    }

    #[test]
    fn jsonata_conditions() {
        let cases = [
            ("expression true", json!({"Condition": "{% $states.input.n > 1 %}"}), Ok(true)),
            ("expression false", json!({"Condition": "{% $states.input.n > 5 %}"}), Ok(false)),
            ("literal true", json!({"Condition": true}), Ok(true)),
            ("variable", json!({"Condition": "{% $v = 'x' %}"}), Ok(true)),
            ("a JSONPath rule never matches", json!({"Variable": "$.n", "IsPresent": true}), Ok(false)),
            (
                "not a boolean",
                json!({"Condition": "{% $states.input.n %}"}),
                Err("The JSONata expression '$states.input.n' specified for the field 'Choices[0].Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 2"),
            ),
            (
                "undefined",
                json!({"Condition": "{% $nope %}"}),
                Err("The JSONata expression '$nope' specified for the field 'Choices[0].Condition' returned nothing (undefined)."),
            ),
        ];
        let states = json!({"input": {"n": 2}});
        let vars = Map::from_iter([("v".to_owned(), json!("x"))]);
        let bindings = Bindings {
            states: &states,
            variables: &vars,
            now_ms: 0,
            seed: 0,
        };
        for (name, mut rule, want) in cases {
            rule["Next"] = json!("N");
            let rules = parse_choices(&json!([rule])).expect(name);
            let got = first_true(&rules, &bindings).map(|r| r.is_some());
            match want {
                Ok(matched) => assert_eq!(got, Ok(matched), "{name}"),
                Err(cause) => {
                    let err = got.expect_err(name);
                    assert_eq!(
                        err.error,
                        crate::asl::errors::names::QUERY_EVALUATION_ERROR,
                        "{name}"
                    );
                    assert_eq!(err.cause.as_deref(), Some(cause), "{name}");
                }
            }
        }
    }
}

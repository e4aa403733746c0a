//! JSONata as Step Functions uses it: `{% expr %}` strings inside a state's fields, evaluated
//! with `$states` (input, result, errorOutput, context) and the execution's variables bound.
//!
//! Parsing and evaluation are the `seuil` crate's. What is Step Functions' own lives here:
//! telling an expression from a literal, rendering templates field by field, converting
//! JSONata values back to JSON (integral numbers print without a fraction, as JavaScript
//! prints them; `undefined` is kept apart from `null`), AWS's added functions (`$partition`,
//! `$range`, `$hash`, `$random`, `$uuid`, `$parse`), and AWS's error causes.
//!
//! Evaluation is deterministic: `$now` and `$millis` read the step's time, `$random` and
//! `$uuid` a generator seeded by the caller, and the evaluation budget is counted in steps,
//! never timed, so an expression gives the same result on every machine and every replay.

use bumpalo::Bump;
use serde_json::{Map, Value};
use seuil::evaluator::engine::Evaluator;
use seuil::evaluator::functions::hof;
use seuil::evaluator::value::{ArrayFlags, FnContext, Value as JValue};

use super::intrinsics;
use crate::asl::catalogue::{self, JsonataFailure};
use crate::asl::errors::StatesError;
use crate::asl::rng::SplitMix64;
use crate::asl::timestamp;

/// The evaluator's limit on an expression's run, reported as "exceeded 1000ms limit" (a
/// `States.QueryEvaluationError`). Counted, not timed: see [`STEPS_PER_MS`].
const TIME_LIMIT_MS: u64 = 1_000;
/// Evaluation steps (one per expression node evaluated) counted as one millisecond of
/// [`TIME_LIMIT_MS`]: about what an optimised build runs, so an expression may take 20
/// million steps.
const STEPS_PER_MS: u64 = 20_000;
/// How deep an expression may recurse.
const MAX_DEPTH: usize = 500;

/// The inner expression of a `{% ... %}` string, or `None` for a literal string.
pub fn expression(s: &str) -> Option<&str> {
    s.strip_prefix("{%")
        .and_then(|r| r.strip_suffix("%}"))
        .map(str::trim)
}

/// What an expression can read.
#[derive(Debug, Clone, Copy)]
pub struct Bindings<'a> {
    /// `$states`: `{"input", "context", "result"?, "errorOutput"?}`.
    pub states: &'a Value,
    /// The variables in scope, without the `$`.
    pub variables: &'a Map<String, Value>,
    /// The step's time, for `$now` and `$millis`.
    pub now_ms: i64,
    /// Seeds `$random()` and `$uuid()`.
    pub seed: u64,
}

/// Why an evaluation failed, before it is worded as AWS words it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The expression returned `undefined`.
    Undefined,
    /// The expression returned a function or another value JSON cannot hold.
    Unsupported,
    /// Parsing or evaluation raised this error.
    Error(String),
}

impl Failure {
    /// The `States.QueryEvaluationError` AWS raises for this failure of `expr` in `field`.
    pub fn into_error(self, expr: &str, field: &str) -> StatesError {
        let how = match &self {
            Failure::Undefined => JsonataFailure::Undefined,
            Failure::Unsupported => JsonataFailure::Unsupported,
            Failure::Error(e) => JsonataFailure::Error(e),
        };
        catalogue::jsonata_failed(expr, field, how)
    }
}

struct Env {
    now_ms: i64,
    rng: std::cell::Cell<SplitMix64>,
    /// Evaluation steps so far, the evaluator's measure of elapsed time.
    steps: std::cell::Cell<u64>,
}

impl Env {
    fn next(&self) -> u64 {
        let mut rng = self.rng.get();
        let x = rng.next_u64();
        self.rng.set(rng);
        x
    }
}

impl seuil::clock::Environment for Env {
    fn now_iso(&self) -> String {
        timestamp::format_ms(self.now_ms)
    }
    fn now_millis(&self) -> u64 {
        u64::try_from(self.now_ms).unwrap_or(0)
    }
    fn random_f64(&self) -> f64 {
        let mut rng = self.rng.get();
        let x = rng.next_f64();
        self.rng.set(rng);
        x
    }
    fn random_uuid(&self) -> String {
        let hi = self.next();
        let lo = self.next();
        let bytes = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
    /// Asked before each step: one more step taken.
    fn elapsed_millis(&self, since: u64) -> u64 {
        self.steps.set(self.steps.get().saturating_add(1));
        self.timestamp().saturating_sub(since)
    }
    fn timestamp(&self) -> u64 {
        self.steps.get() / STEPS_PER_MS
    }
}

/// Whether an expression parses; the parser's message when it does not. Validation asks this
/// so that what it accepts is what [`evaluate`] can run.
pub fn check(expr: &str) -> Result<(), String> {
    seuil::parser::parse(expr)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Evaluate one expression. `Ok(None)` is JSONata's `undefined`.
pub fn evaluate(expr: &str, b: &Bindings<'_>) -> Result<Option<Value>, Failure> {
    let ast = seuil::parser::parse(expr).map_err(|e| Failure::Error(e.to_string()))?;
    let arena = Bump::new();
    let env = Env {
        now_ms: b.now_ms,
        rng: std::cell::Cell::new(SplitMix64::new(b.seed)),
        steps: std::cell::Cell::new(0),
    };
    let ev = Evaluator::new(&arena, &env, None, MAX_DEPTH, Some(TIME_LIMIT_MS));
    ev.bind_natives();
    bind_aws_functions(&ev, &arena);
    let input = JValue::from_json(&arena, b.states.get("input").unwrap_or(&Value::Null));
    ev.bind("$", input);
    ev.bind("states", JValue::from_json(&arena, b.states));
    for (k, v) in b.variables {
        let key = bumpalo::collections::String::from_str_in(k, &arena).into_bump_str();
        ev.bind(key, JValue::from_json(&arena, v));
    }
    let out = ev
        .evaluate(&ast, input)
        .map_err(|e| Failure::Error(e.to_string()))?;
    to_json(out)
}

/// The error for a result of the wrong type (`expected` is JSONata's type name).
pub fn unexpected_type(expr: &str, field: &str, expected: &str, value: &Value) -> StatesError {
    catalogue::jsonata_unexpected_type(expr, field, expected, type_name(value), value)
}

/// JSONata's name for a JSON value's type, as AWS quotes it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Evaluate an expression and require a defined, JSON-representable result.
pub fn evaluate_field(expr: &str, field: &str, b: &Bindings<'_>) -> Result<Value, StatesError> {
    match evaluate(expr, b) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Failure::Undefined.into_error(expr, field)),
        Err(f) => Err(f.into_error(expr, field)),
    }
}

/// Render a field's value: `{% %}` strings are evaluated, objects and arrays are walked,
/// everything else is a literal. `field` names the field in errors (`Output/result`).
pub fn render(template: &Value, field: &str, b: &Bindings<'_>) -> Result<Value, StatesError> {
    match template {
        Value::String(s) => match expression(s) {
            Some(expr) => evaluate_field(expr, field, b),
            None => Ok(template.clone()),
        },
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                out.insert(k.clone(), render(v, &format!("{field}/{k}"), b)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, v) in a.iter().enumerate() {
                out.push(render(v, &format!("{field}[{i}]"), b)?);
            }
            Ok(Value::Array(out))
        }
        _ => Ok(template.clone()),
    }
}

/// Convert a JSONata value to JSON; `undefined` is `None`.
fn to_json(v: &JValue<'_>) -> Result<Option<Value>, Failure> {
    Ok(Some(match v {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n)?,
        JValue::String(s) => Value::String(s.as_str().to_owned()),
        JValue::Array(items, _) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if let Some(x) = to_json(item)? {
                    out.push(x);
                }
            }
            Value::Array(out)
        }
        JValue::Object(m) => {
            let mut out = Map::new();
            for (k, item) in m.iter() {
                if let Some(x) = to_json(item)? {
                    out.insert(k.as_str().to_owned(), x);
                }
            }
            Value::Object(out)
        }
        JValue::Range(r) => Value::Array((r.start()..=r.end()).map(Value::from).collect()),
        _ => return Err(Failure::Unsupported),
    }))
}

/// A JSONata number as JavaScript would print it: integral values have no fraction.
fn number(n: f64) -> Result<Value, Failure> {
    if !n.is_finite() {
        return Err(Failure::Error(
            "D1001: Number out of range: the result is not a finite number".into(),
        ));
    }
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
}

type Native = for<'a, 'e> fn(FnContext<'a, 'e>, &[&'a JValue<'a>]) -> seuil::Result<&'a JValue<'a>>;

fn bind_aws_functions<'a>(ev: &Evaluator<'a, '_>, arena: &'a Bump) {
    let fns: [(&'static str, usize, Native); 6] = [
        ("partition", 2, fn_partition),
        ("range", 3, fn_range),
        ("hash", 2, fn_hash),
        ("parse", 1, fn_parse),
        ("map", 2, fn_map),
        ("filter", 2, fn_filter),
    ];
    for (name, arity, func) in fns {
        let f = arena.alloc(JValue::NativeFn {
            name: name.to_owned(),
            arity,
            func,
        });
        ev.bind(name, f);
    }
}

/// Run one of the `States.*` intrinsics on JSONata arguments.
fn via_intrinsic<'a>(
    ctx: &FnContext<'a, '_>,
    function: &str,
    args: &[&'a JValue<'a>],
) -> seuil::Result<&'a JValue<'a>> {
    let mut json_args = Vec::with_capacity(args.len());
    for a in args {
        let v = to_json(a)
            .ok()
            .flatten()
            .ok_or_else(|| seuil::Error::D3137Error(format!("${}: invalid argument", ctx.name)))?;
        json_args.push(v);
    }
    let out = intrinsics::call(function, &json_args)
        .map_err(|e| seuil::Error::D3137Error(e.cause.unwrap_or(e.error)))?;
    Ok(JValue::from_json(ctx.arena, &out))
}

fn fn_partition<'a>(
    ctx: FnContext<'a, '_>,
    args: &[&'a JValue<'a>],
) -> seuil::Result<&'a JValue<'a>> {
    via_intrinsic(&ctx, "States.ArrayPartition", args)
}

/// A result that is a JSONata sequence, not an array: one value is that value, as JSONata
/// gives it (and Step Functions with it: `$range(4, 4, 1)` is `4`, `$map([21], ...)` a number).
fn sequence<'a>(ctx: &FnContext<'a, '_>, v: &'a JValue<'a>) -> &'a JValue<'a> {
    match v {
        JValue::Array(..) => {
            v.clone_array_with_flags(ctx.arena, v.get_flags() | ArrayFlags::SEQUENCE)
        }
        _ => v,
    }
}

fn fn_range<'a>(ctx: FnContext<'a, '_>, args: &[&'a JValue<'a>]) -> seuil::Result<&'a JValue<'a>> {
    let out = via_intrinsic(&ctx, "States.ArrayRange", args)?;
    Ok(sequence(&ctx, out))
}

/// `$map` and `$filter` as JSONata defines them: their results are sequences.
fn fn_map<'a>(ctx: FnContext<'a, '_>, args: &[&'a JValue<'a>]) -> seuil::Result<&'a JValue<'a>> {
    let out = hof::fn_map(ctx, args)?;
    Ok(sequence(&ctx, out))
}

fn fn_filter<'a>(ctx: FnContext<'a, '_>, args: &[&'a JValue<'a>]) -> seuil::Result<&'a JValue<'a>> {
    let out = hof::fn_filter(ctx, args)?;
    Ok(sequence(&ctx, out))
}

fn fn_hash<'a>(ctx: FnContext<'a, '_>, args: &[&'a JValue<'a>]) -> seuil::Result<&'a JValue<'a>> {
    via_intrinsic(&ctx, "States.Hash", args)
}

fn fn_parse<'a>(ctx: FnContext<'a, '_>, args: &[&'a JValue<'a>]) -> seuil::Result<&'a JValue<'a>> {
    via_intrinsic(&ctx, "States.StringToJson", args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, states: Value, vars: Value) -> Result<Option<Value>, Failure> {
        let vars = vars.as_object().cloned().unwrap_or_default();
        evaluate(
            expr,
            &Bindings {
                states: &states,
                variables: &vars,
                now_ms: 1_700_000_000_000,
                seed: 7,
            },
        )
    }

    #[test]
    fn expressions_evaluate_like_step_functions() {
        let input = json!({"input": {"a": 2, "items": [1, 2, 3], "s": "x", "j": "{\"k\":[1]}"}});
        let cases: &[(&str, Value)] = &[
            ("$states.input.a", json!(2)),
            ("$states.input.a * 2", json!(4)),
            ("$states.input.a / 4", json!(0.5)),
            ("$sum($states.input.items) + $v", json!(16)),
            ("$states.input.items[1]", json!(2)),
            ("$states.input.s & '!'", json!("x!")),
            ("$states.input.a = 2 and $v > 3", json!(true)),
            ("$not($states.input.a = 2)", json!(false)),
            ("$number(\"2\")", json!(2)),
            ("null", Value::Null),
            ("[]", json!([])),
            ("{'k': $states.input.a}", json!({"k": 2})),
            ("$merge([{'a': 1}, {'b': 2}])", json!({"a": 1, "b": 2})),
            ("$contains('hello$world', /^hello\\$/)", json!(true)),
            ("$contains('hello$world', /^hello /)", json!(false)),
            ("$partition([1,2,3,4,5], 2)", json!([[1, 2], [3, 4], [5]])),
            // Sequences of one value are that value; arrays built with [] stay arrays.
            ("$range(4, 4, 1)", json!(4)),
            ("$range(0, 4, 2)", json!([0, 2, 4])),
            ("[$range(4, 4, 1)]", json!([4])),
            ("$map([21], function($p) { $p * 2 })", json!(42)),
            ("$map([1, 2], function($p) { $p })", json!([1, 2])),
            ("$filter([1, 2, 3], function($v) { $v > 2 })", json!(3)),
            ("$states.input.items[0]", json!(1)),
            ("$range(0, 10, 5)", json!([0, 5, 10])),
            ("$parse($states.input.j)", json!({"k": [1]})),
            ("$count($states.input.items)", json!(3)),
            ("$v := 1", json!(1)),
            ("$millis()", json!(1_700_000_000_000i64)),
            (
                "$hash('input data', 'SHA-1')",
                json!("aaff4a450a104cd177d28d18d74485e8cae074b7"),
            ),
            // Paths, predicates, wildcards and descendants.
            ("$states.input.items[$ > 1]", json!([2, 3])),
            ("$states.input.items[-1]", json!(3)),
            ("$count($states.**.a)", json!(1)),
            // Operators: arithmetic, comparison, boolean, concatenation, ranges, conditionals.
            ("7 % 3", json!(1)),
            ("-$states.input.a", json!(-2)),
            ("$states.input.a != 2", json!(false)),
            ("2 in $states.input.items", json!(true)),
            ("$states.input.a > 1 ? 'big' : 'small'", json!("big")),
            ("[1..3]", json!([1, 2, 3])),
            ("'a' & 1 & true", json!("a1true")),
            // Blocks, bindings, lambdas, higher-order functions, chaining.
            ("($x := 3; $y := 4; $x * $y)", json!(12)),
            ("(function($n){$n * $n})(5)", json!(25)),
            (
                "$map($states.input.items, function($v){$v * 2})",
                json!([2, 4, 6]),
            ),
            (
                "$filter($states.input.items, function($v){$v % 2 = 1})",
                json!([1, 3]),
            ),
            (
                "$reduce($states.input.items, function($a, $b){$a + $b})",
                json!(6),
            ),
            ("$states.input.items ~> $sum()", json!(6)),
            ("$sort([3, 1, 2])", json!([1, 2, 3])),
            ("[{'n': 2}, {'n': 1}]^(n).n", json!([1, 2])),
            // Objects and arrays.
            ("$keys({'a': 1, 'b': 2})", json!(["a", "b"])),
            ("$lookup({'a': 1}, 'a')", json!(1)),
            ("$append([1], [2, 3])", json!([1, 2, 3])),
            ("$distinct([1, 1, 2])", json!([1, 2])),
            (
                "$states.input.items.{'v': $}",
                json!([{"v": 1}, {"v": 2}, {"v": 3}]),
            ),
            ("$spread({'a': 1, 'b': 2})", json!([{"a": 1}, {"b": 2}])),
            // Strings.
            ("$string(12)", json!("12")),
            ("$length('hello')", json!(5)),
            ("$substring('hello', 1, 3)", json!("ell")),
            ("$uppercase('abc')", json!("ABC")),
            ("$join(['a', 'b'], '-')", json!("a-b")),
            ("$split('a,b', ',')", json!(["a", "b"])),
            ("$replace('abc', 'b', 'x')", json!("axc")),
            ("$trim('  a  ')", json!("a")),
            ("$match('ab12', /[0-9]+/).match", json!("12")),
            // Numbers, booleans and types.
            ("$round(2.567, 2)", json!(2.57)),
            ("$floor(2.5)", json!(2)),
            ("$max([1, 5, 3])", json!(5)),
            ("$average([1, 2, 3])", json!(2)),
            ("$boolean(0)", json!(false)),
            ("$type('a')", json!("string")),
            ("$exists($states.input.nope)", json!(false)),
            // Time, from the step's clock.
            ("$toMillis('1970-01-01T00:00:01.000Z')", json!(1000)),
            ("$fromMillis($millis())", json!("2023-11-14T22:13:20.000Z")),
        ];
        for (expr, want) in cases {
            let got = eval(expr, input.clone(), json!({"v": 10}));
            assert_eq!(got, Ok(Some(want.clone())), "{expr}");
        }
    }

    #[test]
    fn only_a_string_that_starts_and_ends_with_the_markers_is_an_expression() {
        assert_eq!(expression("{% $x %}"), Some("$x"));
        assert_eq!(expression("{%$x%}"), Some("$x"));
        assert_eq!(expression(" {% $x %} "), None);
        assert_eq!(expression("$states.input"), None);
    }

    #[test]
    fn undefined_and_functions_are_told_apart_from_null() {
        assert_eq!(eval("$nothing", json!({}), json!({})), Ok(None));
        assert_eq!(
            eval("$states.input.missing", json!({"input": {}}), json!({})),
            Ok(None)
        );
        assert_eq!(
            eval("$fn := function($x){$x}", json!({}), json!({})),
            Err(Failure::Unsupported)
        );
        assert!(matches!(
            eval("1 +", json!({}), json!({})),
            Err(Failure::Error(_))
        ));
        assert!(matches!(
            eval("'a' + 1", json!({}), json!({})),
            Err(Failure::Error(_))
        ));
    }

    #[test]
    fn random_and_uuid_are_deterministic_per_seed() {
        let a = eval("[$random(), $uuid()]", json!({}), json!({}));
        let b = eval("[$random(), $uuid()]", json!({}), json!({}));
        assert_eq!(a, b);
        let Ok(Some(Value::Array(v))) = a else {
            panic!("not an array: {a:?}")
        };
        assert!(v[0].as_f64().is_some_and(|r| (0.0..1.0).contains(&r)));
        assert!(v[1].as_str().is_some_and(|u| u.len() == 36));
    }

    #[test]
    fn templates_render_field_by_field_and_name_the_failing_field() {
        let states = json!({"input": {"a": 1}});
        let vars = Map::new();
        let b = Bindings {
            states: &states,
            variables: &vars,
            now_ms: 0,
            seed: 0,
        };
        let t =
            json!({"lit": "plain {x}", "n": 3, "e": "{% $states.input.a %}", "l": ["{% 1+1 %}"]});
        assert_eq!(
            render(&t, "Output", &b),
            Ok(json!({"lit": "plain {x}", "n": 3, "e": 1, "l": [2]}))
        );
        let err = render(&json!({"result": "{% $doesNotExist %}"}), "Output", &b).unwrap_err();
        assert_eq!(err.error, crate::asl::errors::names::QUERY_EVALUATION_ERROR);
        assert_eq!(
            err.cause.as_deref(),
            Some("The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).")
        );
    }

    #[test]
    fn time_and_the_evaluation_budget_come_from_the_caller() {
        use seuil::clock::Environment as _;
        let env = Env {
            now_ms: 1_700_000_000_000,
            rng: std::cell::Cell::new(SplitMix64::new(0)),
            steps: std::cell::Cell::new(0),
        };
        assert_eq!(env.now_iso(), "2023-11-14T22:13:20.000Z");
        assert_eq!(env.now_millis(), 1_700_000_000_000);
        let start = env.timestamp();
        let limit_steps = TIME_LIMIT_MS * STEPS_PER_MS;
        let mut elapsed = 0;
        for _ in 0..limit_steps - 1 {
            elapsed = env.elapsed_millis(start);
        }
        assert!(elapsed < TIME_LIMIT_MS, "within the budget: {elapsed}");
        assert_eq!(env.elapsed_millis(start), TIME_LIMIT_MS, "the last step");
    }
}

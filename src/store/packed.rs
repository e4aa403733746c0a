//! How history event details and cursors are kept on disk: the JSON text with its most common
//! runs (an event's wrapper key, `"inputDetails":{"truncated":false}`, a Lambda result's
//! `SdkHttpMetadata`; a cursor's field names) each replaced by one control byte. Details and
//! cursors have a table of runs each.
//!
//! JSON text never holds a raw control character (they are escaped in strings and not allowed
//! outside them), so the bytes 0x01–0x1F, less tab, line feed and carriage return, are free to
//! stand for the runs. A packed text starts with [`MARK`]; a text without it is read as it
//! is, so rows written before packing existed still read, and a text that holds a control
//! byte after all (it cannot be JSON) is kept unpacked. Packing is exact: [`unpack`] gives
//! back the very text [`pack`] was given, so GetExecutionHistory answers as before.

use std::borrow::Cow;
use std::sync::LazyLock;

/// First byte of a packed text.
const MARK: u8 = 0x1F;

/// A table of runs and the byte standing for each: 0x01–0x1E less tab, line feed and
/// carriage return. Longer runs that start like shorter ones come first. A byte's run never
/// changes once written (rows keep it).
type Runs = [(u8, &'static str); 27];

/// The runs of history event details.
const RUNS: Runs = [
    (0x01, r#"{"stateEnteredEventDetails":{"name":""#),
    (0x02, r#"{"stateExitedEventDetails":{"name":""#),
    (0x03, r#"{"executionStartedEventDetails":{"input":""#),
    (0x04, r#"{"executionSucceededEventDetails":{"output":""#),
    (0x05, r#"{"taskScheduledEventDetails":{"resourceType":""#),
    (0x06, r#"{"taskStartedEventDetails":{"resourceType":""#),
    (0x07, r#"{"taskSubmittedEventDetails":{"resourceType":""#),
    (0x08, r#"{"taskSucceededEventDetails":{"resourceType":""#),
    (0x0B, r#"{"taskFailedEventDetails":{"resourceType":""#),
    (
        0x0C,
        r#"{"lambdaFunctionScheduledEventDetails":{"resource":""#,
    ),
    (
        0x0E,
        r#"{"lambdaFunctionSucceededEventDetails":{"output":""#,
    ),
    (0x0F, r#"{"mapIterationStartedEventDetails":{"name":""#),
    (0x10, r#"{"mapIterationSucceededEventDetails":{"name":""#),
    (0x11, r#"","inputDetails":{"truncated":false}"#),
    (0x12, r#"","outputDetails":{"truncated":false}"#),
    (0x13, r#"","input":""#),
    (0x14, r#"","output":""#),
    (0x15, r#"","resource":""#),
    (0x16, r#"","region":""#),
    (0x17, r#"","parameters":""#),
    (0x18, r#","roleArn":"arn:aws:iam::"#),
    (0x19, r#"\"SdkHttpMetadata\":{\"AllHttpHeaders\":{"#),
    (
        0x1A,
        r#"\"HttpStatusCode\":200},\"SdkResponseMetadata\":{\"RequestId\":\""#,
    ),
    (0x1B, r#"\"Content-Type\":[\"application/json\"]"#),
    (0x1C, r#"\"Content-Type\":\"application/json\""#),
    (0x1D, r#"\"X-Amz-Executed-Version\":"#),
    (0x1E, r#"\"ExecutedVersion\":\"$LATEST\""#),
];

/// The runs of cursors (`asl::run::cursor`, its field names in the order it writes them): a
/// Wait's, a Task's call, a Retry's back-off, a Map's or Parallel's branches. The first is a
/// running execution's start (the status in the vocabulary's spelling, which is AWS's).
static CURSOR_RUNS: LazyLock<Runs> = LazyLock::new(|| {
    let running: &'static str = format!(
        r#"{{"status":"{}","current":""#,
        crate::model::ExecutionStatus::Running.as_str()
    )
    .leak();
    cursor_runs(running)
});

const fn cursor_runs(running: &'static str) -> Runs {
    [
        (0x01, running),
        (0x02, r#"","input":"#),
        (0x03, r#","entered_ms":"#),
        (0x04, r#","waiting":{"seq":"#),
        (0x05, r#","due_ms":"#),
        (0x06, r#","chain_id":"#),
        (0x07, r#","entered_event_id":"#),
        (0x08, r#","last_event_id":"#),
        (0x0B, r#","task":{"invocation":{"seq":"#),
        (0x0C, r#","function_name":""#),
        (0x0E, r#"","qualifier":null,"payload":""#),
        (
            0x0F,
            r#"","invocation_type":"RequestResponse","client_context":null}"#,
        ),
        (0x10, r#","parameters":{"#),
        (0x11, r#","in_flight":null"#),
        (0x12, r#","in_flight":"#),
        (
            0x13,
            r#","timeout":null,"timeout_secs":null,"heartbeat_secs":null}"#,
        ),
        (0x14, r#","retry":{"attempts":["#),
        (0x15, r#"],"count":"#),
        (0x16, r#","backoff":{"seq":"#),
        (0x17, r#","timeout_due_ms":"#),
        (0x18, r#","token_key":""#),
        (0x19, r#","fanout":{"inputs":["#),
        (0x1A, r#","running":[{"index":"#),
        (0x1B, r#","frame":{"current":""#),
        (0x1C, r#","results":["#),
        (0x1D, r#","variables":{"#),
        (0x1E, r#","max_concurrency":"#),
    ]
}

/// The run a byte stands for in `runs`, if it stands for one.
fn run_of(runs: &Runs, c: char) -> Option<&'static str> {
    if c >= '\u{20}' {
        return None;
    }
    runs.iter()
        .find(|(code, _)| char::from(*code) == c)
        .map(|(_, run)| *run)
}

/// The packed form of an event's details (JSON text).
pub fn pack(details: &str) -> Cow<'_, str> {
    pack_with(&RUNS, details)
}

/// The details text [`pack`] was given (a text not packed is returned as it is).
pub fn unpack(stored: &str) -> Cow<'_, str> {
    unpack_with(&RUNS, stored)
}

/// The packed form of a cursor (JSON text).
pub fn pack_cursor(cursor: &str) -> Cow<'_, str> {
    pack_with(&CURSOR_RUNS, cursor)
}

/// The cursor text [`pack_cursor`] was given (a text not packed is returned as it is).
pub fn unpack_cursor(stored: &str) -> Cow<'_, str> {
    unpack_with(&CURSOR_RUNS, stored)
}

/// Execution rows read from the database, their cursors unpacked.
pub fn unpack_executions(mut rows: Vec<super::ExecutionRow>) -> Vec<super::ExecutionRow> {
    for r in &mut rows {
        if let Some(c) = r.cursor.as_mut() {
            if let Cow::Owned(text) = unpack_cursor(c) {
                *c = text;
            }
        }
    }
    rows
}

/// An execution row read from the database, its cursor unpacked.
pub fn unpack_execution(row: Option<super::ExecutionRow>) -> Option<super::ExecutionRow> {
    let mut rows = unpack_executions(Vec::from_iter(row));
    rows.pop()
}

fn pack_with<'a>(runs: &Runs, details: &'a str) -> Cow<'a, str> {
    let bytes = details.as_bytes();
    if bytes.iter().any(|b| *b < 0x20) {
        return Cow::Borrowed(details);
    }
    let mut out = String::with_capacity(details.len() / 2 + 1);
    out.push(char::from(MARK));
    let mut rest = details;
    let mut replaced = false;
    'scan: while let Some(c) = rest.chars().next() {
        if matches!(c, '{' | '"' | ',' | '\\') {
            for (code, run) in runs {
                if let Some(after) = rest.strip_prefix(run) {
                    out.push(char::from(*code));
                    rest = after;
                    replaced = true;
                    continue 'scan;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if replaced {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(details)
    }
}

fn unpack_with<'a>(runs: &Runs, stored: &'a str) -> Cow<'a, str> {
    let Some(packed) = stored.strip_prefix(char::from(MARK)) else {
        return Cow::Borrowed(stored);
    };
    let mut out = String::with_capacity(packed.len() * 2);
    for c in packed.chars() {
        match run_of(runs, c) {
            Some(run) => out.push_str(run),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Rows read from the database, their details unpacked.
pub fn unpack_rows(mut rows: Vec<super::EventRow>) -> Vec<super::EventRow> {
    for r in &mut rows {
        if let Some(d) = r.details.as_mut() {
            if let Cow::Owned(text) = unpack(d) {
                *d = text;
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_come_back_as_they_were_packed_and_shorter() {
        let texts = [
            r#"{"executionStartedEventDetails":{"input":"{\"n\":1}","inputDetails":{"truncated":false},"roleArn":"arn:aws:iam::123456789012:role/bench"}}"#,
            r#"{"stateEnteredEventDetails":{"name":"Wait","input":"{\"n\":1}","inputDetails":{"truncated":false}}}"#,
            r#"{"stateExitedEventDetails":{"name":"Pass","output":"{\"n\":1}","outputDetails":{"truncated":false}}}"#,
            r#"{"taskScheduledEventDetails":{"resourceType":"lambda","resource":"invoke","region":"us-east-1","parameters":"{\"Payload\":{\"n\":1},\"FunctionName\":\"noop\"}"}}"#,
            r#"{"taskSucceededEventDetails":{"resourceType":"lambda","resource":"invoke","output":"{\"ExecutedVersion\":\"$LATEST\",\"Payload\":{\"n\":1},\"SdkHttpMetadata\":{\"AllHttpHeaders\":{\"Content-Type\":[\"application/json\"],\"X-Amz-Executed-Version\":[\"$LATEST\"]},\"HttpHeaders\":{\"Content-Type\":\"application/json\"},\"HttpStatusCode\":200},\"SdkResponseMetadata\":{\"RequestId\":\"r\"},\"StatusCode\":200}","outputDetails":{"truncated":false}}}"#,
            r#"{"executionFailedEventDetails":{"error":"E","cause":"naïve – ünïcode ✓"}}"#,
            r#"{"mapStateStartedEventDetails":{"length":3}}"#,
            "{}",
            "",
        ];
        for (i, text) in texts.iter().enumerate() {
            let packed = pack(text);
            assert_eq!(unpack(&packed), *text);
            if i < 5 {
                // The common events shrink by more than a third; the others stay as they are.
                assert!(
                    packed.len() * 3 < text.len() * 2,
                    "{} of {}",
                    packed.len(),
                    text.len()
                );
            } else {
                assert_eq!(packed, *text);
            }
        }
    }

    #[test]
    fn rows_written_before_packing_and_text_with_control_bytes_read_as_they_are() {
        let old = r#"{"stateEnteredEventDetails":{"name":"W","input":"{}","inputDetails":{"truncated":false}}}"#;
        assert_eq!(unpack(old), old);
        let odd = "{\"x\":\"a\u{1}b\"}";
        assert_eq!(pack(odd), odd);
        assert_eq!(unpack(&pack(odd)), odd);
    }

    #[test]
    fn each_run_has_its_own_byte() {
        for runs in [&RUNS, &CURSOR_RUNS] {
            let mut codes: Vec<u8> = runs.iter().map(|(code, _)| *code).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), runs.len());
            assert!(codes
                .iter()
                .all(|c| *c > 0 && *c < MARK && ![b'\t', b'\n', b'\r'].contains(c)));
        }
    }

    /// Cursors as the interpreter writes them (a Wait's, a Task's call with a Retry's
    /// back-off, a Map's) come back exactly, a Wait's in less than half its length.
    #[test]
    fn cursors_come_back_as_they_were_packed_and_shorter() {
        let wait = r#"{"status":"RUNNING","current":"Wait","input":{"id":246700,"wait":60},"entered_ms":1795914089995,"waiting":{"seq":2,"due_ms":1795914149995},"entered_event_id":2,"last_event_id":2}"#;
        let task = r#"{"status":"RUNNING","current":"Task","input":{"id":1},"entered_ms":1795914164296,"chain_id":3,"entered_event_id":4,"task":{"invocation":{"seq":5,"function_name":"soak","qualifier":null,"payload":"{\"id\":1}","invocation_type":"RequestResponse","client_context":null},"parameters":{"Payload":{"id":1},"FunctionName":"soak"},"in_flight":null,"timeout":null,"timeout_secs":null,"heartbeat_secs":null},"retry":{"attempts":[1],"count":1,"backoff":{"seq":7,"due_ms":1795914165306}},"last_event_id":7}"#;
        let map = r#"{"status":"RUNNING","current":"M","input":{"items":[1,2]},"entered_ms":1000,"entered_event_id":2,"fanout":{"inputs":[null,null],"next":2,"max_concurrency":1,"running":[{"index":1,"frame":{"current":"W","input":2,"entered_ms":6000,"waiting":{"seq":9,"due_ms":11000},"chain_id":8,"entered_event_id":9}}],"results":[1,null],"failures":0,"tolerated":null,"error":null},"last_event_id":9}"#;
        for text in [wait, task, map] {
            let packed = pack_cursor(text);
            assert_eq!(unpack_cursor(&packed), text);
            assert!(
                packed.len() * 3 < text.len() * 2,
                "{} of {}",
                packed.len(),
                text.len()
            );
        }
        assert!(pack_cursor(wait).len() * 2 < wait.len());
        // A cursor written before packing reads as it is.
        assert_eq!(unpack_cursor(wait), wait);
    }
}

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
//!
//! A text written with its execution's start may also leave out the execution's input: where
//! a run ending in `"input":` is followed by the very input the execution row keeps (in
//! details, as the content of a JSON string; in a cursor, as JSON text), the byte [`INPUT`]
//! stands for it. A pending execution so keeps its input once instead of four times (the row,
//! ExecutionStarted, its first state's StateEntered, the cursor). Reading such a text needs the
//! row's input ([`refers_to_input`] says when).

use std::borrow::Cow;
use std::sync::LazyLock;

/// First byte of a packed text.
const MARK: u8 = 0x1F;
/// In a packed text's body (never anywhere else there), the execution's input.
const INPUT: char = '\u{1F}';

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

/// The input of execution `id` among a commit's `started` ones, when it is one of them and its
/// input is JSON.
pub fn started_input(
    started: &crate::model::hash::FastMap<i64, Option<HeldInput>>,
    id: i64,
) -> Option<&HeldInput> {
    started.get(&id).and_then(Option::as_ref)
}

/// The packed form of an event's details (JSON text) that leaves nothing out (the writers use
/// [`pack_with_input`]).
#[cfg(test)]
fn pack(details: &str) -> Cow<'_, str> {
    pack_with(Table::Details, details)
}

/// An execution's input as the texts written with its start hold it: the interpreter's
/// compact JSON of it (which is the row's text when the client sent it compact), as JSON text
/// in a cursor and as a JSON string's content in details.
pub struct HeldInput {
    text: String,
    content: String,
}

impl HeldInput {
    /// The forms of the row's `input`; `None` when it is not JSON (nothing refers to it then).
    pub fn of(input: &str) -> Option<Self> {
        if is_compact(input) {
            // The interpreter's text of it is the input itself; as a string's content, its
            // only characters to escape are its quotes (it has no backslash and no control
            // character).
            return Some(Self {
                text: input.to_owned(),
                content: input.replace('"', "\\\""),
            });
        }
        Self::through_a_value(input)
    }

    /// The forms of any input: written back from a `serde_json::Value` of it.
    fn through_a_value(input: &str) -> Option<Self> {
        let text = serde_json::from_str::<serde_json::Value>(input)
            .ok()?
            .to_string();
        let quoted = serde_json::Value::from(text.as_str()).to_string();
        let content = quoted[1..quoted.len() - 1].to_owned();
        Some(Self { text, content })
    }
}

/// Most keys of one object [`is_compact`] compares for duplicates; past them it says no.
const MAX_KEYS_COMPARED: usize = 64;

/// Whether `input` is JSON that `serde_json::Value` would write back byte for byte: nothing
/// between its tokens, no escape in its strings, only integers of at most 18 digits (never
/// `-0`), and no key twice in an object (a `Value` keeps one of them). Every client that sends
/// compact JSON of small numbers sends such an input, which is then held without building a
/// `Value` of it. `false` says only that the slower way must be taken.
fn is_compact(input: &str) -> bool {
    if serde_json::from_str::<serde::de::IgnoredAny>(input).is_err() {
        return false;
    }
    // Valid JSON from here on: a string is a key when a colon follows it.
    let bytes = input.as_bytes();
    // Each open container: `Some(keys so far)` for an object, `None` for an array.
    let mut open: Vec<Option<Vec<&[u8]>>> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let Some(len) = bytes[start..].iter().position(|&b| b == b'"' || b == b'\\') else {
                    return false;
                };
                let end = start + len;
                if bytes[end] == b'\\' {
                    return false;
                }
                if bytes.get(end + 1) == Some(&b':') {
                    let key = &bytes[start..end];
                    match open.last_mut() {
                        Some(Some(keys)) if keys.len() < MAX_KEYS_COMPARED => {
                            if keys.contains(&key) {
                                return false;
                            }
                            keys.push(key);
                        }
                        _ => return false,
                    }
                }
                i = end + 1;
            }
            b'{' => {
                open.push(Some(Vec::new()));
                i += 1;
            }
            b'[' => {
                open.push(None);
                i += 1;
            }
            b'}' | b']' => {
                open.pop();
                i += 1;
            }
            b',' | b':' | b't' | b'r' | b'u' | b'e' | b'f' | b'a' | b'l' | b's' | b'n' => i += 1,
            b'-' | b'0'..=b'9' => {
                let start = i;
                let negative = bytes[i] == b'-';
                i += usize::from(negative);
                let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                i += digits;
                let zero = bytes[start + usize::from(negative)] == b'0';
                if digits > 18 || (negative && zero) {
                    return false;
                }
                if matches!(bytes.get(i), Some(b'.' | b'e' | b'E')) {
                    return false;
                }
            }
            // Whitespace between tokens.
            _ => return false,
        }
    }
    true
}

/// The packed form of an event's details, which may leave out the execution's input when
/// written with its start (`input` given).
pub fn pack_with_input<'a>(details: &'a str, input: Option<&HeldInput>) -> Cow<'a, str> {
    pack_and_refer(Table::Details, details, input.map(|i| i.content.as_str()))
}

/// Rows of one execution read from the database, unpacked; `input_of` reads the execution's
/// input, and is called only when a row [`refers_to_input`].
pub async fn unpack_history<F>(
    rows: Vec<super::EventRow>,
    input_of: impl FnOnce() -> F,
) -> super::Result<Vec<super::EventRow>>
where
    F: std::future::Future<Output = super::Result<Option<String>>>,
{
    let input = match rows_refer_to_input(&rows) {
        true => input_of().await?,
        false => None,
    };
    unpack_rows(rows, input.as_deref())
}

/// The details text [`pack`] was given (a text not packed is returned as it is). `input` is
/// the execution's row's, needed when the text [`refers_to_input`]: `None` if it is not given
/// then. (The stores read whole pages with [`unpack_rows`].)
#[cfg(test)]
fn unpack<'a>(stored: &'a str, input: Option<&str>) -> Option<Cow<'a, str>> {
    let held = held_if_referred(stored, input);
    unpack_with(
        Table::Details,
        stored,
        held.as_ref().map(|h| h.content.as_str()),
    )
}

/// Whether a stored text leaves out its execution's input.
pub fn refers_to_input(stored: &str) -> bool {
    stored
        .strip_prefix(char::from(MARK))
        .is_some_and(|body| body.contains(INPUT))
}

fn held_if_referred(stored: &str, input: Option<&str>) -> Option<HeldInput> {
    input
        .filter(|_| refers_to_input(stored))
        .and_then(HeldInput::of)
}

/// The packed form of a cursor (JSON text).
pub fn pack_cursor(cursor: &str) -> Cow<'_, str> {
    pack_with(Table::Cursor, cursor)
}

/// The packed form of a cursor written with its execution's start, which may leave out the
/// execution's input (`input`, the row's, when it is JSON).
pub fn pack_cursor_with_input<'a>(cursor: &'a str, input: Option<&HeldInput>) -> Cow<'a, str> {
    match input {
        Some(held) => pack_and_refer(Table::Cursor, cursor, Some(&held.text)),
        None => pack_cursor(cursor),
    }
}

/// The cursor text [`pack_cursor`] was given (a text not packed is returned as it is), with
/// `input`, its execution row's, where the text refers to it.
pub fn unpack_cursor<'a>(stored: &'a str, input: &str) -> Option<Cow<'a, str>> {
    let held = held_if_referred(stored, Some(input));
    unpack_with(
        Table::Cursor,
        stored,
        held.as_ref().map(|h| h.text.as_str()),
    )
}

/// Execution rows read from the database, their cursors unpacked.
pub fn unpack_executions(mut rows: Vec<super::ExecutionRow>) -> Vec<super::ExecutionRow> {
    for r in &mut rows {
        let input = &r.input;
        if let Some(c) = r.cursor.as_mut() {
            // Every row has its input, so a cursor always unpacks.
            if let Some(Cow::Owned(text)) = unpack_cursor(c, input) {
                *c = text;
            }
        }
    }
    rows
}

/// An execution row read from the database, its cursor unpacked.
/// [`unpack_executions`] for rows read with their versions.
pub fn unpack_described(rows: Vec<super::DescribedExecution>) -> Vec<super::DescribedExecution> {
    let (rows, versions): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|d| (d.row, (d.version_arn, d.alias_arn)))
        .unzip();
    unpack_executions(rows)
        .into_iter()
        .zip(versions)
        .map(
            |(row, (version_arn, alias_arn))| super::DescribedExecution {
                row,
                version_arn,
                alias_arn,
            },
        )
        .collect()
}

pub fn unpack_execution(row: Option<super::ExecutionRow>) -> Option<super::ExecutionRow> {
    let mut rows = unpack_executions(Vec::from_iter(row));
    rows.pop()
}

fn pack_with(table: Table, details: &str) -> Cow<'_, str> {
    pack_and_refer(table, details, None)
}

/// Which table of runs a text is packed with.
#[derive(Debug, Clone, Copy)]
enum Table {
    Details,
    Cursor,
}

impl Table {
    fn runs(self) -> &'static Runs {
        match self {
            Table::Details => &RUNS,
            Table::Cursor => &CURSOR_RUNS,
        }
    }

    /// Where the table's runs start.
    fn finder(self) -> &'static Finder {
        static DETAILS: LazyLock<Finder> = LazyLock::new(|| Finder::new(&RUNS));
        static CURSOR: LazyLock<Finder> = LazyLock::new(|| Finder::new(&CURSOR_RUNS));
        match self {
            Table::Details => &DETAILS,
            Table::Cursor => &CURSOR,
        }
    }
}

/// Finds, at each place of a text, the first run of a table that starts there, as trying
/// every run at every place would, but looking only at the runs that start with the byte
/// there, and at each of those past its first four bytes only when they match.
struct Finder {
    runs: &'static Runs,
    /// For each byte, the runs that start with it, in the table's order: their first four
    /// bytes and their place in the table.
    by_first: Vec<Vec<(u32, usize)>>,
}

impl Finder {
    fn new(runs: &'static Runs) -> Self {
        let mut by_first = vec![Vec::new(); 256];
        for (index, (_, run)) in runs.iter().enumerate() {
            if let Some(head) = head(run.as_bytes()) {
                by_first[usize::from(run.as_bytes()[0])].push((head, index));
            }
        }
        Self { runs, by_first }
    }

    /// The first place from `from` on where a run starts, and the run with its byte.
    fn find(&self, text: &[u8], from: usize) -> Option<(usize, (u8, &'static str))> {
        for at in from..text.len() {
            let candidates = &self.by_first[usize::from(text[at])];
            if candidates.is_empty() {
                continue;
            }
            // No run is shorter than four bytes.
            let head = head(&text[at..])?;
            for &(first, index) in candidates {
                let found = self.runs[index];
                if first == head && text[at..].starts_with(found.1.as_bytes()) {
                    return Some((at, found));
                }
            }
        }
        None
    }
}

/// Whether `bytes` holds a control byte (then it is not JSON text, and is kept unpacked). It
/// looks at 32 bytes at a time, which the compiler does in a few vector instructions.
fn has_control_byte(bytes: &[u8]) -> bool {
    bytes
        .chunks(32)
        .any(|chunk| chunk.iter().fold(false, |found, b| found | (*b < 0x20)))
}

/// The first four bytes of `bytes`, if it has four.
fn head(bytes: &[u8]) -> Option<u32> {
    bytes.first_chunk::<4>().map(|b| u32::from_ne_bytes(*b))
}

/// Pack `details` with `table`'s runs; `same`, the input as `details` would hold it, is left
/// out where it follows a run ending in `"input":` and is the whole value there.
fn pack_and_refer<'a>(table: Table, details: &'a str, same: Option<&str>) -> Cow<'a, str> {
    if has_control_byte(details.as_bytes()) {
        return Cow::Borrowed(details);
    }
    let finder = table.finder();
    let same = same.filter(|s| !s.is_empty());
    let mut out = String::with_capacity(details.len() / 2 + 1);
    out.push(char::from(MARK));
    // Up to `copied`, `details` is in `out`; the next run is looked for from there.
    let mut copied = 0;
    let mut replaced = false;
    // Runs start with an ASCII byte, so where one starts and ends are characters' bounds.
    while let Some((at, (code, run))) = finder.find(details.as_bytes(), copied) {
        out.push_str(&details[copied..at]);
        out.push(char::from(code));
        copied = at + run.len();
        replaced = true;
        if let Some(after) = same.and_then(|s| after_input(run, &details[copied..], s)) {
            out.push(INPUT);
            copied = details.len() - after.len();
        }
    }
    out.push_str(&details[copied..]);
    if replaced {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(details)
    }
}

/// What follows `same` in `rest` when `run` introduces an input and `same` is all of it: in a
/// string, up to its closing quote; as a JSON value, up to the `,` or `}` after it.
fn after_input<'a>(run: &str, rest: &'a str, same: &str) -> Option<&'a str> {
    let in_string = run.ends_with(r#""input":""#);
    if !in_string && !run.ends_with(r#""input":"#) {
        return None;
    }
    let after = rest.strip_prefix(same)?;
    let ends = if in_string {
        after.starts_with('"')
    } else {
        after.starts_with([',', '}'])
    };
    ends.then_some(after)
}

/// The text `stored` was packed from; `None` when it refers to the execution's input and
/// `same` (that input as the text holds it) is not given.
fn unpack_with<'a>(table: Table, stored: &'a str, same: Option<&str>) -> Option<Cow<'a, str>> {
    let Some(packed) = stored.strip_prefix(char::from(MARK)) else {
        return Some(Cow::Borrowed(stored));
    };
    let mut out = String::with_capacity(packed.len() * 2);
    // Only control bytes stand for something; the text between them is copied as it is. They
    // are ASCII, so every one is a character of its own.
    let mut copied = 0;
    for (at, byte) in packed.bytes().enumerate() {
        if byte >= 0x20 {
            continue;
        }
        out.push_str(&packed[copied..at]);
        copied = at + 1;
        let c = char::from(byte);
        if c == INPUT {
            out.push_str(same?);
            continue;
        }
        match run_of(table.runs(), c) {
            Some(run) => out.push_str(run),
            None => out.push(c),
        }
    }
    out.push_str(&packed[copied..]);
    Some(Cow::Owned(out))
}

/// Whether one of `rows` leaves out its execution's input: reading them needs the row's.
pub fn rows_refer_to_input(rows: &[super::EventRow]) -> bool {
    rows.iter()
        .any(|r| r.details.as_deref().is_some_and(refers_to_input))
}

/// Rows of one execution read from the database, their details unpacked; `input` is the
/// execution's, needed when [`rows_refer_to_input`] (the execution is gone when it is not
/// given then: removed by retention while its history was read).
pub fn unpack_rows(
    mut rows: Vec<super::EventRow>,
    input: Option<&str>,
) -> super::Result<Vec<super::EventRow>> {
    let held = input
        .filter(|_| rows_refer_to_input(&rows))
        .and_then(HeldInput::of);
    let same = held.as_ref().map(|h| h.content.as_str());
    for r in &mut rows {
        if let Some(d) = r.details.as_mut() {
            match unpack_with(Table::Details, d, same) {
                Some(Cow::Owned(text)) => *d = text,
                Some(Cow::Borrowed(_)) => {}
                None => {
                    return Err(super::Error::Unavailable(
                        "the execution was removed while its history was read".into(),
                    ))
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;

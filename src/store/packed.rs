//! How history event details are kept on disk: the JSON text with its most common runs (the
//! event's wrapper key, `"inputDetails":{"truncated":false}`, a Lambda result's
//! `SdkHttpMetadata`, ...) each replaced by one control byte.
//!
//! JSON text never holds a raw control character (they are escaped in strings and not allowed
//! outside them), so the bytes 0x01–0x1F, less tab, line feed and carriage return, are free to
//! stand for the runs. A packed text starts with [`MARK`]; a text without it is read as it
//! is, so rows written before packing existed still read, and a text that holds a control
//! byte after all (it cannot be JSON) is kept unpacked. Packing is exact: [`unpack`] gives
//! back the very text [`pack`] was given, so GetExecutionHistory answers as before.

use std::borrow::Cow;

/// First byte of a packed text.
const MARK: u8 = 0x1F;

/// The runs and the byte standing for each: 0x01–0x1E less tab, line feed and carriage
/// return. Longer runs that start like shorter ones come first.
const RUNS: [(u8, &str); 27] = [
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

/// The run a byte stands for, if it stands for one.
fn run_of(c: char) -> Option<&'static str> {
    if c >= '\u{20}' {
        return None;
    }
    RUNS.iter()
        .find(|(code, _)| char::from(*code) == c)
        .map(|(_, run)| *run)
}

/// The packed form of an event's details (JSON text).
pub fn pack(details: &str) -> Cow<'_, str> {
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
            for (code, run) in RUNS {
                if let Some(after) = rest.strip_prefix(run) {
                    out.push(char::from(code));
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

/// The details text [`pack`] was given (a text not packed is returned as it is).
pub fn unpack(stored: &str) -> Cow<'_, str> {
    let Some(packed) = stored.strip_prefix(char::from(MARK)) else {
        return Cow::Borrowed(stored);
    };
    let mut out = String::with_capacity(packed.len() * 2);
    for c in packed.chars() {
        match run_of(c) {
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
        let mut codes: Vec<u8> = RUNS.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), RUNS.len());
        assert!(codes
            .iter()
            .all(|c| *c > 0 && *c < MARK && ![b'\t', b'\n', b'\r'].contains(c)));
    }
}

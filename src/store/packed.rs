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

/// The runs, each standing for itself by the byte at its index in [`CODES`]. Longer runs that
/// start like shorter ones come first.
const RUNS: [&str; 27] = [
    r#"{"stateEnteredEventDetails":{"name":""#,
    r#"{"stateExitedEventDetails":{"name":""#,
    r#"{"executionStartedEventDetails":{"input":""#,
    r#"{"executionSucceededEventDetails":{"output":""#,
    r#"{"taskScheduledEventDetails":{"resourceType":""#,
    r#"{"taskStartedEventDetails":{"resourceType":""#,
    r#"{"taskSubmittedEventDetails":{"resourceType":""#,
    r#"{"taskSucceededEventDetails":{"resourceType":""#,
    r#"{"taskFailedEventDetails":{"resourceType":""#,
    r#"{"lambdaFunctionScheduledEventDetails":{"resource":""#,
    r#"{"lambdaFunctionSucceededEventDetails":{"output":""#,
    r#"{"mapIterationStartedEventDetails":{"name":""#,
    r#"{"mapIterationSucceededEventDetails":{"name":""#,
    r#"","inputDetails":{"truncated":false}"#,
    r#"","outputDetails":{"truncated":false}"#,
    r#"","input":""#,
    r#"","output":""#,
    r#"","resource":""#,
    r#"","region":""#,
    r#"","parameters":""#,
    r#","roleArn":"arn:aws:iam::"#,
    r#"\"SdkHttpMetadata\":{\"AllHttpHeaders\":{"#,
    r#"\"HttpStatusCode\":200},\"SdkResponseMetadata\":{\"RequestId\":\""#,
    r#"\"Content-Type\":[\"application/json\"]"#,
    r#"\"Content-Type\":\"application/json\""#,
    r#"\"X-Amz-Executed-Version\":"#,
    r#"\"ExecutedVersion\":\"$LATEST\""#,
];

/// The byte standing for each run: 0x01–0x1E less tab, line feed and carriage return.
const CODES: [u8; 27] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0B, 0x0C, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E,
];

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
            for (run, code) in RUNS.iter().zip(CODES) {
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
        match CODES.iter().position(|code| char::from(*code) == c) {
            Some(i) => out.push_str(RUNS[i]),
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
        let mut codes = CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), RUNS.len());
        assert!(CODES
            .iter()
            .all(|c| *c > 0 && *c < MARK && ![b'\t', b'\n', b'\r'].contains(c)));
    }
}

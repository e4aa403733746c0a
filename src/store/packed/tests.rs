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
        assert_eq!(unpack(&packed, None).expect("unpacked"), *text);
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
    assert_eq!(unpack(old, None).expect("as it is"), old);
    let odd = "{\"x\":\"a\u{1}b\"}";
    assert_eq!(pack(odd), odd);
    assert_eq!(unpack(&pack(odd), None).expect("as it is"), odd);
}

#[test]
fn each_run_has_its_own_byte() {
    for runs in [&RUNS, &CURSOR_RUNS] {
        // Four bytes long at least (the finder compares those first), starting with an
        // ASCII byte.
        assert!(runs
            .iter()
            .all(|(_, run)| run.len() >= 4 && run.as_bytes()[0] < 0x80));
        let mut codes: Vec<u8> = runs.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), runs.len());
        assert!(codes
            .iter()
            .all(|c| *c > 0 && *c < MARK && ![b'\t', b'\n', b'\r'].contains(c)));
    }
}

/// The packed form of `text` found by trying every run of `runs` at every character.
fn every_run_everywhere(runs: &Runs, text: &str) -> String {
    let mut out = String::from(char::from(MARK));
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match runs.iter().find(|(_, run)| rest.starts_with(run)) {
            Some((code, run)) => {
                out.push(char::from(*code));
                rest = &rest[run.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Pieces of text with runs in them, runs cut short, an input and what surrounds one.
fn pieces() -> Vec<String> {
    let mut pieces: Vec<String> = RUNS
        .iter()
        .chain(CURSOR_RUNS.iter())
        .flat_map(|(_, run)| [run.to_string(), run[..run.len() - 1].to_string()])
        .collect();
    for other in [
        "ü",
        r#"\""#,
        "{",
        r#"",""#,
        ",",
        "x",
        "}",
        r#"""#,
        r#""input":"#,
        r#""input":""#,
        r#"{\"n\":1}"#,
        r#"{"n":1}"#,
        "✓",
    ] {
        pieces.push(other.to_string());
    }
    pieces
}

/// An input held as every input was before compact ones were taken as they are.
fn held_through_a_value(input: &str) -> Option<(String, String)> {
    HeldInput::through_a_value(input).map(|h| (h.text, h.content))
}

fn held(input: &str) -> Option<(String, String)> {
    HeldInput::of(input).map(|h| (h.text, h.content))
}

#[test]
fn compact_inputs_are_held_as_they_are_and_others_through_a_value() {
    let compact = [
        r#"{"expirydate":11,"a":1233333}"#,
        r#"{"b":[1,-2,{"c":null,"d":true}],"a":"x ✓ y","e":{},"f":[]}"#,
        "0",
        "-12",
        r#""text""#,
        "123456789012345678",
    ];
    for input in compact {
        assert!(is_compact(input), "{input}");
        assert_eq!(held(input), held_through_a_value(input), "{input}");
    }
    let other = [
        r#"{"a": 1}"#,
        " 1",
        "1.5",
        "1e2",
        "-0",
        "1234567890123456789",
        r#"{"a":1,"a":2}"#,
        r#"{"a":{"b":1},"c":{"b":2,"b":3}}"#,
        r#""a\"b""#,
        r#""\u0041""#,
        "{",
        "",
        "[1,]",
        "\"a\u{1}b\"",
        "{\"a\":\"\tb\"}",
    ];
    for input in other {
        assert!(!is_compact(input), "{input}");
        assert_eq!(held(input), held_through_a_value(input), "{input}");
    }
    // Keys repeated in different objects are not repeated keys.
    assert!(is_compact(r#"{"a":{"a":1},"b":{"a":2}}"#));
}

/// JSON values of every kind, small numbers and strings that need escaping among them.
fn json_values() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1000i64..1000).prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        "[a-c\\\\\"é\n ✓/]{0,4}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::vec(("[a-c\"]{0,2}", inner), 0..4)
                .prop_map(|kv| { serde_json::Value::Object(kv.into_iter().collect()) }),
        ]
    })
}

/// Pieces of JSON text, put together at random: mostly not JSON, sometimes JSON with
/// spaces, escapes, repeated keys or numbers the compact form would write otherwise.
const JSON_PIECES: [&str; 23] = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    r#""a""#,
    r#""b""#,
    r#""a\"""#,
    r#""\u0041""#,
    "1",
    "0",
    "-0",
    "-7",
    "1.5",
    "2e3",
    "12345678901234567890",
    "true",
    "null",
    " ",
    "\n",
    r#""é""#,
    r#""""#,
];

proptest::proptest! {
    /// Whatever the input, it is held exactly as through a `serde_json::Value`: compact
    /// JSON, the same JSON written with spaces, and texts pieced together at random.
    #[test]
    fn any_input_is_held_as_through_a_value(
        value in json_values(),
        picks in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..16)
    ) {
        let compact = value.to_string();
        let spaced = serde_json::to_string_pretty(&value).expect("JSON");
        let pieced: String = picks.iter().map(|i| JSON_PIECES[i.index(JSON_PIECES.len())]).collect();
        for input in [&compact, &spaced, &pieced] {
            proptest::prop_assert_eq!(held(input), held_through_a_value(input), "{}", input);
        }
    }

    /// Whatever the text, the packer takes at each place the first run that starts there,
    /// and the text reads back exactly, with the execution's input left out or not.
    #[test]
    fn any_text_packs_as_trying_every_run_would_and_reads_back(
        picks in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..48)
    ) {
        let pieces = pieces();
        let text: String = picks.iter().map(|i| pieces[i.index(pieces.len())].as_str()).collect();
        let held = HeldInput::of(r#"{"n":1}"#).expect("JSON");
        for (table, same) in [(Table::Details, &held.content), (Table::Cursor, &held.text)] {
            let packed = pack_with(table, &text);
            if packed != text {
                proptest::prop_assert_eq!(&*packed, every_run_everywhere(table.runs(), &text));
            }
            let back = unpack_with(table, &packed, None);
            proptest::prop_assert_eq!(back.as_deref(), Some(text.as_str()));
            let referred = pack_and_refer(table, &text, Some(same));
            let back = unpack_with(table, &referred, Some(same));
            proptest::prop_assert_eq!(back.as_deref(), Some(text.as_str()));
        }
    }
}

/// At each place the packer takes the first run of the table that starts there, as
/// trying every run at every character would; the text unpacks back as it was.
#[test]
fn packing_takes_the_first_run_that_starts_at_each_place() {
    let mut text = String::new();
    let between = ["ü", r#"\""#, "", ",", "{", r#"",""#];
    for (i, (_, run)) in RUNS.iter().chain(CURSOR_RUNS.iter()).enumerate() {
        text.push_str(run);
        text.push_str(between[i % between.len()]);
        // A run cut short, which must not be taken.
        text.push_str(&run[..run.len() - 1]);
    }
    for table in [Table::Details, Table::Cursor] {
        let runs = table.runs();
        let packed = pack_with(table, &text);
        assert_eq!(packed, every_run_everywhere(runs, &text));
        assert_eq!(
            unpack_with(table, &packed, None).as_deref(),
            Some(text.as_str())
        );
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
        assert_eq!(unpack_cursor(&packed, "").expect("unpacked"), text);
        assert!(
            packed.len() * 3 < text.len() * 2,
            "{} of {}",
            packed.len(),
            text.len()
        );
    }
    assert!(pack_cursor(wait).len() * 2 < wait.len());
    // A cursor written before packing reads as it is.
    assert_eq!(unpack_cursor(wait, "").expect("as it is"), wait);
}

/// Texts written with the execution's start leave out its input where they hold exactly
/// it, and come back whole given the row's input; only with it.
#[test]
fn texts_written_with_the_start_leave_out_the_input_and_come_back_with_it() {
    let input = r#"{"s":"a\"b\\c ✓","n":1}"#;
    let content = r#"{\"s\":\"a\\\"b\\\\c ✓\",\"n\":1}"#;
    let started = format!(
        r#"{{"executionStartedEventDetails":{{"input":"{content}","inputDetails":{{"truncated":false}},"roleArn":"arn:aws:iam::123456789012:role/r"}}}}"#
    );
    let entered = format!(
        r#"{{"stateEnteredEventDetails":{{"name":"Wait","input":"{content}","inputDetails":{{"truncated":false}}}}}}"#
    );
    for text in [&started, &entered] {
        let packed = pack_with_input(text, HeldInput::of(input).as_ref());
        assert!(refers_to_input(&packed), "{packed:?}");
        assert_eq!(packed.len() + content.len(), pack(text).len() + 1);
        assert_eq!(unpack(&packed, Some(input)).expect("with input"), *text);
        assert!(unpack(&packed, None).is_none());
        let rows = vec![crate::store::EventRow {
            id: 1,
            previous_id: 0,
            event_type: crate::model::HistoryEventType::ExecutionStarted,
            timestamp_ms: 0,
            details: Some(packed.into_owned()),
        }];
        assert!(rows_refer_to_input(&rows));
        let read = unpack_rows(rows.clone(), Some(input)).expect("with input");
        assert_eq!(read[0].details.as_deref(), Some(text.as_str()));
        assert!(unpack_rows(rows, None).is_err());
    }
    let cursor = format!(
        r#"{{"status":"RUNNING","current":"Wait","input":{input},"entered_ms":1,"waiting":{{"seq":2,"due_ms":3}},"entered_event_id":2,"last_event_id":2}}"#
    );
    let packed = pack_cursor_with_input(&cursor, HeldInput::of(input).as_ref());
    assert!(refers_to_input(&packed));
    assert_eq!(packed.len() + input.len(), pack_cursor(&cursor).len() + 1);
    assert_eq!(unpack_cursor(&packed, input).expect("with input"), cursor);
}

/// Only the whole value is left out: not an input that merely starts the same, nor one
/// after another field's name.
#[test]
fn an_input_is_left_out_only_where_it_is_the_whole_value() {
    let entered = r#"{"stateEnteredEventDetails":{"name":"1","input":"12","inputDetails":{"truncated":false}}}"#;
    let one = HeldInput::of("1");
    assert!(!refers_to_input(&pack_with_input(entered, one.as_ref())));
    let exited = r#"{"stateExitedEventDetails":{"name":"W","output":"1","outputDetails":{"truncated":false}}}"#;
    assert!(!refers_to_input(&pack_with_input(exited, one.as_ref())));
    let cursor = r#"{"status":"RUNNING","current":"W","input":12,"entered_ms":1}"#;
    assert!(!refers_to_input(&pack_cursor_with_input(
        cursor,
        HeldInput::of("1").as_ref()
    )));
    let cursor = r#"{"status":"RUNNING","current":"W","input":{"a":1},"entered_ms":1}"#;
    let packed = pack_cursor_with_input(cursor, HeldInput::of(r#"{"a":1}"#).as_ref());
    assert!(refers_to_input(&packed));
    // A row's input sent with spaces is left out all the same (the texts hold it compact),
    // and comes back compact.
    let spaced = r#"{"a": 1}"#;
    let packed = pack_cursor_with_input(cursor, HeldInput::of(spaced).as_ref());
    assert!(refers_to_input(&packed));
    assert_eq!(unpack_cursor(&packed, spaced).expect("with input"), cursor);
    // An input that is not JSON is never left out.
    assert!(HeldInput::of("{").is_none());
    assert!(!refers_to_input(&pack_cursor_with_input(
        cursor,
        HeldInput::of("{").as_ref()
    )));
}

//! Timestamps as ASL shows them: RFC 3339 text in, UTC milliseconds inside, and the
//! `2024-03-06T10:29:14.123Z` form the context object carries.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parse an RFC 3339 timestamp (an offset or `Z` is required) into UTC milliseconds,
/// rounding a sub-millisecond fraction up so a deadline built from it is never early.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    // RFC 3339 lets a space stand for the `T`; Step Functions does not.
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let nanos = t.unix_timestamp_nanos();
    let ms = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) > 0);
    i64::try_from(ms).ok()
}

/// Format UTC milliseconds as AWS does in the context object: millisecond precision, `Z`.
pub fn format_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_through_milliseconds() {
        let cases = [
            ("zulu", "2016-03-14T01:59:00Z", Some(1_457_920_740_000)),
            (
                "fraction",
                "2016-03-14T01:59:00.123Z",
                Some(1_457_920_740_123),
            ),
            (
                "offset",
                "2016-03-14T02:59:00+01:00",
                Some(1_457_920_740_000),
            ),
            ("no offset", "2016-03-14T01:59:00", None),
            ("space for T", "2016-03-14 01:59:00Z", None),
            ("garbage", "tomorrow", None),
        ];
        for (name, text, want) in cases {
            assert_eq!(parse_rfc3339_ms(text), want, "{name}");
        }
        assert_eq!(format_ms(1_457_920_740_123), "2016-03-14T01:59:00.123Z");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
    }
}

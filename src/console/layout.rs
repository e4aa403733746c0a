//! The pieces every page is made of: the page's frame, times (UTC and relative), status
//! badges, JSON blocks, links. Markup goes through `maud`, which escapes every value it
//! writes: a payload holding HTML shows as text.

use maud::{html, Markup, DOCTYPE};
use serde_json::Value;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::model::ExecutionStatus;

/// Where the console's pages are.
pub const BASE: &str = "/console";

/// A link to a console page with query parameters, each value URL-encoded.
pub fn link(page: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    let query = query.finish();
    match query.is_empty() {
        true => format!("{BASE}/{page}"),
        false => format!("{BASE}/{page}?{query}"),
    }
}

/// A whole page: its title, the trail of pages above it, and its body.
pub fn page(title: &str, trail: &[(&str, String)], body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · hourglass" }
                link rel="stylesheet" href={(BASE) "/assets/console.css"};
                script src={(BASE) "/assets/elk.bundled.js"} defer {}
                script src={(BASE) "/assets/console.js"} defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href={(BASE) "/"} { "hourglass" }
                    nav aria-label="Trail" {
                        @for (label, href) in trail {
                            span.sep { "/" }
                            a href=(href) { (label) }
                        }
                    }
                }
                main #main { (body) }
                footer { "Times are UTC. " a href="/metrics" { "Metrics" } }
            }
        }
    }
}

/// A time as UTC and how long ago (or how soon) it is; the page's script keeps the relative
/// part current.
pub fn time(ms: i64, now_ms: i64) -> Markup {
    html! {
        time datetime=(iso(ms)) data-ms=(ms) title=(utc(ms)) {
            (utc(ms)) " "
            span.rel { "(" (relative(ms, now_ms)) ")" }
        }
    }
}

/// `2026-12-01 10:00:00 UTC`.
pub fn utc(ms: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return ms.to_string();
    };
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_else(|_| ms.to_string())
}

fn iso(ms: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return String::new();
    };
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// `in 2 d 3 h`, `5 min ago`, `now`.
pub fn relative(ms: i64, now_ms: i64) -> String {
    let d = ms - now_ms;
    if d.abs() < 1000 {
        return "now".into();
    }
    match d > 0 {
        true => format!("in {}", span(d)),
        false => format!("{} ago", span(-d)),
    }
}

/// A span of time in its two largest units: `2 d 3 h`, `4 min 5 s`, `1.234 s`.
pub fn span(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match () {
        _ if d > 0 => format!("{d} d {h} h"),
        _ if h > 0 => format!("{h} h {m} min"),
        _ if m > 0 => format!("{m} min {} s", s % 60),
        _ if s >= 10 => format!("{s} s"),
        _ => format!("{}.{:03} s", s, ms % 1000),
    }
}

/// An execution's status as a coloured badge.
pub fn status(s: ExecutionStatus) -> Markup {
    let word = s.as_str();
    html! { span class={"badge st-" (word.to_ascii_lowercase())} { (title_case(word)) } }
}

/// `TIMED_OUT` → `Timed out`.
pub fn title_case(word: &str) -> String {
    let lower = word.replace('_', " ").to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A JSON text, indented; text that is not JSON as it is.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// A titled block of JSON (or a note that there is none).
pub fn json_block(title: &str, text: Option<&str>) -> Markup {
    html! {
        section.block {
            h2 { (title) }
            @match text {
                Some(t) => pre.json tabindex="0" { (pretty(t)) },
                None => p.muted { "None." },
            }
        }
    }
}

/// A value for a `data-` attribute: JSON, escaped as any attribute value is.
pub fn data(v: &Value) -> String {
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_and_relative_in_their_two_largest_units() {
        assert_eq!(utc(1_796_119_200_000), "2026-12-01 10:00:00 UTC");
        let now = 1_796_119_200_000 - (2 * 86_400 + 3 * 3600 + 59) * 1000;
        assert_eq!(relative(1_796_119_200_000, now), "in 2 d 3 h");
        assert_eq!(relative(now - 65_000, now), "1 min 5 s ago");
        assert_eq!(span(1234), "1.234 s");
        assert_eq!(relative(now, now), "now");
    }

    #[test]
    fn a_payload_holding_html_is_escaped() {
        let m = json_block("Input", Some(r#"{"x": "<script>alert(1)</script>"}"#));
        let s = m.into_string();
        assert!(s.contains("&lt;script&gt;"), "{s}");
        assert!(!s.contains("<script>"), "{s}");
    }

    #[test]
    fn links_encode_their_parameters() {
        assert_eq!(
            link("execution", &[("arn", "arn:a:b/c d&e"), ("empty", "")]),
            "/console/execution?arn=arn%3Aa%3Ab%2Fc+d%26e"
        );
    }
}

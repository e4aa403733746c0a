//! Wait: compute the deadline, arm a timer for it (scaled by `WAIT_TIME_SCALE`), and exit
//! when it fires. A deadline already past does not block. The deadline comes from the step's
//! time (`now_ms`), never from a clock.

use serde_json::Value;

use super::cursor::{Frame, Waiting};
use super::io::Io;
use super::outcome::Outcome;
use super::step::Run;
use crate::asl::catalogue::{self, shown};
use crate::asl::definition::WaitFor;
use crate::asl::errors::StatesError;
use crate::asl::timestamp;

/// The longest delay AWS accepts in a Wait state: 2^31 - 1 seconds (about 68 years).
const MAX_WAIT_MS: i64 = i32::MAX as i64 * 1000;

impl Run<'_> {
    pub(super) fn wait(
        &mut self,
        io: &Io<'_>,
        f: &mut Frame,
        wait_for: &WaitFor,
    ) -> Result<Outcome, StatesError> {
        let due_ms = self.deadline(io, wait_for)?;
        if due_ms <= self.now_ms {
            return self.wait_over(io, f);
        }
        let seq = self.journal.last_id();
        f.waiting = Some(Waiting { seq, due_ms });
        self.arm(seq, due_ms);
        Ok(Outcome::Blocked)
    }

    /// The wait is over: Output and Assign, then the transition.
    pub(super) fn wait_over(&mut self, io: &Io<'_>, f: &mut Frame) -> Result<Outcome, StatesError> {
        let exit = io.waited()?;
        Ok(self.leave(io.state, f, exit))
    }

    fn deadline(&self, io: &Io<'_>, wait_for: &WaitFor) -> Result<i64, StatesError> {
        let now = self.now_ms;
        // The paths read the state's input (after InputPath), which is evaluated first.
        let input = io.input()?;
        let delay_ms = match wait_for {
            WaitFor::Seconds(s) => i64::try_from(*s).unwrap_or(i64::MAX).saturating_mul(1000),
            WaitFor::SecondsPath(p) => {
                let v = io
                    .query(p, input)
                    .map_err(|_| catalogue::seconds_path_missing(p))?;
                // AWS reads the value's text as a long: a fraction, a word or anything else
                // that is not an integer cannot be parsed; an integer below zero is refused.
                let text = shown(&v);
                match parse_long(&text) {
                    Some(s) if s >= 0 => s.saturating_mul(1000),
                    Some(_) => return Err(catalogue::seconds_path_negative(p, &text)),
                    None => return Err(catalogue::seconds_path_not_long(p, &text)),
                }
            }
            WaitFor::SecondsExpr(e) => {
                let v = io.jsonata(&Value::String(e.clone()), "Seconds", None, None)?;
                match v.as_i64() {
                    Some(s) if s >= 0 => s.saturating_mul(1000),
                    _ => return Err(catalogue::seconds_not_natural(&v)),
                }
            }
            WaitFor::Timestamp(t) => t.saturating_sub(now).max(0),
            WaitFor::TimestampPath(p) => {
                let v = io
                    .query(p, input)
                    .map_err(|_| catalogue::timestamp_path_missing(p))?;
                let t =
                    parse_timestamp(&v).ok_or_else(|| catalogue::timestamp_path_invalid(p, &v))?;
                t.saturating_sub(now).max(0)
            }
            WaitFor::TimestampExpr(e) => {
                let v = io.jsonata(&Value::String(e.clone()), "Timestamp", None, None)?;
                let t = parse_timestamp(&v).ok_or_else(|| catalogue::timestamp_invalid(&v))?;
                t.saturating_sub(now).max(0)
            }
        };
        if delay_ms > MAX_WAIT_MS {
            return Err(catalogue::wait_too_long());
        }
        let scaled = (delay_ms as f64 * self.scale()).ceil();
        // Saturate far-future deadlines instead of overflowing.
        Ok(if scaled >= (i64::MAX - now) as f64 {
            i64::MAX
        } else {
            now + scaled as i64
        })
    }
}

fn parse_timestamp(v: &Value) -> Option<i64> {
    v.as_str().and_then(timestamp::parse_rfc3339_ms)
}

/// A value as a cause quotes it: strings without their quotes.
/// A long as Java's `Long.parseLong` reads one: an optional sign, then decimal digits.
fn parse_long(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

//! The history an execution writes: every event goes through [`Journal`], which numbers it,
//! chains it to the event before it, stamps it with the step's time and enforces the cap.
//!
//! ```text
//!  id  previous  type                     chained to
//!   1      0     ExecutionStarted         nothing
//!   2      0     PassStateEntered         the frame's chain id (here: the start)
//!   3      2     PassStateExited          the last event written
//!   4      3     WaitStateEntered         the frame's chain id (set by the exit)
//! ```
//!
//! A branch or iteration chains its first StateEntered to the event that started it. With a
//! cap on the history, an event that would fill the last slot is refused (and every later
//! one), the step's caller fails the execution, and only its end event is still written.
//!
//! No other module builds a [`HistoryEvent`]; detail shapes are [`crate::asl::history`]'s.

use serde_json::Value;

use super::cursor::Frame;
use crate::asl::definition::State;
use crate::asl::history::{self, HistoryEvent};
use crate::model::HistoryEventType;

pub struct Journal {
    events: Vec<HistoryEvent>,
    last_id: i64,
    now_ms: i64,
    /// Most events in the history; 0 means no cap.
    cap: i64,
    /// An event was refused because the history is full.
    overflowed: bool,
}

impl Journal {
    /// A journal that continues a history whose last event is `last_id`.
    pub fn new(last_id: i64, now_ms: i64, cap: i64) -> Self {
        Self {
            events: Vec::new(),
            last_id,
            now_ms,
            cap,
            overflowed: false,
        }
    }

    /// Id of the last event written (unchanged by a refused one).
    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    /// Whether an event was refused because the history is full.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Write an event chained to the last one written.
    pub fn append(&mut self, event_type: HistoryEventType, details: Option<String>) {
        self.append_after(self.last_id, event_type, details);
    }

    /// Write an event chained to `previous_id`, unless the history is full.
    pub fn append_after(
        &mut self,
        previous_id: i64,
        event_type: HistoryEventType,
        details: Option<String>,
    ) {
        if self.overflowed || (self.cap > 0 && self.last_id + 1 >= self.cap) {
            self.overflowed = true;
            return;
        }
        self.write(previous_id, event_type, details);
    }

    /// Write the execution's end, even when the history is full.
    pub fn append_end(&mut self, event_type: HistoryEventType, details: Option<String>) {
        self.write(self.last_id, event_type, details);
    }

    /// `<Type>StateEntered`, chained to the frame's chain id; the frame remembers its id.
    pub fn state_entered(&mut self, f: &mut Frame, state: &State, input: &Value) {
        self.append_after(
            f.chain_id,
            HistoryEventType::state_entered(&state.type_name),
            history::state_entered(&state.name, input),
        );
        f.entered_event_id = self.last_id;
    }

    /// `<Type>StateExited`; the frame's next StateEntered chains to it.
    pub fn state_exited(&mut self, f: &mut Frame, state: &State, output: &Value) {
        self.append(
            HistoryEventType::state_exited(&state.type_name),
            history::state_exited(&state.name, output),
        );
        f.chain_id = self.last_id;
    }

    pub fn into_events(self) -> Vec<HistoryEvent> {
        self.events
    }

    fn write(&mut self, previous_id: i64, event_type: HistoryEventType, details: Option<String>) {
        self.last_id += 1;
        self.events.push(HistoryEvent {
            id: self.last_id,
            previous_id,
            timestamp_ms: self.now_ms,
            event_type,
            details,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Journal;
    use crate::model::HistoryEventType;

    #[test]
    fn events_are_numbered_chained_and_capped() {
        let cases = [
            ("no cap", 0, vec![(1, 0), (2, 1), (3, 7), (4, 3)]),
            (
                "cap of three: the end still fits",
                3,
                vec![(1, 0), (2, 1), (3, 2)],
            ),
        ];
        for (name, cap, want) in cases {
            let mut j = Journal::new(0, 5, cap);
            j.append(HistoryEventType::PassStateEntered, None);
            j.append(HistoryEventType::PassStateExited, None);
            j.append_after(7, HistoryEventType::WaitStateEntered, None);
            j.append_end(HistoryEventType::ExecutionSucceeded, None);
            let got: Vec<(i64, i64)> = j.events.iter().map(|e| (e.id, e.previous_id)).collect();
            assert_eq!(got, want, "{name}");
            assert_eq!(j.overflowed(), cap > 0, "{name}: overflowed");
            assert!(
                j.events.iter().all(|e| e.timestamp_ms == 5),
                "{name}: timestamps"
            );
        }
    }
}

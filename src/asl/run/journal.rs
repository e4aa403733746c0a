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
//! A branch or iteration chains its first StateEntered to the event that started it. Some
//! events stand aside, as AWS's histories show: the event after them chains to the event
//! before them. They are an iteration's end (`MapIterationSucceeded`, `Failed`, `Aborted`),
//! a state marked aborted, and a Map's or Parallel's success (which itself chains to the
//! last event written, the last iteration's end):
//!
//! ```text
//!  13  12  PassStateExited
//!  14  13  MapIterationSucceeded      aside
//!  15  13  MapIterationStarted
//!  ...
//!  22  21  MapIterationSucceeded      aside
//!  23  22  MapStateSucceeded          aside, chained to the last written
//!  24  22  MapStateExited
//! ```
//!
//! A Distributed Map's run's success stands aside too, and the Map's success after it leaves
//! the chain where the run's success left it, so the Map's exit chains to the run's start (as
//! AWS's histories recorded since November 2024 show; earlier ones chained it to the run's
//! success):
//!
//! ```text
//!   6   5  MapRunStarted
//!   7   6  MapRunSucceeded            aside
//!   8   7  MapStateSucceeded          aside, chained to the last written
//!   9   6  MapStateExited
//! ```
//!
//! With a cap on the history, an event that would fill the last slot is refused (and every later
//! one), the step's caller fails the execution, and only its end event is still written.
//!
//! No other module builds a [`HistoryEvent`]; detail shapes are [`crate::asl::history`]'s.

use serde_json::Value;

use super::cursor::Frame;
use crate::asl::definition::State;
use crate::asl::history::{self, HistoryEvent};
use crate::model::HistoryEventType;

/// Where a state's input comes from, as [`Journal::state_entered`] needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFrom {
    /// It is the value the last event written showed: the output of the state the frame
    /// just left, or the execution's input for its first state.
    LastEvent,
    /// Anywhere else: a branch's or iteration's input, a redrive's.
    Elsewhere,
}

pub struct Journal {
    events: Vec<HistoryEvent>,
    last_id: i64,
    /// What the next event chains to, when not `last_id` (after an event that stands aside).
    chain_to: Option<i64>,
    now_ms: i64,
    /// Most events in the history; 0 means no cap.
    cap: i64,
    /// An event was refused because the history is full.
    overflowed: bool,
    /// The compact text of the value the last event written showed, when the next event may
    /// show it again, with the id an event showing it again chains to: a StateExited's
    /// output is the input of the next state its frame enters (and the execution's output
    /// after its last state), the execution's input is its first state's. The value is then
    /// written as text once, not once per event. Cleared by every other event.
    carried: Option<(i64, String)>,
}

impl Journal {
    /// A journal that continues a history whose last event is `last_id` (and whose next event
    /// chains to `chain_to`, when given).
    pub fn new(last_id: i64, chain_to: Option<i64>, now_ms: i64, cap: i64) -> Self {
        Self {
            events: Vec::new(),
            last_id,
            chain_to,
            now_ms,
            cap,
            overflowed: false,
            carried: None,
        }
    }

    /// Id of the last event written (unchanged by a refused one).
    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    /// What the next event chains to, when not the last written.
    pub fn chain_to(&self) -> Option<i64> {
        self.chain_to
    }

    /// Whether an event was refused because the history is full.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Write an event chained to the one before it, as AWS chains that type.
    pub fn append(&mut self, event_type: HistoryEventType, details: Option<String>) {
        let previous = if succeeds_fanout(event_type) {
            self.last_id
        } else {
            self.chain_to.unwrap_or(self.last_id)
        };
        self.append_after(previous, event_type, details);
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
            self.carried = None;
            return;
        }
        self.write(previous_id, event_type, details);
    }

    /// Write the execution's end, even when the history is full.
    pub fn append_end(&mut self, event_type: HistoryEventType, details: Option<String>) {
        self.write(self.chain_to.unwrap_or(self.last_id), event_type, details);
    }

    /// ExecutionStarted, showing the execution's input; the first StateEntered (chained to
    /// nothing) shows it again.
    pub fn execution_started(&mut self, input: &Value, role_arn: &str) {
        let text = history::to_text(input);
        self.append_after(
            0,
            HistoryEventType::ExecutionStarted,
            history::execution_started(&text, role_arn),
        );
        self.carry(0, text);
    }

    /// `<Type>StateEntered`, chained to the frame's chain id; the frame remembers its id.
    pub fn state_entered(&mut self, f: &mut Frame, state: &State, input: &Value, from: InputFrom) {
        let text = match from {
            InputFrom::LastEvent => self.text_of(f.chain_id, input),
            InputFrom::Elsewhere => history::to_text(input),
        };
        self.append_after(
            f.chain_id,
            HistoryEventType::state_entered(&state.type_name),
            history::state_entered(&state.name, &text),
        );
        f.entered_event_id = self.last_id;
    }

    /// `<Type>StateExited`; the frame's next StateEntered chains to it.
    pub fn state_exited(&mut self, f: &mut Frame, state: &State, output: &Value) {
        self.state_exited_text(f, state, history::to_text(output));
    }

    /// `<Type>StateExited` of an output whose [`history::to_text`] is `text`.
    pub fn state_exited_text(&mut self, f: &mut Frame, state: &State, text: String) {
        self.append(
            HistoryEventType::state_exited(&state.type_name),
            history::state_exited(&state.name, &text),
        );
        f.chain_id = self.last_id;
        self.carry(self.last_id, text);
    }

    /// ExecutionSucceeded, written even when the history is full; the output's text, as the
    /// execution's row keeps it.
    pub fn execution_succeeded(&mut self, output: &Value) -> String {
        // The last state's exit showed this output, when it was the last event written.
        let text = self.text_of(self.last_id, output);
        self.append_end(
            HistoryEventType::ExecutionSucceeded,
            history::execution_succeeded(&text),
        );
        text
    }

    fn carry(&mut self, chain_id: i64, text: String) {
        if !self.overflowed {
            self.carried = Some((chain_id, text));
        }
    }

    /// The text of `value`, shown by an event chained to `chain_id`: the text carried from
    /// the event before, when that showed the value this one does, else written now.
    fn text_of(&mut self, chain_id: i64, value: &Value) -> String {
        let text = match self.carried.take() {
            Some((id, text)) if id == chain_id => text,
            _ => return history::to_text(value),
        };
        debug_assert_eq!(text, history::to_text(value), "a carried text differs");
        text
    }

    pub fn into_events(self) -> Vec<HistoryEvent> {
        self.events
    }

    fn write(&mut self, previous_id: i64, event_type: HistoryEventType, details: Option<String>) {
        self.carried = None;
        let after_run = self
            .events
            .last()
            .is_some_and(|e| e.event_type == HistoryEventType::MapRunSucceeded);
        if !(succeeds_fanout(event_type) && after_run) {
            self.chain_to = stands_aside(event_type).then_some(previous_id);
        }
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

/// Events the next event does not chain to (see the module docs).
fn stands_aside(t: HistoryEventType) -> bool {
    use HistoryEventType as T;
    succeeds_fanout(t)
        || matches!(
            t,
            T::MapIterationSucceeded
                | T::MapRunSucceeded
                | T::MapIterationFailed
                | T::MapIterationAborted
                | T::TaskStateAborted
                | T::WaitStateAborted
                | T::MapStateAborted
                | T::ParallelStateAborted
        )
}

/// A Map's or Parallel's success: chained to the last event written.
fn succeeds_fanout(t: HistoryEventType) -> bool {
    matches!(
        t,
        HistoryEventType::MapStateSucceeded | HistoryEventType::ParallelStateSucceeded
    )
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
            let mut j = Journal::new(0, None, 5, cap);
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

    /// The chaining AWS's recorded histories show around iterations, successes and aborts.
    #[test]
    fn iteration_ends_successes_and_aborts_stand_aside() {
        use HistoryEventType as T;
        let mut j = Journal::new(0, None, 5, 0);
        for t in [
            T::MapStateStarted,       // 1 <- 0
            T::MapIterationStarted,   // 2 <- 1
            T::PassStateExited,       // 3 <- 2
            T::MapIterationSucceeded, // 4 <- 3, aside
            T::MapIterationStarted,   // 5 <- 3
            T::PassStateExited,       // 6 <- 5
            T::MapIterationSucceeded, // 7 <- 6, aside
            T::MapStateSucceeded,     // 8 <- 7 (the last written), aside
            T::MapStateExited,        // 9 <- 7
            T::TaskFailed,            // 10 <- 9
            T::TaskStateAborted,      // 11 <- 10, aside
            T::ParallelStateFailed,   // 12 <- 10
        ] {
            j.append(t, None);
        }
        j.append_end(T::ExecutionFailed, None); // 13 <- 12
        let got: Vec<(i64, i64)> = j.events.iter().map(|e| (e.id, e.previous_id)).collect();
        let want: Vec<(i64, i64)> = [0, 1, 2, 3, 3, 5, 6, 7, 7, 9, 10, 10, 12]
            .iter()
            .enumerate()
            .map(|(i, p)| (i as i64 + 1, *p))
            .collect();
        assert_eq!(got, want);
        assert_eq!(j.chain_to(), None);
    }

    /// A Distributed Map's end, as AWS's recent histories chain it: the exit chains to the
    /// run's start, past the run's and the Map's successes; a failed run is not set aside.
    #[test]
    fn a_map_runs_success_leaves_the_chain_at_its_start() {
        use HistoryEventType as T;
        let chain = |types: &[T]| {
            let mut j = Journal::new(0, None, 5, 0);
            for t in types {
                j.append(*t, None);
            }
            j.events.iter().map(|e| e.previous_id).collect::<Vec<_>>()
        };
        let succeeded = [
            T::MapStateStarted,   // 1 <- 0
            T::MapRunStarted,     // 2 <- 1
            T::MapRunSucceeded,   // 3 <- 2, aside
            T::MapStateSucceeded, // 4 <- 3 (the last written), aside
            T::MapStateExited,    // 5 <- 2
            T::PassStateEntered,  // 6 <- 5
        ];
        assert_eq!(chain(&succeeded), [0, 1, 2, 3, 2, 5]);
        let failed = [
            T::MapStateStarted, // 1 <- 0
            T::MapRunStarted,   // 2 <- 1
            T::MapRunFailed,    // 3 <- 2
            T::MapStateFailed,  // 4 <- 3
            T::ExecutionFailed, // 5 <- 4
        ];
        assert_eq!(chain(&failed), [0, 1, 2, 3, 4]);
    }
}

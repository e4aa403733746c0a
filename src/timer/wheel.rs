//! A hashed timing wheel: plain data, synchronous, no tokio.
//!
//! ```text
//!  tick = 1 ms, SLOTS = 65 536 slots  →  one rotation covers 65.5 s
//!
//!  slot = (due_ms / tick) mod SLOTS          entry due at 10 000 042 ms → slot 38 538
//!  ┌────┬────┬────┬─────┬────┐
//!  │ 0  │ 1  │ …  │38538│ …  │   each slot: the (due, key) pairs of its ticks, any rotation
//!  └────┴────┴────┴─────┴────┘
//!           ▲ processed_tick: every tick up to here has been fired
//! ```
//!
//! The timer service keeps only the deadlines before its horizon (60 s by default) in the
//! wheel, so one rotation holds them all and a slot rarely holds more than one rotation's
//! entries; entries of later rotations are still correct, just re-checked.
//!
//! Rules, checked by the property test below:
//! - **Never early**: [`Wheel::advance`]`(now)` returns only entries with `due <= now`.
//! - **Never lost**: every entry with `due <= now` is returned by the first `advance(now)`,
//!   including those inserted with a deadline already past (they fire on the next advance, as
//!   in Kafka's wheel, where the current bucket "is already expired").
//! - **Never twice**: a key is held at most once; inserting it again moves it.
//! - **In order**: one `advance` returns its entries sorted by `(due, key)`.
//!
//! Costs: insert O(1), cancel O(1) (the index keeps each entry's place in its list),
//! advance O(elapsed ticks + fired), capped at one
//! full rotation however long the gap; the earliest deadline O(1) while known, and one scan
//! (up to a rotation and the entries of the slots it passes) after the earliest entry left.
//! The tokio-util `DelayQueue` is a timing wheel too, but it is driven by tokio's monotonic
//! clock and wakes a task per deadline; ours is driven by the wall clock the deadlines are
//! stored in, and fires in batches.

use crate::model::hash::FastMap;
use std::hash::Hash;

/// Slots in one rotation.
pub const SLOTS: usize = 1 << 16;
/// Milliseconds per tick.
pub const TICK_MS: i64 = 1;

/// Where an entry is: its deadline, and its place in its slot's list, or in `overdue`.
#[derive(Debug, Clone, Copy)]
struct Place {
    due_ms: i64,
    overdue: bool,
    at: u32,
}

#[derive(Debug)]
pub struct Wheel<K> {
    slots: Vec<Vec<(i64, K)>>,
    /// Where each key is, to cancel or move it without searching its list: a million
    /// deadlines at the same instant share one slot.
    index: FastMap<K, Place>,
    /// Every tick `<= processed_tick` has been fired.
    processed_tick: i64,
    /// Entries inserted with a deadline at or before `processed_tick`.
    overdue: Vec<(i64, K)>,
    /// The earliest deadline held (`Some(None)`: none), while known; `None` when an entry
    /// that may have been the earliest left, until [`Wheel::next_due`] scans again. Every
    /// commit of a timer asks for it, so it must not cost a scan each time: with a million
    /// deadlines in one slot, that scan made arming quadratic.
    earliest: Option<Option<i64>>,
}

impl<K: Copy + Eq + Hash + Ord> Wheel<K> {
    /// An empty wheel; everything due at or before `now_ms` is considered handled.
    pub fn new(now_ms: i64) -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            index: FastMap::default(),
            processed_tick: now_ms.div_euclid(TICK_MS) - 1,
            overdue: Vec::new(),
            earliest: Some(None),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn slot_of(tick: i64) -> usize {
        // rem_euclid of a positive modulus is in 0..SLOTS.
        tick.rem_euclid(SLOTS as i64) as usize
    }

    /// Add `key` due at `due_ms`; a key already present is moved to the new deadline.
    pub fn insert(&mut self, key: K, due_ms: i64) {
        self.cancel(&key);
        let tick = due_ms.div_euclid(TICK_MS);
        let overdue = tick <= self.processed_tick;
        let list = if overdue {
            &mut self.overdue
        } else {
            &mut self.slots[Self::slot_of(tick)]
        };
        let at = to_place(list.len());
        list.push((due_ms, key));
        self.index.insert(
            key,
            Place {
                due_ms,
                overdue,
                at,
            },
        );
        if let Some(known) = &mut self.earliest {
            *known = Some(known.map_or(due_ms, |e| e.min(due_ms)));
        }
    }

    /// Remove `key`; returns whether it was present.
    pub fn cancel(&mut self, key: &K) -> bool {
        let Some(place) = self.index.remove(key) else {
            return false;
        };
        if self.earliest == Some(Some(place.due_ms)) {
            self.earliest = None;
        }
        let list = if place.overdue {
            &mut self.overdue
        } else {
            &mut self.slots[Self::slot_of(place.due_ms.div_euclid(TICK_MS))]
        };
        let kept = place.at as usize;
        debug_assert!(list.get(kept).is_some_and(|(_, k)| k == key));
        // The place is always right; were it not, searching is still correct.
        let at = if list.get(kept).is_some_and(|(_, k)| k == key) {
            kept
        } else if let Some(found) = list.iter().position(|(_, k)| k == key) {
            found
        } else {
            return true;
        };
        list.swap_remove(at);
        // The list's last entry took the removed one's place.
        if let Some((_, moved)) = list.get(at) {
            if let Some(p) = self.index.get_mut(moved) {
                p.at = to_place(at);
            }
        }
        true
    }

    /// Remove and return every entry due at or before `now_ms`, in `(due, key)` order.
    pub fn advance(&mut self, now_ms: i64) -> Vec<(i64, K)> {
        let mut fired = std::mem::take(&mut self.overdue);
        let now_tick = now_ms.div_euclid(TICK_MS);
        if now_tick > self.processed_tick {
            let first = self.processed_tick + 1;
            // After a long gap, one pass over every slot sees everything.
            let last = now_tick.min(first + SLOTS as i64 - 1);
            for tick in first..=last {
                let slot = &mut self.slots[Self::slot_of(tick)];
                if slot.is_empty() {
                    continue;
                }
                let before = fired.len();
                let mut i = 0;
                while i < slot.len() {
                    if slot[i].0 <= now_ms {
                        fired.push(slot.swap_remove(i));
                    } else {
                        i += 1;
                    }
                }
                if fired.len() > before {
                    // Entries of later rotations stay, some of them moved.
                    for (at, (_, k)) in slot.iter().enumerate() {
                        if let Some(p) = self.index.get_mut(k) {
                            p.at = to_place(at);
                        }
                    }
                }
            }
            // The current tick may still receive entries due later within it.
            self.processed_tick = now_tick - 1;
        }
        for (_, k) in &fired {
            self.index.remove(k);
        }
        if !fired.is_empty() {
            self.earliest = None;
        }
        fired.sort_unstable();
        debug_assert!(fired.iter().all(|(due, _)| *due <= now_ms));
        fired
    }

    /// The earliest deadline held, if any. Known after an insert; after the earliest entry
    /// left (fired or cancelled), found by a scan forward from the processed tick, which costs
    /// at most one rotation and the entries of the slots it passes.
    pub fn next_due(&mut self) -> Option<i64> {
        if let Some(known) = self.earliest {
            return known;
        }
        let found = self.scan_earliest();
        self.earliest = Some(found);
        found
    }

    fn scan_earliest(&self) -> Option<i64> {
        if let Some(min) = self.overdue.iter().map(|(d, _)| *d).min() {
            return Some(min);
        }
        if self.index.is_empty() {
            return None;
        }
        let mut best: Option<i64> = None;
        for offset in 1..=SLOTS as i64 {
            let tick = self.processed_tick + offset;
            if let Some(b) = best {
                if tick.saturating_mul(TICK_MS) > b {
                    break;
                }
            }
            for (due, _) in &self.slots[Self::slot_of(tick)] {
                best = Some(best.map_or(*due, |b| b.min(*due)));
            }
        }
        best
    }
}

/// A place in a list, kept in 32 bits: a list of more than `u32::MAX` entries would not fit in
/// memory (and a place that did not fit would only make its cancel search the list).
fn to_place(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn fires_due_entries_in_order_and_never_early() {
        let mut w = Wheel::new(1_000);
        w.insert(3u32, 1_010);
        w.insert(1, 1_005);
        w.insert(2, 1_005);
        w.insert(4, 1_000 + SLOTS as i64 + 7); // a later rotation, same slot as tick 1007
        assert_eq!(w.advance(1_004), vec![]);
        assert_eq!(w.advance(1_007), vec![(1_005, 1), (1_005, 2)]);
        assert_eq!(w.next_due(), Some(1_010));
        assert_eq!(w.advance(1_010), vec![(1_010, 3)]);
        assert_eq!(w.len(), 1);
        assert_eq!(w.advance(1_000 + SLOTS as i64 + 6), vec![]);
        assert_eq!(
            w.advance(1_000 + SLOTS as i64 + 7),
            vec![(1_000 + SLOTS as i64 + 7, 4)]
        );
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_on_the_next_advance() {
        let mut w = Wheel::new(5_000);
        w.advance(6_000);
        w.insert(9u32, 100);
        assert_eq!(w.next_due(), Some(100));
        assert_eq!(w.advance(6_000), vec![(100, 9)]);
    }

    #[test]
    fn cancel_and_reinsert() {
        let mut w = Wheel::new(0);
        w.insert(1u32, 50);
        assert!(w.cancel(&1));
        assert!(!w.cancel(&1));
        w.insert(2, 60);
        w.insert(2, 70); // moved, not duplicated
        assert_eq!(w.advance(65), vec![]);
        assert_eq!(w.advance(70), vec![(70, 2)]);
    }

    #[test]
    fn entries_sharing_a_slot_are_cancelled_wherever_they_are_in_it() {
        let mut w = Wheel::new(0);
        let n = 10_001u32;
        for k in 0..n {
            w.insert(k, 500);
        }
        // Late, early, and then every third: each cancel moves the slot's last entry.
        for k in (0..n).filter(|k| k % 3 == 0).rev().chain([1, n - 1]) {
            assert!(w.cancel(&k), "{k}");
            assert!(!w.cancel(&k), "{k} twice");
        }
        // Moved to another deadline, and back into the same slot.
        w.insert(2, 400);
        w.insert(5, 500);
        let left: Vec<(i64, u32)> = (0..n)
            .filter(|k| k % 3 != 0 && *k != 1 && *k != n - 1 && *k != 2)
            .map(|k| (500, k))
            .collect();
        assert_eq!(w.advance(450), vec![(400, 2)]);
        assert_eq!(w.advance(500), left);
        assert!(w.is_empty());
    }

    #[test]
    fn overdue_entries_are_cancelled_wherever_they_are_in_the_list() {
        let mut w = Wheel::new(5_000);
        for k in 0..100u32 {
            w.insert(k, 100 + i64::from(k % 7));
        }
        for k in (0..100).step_by(2) {
            assert!(w.cancel(&k));
        }
        let mut want: Vec<(i64, u32)> = (0..100u32)
            .filter(|k| k % 2 == 1)
            .map(|k| (100 + i64::from(k % 7), k))
            .collect();
        want.sort_unstable();
        assert_eq!(w.advance(5_000), want);
        assert!(w.is_empty());
    }

    #[test]
    fn entries_of_a_later_rotation_left_in_a_fired_slot_can_still_be_cancelled() {
        let mut w = Wheel::new(0);
        let later = 10 + SLOTS as i64;
        for k in 0..10u32 {
            w.insert(k, if k % 2 == 0 { 10 } else { later });
        }
        assert_eq!(w.advance(10).len(), 5);
        for k in [9, 1, 5] {
            assert!(w.cancel(&k));
        }
        assert_eq!(w.advance(later), vec![(later, 3), (later, 7)]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, i64),
        Cancel(u16),
        Advance(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Deadlines from the past to beyond one rotation ahead.
            (0u16..64, -2_000i64..150_000).prop_map(|(k, d)| Op::Insert(k, d)),
            // A few instants many keys share: the same slot, or the overdue list.
            (0u16..64, -3i64..4).prop_map(|(k, d)| Op::Insert(k, d)),
            (0u16..64).prop_map(Op::Cancel),
            prop_oneof![0i64..5, 0i64..2_000, 0i64..100_000].prop_map(Op::Advance),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Against a model: fires exactly the due timers, in deadline order, never early,
        /// never twice, and loses none.
        #[test]
        fn behaves_like_a_sorted_set(ops in proptest::collection::vec(op(), 1..200)) {
            let start = 10_000i64;
            let mut now = start;
            let mut wheel = Wheel::new(now);
            let mut model: BTreeSet<(i64, u16)> = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Insert(k, rel) => {
                        let due = now + rel;
                        model.retain(|(_, key)| *key != k);
                        model.insert((due, k));
                        wheel.insert(k, due);
                    }
                    Op::Cancel(k) => {
                        let had = model.iter().any(|(_, key)| *key == k);
                        model.retain(|(_, key)| *key != k);
                        prop_assert_eq!(wheel.cancel(&k), had);
                    }
                    Op::Advance(by) => {
                        now += by;
                        let fired = wheel.advance(now);
                        let want: Vec<(i64, u16)> =
                            model.iter().copied().filter(|(d, _)| *d <= now).collect();
                        model.retain(|(d, _)| *d > now);
                        prop_assert_eq!(fired, want);
                    }
                }
                prop_assert_eq!(wheel.len(), model.len());
                prop_assert_eq!(wheel.next_due(), model.iter().next().map(|(d, _)| *d));
            }
        }
    }
}

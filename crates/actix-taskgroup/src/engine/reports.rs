//! What running actor children reported (a value or a failure, through their `Reporter`)
//! before they stopped: the outcome their end takes (DESIGN §6).
//!
//! Nearly always a child reports in its own poll and stops in the same one (`fail_and_stop`,
//! `complete_and_stop`), so the last report is kept in a slot of its own and taken back at
//! once; only a child that reports and goes on running leaves its report in the table. A
//! child that fails and is restarted thousands of times a second then costs no hashing at
//! all (the table's insert and remove were ~5% of an actor restart's instructions:
//! docs/PERFORMANCE.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::outcome::Outcome;

pub(crate) struct Reports<T> {
    /// The last report made, by child index.
    last: Option<(usize, Outcome<T>)>,
    /// Older reports of children still running.
    rest: HashMap<usize, Outcome<T>, BuildHasherDefault<IndexHasher>>,
}

impl<T> Default for Reports<T> {
    fn default() -> Self {
        Reports {
            last: None,
            rest: HashMap::default(),
        }
    }
}

impl<T> Reports<T> {
    /// Child `index` reported `outcome`; it replaces what the child reported before.
    pub(crate) fn insert(&mut self, index: usize, outcome: Outcome<T>) {
        if let Some((previous, earlier)) = self.last.take()
            && previous != index
        {
            self.rest.insert(previous, earlier);
        }
        if !self.rest.is_empty() {
            self.rest.remove(&index);
        }
        self.last = Some((index, outcome));
    }

    /// What child `index` reported, taken out.
    pub(crate) fn take(&mut self, index: usize) -> Option<Outcome<T>> {
        if let Some((last, _)) = &self.last
            && *last == index
        {
            return self.last.take().map(|(_, outcome)| outcome);
        }
        if self.rest.is_empty() {
            return None;
        }
        self.rest.remove(&index)
    }
}

/// Keys the table by child index with a multiplicative hash, not SipHash, which measured ~9%
/// of an actor restart's cost. The keys are our own ids, not input an attacker chooses.
#[derive(Default)]
pub(crate) struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_usize(&mut self, index: usize) {
        // Fibonacci hashing spreads consecutive ids over the whole word, top bits included
        // (which hashbrown's control bytes use).
        self.0 = (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_taken_back_by_its_child_only() {
        let mut reports = Reports::<u32>::default();
        reports.insert(3, Outcome::Completed(1));
        assert!(reports.take(4).is_none());
        assert!(matches!(reports.take(3), Some(Outcome::Completed(1))));
        assert!(reports.take(3).is_none());
    }

    #[test]
    fn a_later_report_of_another_child_keeps_the_earlier_one() {
        let mut reports = Reports::<u32>::default();
        reports.insert(1, Outcome::Completed(1));
        reports.insert(2, Outcome::Completed(2));
        reports.insert(1, Outcome::Completed(11));
        assert!(matches!(reports.take(2), Some(Outcome::Completed(2))));
        assert!(matches!(reports.take(1), Some(Outcome::Completed(11))));
        assert!(reports.take(1).is_none());
    }

    #[test]
    fn a_second_report_of_the_same_child_replaces_the_first() {
        let mut reports = Reports::<u32>::default();
        reports.insert(5, Outcome::Completed(1));
        reports.insert(6, Outcome::Completed(6));
        reports.insert(5, Outcome::Cancelled);
        reports.insert(5, Outcome::Completed(3));
        assert!(matches!(reports.take(5), Some(Outcome::Completed(3))));
        assert!(reports.take(5).is_none());
        assert!(matches!(reports.take(6), Some(Outcome::Completed(6))));
    }
}

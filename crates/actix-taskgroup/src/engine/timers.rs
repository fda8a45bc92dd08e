//! Every per-child timer of a group, kept by the group and run by its one driver (R11: no
//! task, and no `Sleep`, per child).
//!
//! Most timers of a group share one duration (its grace period, its start timeout, a
//! child's own timeout given to many children), and entries of one duration are due in the
//! order they were pushed: each of those is a FIFO, O(1) per entry. Restart delays vary (a
//! backoff with jitter), so they are a heap, O(log r) in the number of children waiting to
//! restart. Entries are never removed early: each names the incarnation it was set for, and
//! one for an incarnation that has since ended is skipped when it comes due.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// One timer: due `at`, for incarnation `incarnation` of the child at `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Due {
    pub(crate) at: Instant,
    pub(crate) index: usize,
    pub(crate) incarnation: u32,
}

/// What a timer that came due is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerKind {
    /// A child's own time limit (R13).
    Timeout,
    /// A child stopped on its own ran out of grace: drop it.
    Force,
    /// A child was not ready in time (R15).
    Ready,
    /// A child's restart delay is over (R12).
    Restart,
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// One FIFO per distinct per-child timeout.
    timeouts: Vec<(Duration, VecDeque<Due>)>,
    force: VecDeque<Due>,
    ready: VecDeque<Due>,
    restarts: BinaryHeap<Reverse<Due>>,
}

impl Timers {
    pub(crate) fn timeout(&mut self, duration: Duration, due: Due) {
        match self.timeouts.iter_mut().find(|(d, _)| *d == duration) {
            Some((_, queue)) => queue.push_back(due),
            None => self.timeouts.push((duration, VecDeque::from([due]))),
        }
    }

    /// A force deadline. All of a group's are its grace period after their push, hence FIFO.
    pub(crate) fn force(&mut self, due: Due) {
        self.force.push_back(due);
    }

    pub(crate) fn ready(&mut self, due: Due) {
        self.ready.push_back(due);
    }

    pub(crate) fn restart(&mut self, due: Due) {
        self.restarts.push(Reverse(due));
    }

    /// When the earliest timer is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let fronts = self
            .timeouts
            .iter()
            .filter_map(|(_, queue)| queue.front())
            .chain(self.force.front())
            .chain(self.ready.front())
            .chain(self.restarts.peek().map(|Reverse(due)| due));
        fronts.map(|due| due.at).min()
    }

    /// Takes one timer due at or before `now`, if there is one.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(TimerKind, Due)> {
        for (_, queue) in &mut self.timeouts {
            if let Some(due) = pop_front_due(queue, now) {
                return Some((TimerKind::Timeout, due));
            }
        }
        if let Some(due) = pop_front_due(&mut self.force, now) {
            return Some((TimerKind::Force, due));
        }
        if let Some(due) = pop_front_due(&mut self.ready, now) {
            return Some((TimerKind::Ready, due));
        }
        if self
            .restarts
            .peek()
            .is_some_and(|Reverse(due)| due.at <= now)
        {
            return self
                .restarts
                .pop()
                .map(|Reverse(due)| (TimerKind::Restart, due));
        }
        None
    }

    /// Forgets every timer: the group has finished.
    pub(crate) fn clear(&mut self) {
        *self = Timers::default();
    }
}

fn pop_front_due(queue: &mut VecDeque<Due>, now: Instant) -> Option<Due> {
    if queue.front().is_some_and(|due| due.at <= now) {
        queue.pop_front()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(at: Instant, index: usize) -> Due {
        Due {
            at,
            index,
            incarnation: 1,
        }
    }

    #[test]
    fn timers_come_due_in_time_order_across_kinds() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut timers = Timers::default();
        timers.timeout(ms(50), due(t0 + ms(50), 0));
        timers.timeout(ms(20), due(t0 + ms(20), 1));
        timers.force(due(t0 + ms(30), 2));
        timers.restart(due(t0 + ms(40), 3));
        timers.restart(due(t0 + ms(10), 4));
        assert_eq!(timers.next_due(), Some(t0 + ms(10)));
        assert_eq!(timers.pop_due(t0 + ms(5)), None);
        let mut fired = Vec::new();
        while let Some((kind, due)) = timers.pop_due(t0 + ms(100)) {
            fired.push((kind, due.index));
        }
        fired.sort_by_key(|(_, index)| *index);
        assert_eq!(
            fired,
            [
                (TimerKind::Timeout, 0),
                (TimerKind::Timeout, 1),
                (TimerKind::Force, 2),
                (TimerKind::Restart, 3),
                (TimerKind::Restart, 4),
            ]
        );
        assert_eq!(timers.next_due(), None);
    }
}

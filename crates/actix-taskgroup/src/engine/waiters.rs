//! Who waits on a group (its end, its readiness): one entry per waiting future, found by
//! the key the future was given, so a future polled many times with wakers that do not
//! compare equal (tokio's `LocalSet` polls its root future at every wake of the set) still
//! holds one entry, not one per poll.

use std::task::Waker;

#[derive(Default)]
pub(crate) struct Waiters {
    entries: Vec<(u64, Waker)>,
    next: u64,
}

impl Waiters {
    /// A key for a new waiting future.
    pub(crate) fn key(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Registers (or refreshes) the waker of the future with this key.
    pub(crate) fn register(&mut self, key: u64, waker: &Waker) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, known)) => {
                if !known.will_wake(waker) {
                    known.clone_from(waker);
                }
            }
            None => self.entries.push((key, waker.clone())),
        }
    }

    /// Wakes every waiter and forgets them (the group has finished, or is ready).
    pub(crate) fn wake_all(&mut self) {
        for (_, waker) in self.entries.drain(..) {
            waker.wake();
        }
    }

    /// Wakes every waiter and keeps them (a stream's next item).
    pub(crate) fn wake_each(&self) {
        for (_, waker) in &self.entries {
            waker.wake_by_ref();
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

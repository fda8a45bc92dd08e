//! How a child that waits on something is woken: its own waker puts its index on its group's
//! ready queue and wakes the group's driver.
//!
//! A waker must be `Send + Sync` (anything on any thread may wake it), so the queue is a
//! mutex and the driver is woken through an `AtomicWaker`. A child gets a waker of its own
//! only once it has returned `Pending`; most children of a large group end on their first
//! poll and never need one (docs/design-notes.md).

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;

use futures::task::{ArcWake, AtomicWaker};

/// The indices of woken children, for the driver to poll.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    woken: Mutex<Vec<usize>>,
    driver: AtomicWaker,
}

impl ReadyQueue {
    /// Registers the driver's waker: wakes from now on reach the driver's task.
    pub(crate) fn register_driver(&self, waker: &Waker) {
        self.driver.register(waker);
    }

    /// Wakes the driver (something for it came from another thread).
    pub(crate) fn wake_driver(&self) {
        self.driver.wake();
    }

    /// Moves the woken indices into `into` (which must be empty), keeping both buffers'
    /// capacity for the next exchange.
    pub(crate) fn take_woken(&self, into: &mut Vec<usize>) {
        let mut woken = self.woken.lock().unwrap_or_else(PoisonError::into_inner);
        mem::swap(&mut *woken, into);
    }
}

/// One child's waker.
pub(crate) struct ChildWaker {
    index: usize,
    queue: Arc<ReadyQueue>,
    /// Set while the child is on the queue, so that many wakes queue it once.
    queued: AtomicBool,
}

impl ChildWaker {
    pub(crate) fn new(index: usize, queue: &Arc<ReadyQueue>) -> Arc<Self> {
        Arc::new(ChildWaker {
            index,
            queue: Arc::clone(queue),
            queued: AtomicBool::new(false),
        })
    }

    /// Called before the child is polled: a wake during or after the poll queues it again.
    pub(crate) fn clear(&self) {
        self.queued.store(false, Ordering::Release);
    }

    /// The child has ended: from now on a wake is a no-op, as if it were queued already
    /// (the group never clears it again).
    pub(crate) fn retire(&self) {
        self.queued.store(true, Ordering::Release);
    }
}

// `ArcWake` rather than `std::task::Wake`: `futures::task::waker_ref` then lends a child
// its waker for each poll without touching the reference count.
impl ArcWake for ChildWaker {
    fn wake_by_ref(this: &Arc<Self>) {
        if !this.queued.swap(true, Ordering::AcqRel) {
            let mut woken = this
                .queue
                .woken
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            woken.push(this.index);
            drop(woken);
            this.queue.driver.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn woken(queue: &ReadyQueue) -> Vec<usize> {
        let mut into = Vec::new();
        queue.take_woken(&mut into);
        into
    }

    #[test]
    fn a_wake_queues_a_child_once_until_it_is_polled_again() {
        let queue = Arc::new(ReadyQueue::default());
        let waker = ChildWaker::new(7, &queue);
        waker.clear();
        ArcWake::wake_by_ref(&waker);
        ArcWake::wake_by_ref(&waker);
        assert_eq!(woken(&queue), [7]);
        waker.clear();
        ArcWake::wake_by_ref(&waker);
        assert_eq!(woken(&queue), [7]);
    }

    #[test]
    fn a_wake_of_an_ended_child_queues_nothing() {
        let queue = Arc::new(ReadyQueue::default());
        let waker = ChildWaker::new(3, &queue);
        waker.clear();
        waker.retire();
        // As when the last address of an ended actor child is dropped.
        ArcWake::wake_by_ref(&waker);
        ArcWake::wake_by_ref(&waker);
        assert!(woken(&queue).is_empty());
    }
}

//! A batch of messages from one thread to another: the writer appends many at once under
//! a lock held for a swap or a copy, and wakes the reader only when the mailbox was empty
//! (the reader takes everything there is whenever it runs). One wake per batch instead of
//! one per message is what lets children cross threads cheaply (docs/PERFORMANCE.md).

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

pub(crate) struct Mailbox<M> {
    inner: Mutex<Inner<M>>,
    /// A copy of `Inner::closed`, for a check without the lock.
    closed: AtomicBool,
}

struct Inner<M> {
    items: Vec<M>,
    closed: bool,
}

/// What became of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    /// The mailbox was empty: the reader must be woken.
    Wake,
    /// It held mail already: the reader was woken for that and takes this too.
    Queued,
    /// The reader is gone: the messages were left with the writer.
    Closed,
}

impl<M> Default for Mailbox<M> {
    fn default() -> Self {
        Mailbox {
            inner: Mutex::new(Inner {
                items: Vec::new(),
                closed: false,
            }),
            closed: AtomicBool::new(false),
        }
    }
}

impl<M> Mailbox<M> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<M>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves every message of `items` in (unless the mailbox is closed: then they stay).
    /// `items` keeps a buffer for the writer's next batch.
    pub(crate) fn post(&self, items: &mut Vec<M>) -> Posted {
        if items.is_empty() {
            return Posted::Queued;
        }
        let mut inner = self.lock();
        if inner.closed {
            return Posted::Closed;
        }
        if inner.items.is_empty() {
            // The reader's last buffer comes back to the writer: no copy, no allocation.
            mem::swap(&mut inner.items, items);
            Posted::Wake
        } else {
            inner.items.append(items);
            Posted::Queued
        }
    }

    /// Posts one message; `Err` gives it back if the mailbox is closed.
    pub(crate) fn post_one(&self, item: M) -> Result<Posted, M> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(item);
        }
        inner.items.push(item);
        Ok(if inner.items.len() == 1 {
            Posted::Wake
        } else {
            Posted::Queued
        })
    }

    /// Takes every message posted so far into `into`, which must be empty (its buffer goes
    /// back to the writer).
    pub(crate) fn take(&self, into: &mut Vec<M>) {
        debug_assert!(into.is_empty());
        mem::swap(&mut self.lock().items, into);
    }

    /// Refuses every later post, and returns the messages never taken.
    pub(crate) fn close(&self) -> Vec<M> {
        let mut inner = self.lock();
        inner.closed = true;
        self.closed.store(true, Ordering::Release);
        mem::take(&mut inner.items)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_post_to_an_empty_mailbox_asks_for_a_wake() {
        let mailbox = Mailbox::default();
        let mut batch = vec![1, 2];
        assert_eq!(mailbox.post(&mut batch), Posted::Wake);
        assert!(batch.is_empty());
        batch.push(3);
        assert_eq!(mailbox.post(&mut batch), Posted::Queued);
        assert_eq!(mailbox.post_one(4), Ok(Posted::Queued));
        let mut taken = Vec::new();
        mailbox.take(&mut taken);
        assert_eq!(taken, [1, 2, 3, 4]);
        assert_eq!(mailbox.post_one(5), Ok(Posted::Wake));
    }

    #[test]
    fn a_closed_mailbox_gives_back_what_it_never_delivered_and_refuses_the_rest() {
        let mailbox = Mailbox::default();
        let mut batch = vec![1];
        mailbox.post(&mut batch);
        assert_eq!(mailbox.close(), [1]);
        assert!(mailbox.is_closed());
        batch.push(2);
        assert_eq!(mailbox.post(&mut batch), Posted::Closed);
        assert_eq!(batch, [2]);
        assert_eq!(mailbox.post_one(3), Err(3));
    }
}

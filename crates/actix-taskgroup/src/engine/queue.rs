//! Start slots (R14): with a concurrency limit of N, at most N children run; the rest wait
//! in FIFO order and start as slots free. With a sequential start, a child starts only once
//! every child started before it is ready (OTP's start order, R15).
//!
//! A queued child's body is made at spawn (its address exists, messages wait in its mailbox)
//! but its factory runs only when it starts, on its first poll. A child waiting to restart
//! keeps its slot, so a limit of N means at most N children running or about to restart.

use std::collections::VecDeque;

use crate::child::ChildId;
use crate::engine::child::BoxedChild;
use crate::engine::events;
use crate::engine::scope::{Scope, State};
use crate::engine::spec::ChildSpec;

#[derive(Debug, Default)]
pub(crate) struct StartQueue {
    /// Children holding a start slot (counted only under a limit).
    pub(crate) running: usize,
    /// Children waiting to start, oldest first. An entry whose child has since been
    /// cancelled is skipped when it reaches the front.
    pub(crate) waiting: VecDeque<usize>,
}

impl<T: 'static> Scope<T> {
    /// Whether a new child may start at once, ahead of nobody.
    pub(crate) fn may_start_now(&self, state: &State<T>) -> bool {
        state.queue.waiting.is_empty() && self.slot_free(state)
    }

    fn slot_free(&self, state: &State<T>) -> bool {
        let under_limit = self
            .config
            .limit
            .is_none_or(|limit| state.queue.running < limit.get());
        under_limit && (!self.config.sequential || state.readiness.unready == 0)
    }

    /// Puts an admitted child in the queue; it starts when a slot frees.
    pub(crate) fn enqueue(&self, state: &mut State<T>, id: ChildId, body: BoxedChild<T>) {
        let index = id.index();
        if state.specs.len() <= index {
            state.specs.resize_with(index + 1, || None);
        }
        let spec =
            state.specs[index].get_or_insert_with(|| Box::new(ChildSpec::new(Default::default())));
        spec.queued = Some(body);
        state.queue.waiting.push_back(index);
        events::queued(self, state, id);
    }

    /// Starts queued children while slots are free, in FIFO order. Returns whether the
    /// group has just become ready (a sequential start whose last child started ready).
    pub(crate) fn dequeue(&self, state: &mut State<T>) -> bool {
        let mut started = false;
        while self.slot_free(state) {
            let Some(index) = state.queue.waiting.pop_front() else {
                break;
            };
            let body = state.spec_mut(index).and_then(|spec| spec.queued.take());
            if let Some(body) = body {
                self.start_incarnation(state, ChildId::new(index), body, false);
                state.wake_driver();
                started = true;
            }
        }
        started && self.ready_changed(state)
    }
}

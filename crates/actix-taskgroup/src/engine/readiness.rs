//! Readiness (R15): a child is ready once started (a future), once `started()` has returned
//! (an actor), or when it says so (a child that signals readiness, a nested group once all of
//! its own children are ready). The group is ready when every started child is, and, under a
//! sequential start, none is still waiting to start.
//!
//! The group counts its children that are not ready, so every check is O(1). A child not
//! ready within the group's start timeout fails the group (DESIGN §6).

use std::sync::Arc;
use std::task::{Context, Poll};

use crate::child::ChildId;
use crate::engine::events;
use crate::engine::scope::{Name, Phase, Scope, State, StopReason};
use crate::engine::timers::Due;
use crate::engine::waiters::Waiters;
use crate::error::{ChildFailure, FailureKind, GroupErrorKind, ReadyError};

#[derive(Default)]
pub(crate) struct Readiness {
    /// Started children (current incarnations) that are not ready yet.
    pub(crate) unready: usize,
    /// Children that failed before they were ready.
    pub(crate) failed: Vec<(ChildId, Option<Name>)>,
    /// Children not ready within the start timeout.
    pub(crate) timed_out: Vec<(ChildId, Option<Name>)>,
    pub(crate) waiters: Waiters,
    /// Whether to tell `hook` when the group becomes ready: set by a supervisor once its
    /// builder's children are all spawned, so that it is not ready half-built.
    pub(crate) announce: bool,
    pub(crate) announced: bool,
    /// Told once, when the group becomes ready (a nested group tells its parent).
    pub(crate) hook: Option<Box<dyn FnOnce()>>,
}

/// How a child stopped counting as not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unready {
    Ready,
    Ended { failed: bool },
}

impl Readiness {
    pub(crate) fn wake_all(&mut self) {
        self.waiters.wake_all();
    }
}

impl<T: 'static> Scope<T> {
    /// A child's new incarnation is not ready until it says so, or until its first poll.
    pub(crate) fn count_unready(&self, state: &mut State<T>, index: usize) {
        state.readiness.unready += 1;
        if let Some(timeout) = self.config.ready_timeout {
            let at = state.now() + timeout;
            let incarnation = state.incarnation(index);
            state.timers.ready(Due {
                at,
                index,
                incarnation,
            });
            state.wake_driver();
        }
    }

    /// A child counted as not ready is no longer: it became ready, or its incarnation ended
    /// (`Ended(true)` if it failed before it was ready). Returns whether the group has just
    /// become ready.
    pub(crate) fn uncount_unready(&self, state: &mut State<T>, index: usize, how: Unready) -> bool {
        state.readiness.unready = state.readiness.unready.saturating_sub(1);
        match how {
            Unready::Ready => {
                if let Some(spec) = state.spec_mut(index) {
                    spec.ready = true;
                }
                events::ready(self, state, ChildId::new(index));
            }
            Unready::Ended { failed: true } => self.failed_unready(state, index),
            Unready::Ended { failed: false } => {}
        }
        if self.config.sequential && state.phase == Phase::Open {
            self.dequeue(state);
        }
        self.ready_changed(state)
    }

    /// A child that signals readiness says it is ready (its reporter, its control, a nested
    /// group's own readiness).
    pub(crate) fn mark_ready(&self, id: ChildId, incarnation: u32) {
        let announce = {
            let mut state = self.state.borrow_mut();
            let index = id.index();
            let counted = state.is_live(index)
                && state.incarnation(index) == incarnation
                && state.spec(index).is_some_and(|spec| spec.counted_unready);
            if !counted {
                return;
            }
            if let Some(spec) = state.spec_mut(index) {
                spec.counted_unready = false;
            }
            self.uncount_unready(&mut state, index, Unready::Ready)
        };
        if announce {
            self.announce_ready();
        }
    }

    /// An actor child's first poll has run its `started()`: it is ready (unless it signals).
    pub(crate) fn first_poll_done(&self, id: ChildId) {
        let announce = {
            let mut state = self.state.borrow_mut();
            self.uncount_unready(&mut state, id.index(), Unready::Ready)
        };
        if announce {
            self.announce_ready();
        }
    }

    /// Ready: no counted child is unready, every new child has had its first poll (a plain
    /// actor child is ready once polled, a plain future at once), and under a sequential
    /// start none waits to start.
    pub(crate) fn is_ready(&self, state: &State<T>) -> bool {
        state.readiness.unready == 0
            && state.next_fresh == state.children.len()
            && (!self.config.sequential || state.queue.waiting.is_empty())
    }

    /// The driver has polled every new child once: tell whoever waits if that made the
    /// group ready.
    pub(crate) fn fresh_children_polled(&self) {
        let announce = {
            let mut state = self.state.borrow_mut();
            let watched = !state.readiness.waiters.is_empty()
                || (state.readiness.announce && !state.readiness.announced);
            watched && self.ready_changed(&mut state)
        };
        if announce {
            self.announce_ready();
        }
    }

    /// Child `index` failed before it was ready: it is listed once (a permanent child that
    /// fails in every first poll would otherwise grow the list by one per restart, for as
    /// long as the group runs), and the waiters are told.
    pub(crate) fn failed_unready(&self, state: &mut State<T>, index: usize) {
        if let Some(spec) = state.spec_mut(index) {
            if spec.failed_unready {
                return;
            }
            spec.failed_unready = true;
        }
        // With its name: the names table goes to the report when the group ends, and a
        // readiness error asked for after that still names the child.
        let name = state.name(index).cloned();
        state.readiness.failed.push((ChildId::new(index), name));
        state.readiness.wake_all();
    }

    /// Wakes the readiness waiters if the group is ready; returns whether it has just become
    /// ready for the first time with someone to tell.
    #[inline]
    pub(crate) fn ready_changed(&self, state: &mut State<T>) -> bool {
        if !self.is_ready(state) {
            return false;
        }
        if !state.readiness.waiters.is_empty() {
            state.readiness.wake_all();
        }
        if state.readiness.announce && !state.readiness.announced {
            state.readiness.announced = true;
            return state.readiness.hook.is_some();
        }
        false
    }

    /// Starts telling the hook (a supervisor calls this once its builder's children are
    /// spawned), and tells it at once if the group is already ready.
    pub(crate) fn enable_ready_announcement(&self) {
        let announce = {
            let mut state = self.state.borrow_mut();
            state.readiness.announce = true;
            self.ready_changed(&mut state)
        };
        if announce {
            self.announce_ready();
        }
    }

    pub(crate) fn on_ready(&self, hook: Box<dyn FnOnce()>) {
        self.state.borrow_mut().readiness.hook = Some(hook);
    }

    pub(crate) fn announce_ready(&self) {
        let hook = self.state.borrow_mut().readiness.hook.take();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Ready once every started child is (R15); an error if one failed first, was not ready
    /// in time, or the group ended before it was ready.
    /// A key for a future that will wait for the group's readiness.
    pub(crate) fn ready_key(&self) -> u64 {
        self.state.borrow_mut().readiness.waiters.key()
    }

    pub(crate) fn poll_ready(
        &self,
        key: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ReadyError>> {
        let mut state = self.state.borrow_mut();
        let named = |children: &[(ChildId, Option<Name>)]| -> Vec<(ChildId, Option<String>)> {
            children
                .iter()
                .map(|(id, name)| (*id, name.as_deref().map(str::to_string)))
                .collect()
        };
        if !state.readiness.timed_out.is_empty() {
            let children = named(&state.readiness.timed_out);
            return Poll::Ready(Err(ReadyError::TimedOut { children }));
        }
        if !state.readiness.failed.is_empty() {
            let children = named(&state.readiness.failed);
            return Poll::Ready(Err(ReadyError::Failed { children }));
        }
        if self.is_ready(&state) {
            return Poll::Ready(Ok(()));
        }
        if state.phase != Phase::Open {
            return Poll::Ready(Err(ReadyError::Stopped));
        }
        state.readiness.waiters.register(key, cx.waker());
        Poll::Pending
    }

    /// A child's start timeout passed: if it is still not ready, the group fails (§6).
    pub(crate) fn on_ready_due(&self, due: Due) {
        let start_failed = {
            let mut state = self.state.borrow_mut();
            let index = due.index;
            let counted = match state.spec(index) {
                Some(spec) if spec.counted_unready => true,
                _ => state
                    .children
                    .get(index)
                    .and_then(Option::as_ref)
                    .is_some_and(|task| task.counts_unready()),
            };
            let late =
                counted && state.is_live(index) && state.incarnation(index) == due.incarnation;
            let open_or_timing_out = state.phase == Phase::Open
                || state.stop_cause == Some(GroupErrorKind::StartTimedOut);
            if !late || !open_or_timing_out {
                return;
            }
            let id = ChildId::new(index);
            let name = state.name(index).cloned();
            let timeout = self.config.ready_timeout.unwrap_or_default();
            let cause = anyhow::anyhow!("not ready within {timeout:?}");
            state.failures.push(ChildFailure::new(
                id,
                name.clone(),
                FailureKind::TimedOut,
                Arc::new(cause),
            ));
            state.spec_or_default(index).failure_recorded = true;
            state.readiness.timed_out.push((id, name));
            state.readiness.wake_all();
            state.phase == Phase::Open
        };
        self.stop_solo(due.index, crate::engine::spec::SoloStop::TimedOut);
        if start_failed {
            self.stop(
                Some(GroupErrorKind::StartTimedOut),
                StopReason::StartTimedOut,
            );
        }
    }
}

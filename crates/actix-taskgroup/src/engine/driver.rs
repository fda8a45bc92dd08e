//! The one runtime task of a group (R11): polls new and woken children, records each one's
//! end, and runs every timer of the group (its deadline, its grace period, the per-child
//! timers). It ends when the group has finished.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

use crate::child::ChildId;
use crate::engine::child::Polled;
use crate::engine::ending::Ended;
use crate::engine::scope::{Phase, Scope, StopReason};
use crate::engine::timers::TimerKind;
use crate::error::GroupErrorKind;

/// How many children the driver polls before it lets the arbiter run other tasks.
const POLL_BUDGET: usize = 256;

pub(crate) struct Driver<T> {
    scope: Rc<Scope<T>>,
    /// Armed at the group's earliest timer.
    timer: Option<Pin<Box<Sleep>>>,
    armed_at: Option<Instant>,
}

impl<T> Driver<T> {
    pub(crate) fn new(scope: Rc<Scope<T>>) -> Self {
        Driver {
            scope,
            timer: None,
            armed_at: None,
        }
    }
}

impl<T: 'static> Future for Driver<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let scope = Rc::clone(&this.scope);
        // Children polled here run inside the group's span: a nested group made by one has
        // its span inside this one (R16). Entering a disabled span does nothing.
        let _span = scope.span.enter();
        loop {
            if scope.drive_children(cx, Driving::Task).is_ready() {
                return Poll::Ready(());
            }
            if this.poll_timers(cx).is_ready() {
                continue;
            }
            return Poll::Pending;
        }
    }
}

/// Who polls the children: the group's own driver task, or its owner's `join`, which then
/// polls them inline as a `FuturesUnordered` is polled by its owner (no task hop per wake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driving {
    Task,
    Join,
}

/// Held by a join while it drives the children: when the join ends, finished or dropped,
/// the driver task takes them back, so a dropped join leaves no child unpolled.
pub(crate) struct JoinDriving<'a, T>(&'a Scope<T>);

impl<'a, T> JoinDriving<'a, T> {
    pub(crate) fn new(scope: &'a Scope<T>) -> Self {
        JoinDriving(scope)
    }
}

impl<T> Drop for JoinDriving<'_, T> {
    fn drop(&mut self) {
        let mut state = self.0.state.borrow_mut();
        state.join_drives = false;
        state.join_waker = None;
        if let Some(waker) = state.driver_waker.take() {
            waker.wake();
        }
    }
}

impl<T: 'static> Scope<T> {
    /// Polls new and woken children until none is left to poll this turn (or the poll
    /// budget is spent), then registers `cx` to be woken when one is. Ready once the group
    /// has finished. While the owner's join drives, the driver task keeps the timers but
    /// does not take the children's wakes away from the join.
    pub(crate) fn drive_children(&self, cx: &mut Context<'_>, driving: Driving) -> Poll<()> {
        let takes_wakes = {
            let mut state = self.state.borrow_mut();
            if driving == Driving::Join {
                state.join_drives = true;
            }
            // A new turn of the event loop: times read from here on are fresh.
            state.clock = None;
            driving == Driving::Join || !state.join_drives
        };
        if takes_wakes {
            self.ready.register_driver(cx.waker());
        }
        let mut budget = POLL_BUDGET;
        loop {
            let next = {
                let mut state = self.state.borrow_mut();
                if state.phase == Phase::Finished {
                    return Poll::Ready(());
                }
                state.next_to_poll(&self.ready)
            };
            if let Some((index, last_fresh)) = next {
                self.poll_child(index);
                if last_fresh {
                    // Every new child has had its first poll: plain actors are ready.
                    self.fresh_children_polled();
                }
                budget -= 1;
                if budget == 0 {
                    // Let the arbiter's other tasks run; carry on at the next turn.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                continue;
            }
            // Nothing left to poll: what the pool's arbiters sent, in one batch (ends
            // arrive this way, not through wakers), and this turn's launches out.
            if self.pump_pool() {
                continue;
            }
            let mut state = self.state.borrow_mut();
            if state.phase == Phase::Finished {
                return Poll::Ready(());
            }
            if state.idle() {
                // Both the task and a driving join are woken by new work and by the end:
                // the task for its timers (and to drop its hold on the scope), the join
                // for new children.
                let slot = match driving {
                    Driving::Task => &mut state.driver_waker,
                    Driving::Join => &mut state.join_waker,
                };
                match slot {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
                // Spawns before the next turn read the clock afresh.
                state.clock = None;
                return Poll::Pending;
            }
        }
    }
}

impl<T: 'static> Driver<T> {
    /// Ready when a timer came due and was handled.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let earliest = {
            let state = self.scope.state.borrow();
            let deadline = state.deadline.filter(|_| state.phase == Phase::Open);
            let grace = state.grace_deadline.filter(|_| !state.grace_over);
            [deadline, grace, state.timers.next_due()]
                .into_iter()
                .flatten()
                .min()
        };
        let Some(at) = earliest else {
            self.timer = None;
            self.armed_at = None;
            return Poll::Pending;
        };
        if self.armed_at != Some(at) {
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(at),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
            }
            self.armed_at = Some(at);
        }
        let Some(timer) = self.timer.as_mut() else {
            return Poll::Pending;
        };
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.armed_at = None;
        self.fire(Instant::now());
        Poll::Ready(())
    }

    /// Handles every timer due at `now`.
    fn fire(&mut self, now: Instant) {
        let scope = &self.scope;
        let deadline_passed = {
            let mut state = scope.state.borrow_mut();
            state.clock = None;
            let passed = state.phase == Phase::Open && state.deadline.is_some_and(|d| d <= now);
            if passed {
                state.deadline = None;
            }
            passed
        };
        if deadline_passed {
            // R13: whatever still runs is cancelled; the group's error is of kind timed-out.
            scope.stop(Some(GroupErrorKind::TimedOut), StopReason::Deadline);
        }
        let grace_passed = {
            let state = scope.state.borrow();
            !state.grace_over && state.grace_deadline.is_some_and(|d| d <= now)
        };
        if grace_passed {
            scope.grace_over();
        }
        loop {
            let due = {
                let mut state = scope.state.borrow_mut();
                if state.phase == Phase::Finished {
                    return;
                }
                state.timers.pop_due(now)
            };
            let Some((kind, due)) = due else {
                return;
            };
            match kind {
                TimerKind::Timeout => scope.on_timeout_due(due),
                TimerKind::Force => scope.on_force_due(due),
                TimerKind::Ready => scope.on_ready_due(due),
                TimerKind::Restart => scope.on_restart_due(due),
            }
        }
    }
}

impl<T: 'static> Scope<T> {
    /// Polls one child, and records its end or returns it to its slot.
    pub(crate) fn poll_child(&self, index: usize) {
        // A stale wake (the child has ended) or a child being stopped finds nothing here.
        let Some(mut task) = self.state.borrow_mut().take_child(index, |_| true) else {
            return;
        };
        let id = ChildId::new(index);
        let first_poll = !task.polled_before();
        match task.poll(id, &self.ready) {
            Polled::Ended(outcome) => {
                let unready = task.take_first_poll_done();
                self.incarnation_ended(
                    id,
                    outcome,
                    Ended {
                        unready,
                        first_poll,
                    },
                );
            }
            Polled::Pending => {
                if task.take_first_poll_done() {
                    self.first_poll_done(id);
                }
                self.put_back(id, task);
            }
            Polled::Repoll => {
                if task.take_first_poll_done() {
                    self.first_poll_done(id);
                }
                self.state.borrow_mut().woken.push(index);
                self.put_back(id, task);
            }
        }
    }
}

//! The two-phase stop (R2, DESIGN §6 "Shutdown order"): in one tick, every child is asked to
//! stop in reverse start order (newest first); a future that cannot stop by itself is dropped
//! there and then, an actor runs its `stopping()` and `stopped()` at once. One grace deadline
//! is shared by all; whoever is still running then is dropped, newest first, except nested
//! groups, which stop their own children first.
//!
//! A single child can be stopped the same way on its own (its time limit, a restart
//! strategy), with a force deadline of its own.

use crate::child::ChildId;
use crate::engine::child::ChildTask;
use crate::engine::events;
use crate::engine::panic::drop_catching_panic;
use crate::engine::scope::{Phase, Scope, StopReason};
use crate::engine::spec::SoloStop;
use crate::engine::timers::Due;
use crate::error::GroupErrorKind;
use crate::outcome::Outcome;

impl<T: 'static> Scope<T> {
    /// Stops the group (R2, R6): refuses new children and asks every child to stop, newest
    /// first. `cause` is the group's error kind (`None`: it ends without an error). Does
    /// nothing if the group is already stopping or finished: the first cause stands.
    pub(crate) fn stop(&self, cause: Option<GroupErrorKind>, reason: StopReason) {
        let count = {
            let mut state = self.state.borrow_mut();
            if state.phase != Phase::Open {
                return;
            }
            state.phase = Phase::Stopping;
            state.stop_cause = cause;
            state.stop_reason = Some(reason);
            // Restarts planned now will not happen (R12).
            state.batch = None;
            let now = state.now();
            state.grace_deadline = Some(now + self.config.grace);
            events::group_stopping(self, reason);
            state.children.len()
        };
        for index in (0..count).rev() {
            self.stop_one(index);
        }
        let effects = {
            let mut state = self.state.borrow_mut();
            state.wake_driver();
            self.end_check(&mut state)
        };
        self.act(effects);
    }

    /// Asks one child to stop as part of the group's stop (or, on a pool arbiter, as its
    /// group at home asked).
    pub(crate) fn stop_one(&self, index: usize) {
        let id = ChildId::new(index);
        // A child that never started (queued, R14) or waits to be started again (R12) is
        // cancelled without running: its factory is never called.
        let idle = {
            let mut state = self.state.borrow_mut();
            if !state.is_live(index) {
                return;
            }
            match state.spec_mut(index) {
                Some(spec) if spec.queued.is_some() => Some(spec.queued.take()),
                Some(spec) if spec.awaiting_restart => Some(None),
                _ => None,
            }
        };
        if let Some(queued) = idle {
            let outcome = match queued.and_then(drop_catching_panic) {
                Some(message) => Outcome::Panicked(message),
                None => Outcome::Cancelled,
            };
            let effects = {
                let mut state = self.state.borrow_mut();
                self.finalize(&mut state, id, outcome, None)
            };
            self.act(effects);
            return;
        }
        // Children already asked (stopping on their own) keep their stop under way.
        let task = self
            .state
            .borrow_mut()
            .take_child(index, |task| !task.stop_asked());
        if let Some(task) = task {
            self.ask(id, task, None);
        }
    }

    /// Asks a child to stop and keeps it until it has: `solo` says it is stopped on its own,
    /// which arms its own force deadline.
    fn ask(&self, id: ChildId, mut task: ChildTask<T>, solo: Option<SoloStop>) {
        {
            let state = self.state.borrow();
            let reason = match solo {
                Some(SoloStop::TimedOut) => "timed out",
                Some(SoloStop::Strategy) => "restart strategy",
                None => state.stop_reason.map_or("stopping", StopReason::as_str),
            };
            events::stopping(self, &state, id, reason);
        }
        let ended = match task.remote_arbiter() {
            // It runs on a pool arbiter with no body here: told over there; its end comes
            // back from there.
            Some(arbiter) => {
                self.order_remote(id, &mut task, arbiter, false);
                None
            }
            None => task.ask_to_stop(id, &self.ready),
        };
        match ended {
            Some(outcome) => self.child_ended(id, outcome),
            None => {
                let mut state = self.state.borrow_mut();
                if solo.is_some() && task.is_forceable() {
                    let at = state.now() + self.config.grace;
                    let incarnation = state.incarnation(id.index());
                    state.timers.force(Due {
                        at,
                        index: id.index(),
                        incarnation,
                    });
                    state.wake_driver();
                }
                if let Some(slot) = state.children.get_mut(id.index()) {
                    *slot = Some(task);
                }
            }
        }
    }

    /// Stops one child on its own: its time limit passed, or a restart strategy takes it.
    pub(crate) fn stop_solo(&self, index: usize, why: SoloStop) {
        let task = {
            let mut state = self.state.borrow_mut();
            if !state.is_live(index) {
                return;
            }
            state.spec_or_default(index).solo_stop = Some(why);
            // A child being polled right now is asked when it is put back.
            state.take_child(index, |task| !task.stop_asked())
        };
        if let Some(task) = task {
            self.ask(ChildId::new(index), task, Some(why));
        }
    }

    /// A child's own time limit passed (R13).
    pub(crate) fn on_timeout_due(&self, due: Due) {
        let current = {
            let state = self.state.borrow();
            state.phase == Phase::Open
                && state.is_live(due.index)
                && state.incarnation(due.index) == due.incarnation
                && state
                    .spec(due.index)
                    .is_some_and(|spec| spec.solo_stop.is_none() && !spec.awaiting_restart)
        };
        if current {
            self.stop_solo(due.index, SoloStop::TimedOut);
        }
    }

    /// A child stopped on its own ran out of grace: it is dropped.
    pub(crate) fn on_force_due(&self, due: Due) {
        let task = {
            let mut state = self.state.borrow_mut();
            if !state.is_live(due.index) || state.incarnation(due.index) != due.incarnation {
                return;
            }
            state.take_child(due.index, |task| {
                task.stop_asked() && task.is_forceable() && !task.force_asked()
            })
        };
        if let Some(task) = task {
            self.force(ChildId::new(due.index), task);
        }
    }

    /// Ends one running child now, as its group at home asked (a child on a pool arbiter).
    pub(crate) fn force_one(&self, index: usize) {
        let task = self
            .state
            .borrow_mut()
            .take_child(index, |task| task.is_forceable() && !task.force_asked());
        if let Some(task) = task {
            self.force(ChildId::new(index), task);
        }
    }

    /// Ends a child that ran out of grace: dropped now, or, if it ends by itself shortly
    /// (a proxy for a child on another arbiter), kept until it has.
    fn force(&self, id: ChildId, mut task: ChildTask<T>) {
        events::force_stopped(self, &self.state.borrow(), id);
        let ended = match task.remote_arbiter() {
            Some(arbiter) => {
                self.order_remote(id, &mut task, arbiter, true);
                None
            }
            None => task.force(),
        };
        match ended {
            Some(outcome) => self.child_ended(id, outcome),
            None => {
                if let Some(slot) = self.state.borrow_mut().children.get_mut(id.index()) {
                    *slot = Some(task);
                }
            }
        }
    }

    /// Drops a child now, whatever it is: its group is being dropped.
    fn drop_now(&self, id: ChildId, mut task: ChildTask<T>) {
        if let Some(arbiter) = task.remote_arbiter() {
            // Nobody can wait: dropped over there, and cancelled here now.
            self.order_remote(id, &mut task, arbiter, true);
            self.child_ended(id, Outcome::Cancelled);
            return;
        }
        if let Some(outcome) = task.cancel() {
            self.child_ended(id, outcome);
        }
    }

    /// Orders a child with no body here (`ChildTask::remote`) to stop, or to be dropped,
    /// on its arbiter.
    fn order_remote(&self, id: ChildId, task: &mut ChildTask<T>, arbiter: usize, force: bool) {
        task.ordered(force);
        let incarnation = self.state.borrow().incarnation(id.index());
        let link = self.pool.borrow().clone();
        if let Some(link) = link {
            link.order(arbiter, id, incarnation, force);
        }
    }

    /// Returns a child that is still running to its slot, unless the group has meanwhile
    /// asked it to stop (then it is asked now) or to be dropped (then it is).
    pub(crate) fn put_back(&self, id: ChildId, task: ChildTask<T>) {
        let (ask, solo, drop_now) = {
            let state = self.state.borrow();
            let solo = state.spec(id.index()).and_then(|spec| spec.solo_stop);
            let stopping = state.phase != Phase::Open || solo.is_some();
            let drop_now = state.force_all || (state.grace_over && task.is_forceable());
            (stopping && !task.stop_asked(), solo, drop_now)
        };
        if drop_now && !task.force_asked() {
            if self.state.borrow().force_all {
                self.drop_now(id, task);
            } else {
                self.force(id, task);
            }
            return;
        }
        if ask {
            let solo = if self.state.borrow().phase == Phase::Open {
                solo
            } else {
                None
            };
            self.ask(id, task, solo);
            return;
        }
        if let Some(slot) = self.state.borrow_mut().children.get_mut(id.index()) {
            *slot = Some(task);
        }
    }

    /// The grace period is over: drops every child still running, newest first; nested
    /// groups too if `all` (the supervisor itself is being dropped).
    pub(crate) fn drop_children(&self, all: bool) {
        let count = self.state.borrow().children.len();
        for index in (0..count).rev() {
            let task = self.state.borrow_mut().take_child(index, |task| {
                all || (task.is_forceable() && !task.force_asked())
            });
            if let Some(task) = task {
                if all {
                    self.drop_now(ChildId::new(index), task);
                } else {
                    self.force(ChildId::new(index), task);
                }
            }
        }
        let effects = self.end_check(&mut self.state.borrow_mut());
        self.act(effects);
    }

    /// The grace deadline has come.
    pub(crate) fn grace_over(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.grace_deadline = None;
            state.grace_over = true;
        }
        self.drop_children(false);
    }

    /// Stops and drops every child now, nested groups included: the supervisor is being
    /// dropped, so nothing can be waited for (no orphans).
    pub(crate) fn force_stop(&self) {
        if self.is_finished() {
            return;
        }
        self.stop(Some(GroupErrorKind::Cancelled), StopReason::OwnerGone);
        self.state.borrow_mut().force_all = true;
        self.drop_children(true);
    }
}

//! What happens when a child's incarnation ends: it is started again (R12, in
//! `restarting.rs`), or its outcome becomes final and the group's policy sees it (R2, R3, the
//! race), and then perhaps the group itself ends (its end condition, DESIGN §6).
//!
//! Every decision here is made under one borrow of the state and returns the [`Effects`]
//! that run user code (stopping children, telling a parent), which the caller applies once
//! the borrow is released.

use std::mem;

use crate::child::{ChildId, ChildKind};
use crate::engine::events;
use crate::engine::readiness::Unready;
use crate::engine::scope::{Phase, Scope, State, StopReason};
use crate::engine::spec::SoloStop;
use crate::error::{ChildFailure, GroupErrorKind};
use crate::outcome::Outcome;
use crate::policy::{EndCondition, Policy};

/// How a child stood when its incarnation ended, as the driver saw it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Ended {
    /// An actor child with a spec, counted as not ready until its first poll, ended in it.
    pub(crate) unready: bool,
    /// It ended in its first poll.
    pub(crate) first_poll: bool,
}

/// What must happen once the state's borrow is released. Small and `Copy`: every child's
/// end returns one. (Bystanders a restart strategy stops wait in `State::solo_stops`.)
#[derive(Default, Clone, Copy)]
#[must_use]
pub(crate) struct Effects {
    /// Stop the whole group, with this cause (`None`: it ends without an error).
    pub(crate) stop: Option<(Option<GroupErrorKind>, StopReason)>,
    /// The group has just become ready: tell whoever asked (a parent group).
    pub(crate) announce_ready: bool,
    /// Stop the children waiting in `State::solo_stops`.
    pub(crate) stop_bystanders: bool,
}

impl Effects {
    fn stop(cause: Option<GroupErrorKind>, reason: StopReason) -> Self {
        Effects {
            stop: Some((cause, reason)),
            ..Effects::default()
        }
    }
}

impl<T: 'static> Scope<T> {
    /// Applies the effects of a decision, with no borrow held.
    #[inline]
    pub(crate) fn act(&self, effects: Effects) {
        if effects.stop.is_none() && !effects.announce_ready && !effects.stop_bystanders {
            return;
        }
        self.act_slow(effects);
    }

    fn act_slow(&self, effects: Effects) {
        loop {
            let next = self.state.borrow_mut().solo_stops.pop();
            let Some(index) = next else { break };
            self.stop_solo(index, SoloStop::Strategy);
        }
        if let Some((cause, reason)) = effects.stop {
            self.stop(cause, reason);
        }
        if effects.announce_ready {
            self.announce_ready();
        }
    }

    /// An incarnation of the child has ended (its body is already dropped) with `outcome`.
    pub(crate) fn child_ended(&self, id: ChildId, outcome: Outcome<T>) {
        self.incarnation_ended(id, outcome, Ended::default());
    }

    /// As [`child_ended`](Scope::child_ended), from the driver's poll, which says how the
    /// child stood when it ended.
    pub(crate) fn incarnation_ended(&self, id: ChildId, outcome: Outcome<T>, ended: Ended) {
        let effects = {
            let mut state = self.state.borrow_mut();
            self.on_incarnation_end(&mut state, id, outcome, ended)
        };
        self.act(effects);
    }

    /// A child whose end comes from elsewhere (`ChildBody::ends_afar`, a proxy for a child
    /// on another arbiter) has ended with `outcome`. A stale end (an earlier incarnation's,
    /// a child already gone) changes nothing.
    pub(crate) fn end_afar(&self, id: ChildId, incarnation: u32, outcome: Outcome<T>) {
        let task = {
            let mut state = self.state.borrow_mut();
            let index = id.index();
            if !state.is_live(index) || state.incarnation(index) != incarnation {
                return;
            }
            state.take_child(index, |_| true)
        };
        let Some(mut task) = task else {
            return;
        };
        let outcome = match task.end_afar() {
            Some(message) => Outcome::Panicked(message),
            None => outcome,
        };
        let unready = task.take_first_poll_done();
        self.incarnation_ended(
            id,
            outcome,
            Ended {
                unready,
                first_poll: false,
            },
        );
    }

    fn on_incarnation_end(
        &self,
        state: &mut State<T>,
        id: ChildId,
        mut outcome: Outcome<T>,
        ended: Ended,
    ) -> Effects {
        let index = id.index();
        // An actor child's own report stands, unless its end was itself a panic.
        if let Some(reported) = state.reports.take(index)
            && !matches!(outcome, Outcome::Panicked(_))
        {
            outcome = reported;
        }
        if ended.first_poll
            && !ended.unready
            && outcome.is_failure()
            && state.kind(index) == ChildKind::Actor
        {
            // A plain actor that failed in its first poll (its `started()` reported a
            // failure, or panicked) failed before it was ready (R15). Judged on the outcome
            // with its report: the poll alone sees a reported failure as a normal stop.
            self.failed_unready(state, index);
        }
        let mut was_unready = ended.unready;
        let mut in_batch = false;
        if let Some(spec) = state.spec_mut(index) {
            // Only children with a spec can be restarted, batched, timed out, or unready by
            // signal: the plain ones skip all of this.
            // A child stopped for its own time limit has timed out, however it stopped.
            if spec.solo_stop.take() == Some(SoloStop::TimedOut)
                && !matches!(outcome, Outcome::Panicked(_))
            {
                outcome = Outcome::TimedOut;
            }
            was_unready |= mem::take(&mut spec.counted_unready);
            in_batch = spec.in_batch;
        }
        let mut effects = Effects::default();
        if was_unready {
            effects.announce_ready = self.uncount_unready(
                state,
                index,
                Unready::Ended {
                    failed: outcome.is_failure(),
                },
            );
        }
        if outcome.is_failure() {
            events::failed(self, state, id, &outcome);
        }
        if state.phase == Phase::Open && index < state.specs.len() {
            if in_batch {
                remember_failure(state, index, &outcome);
                return self.batch_member_ended(state, id, outcome, effects);
            }
            if self.wants_restart(state, index, &outcome) {
                return self.restart(state, id, outcome, effects);
            }
        }
        remember_failure(state, index, &outcome);
        let more = self.finalize(state, id, outcome, None);
        merge(effects, more)
    }

    /// The child has ended for good: its outcome is final. Applies the policy and, perhaps,
    /// ends the group.
    pub(crate) fn finalize(
        &self,
        state: &mut State<T>,
        id: ChildId,
        outcome: Outcome<T>,
        restart_limit: Option<ChildFailure>,
    ) -> Effects {
        let index = id.index();
        state.live -= 1;
        let (service, significant, started, already_recorded) = match state.spec(index) {
            None => (false, true, true, false),
            Some(spec) => (
                spec.options.service,
                !spec.options.best_effort,
                spec.incarnation > 0,
                spec.failure_recorded,
            ),
        };
        if !service {
            state.main_live -= 1;
        }
        // A child that started holds a start slot until its end (a restarting child keeps
        // it, docs/guide.md); one that never left the queue never had one.
        let freed = self.config.limit.is_some() && started;
        if freed {
            state.queue.running -= 1;
        }
        let hit_limit = restart_limit.is_some();
        let mut failed = false;
        if let Some(failure) = restart_limit {
            state.failures.push(failure);
            failed = true;
        } else if outcome.is_failure()
            && significant
            && !already_recorded
            && let Some((kind, cause)) = outcome.failure()
        {
            let name = state.name(index).cloned();
            state
                .failures
                .push(ChildFailure::new(id, name, kind, cause));
            failed = true;
        }
        match &outcome {
            Outcome::Completed(_) => state.counters.completed += 1,
            Outcome::Cancelled => state.counters.cancelled += 1,
            _ => state.counters.failed += 1,
        }
        let completed = outcome.is_completed();
        if index < state.times.len() {
            let now = state.now();
            state.times[index].stopped = Some(now);
        }
        events::stopped(self, state, id, &outcome);
        if let Some(slot) = state.outcomes.get_mut(index) {
            *slot = Some(outcome);
        }
        // Kept only for a stream: a join has no use for it, and measured, the extra buffer
        // per group cost ~15% of a trivial child's whole cost (docs/PERFORMANCE.md).
        if state.streaming {
            state.completed_order.push(id);
            state.wake_waiters();
        }
        if state.phase == Phase::Open {
            if hit_limit {
                return Effects::stop(Some(GroupErrorKind::RestartLimit), StopReason::RestartLimit);
            }
            if failed && self.config.policy == Policy::FailFast {
                return Effects::stop(Some(GroupErrorKind::Failed), StopReason::SiblingFailed);
            }
            if completed
                && significant
                && self.config.policy == Policy::FirstSuccess
                && state.winner.is_none()
            {
                state.winner = Some(id);
                return Effects::stop(None, StopReason::RaceWon);
            }
            if freed && self.dequeue(state) {
                let mut effects = self.end_check(state);
                effects.announce_ready = true;
                return effects;
            }
        }
        // (Readiness changes where a child stops counting as not ready, never here.)
        self.end_check(state)
    }

    /// Ends the group if its end condition holds (DESIGN §6).
    pub(crate) fn end_check(&self, state: &mut State<T>) -> Effects {
        match state.phase {
            Phase::Open => match state.end {
                EndCondition::WhenDone if state.joining && state.live == 0 => self.finish(state),
                EndCondition::WhenMainDone if state.joining && state.main_live == 0 => {
                    if state.live == 0 {
                        self.finish(state);
                    } else {
                        return Effects::stop(None, StopReason::ServicesDone);
                    }
                }
                _ => {}
            },
            Phase::Stopping if state.live == 0 => self.finish(state),
            _ => {}
        }
        Effects::default()
    }

    /// Every child has ended: the result is ready (R1).
    fn finish(&self, state: &mut State<T>) {
        state.phase = Phase::Finished;
        state.grace_deadline = None;
        state.timers.clear();
        state.batch = None;
        let now = state.now();
        state.finished_at = Some(now);
        events::group_ended(self, state);
        state.waiters.wake_all();
        state.readiness.wake_all();
        state.wake_driver();
    }
}

/// Keeps a failed incarnation's cause among its child's recent failures (a child with a
/// spec: one that may have more than one incarnation).
pub(crate) fn remember_failure<T>(state: &mut State<T>, index: usize, outcome: &Outcome<T>) {
    if let Some(spec) = state.spec_mut(index)
        && let Some((kind, cause)) = outcome.failure()
    {
        spec.remember_failure(kind, cause);
    }
}

#[inline]
pub(crate) fn merge(mut first: Effects, second: Effects) -> Effects {
    if first.stop.is_none() {
        first.stop = second.stop;
    }
    first.announce_ready |= second.announce_ready;
    first.stop_bystanders |= second.stop_bystanders;
    first
}

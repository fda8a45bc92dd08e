//! What happens when a child's incarnation ends: it is started again (R12), or its outcome
//! becomes final and the group's policy sees it (R2, R3, the race), and then perhaps the
//! group itself ends (its end condition, DESIGN §6).
//!
//! Every decision here is made under one borrow of the state and returns the [`Effects`]
//! that run user code (stopping children, telling a parent), which the caller applies once
//! the borrow is released.

use std::mem;
use std::sync::Arc;
use std::time::Duration;

use crate::child::{ChildId, ChildKind};
use crate::engine::events;
use crate::engine::readiness::Unready;
use crate::engine::scope::{Batch, Phase, Scope, State, StopReason};
use crate::engine::spec::{Incarnation, SoloStop};
use crate::engine::timers::Due;
use crate::error::{ChildFailure, FailureKind, GroupErrorKind, RestartLimitError};
use crate::outcome::Outcome;
use crate::policy::{EndCondition, Policy, Restart, Strategy};

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

    /// Whether this incarnation's end starts another (R12).
    fn wants_restart(&self, state: &State<T>, index: usize, outcome: &Outcome<T>) -> bool {
        let Some(spec) = state.spec(index) else {
            return false;
        };
        let by_type = match spec.effective_restart() {
            Restart::Permanent => true,
            Restart::Transient => outcome.is_failure(),
            _ => false,
        };
        by_type && spec.restartable()
    }

    /// Starts the child again (after its backoff), with its strategy's bystanders, unless
    /// that is one restart too many for the group's intensity.
    fn restart(
        &self,
        state: &mut State<T>,
        id: ChildId,
        outcome: Outcome<T>,
        effects: Effects,
    ) -> Effects {
        let index = id.index();
        let now = state.now();
        if let Err(count) = state.restarts.record(self.config.intensity, now) {
            // R12: more than `max_restarts` within the window fails the group, with an error
            // that carries the failure that broke the limit.
            remember_failure(state, index, &outcome);
            let name = state.name(index).cloned();
            let error = RestartLimitError::new(
                name.clone(),
                count,
                self.config.intensity.window,
                outcome.failure().map(|(_, cause)| cause),
            );
            let failure =
                ChildFailure::new(id, name, FailureKind::RestartLimit, Arc::new(error.into()));
            let more = self.finalize(state, id, outcome, Some(failure));
            return merge(effects, more);
        }
        state.counters.restarted += 1;
        if let Some(spec) = state.spec_mut(index) {
            spec.awaiting_restart = true;
            // The outcome ends here: its cause moves to the child's recent failures.
            if let Some((kind, cause)) = outcome.into_failure() {
                spec.remember_failure(kind, cause);
            }
        }
        let bystanders = self.bystanders(state, index);
        if bystanders.is_empty() && state.batch.is_none() {
            let delay = self.backoff_delay(state, index);
            self.schedule_restart(state, index, delay);
            return effects;
        }
        self.join_batch(state, index, bystanders, effects)
    }

    /// The children a restart of `index` takes with it: those its strategy names that run now.
    fn bystanders(&self, state: &State<T>, index: usize) -> Vec<usize> {
        let range = match self.config.strategy {
            Strategy::OneForOne => return Vec::new(),
            Strategy::OneForAll => 0..state.outcomes.len(),
            Strategy::RestForOne => index + 1..state.outcomes.len(),
        };
        range
            .filter(|&other| other != index && state.is_live(other))
            .filter(|&other| {
                state.spec(other).is_none_or(|spec| {
                    !spec.in_batch && spec.queued.is_none() && spec.incarnation > 0
                })
            })
            .collect()
    }

    /// Adds `index` and its bystanders to the restart in progress (or begins one): the
    /// bystanders are stopped, newest first, and once every member has stopped, all are
    /// started again in start order.
    fn join_batch(
        &self,
        state: &mut State<T>,
        index: usize,
        bystanders: Vec<usize>,
        mut effects: Effects,
    ) -> Effects {
        let batch = state.batch.get_or_insert_with(|| Batch {
            trigger: index,
            members: Vec::new(),
            pending: 0,
        });
        batch.members.push(index);
        let mut running = Vec::new();
        for &other in &bystanders {
            batch.members.push(other);
        }
        for other in bystanders {
            let spec = state.spec_or_default(other);
            spec.in_batch = true;
            if spec.awaiting_restart {
                // Waiting out its own backoff: it restarts with the batch instead.
                spec.restarting_until = None;
            } else {
                running.push(other);
            }
        }
        if let Some(spec) = state.spec_mut(index) {
            spec.in_batch = true;
        }
        if let Some(batch) = state.batch.as_mut() {
            batch.pending += running.len();
        }
        // Popped from the end: oldest first here is newest first there (R2).
        running.sort_unstable();
        let stops_any = !running.is_empty();
        state.solo_stops.extend(running);
        if stops_any {
            // The stops happen once the borrow is released.
            effects.stop_bystanders = true;
        }
        if state.batch.as_ref().is_some_and(|batch| batch.pending == 0) {
            self.batch_stopped(state);
        }
        effects
    }

    /// A member of the restart in progress has stopped.
    fn batch_member_ended(
        &self,
        state: &mut State<T>,
        id: ChildId,
        outcome: Outcome<T>,
        effects: Effects,
    ) -> Effects {
        let index = id.index();
        let was_trigger = state.batch.as_ref().is_some_and(|b| b.trigger == index);
        if let Some(batch) = state.batch.as_mut()
            && !was_trigger
        {
            batch.pending = batch.pending.saturating_sub(1);
        }
        let restartable = state.spec(index).is_some_and(|spec| spec.restartable());
        let effects = if restartable {
            if let Some(spec) = state.spec_mut(index) {
                spec.awaiting_restart = true;
            }
            effects
        } else {
            // A temporary bystander is not started again: it was cancelled (R12).
            if let Some(spec) = state.spec_mut(index) {
                spec.in_batch = false;
            }
            if let Some(batch) = state.batch.as_mut() {
                batch.members.retain(|&member| member != index);
            }
            let outcome = match outcome {
                Outcome::Completed(_) => Outcome::Cancelled,
                other => other,
            };
            let more = self.finalize(state, id, outcome, None);
            merge(effects, more)
        };
        if state.batch.as_ref().is_some_and(|batch| batch.pending == 0) {
            self.batch_stopped(state);
        }
        effects
    }

    /// Every member of the restart in progress has stopped: start them again, after the
    /// trigger's backoff.
    fn batch_stopped(&self, state: &mut State<T>) {
        let Some(trigger) = state.batch.as_ref().map(|batch| batch.trigger) else {
            return;
        };
        let delay = self.backoff_delay(state, trigger);
        if delay.is_zero() {
            self.restart_batch(state);
            return;
        }
        let now = state.now();
        let members = state
            .batch
            .as_ref()
            .map(|batch| batch.members.clone())
            .unwrap_or_default();
        for member in members {
            if let Some(spec) = state.spec_mut(member) {
                spec.restarting_until = Some(now + delay);
            }
        }
        let incarnation = state.incarnation(trigger);
        state.timers.restart(Due {
            at: now + delay,
            index: trigger,
            incarnation,
        });
        state.wake_driver();
    }

    /// Starts every member of the finished batch again, in start order.
    pub(crate) fn restart_batch(&self, state: &mut State<T>) {
        let Some(mut batch) = state.batch.take() else {
            return;
        };
        batch.members.sort_unstable();
        batch.members.dedup();
        for member in batch.members {
            if let Some(spec) = state.spec_mut(member) {
                spec.in_batch = false;
            }
            if !state.is_live(member) {
                continue;
            }
            if state.spec(member).is_some_and(|spec| spec.restartable()) {
                self.restart_now(state, member);
            }
        }
    }

    /// The delay before this child's next restart.
    fn backoff_delay(&self, state: &mut State<T>, index: usize) -> Duration {
        let Some(backoff) = self.config.backoff else {
            return Duration::ZERO;
        };
        let now = state.now();
        let unit = state.jitter.unit();
        let Some(spec) = state.spec_mut(index) else {
            return Duration::ZERO;
        };
        let n = spec.streak.next(now, backoff.quiet_period());
        backoff.delay(n, unit)
    }

    fn schedule_restart(&self, state: &mut State<T>, index: usize, delay: Duration) {
        let incarnation = state.incarnation(index);
        events::restarting(self, state, ChildId::new(index), incarnation + 1, delay);
        if delay.is_zero() {
            self.restart_now(state, index);
            return;
        }
        let at = state.now() + delay;
        if let Some(spec) = state.spec_mut(index) {
            spec.restarting_until = Some(at);
        }
        state.timers.restart(Due {
            at,
            index,
            incarnation,
        });
        state.wake_driver();
    }

    /// A restart timer came due.
    pub(crate) fn on_restart_due(&self, due: Due) {
        let mut state = self.state.borrow_mut();
        if state.phase != Phase::Open || state.incarnation(due.index) != due.incarnation {
            return;
        }
        if state
            .batch
            .as_ref()
            .is_some_and(|batch| batch.trigger == due.index && batch.pending == 0)
        {
            self.restart_batch(&mut state);
        } else if state
            .spec(due.index)
            .is_some_and(|spec| spec.awaiting_restart && !spec.in_batch)
        {
            self.restart_now(&mut state, due.index);
        }
    }

    /// Starts a new incarnation of the child now. Making it runs no user code: its factory
    /// runs on its first poll.
    fn restart_now(&self, state: &mut State<T>, index: usize) {
        let Some(spec) = state.spec_mut(index) else {
            return;
        };
        let Some(maker) = spec.maker.clone() else {
            return;
        };
        spec.awaiting_restart = false;
        let id = ChildId::new(index);
        let body = maker.incarnate(Incarnation {
            scope: self.me.clone(),
            id,
            number: spec.incarnation + 1,
            options: spec.options,
        });
        self.start_incarnation(state, id, body, true);
        events::restarted(self, state, id);
        state.wake_driver();
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
fn remember_failure<T>(state: &mut State<T>, index: usize, outcome: &Outcome<T>) {
    if let Some(spec) = state.spec_mut(index)
        && let Some((kind, cause)) = outcome.failure()
    {
        spec.remember_failure(kind, cause);
    }
}

#[inline]
fn merge(mut first: Effects, second: Effects) -> Effects {
    if first.stop.is_none() {
        first.stop = second.stop;
    }
    first.announce_ready |= second.announce_ready;
    first.stop_bystanders |= second.stop_bystanders;
    first
}

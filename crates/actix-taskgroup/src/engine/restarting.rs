//! Starting a child again (R12): the intensity check, the strategy's bystanders stopped and
//! started again as one batch, the backoff, and the new incarnation itself. Decided under
//! the state's borrow, like the rest of a child's end (`ending.rs`), returning the
//! [`Effects`] to apply once it is released.

use std::sync::Arc;
use std::time::Duration;

use crate::child::ChildId;
use crate::engine::ending::{Effects, merge, remember_failure};
use crate::engine::events;
use crate::engine::scope::{Batch, Phase, Scope, State};
use crate::engine::spec::Incarnation;
use crate::engine::timers::Due;
use crate::error::{ChildFailure, FailureKind, RestartLimitError};
use crate::outcome::Outcome;
use crate::policy::{Restart, Strategy};

impl<T: 'static> Scope<T> {
    /// Whether this incarnation's end starts another (R12).
    pub(crate) fn wants_restart(
        &self,
        state: &State<T>,
        index: usize,
        outcome: &Outcome<T>,
    ) -> bool {
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
    pub(crate) fn restart(
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
    pub(crate) fn batch_member_ended(
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
}

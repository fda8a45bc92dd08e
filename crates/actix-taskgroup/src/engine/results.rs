//! What a finished group hands out: its values, its report, its stream of outcomes (R4, R9).

use std::mem;
use std::task::{Context, Poll};

use crate::child::ChildId;
use crate::engine::scope::{ChildTimes, Name, Phase, Scope, State};
use crate::engine::spec::ChildSpec;
use crate::error::{GroupError, GroupErrorKind};
use crate::outcome::Outcome;
use crate::report::{ChildReport, GroupReport};

impl<T> Scope<T> {
    /// The kind of the group's error, if it has one (computed from its state; callable while
    /// it is being taken down).
    pub(crate) fn error_kind(&self, state: &State<T>) -> Option<GroupErrorKind> {
        match state.stop_cause {
            // R13: a real failure before or while the deadline fires ranks above it.
            Some(GroupErrorKind::TimedOut) if !state.failures.is_empty() => {
                Some(GroupErrorKind::Failed)
            }
            Some(kind) => Some(kind),
            // A race that has a winner succeeded, whatever failed before it.
            None if state.winner.is_some() => None,
            None if !state.failures.is_empty() => Some(GroupErrorKind::Failed),
            None => None,
        }
    }

    fn take_error(&self, state: &mut State<T>) -> Option<GroupError> {
        let kind = self.error_kind(state)?;
        Some(GroupError::new(
            self.config.name.clone(),
            kind,
            mem::take(&mut state.failures),
        ))
    }

    /// The result of a finished group: every significant value in spawn order, or the
    /// error. Same as `take_report().into_result()`, without building the report on the way.
    pub(crate) fn take_result(&self) -> Result<Vec<T>, GroupError> {
        let mut state = self.state.borrow_mut();
        if let Some(error) = self.take_error(&mut state) {
            return Err(error);
        }
        let outcomes = mem::take(&mut state.outcomes);
        // Sized once: at most one value per completed child.
        let mut values = Vec::with_capacity(state.counters.completed as usize);
        if state.specs.is_empty() {
            values.extend(
                outcomes
                    .into_iter()
                    .filter_map(|outcome| outcome.and_then(Outcome::into_value)),
            );
            return Ok(values);
        }
        let best_effort = |index: usize| state.spec(index).is_some_and(|s| s.options.best_effort);
        values.extend(
            outcomes
                .into_iter()
                .enumerate()
                .filter(|(index, _)| !best_effort(*index))
                .filter_map(|(_, outcome)| outcome.and_then(Outcome::into_value)),
        );
        Ok(values)
    }

    /// The value of a race's winner, or the group's error (an error too if nobody won).
    pub(crate) fn take_winner(&self) -> Result<T, GroupError> {
        let winner = self.state.borrow().winner;
        let mut report = self.take_report();
        if let Some(error) = report.error.take() {
            return Err(error);
        }
        let value = winner.and_then(|id| {
            let child = report.children.get_mut(id.index())?;
            mem::replace(&mut child.outcome, Outcome::Cancelled).into_value()
        });
        value.ok_or_else(|| {
            GroupError::new(self.config.name.clone(), GroupErrorKind::Failed, Vec::new())
        })
    }

    /// The report of a finished group: every child in spawn order, and the error if any.
    pub(crate) fn take_report(&self) -> GroupReport<T> {
        if self.keep_final_view.get() {
            let view = crate::engine::spec::SnapshotSource::snapshot(self);
            *self.final_view.borrow_mut() = Some(view);
        }
        let mut state = self.state.borrow_mut();
        let error = self.take_error(&mut state);
        // One pass over the side tables, each of which may be shorter than the children.
        let mut names = mem::take(&mut state.names).into_iter();
        let mut kinds = mem::take(&mut state.kinds).into_iter();
        let mut times = mem::take(&mut state.times).into_iter();
        let mut specs = mem::take(&mut state.specs).into_iter();
        let outcomes = mem::take(&mut state.outcomes);
        let mut children = Vec::with_capacity(outcomes.len());
        children.extend(outcomes.into_iter().enumerate().map(|(index, outcome)| {
            // An outcome is missing only if a stream already handed it out.
            let outcome = outcome.unwrap_or(Outcome::Cancelled);
            let mut report = ChildReport::new(ChildId::new(index), names.next().flatten(), outcome);
            report.kind = kinds.next().unwrap_or_default();
            if let Some(times) = times.next() {
                report.started_at = Some(times.started);
                report.stopped_at = times.stopped;
            }
            if let Some(mut spec) = specs.next().flatten() {
                fill_from_spec(&mut report, &mut spec);
            }
            report
        }));
        let mut report = GroupReport::new(children, error);
        report.name = self.config.name.clone();
        report.winner = state.winner;
        if self.config.timed {
            report.started_at = state.started_at;
            report.finished_at = state.finished_at;
        }
        report
    }

    fn child_report(
        &self,
        state: &mut State<T>,
        index: usize,
        name: Option<Name>,
        outcome: Outcome<T>,
        times: Option<&ChildTimes>,
    ) -> ChildReport<T> {
        let mut report = ChildReport::new(ChildId::new(index), name, outcome);
        report.kind = state.kind(index);
        if let Some(times) = times {
            report.started_at = Some(times.started);
            report.stopped_at = times.stopped;
        }
        if let Some(spec) = state.specs.get_mut(index).and_then(Option::as_deref_mut) {
            fill_from_spec(&mut report, spec);
        }
        report
    }

    /// The next child to end, in completion order (R4's streaming form).
    pub(crate) fn poll_next_ended(
        &self,
        key: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ChildReport<T>>> {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        while let Some(&id) = state.completed_order.get(state.stream_cursor) {
            state.stream_cursor += 1;
            if let Some(outcome) = state.outcomes.get_mut(id.index()).and_then(Option::take) {
                let name = state.names.get_mut(id.index()).and_then(Option::take);
                let times = state.times.get(id.index()).copied();
                return Poll::Ready(Some(self.child_report(
                    state,
                    id.index(),
                    name,
                    outcome,
                    times.as_ref(),
                )));
            }
        }
        if state.phase == Phase::Finished {
            return Poll::Ready(None);
        }
        state.waiters.register(key, cx.waker());
        Poll::Pending
    }

    /// Makes the shared report share its entries with every copy of it (a supervisor's askers
    /// each get one), once it is made.
    pub(crate) fn share_report_with(&self, clone_value: fn(&T) -> T) {
        self.report_sharing.set(Some(clone_value));
    }

    /// The finished group's report, shared by everyone who waits (a supervisor's askers and
    /// handles); `None` until the group has finished, and for a group whose owner takes its
    /// result (a `TaskGroup`).
    pub(crate) fn shared_report(&self) -> Option<std::rc::Rc<GroupReport<T>>> {
        if !self.config.shared_result || self.state.borrow().phase != Phase::Finished {
            return None;
        }
        if let Some(report) = self.final_report.borrow().as_ref() {
            return Some(std::rc::Rc::clone(report));
        }
        let mut report = self.take_report();
        if let Some(clone_value) = self.report_sharing.get() {
            report.share_children(clone_value);
        }
        let report = std::rc::Rc::new(report);
        *self.final_report.borrow_mut() = Some(std::rc::Rc::clone(&report));
        Some(report)
    }
}

/// What a child's spec adds to its report entry: attempts, flags, its history.
fn fill_from_spec<T>(report: &mut ChildReport<T>, spec: &mut ChildSpec<T>) {
    report.attempts = spec.incarnation;
    report.best_effort = spec.options.best_effort;
    report.service = spec.options.service;
    let nested = spec.nested_report.take();
    if nested.is_some() || !spec.recent_failures.is_empty() {
        report.history = Some(std::sync::Arc::new(crate::report::History {
            recent_failures: spec.recent_failures.drain(..).collect(),
            nested,
            nested_view: spec.nested_final.take(),
        }));
    }
    if spec.incarnation == 0 {
        // Never started (R14): no times either.
        report.started_at = None;
        report.stopped_at = None;
    }
}

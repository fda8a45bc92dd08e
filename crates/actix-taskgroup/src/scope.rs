//! The state one group shares with its handles and its driver task, and the driver itself.
//!
//! A group owns one driver task (spawned on the current arbiter at the first spawn) that
//! polls every child in one `FuturesUnordered`: one runtime task per group, not per child, so
//! each child event costs O(1) and no spawn/join of a runtime task (R11). The children live
//! here, beside the state, rather than inside the driver, so that cancelling or dropping the
//! group drops them at once, without waiting for the driver to be scheduled (R6).

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::child::{BoxedChild, ChildTask};
use crate::{
    ChildFailure, ChildId, ChildReport, FailureKind, GroupError, GroupErrorKind, GroupReport,
    Outcome, Policy, SpawnError,
};

pub(crate) type Name = Cow<'static, str>;

pub(crate) struct Scope<T> {
    name: Option<Name>,
    policy: Policy,
    state: RefCell<State<T>>,
    /// Borrowed mutably only by the driver while it polls, and by `cancel_children`; a child
    /// that spawns or cancels during its poll touches `state`, never this.
    running: RefCell<FuturesUnordered<ChildTask<T>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Taking new children.
    Open,
    /// A failure (fail-fast) or a cancel is stopping the children; spawns are refused.
    Stopping,
    /// Every child has stopped and the result is ready; spawns are refused.
    Finished,
}

struct State<T> {
    phase: Phase,
    /// Set when the group stops before its children are all done.
    stop_cause: Option<GroupErrorKind>,
    /// Set by `join`: from then on, the group finishes when no child is left.
    joining: bool,
    /// Set by `outcomes()`: wake the waiter at every child's end, not only at the group's.
    streaming: bool,
    /// One per spawned child, indexed by `ChildId` (R4: reports come out in spawn order);
    /// `None` while the child runs, and again once a stream has handed the outcome out.
    outcomes: Vec<Option<Outcome<T>>>,
    /// Names by `ChildId`, filled only up to the last named child, so that the large groups
    /// of unnamed children pay nothing for names.
    names: Vec<Option<Name>>,
    /// Children spawned since the driver last ran; it moves them into `running`.
    incoming: Vec<ChildTask<T>>,
    /// Children accepted and not yet ended (incoming or running).
    live: usize,
    /// Every failure in the order it happened (R3).
    failures: Vec<ChildFailure>,
    /// Ids of ended children for the stream to hand out: those that ended before the stream
    /// began in spawn order, then the rest in completion order.
    completed_order: Vec<ChildId>,
    stream_cursor: usize,
    driver_started: bool,
    driver_waker: Option<Waker>,
    /// The join future or stream waiting on this group.
    waiter: Option<Waker>,
}

impl<T> State<T> {
    fn maybe_finish(&mut self) {
        let done = match self.phase {
            Phase::Open => self.joining && self.live == 0,
            Phase::Stopping => self.live == 0,
            Phase::Finished => false,
        };
        if done {
            self.phase = Phase::Finished;
            wake(&mut self.waiter);
            wake(&mut self.driver_waker);
        }
    }
}

fn wake(waker: &mut Option<Waker>) {
    if let Some(waker) = waker.take() {
        waker.wake();
    }
}

fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

impl<T> Scope<T> {
    pub(crate) fn new(name: Option<Name>, policy: Policy) -> Rc<Self> {
        Rc::new(Scope {
            name,
            policy,
            state: RefCell::new(State {
                phase: Phase::Open,
                stop_cause: None,
                joining: false,
                streaming: false,
                outcomes: Vec::new(),
                names: Vec::new(),
                incoming: Vec::new(),
                live: 0,
                failures: Vec::new(),
                completed_order: Vec::new(),
                stream_cursor: 0,
                driver_started: false,
                driver_waker: None,
                waiter: None,
            }),
            running: RefCell::new(FuturesUnordered::new()),
        })
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub(crate) fn policy(&self) -> Policy {
        self.policy
    }

    /// Stops the group (R2, R6): refuses new children and cancels every running one, at once
    /// when possible, else as soon as the driver's current poll returns.
    pub(crate) fn stop(&self, cause: GroupErrorKind) {
        {
            let mut state = self.state.borrow_mut();
            if state.phase != Phase::Open {
                return;
            }
            state.phase = Phase::Stopping;
            state.stop_cause = Some(cause);
            wake(&mut state.driver_waker);
        }
        self.cancel_children();
        self.state.borrow_mut().maybe_finish();
    }

    /// Drops every child still running or waiting to start, each under `catch_unwind`, and
    /// records it as cancelled (or panicked, if its destructor panicked: R3 keeps failures that
    /// happen while cancelling). Does nothing while the driver is polling; it calls this again
    /// when its poll returns.
    fn cancel_children(&self) {
        let Ok(mut running) = self.running.try_borrow_mut() else {
            return;
        };
        // Dropped with no borrow of `state` held: a child's destructor may call into the
        // group (spawn, cancel) and must get an answer, not a borrow panic.
        let incoming = mem::take(&mut self.state.borrow_mut().incoming);
        for mut child in incoming {
            let outcome = child.cancel();
            self.record(child.id(), outcome);
        }
        for child in running.iter_mut() {
            let outcome = child.cancel();
            self.record(child.id(), outcome);
        }
        running.clear();
    }

    /// Records how a child ended and applies the policy (R2). Returns whether the driver can
    /// go straight on polling: the group is still open and no child is waiting to be moved in.
    fn record(&self, id: ChildId, outcome: Outcome<T>) -> bool {
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        state.live -= 1;
        let failure = match &outcome {
            Outcome::Failed(cause) => Some((FailureKind::Failed, Arc::clone(cause))),
            Outcome::Panicked(message) => Some((
                FailureKind::Panicked,
                Arc::new(anyhow::Error::msg(message.clone())),
            )),
            Outcome::TimedOut => Some((
                FailureKind::TimedOut,
                Arc::new(anyhow::Error::msg("timed out")),
            )),
            _ => None,
        };
        let failed = failure.is_some();
        if let Some((kind, cause)) = failure {
            let name = state.names.get(id.index()).cloned().flatten();
            state
                .failures
                .push(ChildFailure::new(id, name, kind, cause));
        }
        if let Some(slot) = state.outcomes.get_mut(id.index()) {
            *slot = Some(outcome);
        }
        // Kept only for a stream: a join has no use for it, and measured, the extra buffer
        // per group cost ~15% of a trivial child's whole cost (docs/PERFORMANCE.md).
        if state.streaming {
            state.completed_order.push(id);
            wake(&mut state.waiter);
        }
        if failed && self.policy == Policy::FailFast && state.phase == Phase::Open {
            drop(guard);
            self.stop(GroupErrorKind::Failed);
            return false;
        }
        state.maybe_finish();
        state.phase == Phase::Open && state.incoming.is_empty()
    }

    /// From now on the group finishes as soon as no child is left (R1).
    pub(crate) fn begin_join(&self, streaming: bool) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        state.joining = true;
        if streaming && !state.streaming {
            state.streaming = true;
            let ended = state.outcomes.iter().enumerate();
            let ended = ended.filter(|(_, outcome)| outcome.is_some());
            let ended = ended.map(|(index, _)| ChildId::new(index));
            state.completed_order.extend(ended);
        }
        state.maybe_finish();
    }

    pub(crate) fn poll_finished(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.phase == Phase::Finished {
            return Poll::Ready(());
        }
        register(&mut state.waiter, cx);
        Poll::Pending
    }

    /// The next child to end, in completion order (R4's streaming form).
    pub(crate) fn poll_next_ended(&self, cx: &mut Context<'_>) -> Poll<Option<ChildReport<T>>> {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        while let Some(&id) = state.completed_order.get(state.stream_cursor) {
            state.stream_cursor += 1;
            if let Some(outcome) = state.outcomes.get_mut(id.index()).and_then(Option::take) {
                let name = state.names.get_mut(id.index()).and_then(Option::take);
                return Poll::Ready(Some(ChildReport::new(id, name, outcome)));
            }
        }
        if state.phase == Phase::Finished {
            return Poll::Ready(None);
        }
        register(&mut state.waiter, cx);
        Poll::Pending
    }

    /// The error of a finished group, if it has one.
    fn take_error(&self, state: &mut State<T>) -> Option<GroupError> {
        let kind = state
            .stop_cause
            .or_else(|| (!state.failures.is_empty()).then_some(GroupErrorKind::Failed))?;
        Some(GroupError::new(
            self.name.clone(),
            kind,
            mem::take(&mut state.failures),
        ))
    }

    /// The result of a finished group: every value in spawn order, or the error. Same as
    /// `take_report().into_result()`, without building the report on the way.
    pub(crate) fn take_result(&self) -> Result<Vec<T>, GroupError> {
        let mut state = self.state.borrow_mut();
        if let Some(error) = self.take_error(&mut state) {
            return Err(error);
        }
        // `into_iter().filter_map().collect()` reuses the outcomes' buffer for the values (the
        // standard library collects in place); a fresh `with_capacity` buffer measured slower.
        Ok(mem::take(&mut state.outcomes)
            .into_iter()
            .filter_map(|outcome| outcome.and_then(Outcome::into_value))
            .collect())
    }

    /// The report of a finished group: every child in spawn order, and the error if any.
    pub(crate) fn take_report(&self) -> GroupReport<T> {
        let mut state = self.state.borrow_mut();
        let error = self.take_error(&mut state);
        let mut names = mem::take(&mut state.names).into_iter();
        let children = mem::take(&mut state.outcomes)
            .into_iter()
            .enumerate()
            .map(|(index, outcome)| {
                // An outcome is missing only if a stream already handed it out.
                let outcome = outcome.unwrap_or(Outcome::Cancelled);
                ChildReport::new(ChildId::new(index), names.next().flatten(), outcome)
            })
            .collect();
        GroupReport::new(children, error)
    }
}

impl<T: 'static> Scope<T> {
    /// Accepts a child (R7) and makes sure the driver will poll it. The future is boxed only
    /// once the group has said yes, so a refused future is dropped without being polled.
    pub(crate) fn spawn<F>(
        self: &Rc<Self>,
        name: Option<Name>,
        future: F,
    ) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = anyhow::Result<T>> + 'static,
    {
        let mut state = self.state.borrow_mut();
        match state.phase {
            Phase::Open => {}
            Phase::Stopping => return Err(SpawnError::ShuttingDown),
            Phase::Finished => return Err(SpawnError::Closed),
        }
        let id = ChildId::new(state.outcomes.len());
        let future: BoxedChild<T> = Box::pin(future);
        state.outcomes.push(None);
        if let Some(name) = name {
            state.names.resize(id.index(), None);
            state.names.push(Some(name));
        }
        let child = ChildTask::new(id, future);
        // Straight into the running set unless the driver is polling it right now (a child
        // spawning a sibling); then the driver takes it from `incoming` when its poll returns.
        match self.running.try_borrow() {
            Ok(running) => running.push(child),
            Err(_) => state.incoming.push(child),
        }
        state.live += 1;
        if state.driver_started {
            wake(&mut state.driver_waker);
        } else {
            state.driver_started = true;
            drop(state);
            actix_rt::spawn(Driver {
                scope: Rc::clone(self),
            });
        }
        Ok(id)
    }
}

/// The one runtime task of a group: moves new children into the running set, polls them, and
/// records each one's end. It ends when the group has finished.
struct Driver<T> {
    scope: Rc<Scope<T>>,
}

impl<T: 'static> Future for Driver<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let scope = &*self.scope;
        loop {
            let incoming = {
                let mut state = scope.state.borrow_mut();
                match state.phase {
                    Phase::Finished => return Poll::Ready(()),
                    Phase::Stopping => None,
                    Phase::Open => Some(mem::take(&mut state.incoming)),
                }
            };
            let Some(incoming) = incoming else {
                scope.cancel_children();
                scope.state.borrow_mut().maybe_finish();
                continue;
            };
            let mut running = scope.running.borrow_mut();
            running.extend(incoming);
            // Children are polled back to back while nothing but their own ends happens; a
            // spawn or a stop (seen by `record`) sends the driver round the outer loop.
            let all_pending = loop {
                match running.poll_next_unpin(cx) {
                    Poll::Ready(Some((id, outcome))) => {
                        if !scope.record(id, outcome) {
                            break false;
                        }
                    }
                    Poll::Ready(None) | Poll::Pending => break true,
                }
            };
            drop(running);
            if !all_pending {
                continue;
            }
            // Every child is pending (or none is left). Sleep unless a child spawned a sibling
            // or stopped the group while it was being polled.
            let mut state = scope.state.borrow_mut();
            if state.incoming.is_empty() && state.phase == Phase::Open {
                register(&mut state.driver_waker, cx);
                return Poll::Pending;
            }
        }
    }
}

//! The state one group shares with its handles and its driver task, and the driver itself.
//!
//! A group owns one driver task (spawned on the current arbiter at the first spawn) that
//! polls every child itself: one runtime task per group, not per child, so each child event
//! costs O(1) and no spawn/join of a runtime task (R11). The children live here, in slots
//! indexed by their id, beside the state: cancelling or dropping the group reaches them at
//! once, without waiting for the driver to be scheduled (R6). A child is taken out of its
//! slot while it is polled, so no borrow is held while user code runs: a child can spawn
//! siblings or cancel its own group from inside its poll.
//!
//! Stopping is two-phase (R2): every child is asked to stop, newest first; a future cannot
//! stop by itself and is dropped there and then, an actor runs its `stopping()` and
//! `stopped()`. Whoever is still running when the grace period ends is dropped, except nested
//! groups, which stop their own children first.

use std::borrow::Cow;
use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::future::Future;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::child::{BoxedChild, ChildTask};
use crate::panic::panic_message;
use crate::ready_queue::ReadyQueue;
use crate::{
    ChildFailure, ChildId, ChildReport, FailureKind, GroupError, GroupErrorKind, GroupReport,
    Outcome, Policy, SpawnError,
};

pub(crate) type Name = Cow<'static, str>;

/// How many children the driver polls before it lets the arbiter run other tasks.
const POLL_BUDGET: usize = 256;

/// A group's settings, fixed when it is built.
#[derive(Debug, Clone)]
pub(crate) struct ScopeConfig {
    pub(crate) name: Option<Name>,
    pub(crate) policy: Policy,
    /// How long a child asked to stop may take before it is dropped.
    pub(crate) grace: Duration,
    /// Whether to note when each child started and stopped (the supervisor's reports carry
    /// the times; a `TaskGroup` does without).
    pub(crate) timed: bool,
}

pub(crate) struct Scope<T> {
    config: ScopeConfig,
    state: RefCell<State<T>>,
    /// Where the wakers of waiting children put them for the driver.
    ready: Arc<ReadyQueue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Taking new children.
    Open,
    /// Every child has been asked to stop; waiting for them, then for the grace deadline.
    /// Spawns are refused.
    Stopping,
    /// Every child has stopped and the result is ready; spawns are refused.
    Finished,
}

/// When a child started and stopped, for timed groups.
#[derive(Debug, Clone, Copy)]
struct ChildTimes {
    started: Instant,
    stopped: Option<Instant>,
}

struct State<T> {
    phase: Phase,
    /// Set when the group stops before its children are all done.
    stop_cause: Option<GroupErrorKind>,
    /// Set by `join`: from then on, the group finishes when no child is left.
    joining: bool,
    /// Set by `outcomes()`: wake the waiter at every child's end, not only at the group's.
    streaming: bool,
    /// The running children by `ChildId` index; `None` for a child that has ended, or that
    /// the driver is polling right now.
    children: Vec<Option<ChildTask<T>>>,
    /// Children from this index on have not been polled yet: ids are given in spawn order,
    /// so the new children are always the last slots.
    next_fresh: usize,
    /// Woken children taken from the ready queue, polled from `woken_cursor` on.
    woken: Vec<usize>,
    woken_cursor: usize,
    /// One per spawned child, indexed by `ChildId` (R4: reports come out in spawn order);
    /// `None` while the child runs, and again once a stream has handed the outcome out.
    outcomes: Vec<Option<Outcome<T>>>,
    /// Names by `ChildId`, filled only up to the last named child, so that the large groups
    /// of unnamed children pay nothing for names.
    names: Vec<Option<Name>>,
    /// Start and stop times by `ChildId`, for timed groups only.
    times: Vec<ChildTimes>,
    /// The clock, read at most once per turn of the driver: every child started or stopped in
    /// the same turn of the event loop gets the same time. A clock read per child measured
    /// ~15% of an actor child's whole cost (docs/PERFORMANCE.md).
    clock: Option<Instant>,
    /// What running actor children reported before stopping, by `ChildId` index.
    reports: HashMap<usize, Outcome<T>>,
    /// Children accepted and not yet ended.
    live: usize,
    /// Every failure in the order it happened (R3).
    failures: Vec<ChildFailure>,
    /// Ids of ended children for the stream to hand out: those that ended before the stream
    /// began in spawn order, then the rest in completion order.
    completed_order: Vec<ChildId>,
    stream_cursor: usize,
    /// When the children still stopping will be dropped.
    grace_deadline: Option<Instant>,
    /// Set once the grace period is over: children still running are dropped, nested
    /// groups excepted.
    grace_over: bool,
    /// Set when every child must be dropped now, nested groups included.
    force_all: bool,
    driver_started: bool,
    driver_waker: Option<Waker>,
    /// The join futures, streams or supervisors waiting on this group.
    waiters: Vec<Waker>,
}

impl<T> State<T> {
    fn now(&mut self) -> Instant {
        *self.clock.get_or_insert_with(Instant::now)
    }

    fn maybe_finish(&mut self) {
        let done = match self.phase {
            Phase::Open => self.joining && self.live == 0,
            Phase::Stopping => self.live == 0,
            Phase::Finished => false,
        };
        if done {
            self.phase = Phase::Finished;
            self.grace_deadline = None;
            for waker in self.waiters.drain(..) {
                waker.wake();
            }
            wake(&mut self.driver_waker);
        }
    }

    fn wake_waiters(&mut self) {
        for waker in &self.waiters {
            waker.wake_by_ref();
        }
    }

    fn register_waiter(&mut self, cx: &Context<'_>) {
        if !self.waiters.iter().any(|waker| waker.will_wake(cx.waker())) {
            self.waiters.push(cx.waker().clone());
        }
    }

    /// Takes the child at `index` out of its slot, if it is there and `wanted`.
    fn take_child(
        &mut self,
        index: usize,
        wanted: impl FnOnce(&ChildTask<T>) -> bool,
    ) -> Option<ChildTask<T>> {
        let slot = self.children.get_mut(index)?;
        if slot.as_ref().is_some_and(wanted) {
            slot.take()
        } else {
            None
        }
    }

    /// The next child to poll: new children first, in spawn order, then woken ones.
    fn next_to_poll(&mut self, queue: &ReadyQueue) -> Option<usize> {
        if self.next_fresh < self.children.len() {
            self.next_fresh += 1;
            return Some(self.next_fresh - 1);
        }
        if self.woken_cursor == self.woken.len() {
            self.woken.clear();
            self.woken_cursor = 0;
            queue.take_woken(&mut self.woken);
        }
        let index = self.woken.get(self.woken_cursor).copied()?;
        self.woken_cursor += 1;
        Some(index)
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
    pub(crate) fn new(config: ScopeConfig) -> Rc<Self> {
        Rc::new(Scope {
            config,
            state: RefCell::new(State {
                phase: Phase::Open,
                stop_cause: None,
                joining: false,
                streaming: false,
                children: Vec::new(),
                next_fresh: 0,
                woken: Vec::new(),
                woken_cursor: 0,
                outcomes: Vec::new(),
                names: Vec::new(),
                times: Vec::new(),
                clock: None,
                reports: HashMap::new(),
                live: 0,
                failures: Vec::new(),
                completed_order: Vec::new(),
                stream_cursor: 0,
                grace_deadline: None,
                grace_over: false,
                force_all: false,
                driver_started: false,
                driver_waker: None,
                waiters: Vec::new(),
            }),
            ready: Arc::new(ReadyQueue::default()),
        })
    }

    pub(crate) fn config(&self) -> &ScopeConfig {
        &self.config
    }

    /// Whether every child has stopped and the result is ready.
    pub(crate) fn is_finished(&self) -> bool {
        self.state.borrow().phase == Phase::Finished
    }

    /// Makes room for `children` more children, all named (a builder's children): growing the
    /// per-child buffers one doubling at a time frees large buffers, which glibc's allocator
    /// answers by consolidating its free lists (docs/PERFORMANCE.md).
    pub(crate) fn reserve(&self, children: usize) {
        let mut state = self.state.borrow_mut();
        state.children.reserve(children);
        state.outcomes.reserve(children);
        state.names.reserve(children);
        if self.config.timed {
            state.times.reserve(children);
        }
    }

    /// Stops the group gracefully (R2, R6): refuses new children and asks every running one
    /// to stop, newest first, all at once. Futures are dropped there and then; actors begin
    /// their graceful stop and the grace clock starts. A child being polled right now is
    /// asked when its poll returns.
    pub(crate) fn stop(&self, cause: GroupErrorKind) {
        let count = {
            let mut state = self.state.borrow_mut();
            if state.phase != Phase::Open {
                return;
            }
            state.phase = Phase::Stopping;
            state.stop_cause = Some(cause);
            wake(&mut state.driver_waker);
            state.children.len()
        };
        // Shutdown order: newest first, all in this one tick (DESIGN §6). Each child is taken
        // out of its slot while it is asked: its destructor or its `stopping()` is user code
        // and may call into the group (spawn, cancel), so no borrow is held across it.
        for index in (0..count).rev() {
            let child = self
                .state
                .borrow_mut()
                .take_child(index, |child| !child.stop_asked());
            if let Some(child) = child {
                self.ask_to_stop(ChildId::new(index), child);
            }
        }
        let mut state = self.state.borrow_mut();
        if state.live > 0 && state.grace_deadline.is_none() && !state.grace_over {
            state.grace_deadline = Some(Instant::now() + self.config.grace);
            wake(&mut state.driver_waker);
        }
        state.maybe_finish();
    }

    fn ask_to_stop(&self, id: ChildId, mut child: ChildTask<T>) {
        match child.ask_to_stop() {
            Some(outcome) => self.record(id, outcome),
            None => self.put_back(id, child),
        }
    }

    /// Stops the group now: every child is dropped, nested groups included. For owners that
    /// are themselves being dropped and so cannot wait.
    pub(crate) fn force_stop(&self) {
        self.stop(GroupErrorKind::Cancelled);
        self.state.borrow_mut().force_all = true;
        self.drop_children(true);
    }

    /// The last step of the stop: drops every child still running (`all`), or every one but
    /// the nested groups (at the grace deadline). Records each as cancelled, or panicked if
    /// its destructor panicked (R3 keeps failures that happen while stopping). A child being
    /// polled right now is dropped when its poll returns.
    fn drop_children(&self, all: bool) {
        let count = self.state.borrow().children.len();
        for index in 0..count {
            let child = self
                .state
                .borrow_mut()
                .take_child(index, |child| all || child.is_forceable());
            if let Some(mut child) = child
                && let Some(outcome) = child.cancel()
            {
                self.record(ChildId::new(index), outcome);
            }
        }
        self.state.borrow_mut().maybe_finish();
    }

    /// Returns a child that is still running to its slot, unless the group has meanwhile
    /// asked every child to stop (then it is asked now) or to be dropped (then it is).
    fn put_back(&self, id: ChildId, mut child: ChildTask<T>) {
        let (ask, drop_now) = {
            let state = self.state.borrow();
            let stopping = state.phase != Phase::Open;
            let drop_now = state.force_all || (state.grace_over && child.is_forceable());
            (stopping && !child.stop_asked(), drop_now)
        };
        if drop_now {
            if let Some(outcome) = child.cancel() {
                self.record(id, outcome);
            }
            return;
        }
        if ask {
            self.ask_to_stop(id, child);
            return;
        }
        if let Some(slot) = self.state.borrow_mut().children.get_mut(id.index()) {
            *slot = Some(child);
        }
    }

    /// Records how a child ended and applies the policy (R2).
    #[inline]
    fn record(&self, id: ChildId, mut outcome: Outcome<T>) {
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        state.live -= 1;
        // An actor child's own report stands, unless its end was itself a panic.
        if !state.reports.is_empty()
            && let Some(reported) = state.reports.remove(&id.index())
            && !matches!(outcome, Outcome::Panicked(_))
        {
            outcome = reported;
        }
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
        if id.index() < state.times.len() {
            let now = state.now();
            state.times[id.index()].stopped = Some(now);
        }
        // Kept only for a stream: a join has no use for it, and measured, the extra buffer
        // per group cost ~15% of a trivial child's whole cost (docs/PERFORMANCE.md).
        if state.streaming {
            state.completed_order.push(id);
            state.wake_waiters();
        }
        if failed && self.config.policy == Policy::FailFast && state.phase == Phase::Open {
            drop(guard);
            self.stop(GroupErrorKind::Failed);
            return;
        }
        state.maybe_finish();
    }

    /// Keeps what a running actor child reported, to be its outcome when it stops.
    pub(crate) fn report(&self, id: ChildId, outcome: Outcome<T>) {
        let mut state = self.state.borrow_mut();
        let running = matches!(state.outcomes.get(id.index()), Some(None));
        if running && state.phase != Phase::Finished {
            state.reports.insert(id.index(), outcome);
        }
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
        state.register_waiter(cx);
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
                let times = state.times.get(id.index());
                return Poll::Ready(Some(child_report(id, name, outcome, times)));
            }
        }
        if state.phase == Phase::Finished {
            return Poll::Ready(None);
        }
        state.register_waiter(cx);
        Poll::Pending
    }

    /// The error of a finished group, if it has one.
    fn take_error(&self, state: &mut State<T>) -> Option<GroupError> {
        let kind = state
            .stop_cause
            .or_else(|| (!state.failures.is_empty()).then_some(GroupErrorKind::Failed))?;
        Some(GroupError::new(
            self.config.name.clone(),
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
        let times = mem::take(&mut state.times);
        let children = mem::take(&mut state.outcomes)
            .into_iter()
            .enumerate()
            .map(|(index, outcome)| {
                // An outcome is missing only if a stream already handed it out.
                let outcome = outcome.unwrap_or(Outcome::Cancelled);
                let name = names.next().flatten();
                child_report(ChildId::new(index), name, outcome, times.get(index))
            })
            .collect();
        GroupReport::new(children, error)
    }
}

fn child_report<T>(
    id: ChildId,
    name: Option<Name>,
    outcome: Outcome<T>,
    times: Option<&ChildTimes>,
) -> ChildReport<T> {
    let mut report = ChildReport::new(id, name, outcome);
    if let Some(times) = times {
        report = report.with_times(times.started, times.stopped);
    }
    report
}

impl<T: 'static> Scope<T> {
    /// Accepts a child built by `make` (an actor's factory, a message's future factory): user
    /// code, so it runs with no borrow held, and only once the group has said yes (R7), so a
    /// refused actor is never built. A factory that panics is a child that panicked (R5).
    pub(crate) fn spawn_with(
        self: &Rc<Self>,
        name: Option<Name>,
        make: impl FnOnce(ChildId) -> BoxedChild<T>,
    ) -> Result<ChildId, SpawnError> {
        let id = self.admit(&mut self.state.borrow_mut(), name)?;
        let body = match catch_unwind(AssertUnwindSafe(|| make(id))) {
            Ok(body) => body,
            Err(payload) => {
                self.record(id, Outcome::Panicked(panic_message(&*payload)));
                return Ok(id);
            }
        };
        let child = ChildTask::new(body);
        let state = self.state.borrow_mut();
        if state.phase != Phase::Open {
            // The group began stopping while the child was being built: it is asked at once,
            // and polled like any child (its slot is past the fresh cursor) if it does not
            // stop there and then.
            drop(state);
            self.ask_to_stop(id, child);
            self.start_driver(self.state.borrow_mut());
            return Ok(id);
        }
        self.launch(state, id, child);
        Ok(id)
    }

    /// Accepts a future child, in one borrow of the state: the hot path of a `TaskGroup`. The
    /// future is boxed before the group is asked; a refused one is dropped, never polled (R7).
    pub(crate) fn spawn<F>(
        self: &Rc<Self>,
        name: Option<Name>,
        future: F,
    ) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = anyhow::Result<T>> + 'static,
    {
        let body: BoxedChild<T> = Box::pin(future);
        let mut state = self.state.borrow_mut();
        let id = self.admit(&mut state, name)?;
        self.launch(state, id, ChildTask::new(body));
        Ok(id)
    }

    /// Gives a new child its id and its slots, or says why the group refuses it.
    fn admit(&self, state: &mut State<T>, name: Option<Name>) -> Result<ChildId, SpawnError> {
        match state.phase {
            Phase::Open => {}
            Phase::Stopping => return Err(SpawnError::ShuttingDown),
            Phase::Finished => return Err(SpawnError::Closed),
        }
        let id = ChildId::new(state.outcomes.len());
        state.outcomes.push(None);
        state.children.push(None);
        if let Some(name) = name {
            state.names.resize(id.index(), None);
            state.names.push(Some(name));
        }
        if self.config.timed {
            let started = state.now();
            state.times.push(ChildTimes {
                started,
                stopped: None,
            });
        }
        state.live += 1;
        Ok(id)
    }

    /// Puts an admitted child in its slot, for the driver's first poll of it.
    fn launch(self: &Rc<Self>, mut state: RefMut<'_, State<T>>, id: ChildId, child: ChildTask<T>) {
        if let Some(slot) = state.children.get_mut(id.index()) {
            *slot = Some(child);
        }
        self.start_driver(state);
    }

    /// Wakes the driver, or starts it at the group's first child.
    fn start_driver(self: &Rc<Self>, mut state: RefMut<'_, State<T>>) {
        if state.driver_started {
            wake(&mut state.driver_waker);
        } else {
            state.driver_started = true;
            drop(state);
            actix_rt::spawn(Driver {
                scope: Rc::clone(self),
                grace_timer: None,
            });
        }
    }

    /// Polls one child, and records its end or returns it to its slot.
    fn poll_child(&self, index: usize) {
        // A stale wake (the child has ended) or a child being stopped finds nothing here.
        let Some(mut child) = self.state.borrow_mut().take_child(index, |_| true) else {
            return;
        };
        let id = ChildId::new(index);
        match child.poll(id, &self.ready) {
            Poll::Ready(outcome) => self.record(id, outcome),
            Poll::Pending => self.put_back(id, child),
        }
    }
}

/// The one runtime task of a group: polls new and woken children, records each one's end,
/// and runs the grace timer. It ends when the group has finished.
struct Driver<T> {
    scope: Rc<Scope<T>>,
    /// Armed while children are stopping: when it fires, they are dropped.
    grace_timer: Option<Pin<Box<Sleep>>>,
}

impl<T: 'static> Future for Driver<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let scope = Rc::clone(&this.scope);
        scope.ready.register_driver(cx.waker());
        // A new turn of the event loop: times read from here on are fresh.
        scope.state.borrow_mut().clock = None;
        let mut budget = POLL_BUDGET;
        loop {
            let next = {
                let mut state = scope.state.borrow_mut();
                if state.phase == Phase::Finished {
                    return Poll::Ready(());
                }
                state.next_to_poll(&scope.ready)
            };
            if let Some(index) = next {
                scope.poll_child(index);
                budget -= 1;
                if budget == 0 {
                    // Let the arbiter's other tasks run; carry on at the next turn.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                continue;
            }
            if this.poll_grace_timer(cx).is_ready() {
                continue;
            }
            let mut state = scope.state.borrow_mut();
            if state.phase == Phase::Finished {
                return Poll::Ready(());
            }
            if state.next_fresh == state.children.len() {
                register(&mut state.driver_waker, cx);
                // Spawns before the next turn read the clock afresh.
                state.clock = None;
                return Poll::Pending;
            }
        }
    }
}

impl<T: 'static> Driver<T> {
    /// Ready when the grace period has just ended and the children still stopping have been
    /// dropped (nested groups excepted).
    fn poll_grace_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.scope.state.borrow().grace_deadline;
        let Some(deadline) = deadline else {
            self.grace_timer = None;
            return Poll::Pending;
        };
        let timer = self
            .grace_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.grace_timer = None;
        {
            let mut state = self.scope.state.borrow_mut();
            state.grace_deadline = None;
            state.grace_over = true;
        }
        self.scope.drop_children(false);
        Poll::Ready(())
    }
}

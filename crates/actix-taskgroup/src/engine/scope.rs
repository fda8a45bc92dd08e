//! The state one group shares with its fronts (`TaskGroup`, `GroupSupervisor`), its handles
//! and its driver.
//!
//! The children live here, in slots indexed by their id, beside the state: cancelling or
//! dropping the group reaches them at once, without waiting for the driver to be scheduled
//! (R6). A child is taken out of its slot while it is polled, so no borrow is held while user
//! code runs: a child can spawn siblings or cancel its own group from inside its poll.
//!
//! The rest of the engine is split by concept: `admission` (a child's entry), `ending` (a
//! child's end: restart, policy, the group's end), `stop` (the two-phase stop), `driver` (the
//! one task that polls), `queue` (start slots), `readiness`, `snapshot`, `events`.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::time::Instant;

use crate::child::{ChildId, ChildKind};
use crate::engine::child::ChildTask;
use crate::engine::config::ScopeConfig;
use crate::engine::events;
use crate::engine::queue::StartQueue;
use crate::engine::readiness::Readiness;
use crate::engine::ready_queue::ReadyQueue;
use crate::engine::reports::Reports;
use crate::engine::restart::{Jitter, RestartWindow};
use crate::engine::slots::Slots;
use crate::engine::spec::ChildSpec;
use crate::engine::timers::Timers;
use crate::engine::waiters::Waiters;
use crate::error::{ChildFailure, GroupErrorKind};
use crate::outcome::Outcome;
use crate::policy::EndCondition;
use crate::snapshot::Counters;

pub(crate) type Name = Cow<'static, str>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Taking new children.
    Open,
    /// Every child has been asked to stop; waiting for them, then for the grace deadline.
    /// Spawns are refused.
    Stopping,
    /// Every child has stopped and the result is ready; spawns are refused.
    Finished,
}

/// Why a group is stopping, for its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    SiblingFailed,
    Cancelled,
    OwnerGone,
    Deadline,
    RestartLimit,
    StartTimedOut,
    RaceWon,
    ServicesDone,
}

impl StopReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StopReason::SiblingFailed => "sibling failed",
            StopReason::Cancelled => "cancelled",
            StopReason::OwnerGone => "owner gone",
            StopReason::Deadline => "deadline",
            StopReason::RestartLimit => "restart limit",
            StopReason::StartTimedOut => "start timed out",
            StopReason::RaceWon => "race won",
            StopReason::ServicesDone => "main children done",
        }
    }
}

/// When a child started and stopped, for timed groups.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildTimes {
    pub(crate) started: Instant,
    pub(crate) stopped: Option<Instant>,
}

/// A restart in progress under one-for-all or rest-for-one (R12): its members are stopped,
/// then all started again in start order.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The child whose end triggered it: its backoff times the restart.
    pub(crate) trigger: usize,
    pub(crate) members: Vec<usize>,
    /// Members still running.
    pub(crate) pending: usize,
}

/// `T::clone`, kept where `T: Clone` was known.
pub(crate) type CloneValue<T> = fn(&T) -> T;

pub(crate) struct State<T> {
    pub(crate) phase: Phase,
    /// Why the group stops. `None` while stopping means it ends without an error (a race
    /// won, the services stopped after the main children).
    pub(crate) stop_cause: Option<GroupErrorKind>,
    pub(crate) stop_reason: Option<StopReason>,
    /// Set by `join` (or a supervisor's first asker) once joins are open: from then on,
    /// the group may end.
    pub(crate) joining: bool,
    /// Someone waits, but the group is not whole yet (a supervisor before its builder's
    /// children are spawned): `joining` is set once it is.
    pub(crate) join_requested: bool,
    pub(crate) joins_open: bool,
    pub(crate) end: EndCondition,
    /// Set by `outcomes()`: wake the waiter at every child's end, not only at the group's.
    pub(crate) streaming: bool,
    /// The running incarnations by `ChildId` index; `None` for a child that has ended, waits
    /// to start or restart, or that the driver is polling right now.
    pub(crate) children: Slots<Option<ChildTask<T>>>,
    /// Children from this index on have not been polled yet: ids are given in spawn order,
    /// so the new children are always the last slots.
    pub(crate) next_fresh: usize,
    /// Children to poll next (woken, restarted, dequeued), from `woken_cursor` on.
    pub(crate) woken: Vec<usize>,
    pub(crate) woken_cursor: usize,
    /// One per spawned child, indexed by `ChildId` (R4: reports come out in spawn order);
    /// `None` while the child lives, and again once a stream has handed the outcome out.
    pub(crate) outcomes: Slots<Option<Outcome<T>>>,
    /// Names by `ChildId`, filled only up to the last named child, so that the large groups
    /// of unnamed children pay nothing for names.
    pub(crate) names: Slots<Option<Name>>,
    /// Kinds by `ChildId`, filled only up to the last child that is not a future.
    pub(crate) kinds: Slots<ChildKind>,
    /// Specs by `ChildId`, filled only up to the last child that has one.
    pub(crate) specs: Slots<Option<Box<ChildSpec<T>>>>,
    /// Start and stop times by `ChildId`, for timed groups only.
    pub(crate) times: Slots<ChildTimes>,
    /// The clock, read at most once per turn of the driver: every child started or stopped in
    /// the same turn of the event loop gets the same time. A clock read per child measured
    /// ~15% of an actor child's whole cost (docs/PERFORMANCE.md).
    pub(crate) clock: Option<Instant>,
    /// What running actor children reported before stopping, by `ChildId` index.
    pub(crate) reports: Reports<T>,
    /// Children accepted and not yet ended for good (queued and restarting ones included).
    pub(crate) live: usize,
    /// Live children that are not services.
    pub(crate) main_live: usize,
    /// Every failure in the order it happened (R3).
    pub(crate) failures: Vec<ChildFailure>,
    /// Ids of ended children for the stream to hand out: those that ended before the stream
    /// began in spawn order, then the rest in completion order.
    pub(crate) completed_order: Vec<ChildId>,
    pub(crate) stream_cursor: usize,
    /// When the children still stopping will be dropped.
    pub(crate) grace_deadline: Option<Instant>,
    /// Set once the grace period is over: children still running are dropped, nested
    /// groups excepted.
    pub(crate) grace_over: bool,
    /// Set when every child must be dropped now, nested groups included.
    pub(crate) force_all: bool,
    pub(crate) driver_started: bool,
    pub(crate) driver_waker: Option<Waker>,
    /// The owner's join polls the children itself (`driver::Driving::Join`).
    pub(crate) join_drives: bool,
    /// The driving join's waker, woken with the driver's.
    pub(crate) join_waker: Option<Waker>,
    /// The join futures, streams or supervisors waiting on this group.
    pub(crate) waiters: Waiters,
    pub(crate) queue: StartQueue,
    pub(crate) timers: Timers,
    pub(crate) restarts: RestartWindow,
    pub(crate) jitter: Jitter,
    pub(crate) batch: Option<Batch>,
    /// Bystanders of a restart to stop once the borrow is released, newest last.
    pub(crate) solo_stops: Vec<usize>,
    pub(crate) readiness: Readiness,
    pub(crate) counters: Counters,
    /// The race's winner (`Policy::FirstSuccess`).
    pub(crate) winner: Option<ChildId>,
    /// When the group started (built, or its supervisor started) and finished.
    pub(crate) started_at: Option<Instant>,
    pub(crate) finished_at: Option<Instant>,
    pub(crate) deadline: Option<Instant>,
}

impl<T> State<T> {
    pub(crate) fn now(&mut self) -> Instant {
        *self.clock.get_or_insert_with(Instant::now)
    }

    pub(crate) fn name(&self, index: usize) -> Option<&Name> {
        self.names.get(index)?.as_ref()
    }

    pub(crate) fn kind(&self, index: usize) -> ChildKind {
        self.kinds.get(index).copied().unwrap_or_default()
    }

    pub(crate) fn spec(&self, index: usize) -> Option<&ChildSpec<T>> {
        self.specs.get(index)?.as_deref()
    }

    pub(crate) fn spec_mut(&mut self, index: usize) -> Option<&mut ChildSpec<T>> {
        self.specs.get_mut(index)?.as_deref_mut()
    }

    /// The child's spec, made with default options if it had none (a plain child taken into
    /// a restart strategy's stop, say).
    pub(crate) fn spec_or_default(&mut self, index: usize) -> &mut ChildSpec<T> {
        if self.specs.len() <= index {
            self.specs.resize_with(index + 1, || None);
        }
        self.specs[index].get_or_insert_with(|| {
            let mut spec = ChildSpec::new(Default::default());
            // A child without a spec has started exactly once.
            spec.incarnation = 1;
            Box::new(spec)
        })
    }

    /// The current incarnation of a child (1 for a child without a spec).
    pub(crate) fn incarnation(&self, index: usize) -> u32 {
        self.spec(index).map_or(1, |spec| spec.incarnation)
    }

    pub(crate) fn is_live(&self, index: usize) -> bool {
        matches!(self.outcomes.get(index), Some(None))
    }

    pub(crate) fn wake_waiters(&mut self) {
        self.waiters.wake_each();
    }

    pub(crate) fn wake_driver(&mut self) {
        if let Some(waker) = self.driver_waker.take() {
            waker.wake();
        }
        if let Some(waker) = self.join_waker.take() {
            waker.wake();
        }
    }

    /// Takes the child at `index` out of its slot, if it is there and `wanted`.
    // Not inlined: inlined, the task was copied to the stack and read back at once in
    // overlapping pieces, which stalled the store-to-load forwarding (15% of the driver
    // loop's samples in `perf` over a restarting future child); called, it is written once,
    // into the caller's place.
    #[inline(never)]
    pub(crate) fn take_child(
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

    /// The next child to poll: new children first, in spawn order, then woken ones. Says
    /// whether it is the last new child (the group may have just become ready).
    pub(crate) fn next_to_poll(&mut self, queue: &ReadyQueue) -> Option<(usize, bool)> {
        while self.next_fresh < self.children.len() {
            let index = self.next_fresh;
            self.next_fresh += 1;
            let last = self.next_fresh == self.children.len();
            let remote = self.children[index]
                .as_ref()
                .is_some_and(|task| task.remote_arbiter().is_some());
            if !remote {
                return Some((index, last));
            }
            if last {
                // A child with no body here is never polled, but the driver must still hear
                // that every new child has had its turn: an index with no slot, which it
                // skips.
                return Some((usize::MAX, true));
            }
        }
        if self.woken_cursor == self.woken.len() {
            self.woken.clear();
            self.woken_cursor = 0;
            queue.take_woken(&mut self.woken);
        }
        let index = self.woken.get(self.woken_cursor).copied()?;
        self.woken_cursor += 1;
        Some((index, false))
    }

    /// Whether the driver has nothing left to poll this turn.
    pub(crate) fn idle(&self) -> bool {
        self.next_fresh == self.children.len() && self.woken_cursor == self.woken.len()
    }
}

pub(crate) struct Scope<T> {
    pub(crate) config: ScopeConfig,
    pub(crate) state: RefCell<State<T>>,
    /// Where the wakers of waiting children put them for the driver.
    pub(crate) ready: Arc<ReadyQueue>,
    /// This scope, for the incarnations and reporters it hands out.
    pub(crate) me: Weak<Scope<T>>,
    /// The group's span: every event of the group and its children is inside it (R16).
    pub(crate) span: tracing::Span,
    /// The finished group's report, for a group whose result is shared.
    pub(crate) final_report: RefCell<Option<Rc<crate::report::GroupReport<T>>>>,
    /// `T::clone`, once someone who can copy values waits for the report: its copies then
    /// share its entries (report/children.rs).
    pub(crate) report_sharing: Cell<Option<CloneValue<T>>>,
    /// The group's hold on its pool (a `pool::binding::Binding<T>`), made at the first child
    /// placed on it.
    pub(crate) pool: RefCell<Option<Rc<dyn crate::pool::binding::PoolLink<T>>>>,
    /// A nested group keeps its last view for its parent's snapshots: taken as its report is
    /// built, which empties the state.
    pub(crate) keep_final_view: std::cell::Cell<bool>,
    pub(crate) final_view: RefCell<Option<crate::snapshot::Snapshot>>,
}

impl<T> Scope<T> {
    pub(crate) fn new(config: ScopeConfig) -> Rc<Self> {
        let span = events::group_span(config.name.as_deref());
        let end = config.end;
        Rc::new_cyclic(|me: &Weak<Scope<T>>| Scope {
            state: RefCell::new(State {
                phase: Phase::Open,
                stop_cause: None,
                stop_reason: None,
                joining: false,
                join_requested: false,
                joins_open: false,
                end,
                streaming: false,
                children: Slots::new(),
                next_fresh: 0,
                woken: Vec::new(),
                woken_cursor: 0,
                outcomes: Slots::new(),
                names: Slots::new(),
                kinds: Slots::new(),
                specs: Slots::new(),
                times: Slots::new(),
                clock: None,
                reports: Reports::default(),
                live: 0,
                main_live: 0,
                failures: Vec::new(),
                completed_order: Vec::new(),
                stream_cursor: 0,
                grace_deadline: None,
                grace_over: false,
                force_all: false,
                driver_started: false,
                driver_waker: None,
                join_drives: false,
                join_waker: None,
                waiters: Waiters::default(),
                queue: StartQueue::default(),
                timers: Timers::default(),
                restarts: RestartWindow::default(),
                jitter: Jitter::seeded(me.as_ptr() as usize as u64),
                batch: None,
                solo_stops: Vec::new(),
                readiness: Readiness::default(),
                counters: Counters::default(),
                winner: None,
                started_at: None,
                finished_at: None,
                deadline: None,
            }),
            ready: Arc::default(),
            me: Weak::clone(me),
            span,
            final_report: RefCell::new(None),
            report_sharing: Cell::new(None),
            pool: RefCell::new(None),
            keep_final_view: std::cell::Cell::new(false),
            final_view: RefCell::new(None),
            config,
        })
    }

    pub(crate) fn config(&self) -> &ScopeConfig {
        &self.config
    }

    /// Starts the group's clock: its deadline runs from here (R13), and its report's times.
    pub(crate) fn begin(&self) {
        let mut state = self.state.borrow_mut();
        if state.started_at.is_some() {
            return;
        }
        let now = Instant::now();
        state.started_at = Some(now);
        state.deadline = self.config.deadline.map(|deadline| deadline.resolve(now));
        if state.deadline.is_some() {
            state.wake_driver();
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.state.borrow().phase == Phase::Finished
    }

    pub(crate) fn is_open(&self) -> bool {
        self.state.borrow().phase == Phase::Open
    }

    /// A name for the group in events and errors.
    pub(crate) fn display_name(&self) -> &str {
        self.config.name.as_deref().unwrap_or("")
    }
}

impl<T: 'static> Scope<T> {
    /// Keeps what a running actor child reported, to be its outcome when it stops.
    pub(crate) fn report(&self, id: ChildId, incarnation: u32, outcome: Outcome<T>) {
        let mut state = self.state.borrow_mut();
        let current = state.is_live(id.index()) && state.incarnation(id.index()) == incarnation;
        if current && state.phase != Phase::Finished {
            state.reports.insert(id.index(), outcome);
        }
    }

    /// The address of the child with this id, if it is an actor that runs (or waits to
    /// start) now.
    pub(crate) fn child_address(&self, id: ChildId) -> Option<Box<dyn std::any::Any>> {
        let state = self.state.borrow();
        let index = id.index();
        if let Some(task) = state.children.get(index).and_then(Option::as_ref) {
            return task.address();
        }
        state.spec(index)?.queued.as_ref()?.address()
    }

    /// The oldest running child with this name (names need not be unique; ids are).
    pub(crate) fn child_named(&self, name: &str) -> Option<ChildId> {
        let state = self.state.borrow();
        state
            .names
            .iter()
            .enumerate()
            .find(|(index, candidate)| candidate.as_deref() == Some(name) && state.is_live(*index))
            .map(|(index, _)| ChildId::new(index))
    }

    /// The group's end condition becomes "when done" (a `Close`).
    pub(crate) fn close(&self) {
        let action = {
            let mut state = self.state.borrow_mut();
            if state.end == EndCondition::Never {
                state.end = EndCondition::WhenDone;
            }
            self.end_check(&mut state)
        };
        self.act(action);
    }

    /// The group is whole: a wait asked for before now begins (a supervisor after spawning
    /// its builder's children; a `TaskGroup` at once).
    pub(crate) fn open_joins(&self) {
        let requested = {
            let mut state = self.state.borrow_mut();
            state.joins_open = true;
            state.join_requested
        };
        if requested {
            self.begin_join(false);
        }
    }

    /// From now on the group ends as soon as its end condition holds (R1).
    pub(crate) fn begin_join(&self, streaming: bool) {
        let action = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            state.join_requested = true;
            if !state.joins_open {
                return;
            }
            state.joining = true;
            if streaming && !state.streaming {
                state.streaming = true;
                let ended = state.outcomes.iter().enumerate();
                let ended = ended.filter(|(_, outcome)| outcome.is_some());
                let ended = ended.map(|(index, _)| ChildId::new(index));
                state.completed_order.extend(ended);
            }
            self.end_check(state)
        };
        self.act(action);
    }

    /// A key for a future that will wait on the group (its end or its readiness).
    pub(crate) fn waiter_key(&self) -> u64 {
        self.state.borrow_mut().waiters.key()
    }

    pub(crate) fn poll_finished(&self, key: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.phase == Phase::Finished {
            return Poll::Ready(());
        }
        state.waiters.register(key, cx.waker());
        Poll::Pending
    }
}

//! What a group knows of a child beyond its running body: the options it was given, the
//! factory that makes its incarnations, and where it is in its life. Only children that
//! need it have one (a restartable, queued, timed, best-effort or service child, or one that
//! signals readiness); a plain future spawned into a `TaskGroup` costs nothing here.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::child::ChildId;
use crate::engine::child::BoxedChild;
use crate::engine::restart::Streak;
use crate::engine::scope::Scope;
use crate::error::FailureKind;
use crate::policy::Restart;
use crate::report::GroupReport;
use crate::snapshot::Snapshot;

/// How many failed attempts a child's report keeps the causes of (a permanent child may
/// restart a million times in a long life, DESIGN §6).
pub(crate) const RECENT_FAILURES: usize = 4;

/// The options of one child, set on its [`Child`](crate::Child) spec.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChildOptions {
    pub(crate) restart: Restart,
    /// A best-effort child's failure is recorded and triggers nothing (§3).
    pub(crate) best_effort: bool,
    /// A service runs beside the others and is stopped once they have ended
    /// (`EndCondition::WhenMainDone`).
    pub(crate) service: bool,
    /// Each incarnation's own time limit (R13).
    pub(crate) timeout: Option<Duration>,
    /// At most this many incarnations; the last failure is then the child's outcome.
    pub(crate) max_attempts: Option<NonZeroU32>,
    /// The child says when it is ready (R15) instead of being ready once started.
    pub(crate) signals_ready: bool,
    /// An actor child stops when every address but its group's is gone.
    pub(crate) stop_when_unaddressed: bool,
}

impl ChildOptions {
    /// Whether a child with these options needs a spec at all.
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self.restart, Restart::Temporary)
            && !self.best_effort
            && !self.service
            && self.timeout.is_none()
            && self.max_attempts.is_none()
            && !self.signals_ready
    }
}

/// What a new incarnation of a child is told about itself.
pub(crate) struct Incarnation<T> {
    pub(crate) scope: Weak<Scope<T>>,
    pub(crate) id: ChildId,
    /// 1 for the first incarnation.
    pub(crate) number: u32,
    pub(crate) options: ChildOptions,
}

impl<T> Clone for Incarnation<T> {
    fn clone(&self) -> Self {
        Incarnation {
            scope: Weak::clone(&self.scope),
            id: self.id,
            number: self.number,
            options: self.options,
        }
    }
}

/// Makes a child's incarnations. Making one runs no user code: the user's factory is called
/// on the incarnation's first poll, so a child that waits in a queue, or whose group stops
/// before it starts, never has its factory called (R7, R14).
pub(crate) trait Incarnate<T> {
    fn incarnate(&self, incarnation: Incarnation<T>) -> BoxedChild<T>;
}

/// Why a single child (not the whole group) is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SoloStop {
    /// Its own time limit passed: its outcome is `TimedOut`.
    TimedOut,
    /// A restart strategy stops it to start it again with its sibling.
    Strategy,
}

/// A live view of a nested group, for snapshots of the whole tree.
pub(crate) trait SnapshotSource {
    fn snapshot(&self) -> Snapshot;
}

/// The group's record of one child that needs more than a slot.
pub(crate) struct ChildSpec<T> {
    pub(crate) options: ChildOptions,
    /// Makes new incarnations; `None` for a child given as a single future or `FnOnce`.
    pub(crate) maker: Option<Rc<dyn Incarnate<T>>>,
    /// The current incarnation's number; 0 until the child first starts.
    pub(crate) incarnation: u32,
    /// The body of a child waiting for a start slot (R14), not started yet.
    pub(crate) queued: Option<BoxedChild<T>>,
    /// When the current incarnation started (its age, its backoff streak).
    pub(crate) incarnation_started: Option<Instant>,
    pub(crate) streak: Streak,
    /// Set while the child waits to be started again.
    pub(crate) restarting_until: Option<Instant>,
    /// The current incarnation has signalled readiness.
    pub(crate) ready: bool,
    /// Whether the current incarnation counts among the group's not-ready children.
    pub(crate) counted_unready: bool,
    /// The child is among those that failed before they were ready (listed once, however
    /// many of its incarnations did).
    pub(crate) failed_unready: bool,
    /// Set while the child is being stopped on its own, with why.
    pub(crate) solo_stop: Option<SoloStop>,
    /// Set between an incarnation's end and the next one's start (R12).
    pub(crate) awaiting_restart: bool,
    /// The child's failure is already in the group's error (a start timeout): its outcome
    /// adds no second entry.
    pub(crate) failure_recorded: bool,
    /// Set while the child belongs to a restart in progress (stopped by a strategy, or the
    /// one whose end triggered it): it is started again once every member has stopped.
    pub(crate) in_batch: bool,
    /// The causes of the last failed attempts, newest last.
    pub(crate) recent_failures: VecDeque<(FailureKind, Arc<anyhow::Error>)>,
    /// A nested group's own report, once it has ended (R8: a report is a tree).
    pub(crate) nested_report: Option<Arc<GroupReport<()>>>,
    /// A nested group's live view.
    pub(crate) nested_view: Option<Weak<dyn SnapshotSource>>,
    /// A nested group's last view, taken as it ended (its live view is gone with it).
    pub(crate) nested_final: Option<Box<Snapshot>>,
}

impl<T> ChildSpec<T> {
    pub(crate) fn new(options: ChildOptions) -> Self {
        ChildSpec {
            options,
            maker: None,
            incarnation: 0,
            queued: None,
            incarnation_started: None,
            streak: Streak::default(),
            restarting_until: None,
            ready: false,
            counted_unready: false,
            failed_unready: false,
            solo_stop: None,
            awaiting_restart: false,
            failure_recorded: false,
            in_batch: false,
            recent_failures: VecDeque::new(),
            nested_report: None,
            nested_view: None,
            nested_final: None,
        }
    }

    pub(crate) fn remember_failure(&mut self, kind: FailureKind, cause: Arc<anyhow::Error>) {
        if self.recent_failures.len() == RECENT_FAILURES {
            self.recent_failures.pop_front();
        }
        self.recent_failures.push_back((kind, cause));
    }

    /// Its restart type as it acts: a temporary child given more than one attempt asks for
    /// retries, so it is transient.
    pub(crate) fn effective_restart(&self) -> Restart {
        match self.options.restart {
            Restart::Temporary if self.options.max_attempts.is_some_and(|n| n.get() > 1) => {
                Restart::Transient
            }
            other => other,
        }
    }

    /// Whether this child may be started again: it can be made again, its type allows it,
    /// and it has attempts left.
    pub(crate) fn restartable(&self) -> bool {
        self.maker.is_some()
            && self.effective_restart() != Restart::Temporary
            && self
                .options
                .max_attempts
                .is_none_or(|max| self.incarnation < max.get())
    }
}

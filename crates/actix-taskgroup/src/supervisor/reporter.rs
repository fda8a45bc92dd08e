//! An actor child's line to its group.

use std::fmt;
use std::rc::Weak;
use std::sync::Arc;

use actix::{Actor, ActorContext, Context};

use crate::child::ChildId;
use crate::engine::scope::Scope;
use crate::engine::spec::SnapshotSource;
use crate::outcome::Outcome;
use crate::report::GroupReport;

/// An actor child's line to its group: how it reports a failure or a value before it stops,
/// and (if it [signals readiness](crate::Child::signals_ready)) when it is ready.
///
/// The group gives one to the factory that builds each incarnation of an actor child. An
/// actor that stops without reporting anything has completed (with `T::default()`, so `()`
/// for the usual `GroupSupervisor<()>`); one that reported a failure has failed, and under
/// fail-fast its siblings are stopped as soon as it has stopped. A reporter speaks for one
/// incarnation: after a restart, the old one's reports are ignored.
///
/// ```
/// use actix::prelude::*;
/// use actix_taskgroup::{GroupSupervisor, Join, Reporter};
///
/// struct Migrator {
///     reporter: Reporter<()>,
/// }
///
/// impl Actor for Migrator {
///     type Context = Context<Self>;
///
///     fn started(&mut self, ctx: &mut Context<Self>) {
///         // One line: record the failure and stop.
///         self.reporter.fail_and_stop(ctx, anyhow::anyhow!("table locked"));
///     }
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<()>::builder()
///     .child_actor("migrate", |reporter| Migrator { reporter })
///     .start();
/// let report = group.send(Join::new()).await.unwrap();
/// let error = report.error().unwrap();
/// assert_eq!(error.first_failure().unwrap().cause().to_string(), "table locked");
/// # });
/// ```
pub struct Reporter<T> {
    pub(crate) scope: Weak<Scope<T>>,
    pub(crate) id: ChildId,
    pub(crate) incarnation: u32,
    /// For an actor child on another arbiter (a pool's): where its reports go instead.
    pub(crate) remote: Option<Arc<crate::pool::line::RemoteLine<T>>>,
}

impl<T: 'static> Reporter<T> {
    /// The child's id in its group.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// Which incarnation this is: 1 the first time, 2 after the first restart, …
    pub fn attempt(&self) -> u32 {
        self.incarnation
    }

    /// Records that the child failed. It takes effect when the actor stops; the last report
    /// before the stop wins. A report after the child has stopped is ignored.
    pub fn fail(&self, error: impl Into<anyhow::Error>) {
        self.report(Outcome::Failed(Arc::new(error.into())));
    }

    /// Records the child's value. It takes effect when the actor stops.
    pub fn complete(&self, value: T) {
        self.report(Outcome::Completed(value));
    }

    /// Records that the child failed and stops it: the one-line way to fail.
    pub fn fail_and_stop<A>(&self, ctx: &mut Context<A>, error: impl Into<anyhow::Error>)
    where
        A: Actor<Context = Context<A>>,
    {
        self.fail(error);
        ctx.stop();
    }

    /// Records the child's value and stops it.
    pub fn complete_and_stop<A>(&self, ctx: &mut Context<A>, value: T)
    where
        A: Actor<Context = Context<A>>,
    {
        self.complete(value);
        ctx.stop();
    }

    /// Says the child is ready (R15), for a child that [signals
    /// readiness](crate::Child::signals_ready); any other actor child is ready once its
    /// `started()` has returned. Saying it again does nothing.
    pub fn ready(&self) {
        if let Some(remote) = &self.remote {
            remote.signal_ready();
        } else if let Some(scope) = self.scope.upgrade() {
            scope.mark_ready(self.id, self.incarnation);
        }
    }

    pub(crate) fn report(&self, outcome: Outcome<T>) {
        if let Some(remote) = &self.remote {
            remote.keep_report(outcome);
        } else if let Some(scope) = self.scope.upgrade() {
            scope.report(self.id, self.incarnation, outcome);
        }
    }

    /// Keeps a nested group's own report in this child's entry (R8: a report is a tree).
    pub(crate) fn attach_nested(&self, report: Arc<GroupReport<()>>) {
        if let Some(scope) = self.scope.upgrade() {
            let mut state = scope.state.borrow_mut();
            if state.incarnation(self.id.index()) == self.incarnation {
                state.spec_or_default(self.id.index()).nested_report = Some(report);
            }
        }
    }

    /// Keeps a nested group's last view, for snapshots after it has ended.
    pub(crate) fn attach_final_view(&self, snapshot: crate::snapshot::Snapshot) {
        if let Some(scope) = self.scope.upgrade() {
            let mut state = scope.state.borrow_mut();
            if state.incarnation(self.id.index()) == self.incarnation {
                state.spec_or_default(self.id.index()).nested_final = Some(Box::new(snapshot));
            }
        }
    }

    /// Lets snapshots of this group show the nested group's own tree.
    pub(crate) fn attach_view(&self, view: Weak<dyn SnapshotSource>) {
        if let Some(scope) = self.scope.upgrade() {
            let mut state = scope.state.borrow_mut();
            state.spec_or_default(self.id.index()).nested_view = Some(view);
        }
    }
}

impl<T> Clone for Reporter<T> {
    fn clone(&self) -> Self {
        Reporter {
            scope: Weak::clone(&self.scope),
            id: self.id,
            incarnation: self.incarnation,
            remote: self.remote.clone(),
        }
    }
}

impl<T> fmt::Debug for Reporter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("id", &self.id)
            .field("incarnation", &self.incarnation)
            .finish()
    }
}

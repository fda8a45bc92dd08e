//! `GroupSupervisor`: the actix actor that supervises child actors, futures and nested
//! groups, and the messages, reporters and guards that come with it.

pub(crate) mod actor_child;
pub(crate) mod builder;
pub(crate) mod child_ref;
pub(crate) mod guard;
pub(crate) mod messages;
pub(crate) mod nested;
pub(crate) mod reporter;

use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;

use actix::fut::wrap_future;
use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Running};

use crate::engine::scope::{Scope, StopReason};
use crate::error::GroupErrorKind;
use crate::handle::GroupHandle;
use crate::report::GroupReport;
use crate::supervisor::builder::GroupSupervisorBuilder;

/// A child given to the builder, spawned when the supervisor starts.
pub(crate) enum PendingChild<T> {
    /// Its body, made at the builder call (one allocation per child, not two).
    Body {
        name: crate::engine::scope::Name,
        kind: crate::child::ChildKind,
        body: crate::engine::child::BoxedChild<T>,
    },
    /// Anything that needs the group to be made (a `Child` spec, a nested group).
    Later(SpawnLater<T>),
}

pub(crate) type SpawnLater<T> = Box<dyn FnOnce(&Rc<Scope<T>>)>;
pub(crate) type FinishListener<T> = Box<dyn FnOnce(&GroupReport<T>)>;

/// An actix actor that supervises a group of child actors, futures and nested groups: it
/// runs them, watches them stop, restarts them if they say so (R12), stops the siblings
/// when one fails, and replies to whoever waits with one combined report once every child
/// has really stopped (R1, R9).
///
/// ```
/// use actix::prelude::*;
/// use actix_taskgroup::{GroupSupervisor, Join, Reporter};
///
/// /// A worker that fails in its `started()`.
/// struct Flaky(Reporter<()>);
///
/// impl Actor for Flaky {
///     type Context = Context<Self>;
///     fn started(&mut self, ctx: &mut Context<Self>) {
///         self.0.fail_and_stop(ctx, anyhow::anyhow!("lost connection"));
///     }
/// }
///
/// /// A worker that would run until stopped: it is stopped when its sibling fails.
/// struct Steady;
///
/// impl Actor for Steady {
///     type Context = Context<Self>;
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<()>::builder()
///     .name("workers")
///     .child_actor("steady", |_| Steady)
///     .child_future("warmup", || async { Ok::<_, anyhow::Error>(()) })
///     .child_actor("flaky", Flaky)
///     .start();
///
/// let report = group.send(Join::new()).await.unwrap();
/// let error = report.error().unwrap();
/// assert_eq!(error.first_failure().unwrap().name(), Some("flaky"));
/// // The report is complete even though the group failed.
/// assert!(report.child_named("steady").unwrap().outcome().is_cancelled());
/// assert!(report.child_named("warmup").unwrap().outcome().is_completed());
/// # });
/// ```
///
/// # Lifecycle
///
/// * Children given to the builder are built and started when the supervisor starts; more
///   can be added by message ([`SpawnActor`](crate::SpawnActor),
///   [`SpawnFuture`](crate::SpawnFuture), [`SpawnGroup`](crate::SpawnGroup),
///   [`SpawnChild`](crate::SpawnChild)) or, on the same arbiter, through a [`GroupHandle`].
/// * An actor child lives until it stops itself or the group stops it: the group holds an
///   address of its own. Reach it by name with [`ChildAddr`](crate::ChildAddr).
/// * The group ends when its [`EndCondition`](crate::EndCondition) holds: by default once
///   someone waits ([`Join`](crate::Join), [`NotifyWhenDone`](crate::NotifyWhenDone), a
///   handle's join) and no child is left; or never, until [`Close`](crate::Close); or once
///   the main children are done and the services have been stopped. The report is then
///   kept: later askers get it at once.
/// * Stopping is two-phase (R2): every child is asked to stop in reverse start order (actors
///   run `stopping()` and `stopped()`; futures are dropped, or told if they watch for it);
///   whoever is still running when the grace period ends is dropped, newest first (an actor
///   that keeps returning `Running::Continue` from `stopping()` cannot hang the group; actix
///   then never runs its `stopped()`). A nested group is never dropped early: it stops its
///   own children, with its own grace.
/// * Stopping the supervisor itself (`ctx.stop()` from a handler, or
///   [`Cancel`](crate::Cancel)) stops the group first; its `stopped()` runs after every child
///   has stopped.
/// * Ownership (DESIGN §6): a supervisor started with [`start`](GroupSupervisorBuilder::start)
///   is top-level and runs until stopped, whoever holds its address. A
///   [`SupervisorGuard`](crate::SupervisorGuard) (from
///   [`start_guarded`](GroupSupervisorBuilder::start_guarded)) ties it to its owner: when
///   the owner drops it, the group is cancelled (R6). An asker that goes away is skipped.
/// * Dropping the supervisor actor itself (actix drops it when its context is dropped, for
///   example when the `System` shuts down) drops every child at once; waiting askers still
///   get the report.
///
/// # Where the guarantee ends
///
/// Work a child hands to `actix_rt::spawn`, `Arbiter::spawn`, or `ResponseFuture` runs
/// detached: it is not a child and the group neither waits for it nor stops it.
pub struct GroupSupervisor<T: 'static = ()> {
    scope: Rc<Scope<T>>,
    /// Children given to the builder, built when the supervisor starts.
    initial: Vec<PendingChild<T>>,
    /// Told the report once, when the group finishes: askers, recipients, a parent group.
    listeners: Vec<FinishListener<T>>,
    /// The report, kept for askers that come after the end.
    result: Option<Rc<GroupReport<T>>>,
    /// Whether `started()` has run (and spawned the builder's children).
    started: bool,
    /// A nested group stops itself once finished, so that its parent sees it end; so does a
    /// supervisor that was asked to stop and waited for its children.
    stop_when_finished: bool,
}

impl<T: 'static> GroupSupervisor<T> {
    /// A builder: name, policies, restarts, limits, time, and the children to start with.
    pub fn builder() -> GroupSupervisorBuilder<T> {
        GroupSupervisorBuilder::new()
    }

    /// Builds and starts a supervisor on another arbiter: `make` (a `Send` closure) runs
    /// there and returns the builder, so the builder's children (which need not be `Send`)
    /// are made on that arbiter. The supervisor is top-level, as with
    /// [`start`](GroupSupervisorBuilder::start).
    ///
    /// ```
    /// use actix_taskgroup::{GroupSupervisor, Join};
    ///
    /// # actix_rt::System::new().block_on(async {
    /// let arbiter = actix_rt::Arbiter::new();
    /// let group = GroupSupervisor::start_in(&arbiter.handle(), || {
    ///     GroupSupervisor::<u32>::builder().child_future("there", || async {
    ///         Ok::<_, anyhow::Error>(7)
    ///     })
    /// });
    /// assert_eq!(group.send(Join::new()).await.unwrap().into_result().unwrap(), [7]);
    /// arbiter.stop();
    /// # });
    /// ```
    pub fn start_in(
        arbiter: &actix_rt::ArbiterHandle,
        make: impl FnOnce() -> GroupSupervisorBuilder<T> + Send + 'static,
    ) -> actix::Addr<Self> {
        Actor::start_in_arbiter(arbiter, move |_| make().build())
    }

    pub(crate) fn from_parts(scope: Rc<Scope<T>>, initial: Vec<PendingChild<T>>) -> Self {
        GroupSupervisor {
            scope,
            initial,
            listeners: Vec::new(),
            result: None,
            started: false,
            stop_when_finished: false,
        }
    }

    /// A handle for code on the supervisor's arbiter: spawn `!Send` futures or actors into the
    /// group, look children up, take snapshots, wait for readiness or for the report, without
    /// going through the mailbox.
    pub fn handle(&self) -> GroupHandle<T> {
        GroupHandle::new(Rc::downgrade(&self.scope))
    }

    /// The group's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.scope.config().name.as_deref()
    }

    pub(crate) fn scope(&self) -> &Rc<Scope<T>> {
        &self.scope
    }

    pub(crate) fn result(&self) -> Option<&Rc<GroupReport<T>>> {
        self.result.as_ref()
    }

    /// Registers `listener` to be told the report when the group finishes (or now, if it
    /// has), and starts the wait for the group's end.
    pub(crate) fn on_finish(&mut self, listener: FinishListener<T>) {
        match &self.result {
            Some(report) => listener(report),
            None => {
                self.listeners.push(listener);
                // Before `started()` the builder's children are not spawned yet: the scope
                // holds the wait until they are, or the group would end at once, empty.
                self.scope.begin_join(false);
            }
        }
    }

    /// Lets every asker's copy of the report share its entries (see [`Join`]).
    pub(crate) fn share_report_with(&mut self, clone_value: fn(&T) -> T) {
        self.scope.share_report_with(clone_value);
    }

    pub(crate) fn stop_when_finished(&mut self) {
        self.stop_when_finished = true;
    }

    /// Tells every listener the report, once (R9).
    fn deliver(&mut self) {
        if self.result.is_some() {
            return;
        }
        let Some(report) = self.scope.shared_report() else {
            return;
        };
        for listener in self.listeners.drain(..) {
            listener(&report);
        }
        self.result = Some(report);
    }

    /// The group has finished: every child has stopped (R1).
    fn finished(&mut self, ctx: &mut Context<Self>) {
        self.deliver();
        if self.stop_when_finished {
            ctx.stop();
        }
    }
}

impl<T: 'static> Actor for GroupSupervisor<T> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // The deadline runs from here (R13).
        self.scope.begin();
        for pending in self.initial.drain(..) {
            // Refused only if a factory has already stopped the group: then the rest are
            // dropped unstarted (R7).
            let _ = match pending {
                PendingChild::Body { name, kind, body } => {
                    self.scope.spawn_bound(Some(name), kind, body).map(drop)
                }
                PendingChild::Later(spawn) => {
                    spawn(&self.scope);
                    Ok(())
                }
            };
        }
        self.started = true;
        // Only now is the group whole: a wait asked for earlier begins, and it may tell a
        // parent it is ready (R15).
        self.scope.open_joins();
        self.scope.enable_ready_announcement();
        // The one future in the supervisor's own context: it waits for the group's end. The
        // children are polled by the group's driver task, never as items of this context
        // (R11: an actor context polls its items in a list, which is slow for many).
        let scope = Rc::clone(&self.scope);
        let key = scope.waiter_key();
        let group_end = wrap_future(poll_fn(move |cx| scope.poll_finished(key, cx)));
        ctx.spawn(group_end.map(|(), supervisor: &mut Self, ctx| supervisor.finished(ctx)));
    }

    fn stopping(&mut self, ctx: &mut Context<Self>) -> Running {
        if self.scope.is_finished() {
            if self.result.is_none() {
                self.finished(ctx);
            }
            return Running::Stop;
        }
        // Stop the children first; the watcher stops the supervisor again once they have.
        self.scope
            .stop(Some(GroupErrorKind::Cancelled), StopReason::Cancelled);
        self.stop_when_finished = true;
        if self.scope.is_finished() {
            self.deliver();
            return Running::Stop;
        }
        Running::Continue
    }
}

impl<T: 'static> Drop for GroupSupervisor<T> {
    /// The supervisor is being dropped without having stopped (its context was dropped): the
    /// children cannot be waited for, so they are dropped now (no orphans), and whoever
    /// waits is told (R9).
    fn drop(&mut self) {
        self.scope.force_stop();
        self.deliver();
    }
}

impl<T: 'static> fmt::Debug for GroupSupervisor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSupervisor")
            .field("name", &self.name())
            .field("finished", &self.result.is_some())
            .finish_non_exhaustive()
    }
}

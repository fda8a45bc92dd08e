//! `GroupSupervisor`: the actix actor that supervises child actors and futures.

use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;

use actix::fut::wrap_future;
use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Running};

use actix::Addr;

use crate::scope::{Name, Scope};
use crate::{
    GroupError, GroupErrorKind, GroupHandle, GroupReport, GroupSupervisorBuilder, Outcome,
    Reporter, SpawnError,
};

/// What a supervisor's waiting parent gets: every child's report, or the group's error.
pub type JoinResult<T> = Result<GroupReport<T>, GroupError>;

pub(crate) type PendingChild<T> = Box<dyn FnOnce(&Rc<Scope<T>>)>;
pub(crate) type FinishListener<T> = Box<dyn FnOnce(&JoinResult<T>)>;

/// An actix actor that supervises a group of child actors and futures: it runs them, watches
/// them stop, stops the siblings when one fails, and replies to whoever waits with one
/// combined result once every child has really stopped.
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
/// /// A worker that would run forever: it is stopped when its sibling fails.
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
///     .child_actor("flaky", Flaky)
///     .child_future("warmup", || async { Ok::<_, anyhow::Error>(()) })
///     .start();
///
/// let error = group.send(Join::new()).await.unwrap().unwrap_err();
/// assert_eq!(error.first_failure().unwrap().name(), Some("flaky"));
/// # });
/// ```
///
/// # Lifecycle
///
/// * Children given to the builder are built and started when the supervisor starts; more
///   can be added by message ([`SpawnActor`](crate::SpawnActor),
///   [`SpawnFuture`](crate::SpawnFuture)) or, on the same arbiter, through a
///   [`GroupHandle`].
/// * The group ends once someone waits for it ([`Join`](crate::Join), a
///   [`NotifyWhenDone`](crate::NotifyWhenDone) registration, a handle's join) and no child is
///   left, or when it is stopped. The result is then kept: later askers get it at once.
/// * Stopping is two-phase (R2): every child is asked to stop in reverse start order (actors
///   run `stopping()` and `stopped()`; futures are dropped); whoever is still running when the
///   grace period ends is dropped (an actor that keeps returning `Running::Continue` from
///   `stopping()` cannot hang the group; actix then never runs its `stopped()`). A nested
///   group is never dropped early: it stops its own children, with its own grace.
/// * Stopping the supervisor itself (`ctx.stop()` from a handler, or
///   [`Cancel`](crate::Cancel)) stops the group first; its `stopped()` runs after every child
///   has stopped.
/// * A [`SupervisorGuard`](crate::SupervisorGuard) (from
///   [`start_guarded`](GroupSupervisorBuilder::start_guarded)) ties the group to its owner:
///   when the owner drops it, the group is cancelled (R6).
/// * Dropping the supervisor actor itself (actix drops it when its context is dropped, for
///   example when the `System` shuts down) drops every child at once.
///
/// # Where the guarantee ends
///
/// Work a child hands to `actix_rt::spawn`, `Arbiter::spawn`, or `ResponseFuture` runs
/// detached: it is not a child and the group neither waits for it nor stops it. Futures a child
/// actor spawns into its own context (`ctx.spawn`) belong to that actor and keep it alive
/// after its addresses drop, until the group asks it to stop.
pub struct GroupSupervisor<T: 'static = ()> {
    scope: Rc<Scope<T>>,
    /// Children given to the builder, built when the supervisor starts.
    initial: Vec<PendingChild<T>>,
    /// Told the result once, when the group finishes: askers, recipients, a parent group.
    listeners: Vec<FinishListener<T>>,
    /// The result, kept for askers that come after the end. Boxed: a supervisor must be
    /// `Unpin` (actix asks it of actors) whatever `T` is.
    result: Option<Box<JoinResult<T>>>,
    /// Whether `started()` has run (and spawned the builder's children).
    started: bool,
    /// A nested group stops itself once finished, so that its parent sees it end; so does a
    /// supervisor that was asked to stop and waited for its children.
    stop_when_finished: bool,
}

impl<T: 'static> GroupSupervisor<T> {
    /// A builder: name, policy, grace period and the children to start with.
    pub fn builder() -> GroupSupervisorBuilder<T> {
        GroupSupervisorBuilder::new()
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
    /// group, or cancel it, without going through the mailbox.
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

    pub(crate) fn result(&self) -> Option<&JoinResult<T>> {
        self.result.as_deref()
    }

    /// Registers `listener` to be told the result when the group finishes (or now, if it has),
    /// and starts the wait for the group's end.
    pub(crate) fn on_finish(&mut self, listener: FinishListener<T>) {
        match &self.result {
            Some(result) => listener(result),
            None => {
                self.listeners.push(listener);
                // Before `started()` the builder's children are not spawned yet: the wait
                // begins there, or the group would end at once, empty.
                if self.started {
                    self.scope.begin_join(false);
                }
            }
        }
    }

    pub(crate) fn stop_when_finished(&mut self) {
        self.stop_when_finished = true;
    }

    /// The group has finished: every child has stopped (R1). Tell everyone once (R9).
    fn finished(&mut self, ctx: &mut Context<Self>) {
        if self.result.is_none() {
            let report = self.scope.take_report();
            let result = match report.error() {
                Some(error) => Err(error.clone()),
                None => Ok(report),
            };
            for listener in self.listeners.drain(..) {
                listener(&result);
            }
            self.result = Some(Box::new(result));
        }
        if self.stop_when_finished {
            ctx.stop();
        }
    }
}

impl<T: 'static> Actor for GroupSupervisor<T> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.scope.reserve(self.initial.len());
        for spawn in self.initial.drain(..) {
            spawn(&self.scope);
        }
        self.started = true;
        if !self.listeners.is_empty() {
            self.scope.begin_join(false);
        }
        // The one future in the supervisor's own context: it waits for the group's end. The
        // children are polled by the group's driver task, never as items of this context
        // (R11: an actor context polls its items in a list, which is slow for many).
        let scope = Rc::clone(&self.scope);
        let group_end = wrap_future(poll_fn(move |cx| scope.poll_finished(cx)));
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
        self.scope.stop(GroupErrorKind::Cancelled);
        self.stop_when_finished = true;
        Running::Continue
    }
}

impl<T: 'static> Drop for GroupSupervisor<T> {
    /// The supervisor is being dropped without having stopped (its context was dropped): the
    /// children cannot be waited for, so they are dropped now (no orphans).
    fn drop(&mut self) {
        self.scope.force_stop();
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

impl<T: Default + 'static> Scope<T> {
    /// Accepts a nested group (R8): an actor child that is a supervisor, never dropped at the
    /// grace deadline, whose end reports its result to this group.
    pub(crate) fn spawn_group<U, M>(
        self: &Rc<Self>,
        name: Option<Name>,
        group: GroupSupervisorBuilder<U>,
        map: M,
    ) -> Result<Addr<GroupSupervisor<U>>, SpawnError>
    where
        U: Clone + 'static,
        M: FnOnce(Vec<U>) -> T + 'static,
    {
        self.spawn_actor(name, false, move |reporter: Reporter<T>| {
            let mut inner = group.build();
            inner.stop_when_finished();
            inner.on_finish(Box::new(move |result: &JoinResult<U>| match result {
                Ok(report) => reporter.complete(map(report.values().cloned().collect())),
                // Stopped by request, nothing failed: the nested child was cancelled.
                Err(error) if error.is_cancelled() && error.failures().len() == 0 => {
                    reporter.report(Outcome::Cancelled)
                }
                Err(error) => reporter.fail(error.clone()),
            }));
            inner
        })
    }
}

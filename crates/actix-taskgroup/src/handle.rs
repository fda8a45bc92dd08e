//! A cloneable handle on a running group, for code on the group's own arbiter.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::{Rc, Weak};
use std::task::Poll;

use actix::{Actor, Addr, Context};

use crate::child::ChildId;
use crate::child_spec::Child;
use crate::engine::child::into_child;
use crate::engine::scope::{Scope, StopReason};
use crate::engine::spec::SnapshotSource;
use crate::error::{GroupErrorKind, ReadyError, SpawnError};
use crate::report::GroupReport;
use crate::snapshot::Snapshot;
use crate::supervisor::GroupSupervisor;
use crate::supervisor::builder::GroupSupervisorBuilder;
use crate::supervisor::reporter::Reporter;

/// A cloneable handle on a [`TaskGroup`](crate::TaskGroup) or a
/// [`GroupSupervisor`](crate::GroupSupervisor), for code on the group's own arbiter: children
/// use it to spawn siblings while the group runs, even while `join` waits (R7), to cancel
/// the group, look children up, take snapshots, wait for readiness, or (for a supervisor)
/// wait for its report. It can spawn `!Send` futures and actors, which a message cannot carry.
///
/// A handle does not keep the group alive: once the group is dropped or has finished,
/// [`spawn`](GroupHandle::spawn) returns [`SpawnError::Closed`].
///
/// ```
/// use actix_taskgroup::TaskGroup;
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::new();
/// let handle = group.handle();
/// group.spawn(async move {
///     // A child spawns a sibling; the group waits for both.
///     handle.spawn(async { Ok::<_, anyhow::Error>(2) })?;
///     Ok::<_, anyhow::Error>(1)
/// }).unwrap();
/// assert_eq!(group.join().await.unwrap(), [1, 2]);
/// # });
/// ```
pub struct GroupHandle<T> {
    scope: Weak<Scope<T>>,
}

impl<T: 'static> GroupHandle<T> {
    pub(crate) fn new(scope: Weak<Scope<T>>) -> Self {
        GroupHandle { scope }
    }

    /// The group, unless it has been dropped: a handle does not keep it alive.
    fn scope(&self) -> Result<Rc<Scope<T>>, SpawnError> {
        self.scope.upgrade().ok_or(SpawnError::Closed)
    }

    /// Spawns a child into the group, as [`TaskGroup::spawn`](crate::TaskGroup::spawn) does.
    pub fn spawn<F, E>(&self, future: F) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope()?
            .spawn_future(None, Box::pin(into_child(future)))
    }

    /// Spawns a named child into the group, as
    /// [`TaskGroup::spawn_named`](crate::TaskGroup::spawn_named) does.
    pub fn spawn_named<F, E>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope()?
            .spawn_future(Some(name.into()), Box::pin(into_child(future)))
    }

    /// Spawns a child made by a `Send` closure, on the group's pool if it has one, as
    /// [`TaskGroup::spawn_send`](crate::TaskGroup::spawn_send) does.
    pub fn spawn_send<F, Fut, E>(&self, make: F) -> Result<ChildId, SpawnError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope()?.spawn_send(make)
    }

    /// Spawns a child described by a [`Child`] (restartable, with options).
    pub fn spawn_child(&self, child: Child<T>) -> Result<ChildId, SpawnError> {
        self.scope()?.spawn_child(child)
    }

    /// Spawns an actor child: the group builds it with `factory` (given the child's
    /// [`Reporter`]) in a context it owns and drives, and returns its address. The actor runs
    /// until it stops itself or the group stops it.
    pub fn spawn_actor<A>(
        &self,
        name: impl Into<Cow<'static, str>>,
        factory: impl FnOnce(Reporter<T>) -> A + 'static,
    ) -> Result<Addr<A>, SpawnError>
    where
        A: Actor<Context = Context<A>>,
        T: Default,
    {
        let (_, address) = self
            .scope()?
            .spawn_actor_once(Some(name.into()), factory, true)?;
        address.ok_or(SpawnError::Closed)
    }

    /// Spawns a nested group (R8), as
    /// [`GroupSupervisorBuilder::child_group`](crate::GroupSupervisorBuilder::child_group)
    /// does, and returns its address.
    pub fn spawn_group<U>(
        &self,
        name: impl Into<Cow<'static, str>>,
        group: GroupSupervisorBuilder<U>,
        map: impl FnOnce(Vec<U>) -> T + 'static,
    ) -> Result<Addr<GroupSupervisor<U>>, SpawnError>
    where
        U: Clone + 'static,
        T: Default,
    {
        let spawned = self.scope()?.spawn_group(Some(name.into()), group, map)?;
        Ok(spawned.1)
    }

    /// Cancels the group, as [`TaskGroup::cancel`](crate::TaskGroup::cancel) does. A child
    /// that cancels its own group from inside its poll is stopped with the others when that
    /// poll returns, unless the same poll completed it.
    pub fn cancel(&self) {
        if let Some(scope) = self.scope.upgrade() {
            scope.stop(Some(GroupErrorKind::Cancelled), StopReason::Cancelled);
        }
    }

    /// Switches a group built with [`EndCondition::Never`](crate::EndCondition::Never) to
    /// "when done", as the [`Close`](crate::Close) message does.
    pub fn close(&self) {
        if let Some(scope) = self.scope.upgrade() {
            scope.close();
        }
    }

    /// The address of the oldest running actor child with this name (its current
    /// incarnation), or `None`.
    pub fn child_addr<A>(&self, name: &str) -> Option<Addr<A>>
    where
        A: Actor<Context = Context<A>>,
    {
        let scope = self.scope.upgrade()?;
        scope.child_addr(scope.child_named(name)?)
    }

    /// The address of the actor child with this id (its current incarnation), or `None`.
    pub fn child_addr_of<A>(&self, id: ChildId) -> Option<Addr<A>>
    where
        A: Actor<Context = Context<A>>,
    {
        self.scope.upgrade()?.child_addr(id)
    }

    /// A live picture of the group (R16), or `None` once it has been dropped.
    pub fn snapshot(&self) -> Option<Snapshot> {
        Some(SnapshotSource::snapshot(&*self.scope.upgrade()?))
    }

    /// Waits until every started child is ready (R15), as
    /// [`TaskGroup::wait_ready`](crate::TaskGroup::wait_ready) does.
    pub async fn wait_ready(&self) -> Result<(), ReadyError> {
        let weak = Weak::clone(&self.scope);
        let key = weak.upgrade().map_or(0, |scope| scope.ready_key());
        poll_fn(move |cx| match weak.upgrade() {
            Some(scope) => scope.poll_ready(key, cx),
            None => Poll::Ready(Err(ReadyError::Stopped)),
        })
        .await
    }

    /// Waits for a supervisor's group to end and returns its report, shared by every waiter
    /// (no `Clone` or `Send` needed of `T`, unlike [`Join`](crate::Join)). A waiter does not
    /// end the group by itself: it starts the wait, as `Join` does.
    ///
    /// `None` for a [`TaskGroup`](crate::TaskGroup)'s handle (its owner takes the result
    /// with `join`), or once the supervisor has been dropped.
    ///
    /// ```
    /// use actix_taskgroup::GroupSupervisor;
    /// use std::rc::Rc;
    ///
    /// # actix_rt::System::new().block_on(async {
    /// // `Rc` values are neither `Send` nor shareable by message.
    /// let supervisor = GroupSupervisor::<Rc<str>>::builder()
    ///     .child_future("name", || async { Ok::<_, anyhow::Error>(Rc::from("db-1")) })
    ///     .build();
    /// let handle = supervisor.handle();
    /// let _address = actix::Actor::start(supervisor);
    /// let report = handle.join().await.unwrap();
    /// assert_eq!(&*report.children()[0].outcome().value().unwrap().as_ref(), "db-1");
    /// # });
    /// ```
    pub async fn join(&self) -> Option<Rc<GroupReport<T>>> {
        let scope = self.scope.upgrade()?;
        if !scope.config().shared_result {
            return None;
        }
        scope.begin_join(false);
        let key = scope.waiter_key();
        let weak = Rc::downgrade(&scope);
        drop(scope);
        poll_fn(|cx| match weak.upgrade() {
            Some(scope) => scope.poll_finished(key, cx),
            None => Poll::Ready(()),
        })
        .await;
        weak.upgrade()?.shared_report()
    }
}

impl<T> Clone for GroupHandle<T> {
    fn clone(&self) -> Self {
        GroupHandle {
            scope: Weak::clone(&self.scope),
        }
    }
}

impl<T> fmt::Debug for GroupHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle").finish_non_exhaustive()
    }
}

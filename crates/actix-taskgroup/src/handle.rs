//! A cloneable handle to spawn into a running group, from the group's own arbiter.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::rc::{Rc, Weak};

use actix::{Actor, Addr, Context};

use crate::child::into_child;
use crate::scope::Scope;
use crate::{
    ChildId, GroupErrorKind, GroupSupervisor, GroupSupervisorBuilder, Reporter, SpawnError,
};

/// A cloneable handle on a [`TaskGroup`](crate::TaskGroup) or a
/// [`GroupSupervisor`](crate::GroupSupervisor), for code on the group's own arbiter: children
/// use it to spawn siblings while the group runs, even while `join` waits (R7), or to cancel
/// the group. It can spawn `!Send` futures and actors, which a message cannot carry.
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

    /// Spawns a child into the group, as [`TaskGroup::spawn`](crate::TaskGroup::spawn) does.
    pub fn spawn<F, E>(&self, future: F) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.spawn_child(None, future)
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
        self.spawn_child(Some(name.into()), future)
    }

    fn spawn_child<F, E>(
        &self,
        name: Option<Cow<'static, str>>,
        future: F,
    ) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope()?.spawn(name, into_child(future))
    }

    /// Spawns an actor child: the group builds it with `factory` (given the child's
    /// [`Reporter`]) in a context it owns and drives, and returns its address.
    pub fn spawn_actor<A>(
        &self,
        name: impl Into<Cow<'static, str>>,
        factory: impl FnOnce(Reporter<T>) -> A,
    ) -> Result<Addr<A>, SpawnError>
    where
        A: Actor<Context = Context<A>>,
        T: Default,
    {
        self.scope()?.spawn_actor(Some(name.into()), true, factory)
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
        self.scope()?.spawn_group(Some(name.into()), group, map)
    }

    /// The group, unless it has been dropped: a handle does not keep it alive.
    fn scope(&self) -> Result<Rc<Scope<T>>, SpawnError> {
        self.scope.upgrade().ok_or(SpawnError::Closed)
    }

    /// Cancels the group, as [`TaskGroup::cancel`](crate::TaskGroup::cancel) does. A child
    /// that cancels its own group is cancelled with the others.
    pub fn cancel(&self) {
        if let Some(scope) = self.scope.upgrade() {
            scope.stop(GroupErrorKind::Cancelled);
        }
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

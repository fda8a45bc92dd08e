//! A cloneable handle to spawn into a running group.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::rc::Weak;

use crate::child::into_child;
use crate::scope::Scope;
use crate::{ChildId, GroupErrorKind, SpawnError};

/// A cloneable handle on a [`TaskGroup`](crate::TaskGroup): children use it to spawn siblings
/// while the group runs, even while `join` waits (R7), or to cancel the group.
///
/// A handle does not keep the group alive: once the group is dropped or has finished,
/// [`spawn`](TaskGroupHandle::spawn) returns [`SpawnError::Closed`].
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
pub struct TaskGroupHandle<T> {
    scope: Weak<Scope<T>>,
}

impl<T: 'static> TaskGroupHandle<T> {
    pub(crate) fn new(scope: Weak<Scope<T>>) -> Self {
        TaskGroupHandle { scope }
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
        let scope = self.scope.upgrade().ok_or(SpawnError::Closed)?;
        scope.spawn(name, into_child(future))
    }

    /// Cancels the group, as [`TaskGroup::cancel`](crate::TaskGroup::cancel) does. A child
    /// that cancels its own group is cancelled with the others.
    pub fn cancel(&self) {
        if let Some(scope) = self.scope.upgrade() {
            scope.stop(GroupErrorKind::Cancelled);
        }
    }
}

impl<T> Clone for TaskGroupHandle<T> {
    fn clone(&self) -> Self {
        TaskGroupHandle {
            scope: Weak::clone(&self.scope),
        }
    }
}

impl<T> fmt::Debug for TaskGroupHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle").finish_non_exhaustive()
    }
}

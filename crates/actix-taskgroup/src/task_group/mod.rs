//! `TaskGroup`: the futures-level scope.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::Rc;

use crate::child::into_child;
use crate::scope::Scope;
use crate::{
    ChildId, GroupError, GroupErrorKind, GroupHandle, GroupReport, Outcomes, Policy, SpawnError,
    TaskGroupBuilder,
};

/// A scope that owns the futures spawned in it: it runs them concurrently, waits for all of
/// them, cancels the rest when one fails and reports every failure together.
///
/// A group runs on the actix arbiter (or tokio `LocalSet`) it was first spawned on, so its
/// children may be `!Send` (R10). Each child is a future of `Result<T, E>` where `E` converts
/// into [`anyhow::Error`]; it starts running as soon as it is spawned, whether or not anyone
/// is waiting on the group yet.
///
/// ```
/// use actix_taskgroup::TaskGroup;
/// use std::time::Duration;
///
/// #[actix_rt::main]
/// async fn main() -> anyhow::Result<()> {
///     let group = TaskGroup::new();
///     for n in 1..=3u64 {
///         group.spawn(async move {
///             actix_rt::time::sleep(Duration::from_millis(10 * (4 - n))).await;
///             Ok::<_, anyhow::Error>(n * n)
///         })?;
///     }
///     // Values come back in spawn order, not completion order (R4).
///     assert_eq!(group.join().await?, [1, 4, 9]);
///     Ok(())
/// }
/// ```
///
/// The rules, in short (the crate docs give them in full):
///
/// * `join` returns only after every child has ended (R1).
/// * Under [`Policy::FailFast`], the first failure cancels every sibling (R2); the error lists
///   every failure in order (R3); a panic in a child is a failure, never an unwind (R5).
/// * Cancelling or dropping the group, or dropping its join future, cancels every child at
///   once, and the result says `Cancelled` (R6).
/// * Children can spawn siblings through a [`handle`](TaskGroup::handle) while the group runs;
///   once it is stopping or finished, spawns are refused (R7).
///
/// # Cancel safety
///
/// Dropping the future returned by [`join`](TaskGroup::join) (or by
/// [`join_report`](TaskGroup::join_report) or [`shutdown`](TaskGroup::shutdown)) drops the
/// group, which drops every child still running. Children are never left running unowned.
///
/// # Panics
///
/// The first spawn starts the group's driver task with `actix_rt::spawn`, which panics when
/// called outside an actix `System`/`Arbiter` (or a tokio `LocalSet`). Panics of the children
/// themselves are caught and reported as [`Outcome::Panicked`](crate::Outcome::Panicked).
pub struct TaskGroup<T = ()> {
    scope: Rc<Scope<T>>,
}

impl<T: 'static> TaskGroup<T> {
    /// A fail-fast group with no name.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to name the group or choose its [`Policy`].
    ///
    /// ```
    /// use actix_taskgroup::{Policy, TaskGroup};
    ///
    /// # actix_rt::System::new().block_on(async {
    /// let group = TaskGroup::<u32>::builder()
    ///     .name("fetchers")
    ///     .policy(Policy::CollectAll)
    ///     .build();
    /// assert_eq!(group.name(), Some("fetchers"));
    /// # });
    /// ```
    pub fn builder() -> TaskGroupBuilder<T> {
        TaskGroupBuilder::new()
    }

    pub(crate) fn from_scope(scope: Rc<Scope<T>>) -> Self {
        TaskGroup { scope }
    }

    /// The group's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.scope.config().name.as_deref()
    }

    /// The group's policy.
    pub fn policy(&self) -> Policy {
        self.scope.config().policy
    }

    /// Spawns a child; it starts running at once, on this group's driver task.
    ///
    /// Returns the child's id, or an error if the group is stopping or finished (R7); a
    /// refused future is dropped without being polled.
    ///
    /// # Panics
    ///
    /// Panics if this is the group's first child and it is called outside an actix
    /// `System`/`Arbiter` (see the type's docs).
    pub fn spawn<F, E>(&self, future: F) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope.spawn(None, into_child(future))
    }

    /// Spawns a child with a name; the name appears in the report and in the error.
    ///
    /// ```
    /// use actix_taskgroup::TaskGroup;
    ///
    /// # actix_rt::System::new().block_on(async {
    /// let group = TaskGroup::<()>::new();
    /// group.spawn_named("migrate", async { anyhow::bail!("table locked") }).unwrap();
    /// let error = group.join().await.unwrap_err();
    /// assert_eq!(error.first_failure().unwrap().name(), Some("migrate"));
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// As [`spawn`](TaskGroup::spawn).
    pub fn spawn_named<F, E>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope.spawn(Some(name.into()), into_child(future))
    }

    /// A cloneable handle that children (or anyone on this arbiter) can use to spawn into the
    /// group or cancel it. A handle does not keep the group alive.
    pub fn handle(&self) -> GroupHandle<T> {
        GroupHandle::new(Rc::downgrade(&self.scope))
    }

    /// Cancels the group (R6): refuses new children and drops every running one now. The
    /// group's result will be a [`GroupError`] of kind `Cancelled`, unless it had already
    /// finished.
    pub fn cancel(&self) {
        self.scope.stop(GroupErrorKind::Cancelled);
    }

    /// Waits for every child to end (R1) and returns their values in spawn order (R4), or the
    /// group's error: every failure, in the order they happened (R3).
    ///
    /// Children may still spawn siblings while `join` waits; the group ends when no child is
    /// left.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels every child (R6).
    pub async fn join(self) -> Result<Vec<T>, GroupError> {
        self.wait().await;
        self.scope.take_result()
    }

    /// Like [`join`](TaskGroup::join), but returns every child's outcome, the values of the
    /// children that completed included, and the error if there was one.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels every child (R6).
    pub async fn join_report(self) -> GroupReport<T> {
        self.wait().await;
        self.scope.take_report()
    }

    async fn wait(&self) {
        self.scope.begin_join(false);
        poll_fn(|cx| self.scope.poll_finished(cx)).await;
    }

    /// Waits for the group, yielding each child's outcome as the child ends (completion order);
    /// the stream ends when every child has ended. Children that had already ended when the
    /// stream was created come first, in spawn order.
    ///
    /// ```
    /// use actix_taskgroup::TaskGroup;
    /// use futures::StreamExt;
    /// use std::time::Duration;
    ///
    /// # actix_rt::System::new().block_on(async {
    /// let group = TaskGroup::new();
    /// for delay in [30u64, 10, 20] {
    ///     group.spawn(async move {
    ///         actix_rt::time::sleep(Duration::from_millis(delay)).await;
    ///         Ok::<_, anyhow::Error>(delay)
    ///     }).unwrap();
    /// }
    /// let order: Vec<u64> = group
    ///     .outcomes()
    ///     .filter_map(|child| async move { child.into_outcome().into_value() })
    ///     .collect()
    ///     .await;
    /// assert_eq!(order, [10, 20, 30]);
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the stream cancels every child still running (R6).
    pub fn outcomes(self) -> Outcomes<T> {
        self.scope.begin_join(true);
        Outcomes::new(self)
    }

    /// Cancels every child and waits until all have stopped, then returns the report; its
    /// error is of kind `Cancelled` unless the group had already finished.
    ///
    /// Futures are cancelled by being dropped, which is immediate; `shutdown` exists so that a
    /// caller can wait for that in the same way as for a supervisor's graceful stop.
    pub async fn shutdown(self) -> GroupReport<T> {
        self.cancel();
        self.join_report().await
    }

    pub(crate) fn scope(&self) -> &Scope<T> {
        &self.scope
    }
}

impl<T: 'static> Default for TaskGroup<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for TaskGroup<T> {
    /// Dropping the group cancels every child still running, at once (R6).
    fn drop(&mut self) {
        self.scope.stop(GroupErrorKind::Cancelled);
    }
}

impl<T> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("name", &self.scope.config().name.as_deref())
            .field("policy", &self.scope.config().policy)
            .finish_non_exhaustive()
    }
}

//! `TaskGroup`: the futures-level scope.

pub(crate) mod builder;
pub(crate) mod outcomes;

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::task::Poll;

use crate::child::ChildId;
use crate::child_spec::Child;
use crate::engine::child::into_child;
use crate::engine::driver::{Driving, JoinDriving};
use crate::engine::scope::{Scope, StopReason};
use crate::engine::spec::SnapshotSource;
use crate::error::{GroupError, GroupErrorKind, ReadyError, SpawnError};
use crate::handle::GroupHandle;
use crate::policy::Policy;
use crate::report::GroupReport;
use crate::snapshot::Snapshot;
use crate::task_group::builder::TaskGroupBuilder;
use crate::task_group::outcomes::Outcomes;

/// A scope that owns the futures spawned in it: it runs them concurrently, waits for all of
/// them, cancels the rest when one fails and reports every failure together.
///
/// A group runs on the actix arbiter it was first spawned on, so its children may be
/// `!Send` (R10). Each child is a future of `Result<T, E>` where `E` converts into
/// [`anyhow::Error`]; it starts running as soon as it is spawned, whether or not anyone is
/// waiting on the group yet.
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
/// * The builder adds restarts ([`Child`] specs), a deadline, a concurrency limit, a race
///   ([`Policy::FirstSuccess`], [`race`](TaskGroup::race)) and readiness.
///
/// # Cancel safety
///
/// Dropping the future returned by [`join`](TaskGroup::join) (or by
/// [`join_report`](TaskGroup::join_report), [`race`](TaskGroup::race) or
/// [`shutdown`](TaskGroup::shutdown)) drops the group, which drops every child still
/// running. Children are never left running unowned.
///
/// Wrapping a join in `tokio::time::timeout` works, but when it fires the group is dropped
/// with everything it holds: the values that had arrived are lost. To keep them, give the
/// group a [`deadline`](TaskGroupBuilder::deadline): its report keeps the partial results.
///
/// # Errors
///
/// The first spawn outside an actix `System`/`Arbiter` returns [`SpawnError::NoRuntime`].
/// Panics of the children are caught and reported as
/// [`Outcome::Panicked`](crate::Outcome::Panicked).
pub struct TaskGroup<T: 'static = ()> {
    scope: Rc<Scope<T>>,
}

impl<T: 'static> TaskGroup<T> {
    /// A fail-fast group with no name.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to name the group, choose its [`Policy`], give it restarts, a deadline, a
    /// limit.
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

    /// Spawns a child; it starts running at once (or, under a limit, when a slot frees), on
    /// this group's driver task.
    ///
    /// Returns the child's id, or an error if the group is stopping or finished (R7); a
    /// refused future is dropped without being polled.
    pub fn spawn<F, E>(&self, future: F) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope.spawn_future(None, Box::pin(into_child(future)))
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
    pub fn spawn_named<F, E>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Result<ChildId, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope
            .spawn_future(Some(name.into()), Box::pin(into_child(future)))
    }

    /// Spawns a child whose future `make` makes, given as a `Send` closure: on a group
    /// spread over an [`ArbiterPool`](crate::ArbiterPool) the closure runs on a pool
    /// arbiter, and so does the future (which need not be `Send`); on any other group, here.
    /// The cheapest way to put work on the pool; [`Child::send_future`] is the one to use
    /// for a child with a name, options or restarts.
    ///
    /// ```
    /// use actix_taskgroup::{ArbiterPool, Placement, TaskGroup};
    ///
    /// # actix_rt::System::new().block_on(async {
    /// let pool = ArbiterPool::new(2);
    /// let group = TaskGroup::<u64>::builder().spread_over(&pool, Placement::RoundRobin).build();
    /// for n in 0..4u64 {
    ///     group.spawn_send(move || async move { Ok::<_, anyhow::Error>(n * n) }).unwrap();
    /// }
    /// assert_eq!(group.join().await.unwrap(), [0, 1, 4, 9]);
    /// # });
    /// ```
    pub fn spawn_send<F, Fut, E>(&self, make: F) -> Result<ChildId, SpawnError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        self.scope.spawn_send(make)
    }

    /// Spawns a child described by a [`Child`]: made by a factory (again at each restart),
    /// with its options (restart type, attempts, timeout, best-effort, readiness).
    pub fn spawn_child(&self, child: Child<T>) -> Result<ChildId, SpawnError> {
        self.scope.spawn_child(child)
    }

    /// A cloneable handle that children (or anyone on this arbiter) can use to spawn into the
    /// group or cancel it. A handle does not keep the group alive.
    pub fn handle(&self) -> GroupHandle<T> {
        GroupHandle::new(Rc::downgrade(&self.scope))
    }

    /// Cancels the group (R6): refuses new children and drops every running one now (a
    /// child that watches its stop signal gets the grace period). The group's result will be
    /// a [`GroupError`] of kind `Cancelled`, unless it had already finished.
    pub fn cancel(&self) {
        self.scope
            .stop(Some(GroupErrorKind::Cancelled), StopReason::Cancelled);
    }

    /// Waits for every child to end (R1) and returns the values of the children that
    /// completed, in spawn order (R4; best-effort children's are in the report only), or the
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

    /// Like [`join`](TaskGroup::join), but returns the whole report: every child's outcome,
    /// the values of the children that completed (partial results of a failed group
    /// included), and the error if there was one.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels every child (R6).
    pub async fn join_report(self) -> GroupReport<T> {
        self.wait().await;
        self.scope.take_report()
    }

    /// Waits for a race ([`Policy::FirstSuccess`]) and returns the winner's value: the first
    /// child to complete wins and every other is cancelled. If every child failed, the error
    /// lists every failure; with no child at all, or none completed, it is an error too.
    ///
    /// ```
    /// use actix_taskgroup::{Policy, TaskGroup};
    /// use std::time::Duration;
    ///
    /// # actix_rt::System::new().block_on(async {
    /// let group = TaskGroup::builder().policy(Policy::FirstSuccess).build();
    /// for (mirror, ms) in [("eu", 30), ("us", 10), ("asia", 20)] {
    ///     group.spawn_named(mirror, async move {
    ///         actix_rt::time::sleep(Duration::from_millis(ms)).await;
    ///         Ok::<_, anyhow::Error>(mirror)
    ///     }).unwrap();
    /// }
    /// assert_eq!(group.race().await.unwrap(), "us");
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels every child (R6).
    pub async fn race(self) -> Result<T, GroupError> {
        self.wait().await;
        self.scope.take_winner()
    }

    async fn wait(&self) {
        self.scope.begin_join(false);
        let key = self.scope.waiter_key();
        // The owner waits: it polls the children itself, as a `FuturesUnordered` is polled
        // by its owner, so a child's wake reaches this task without a hop through the
        // group's driver task (which keeps the timers). If this wait is dropped first, the
        // driver task takes the children back.
        let _give_back = JoinDriving::new(&self.scope);
        poll_fn(|cx| {
            if self.scope.poll_finished(key, cx).is_ready() {
                return Poll::Ready(());
            }
            let _span = self.scope.span.enter();
            self.scope.drive_children(cx, Driving::Join)
        })
        .await;
    }

    /// Waits until every started child is ready (R15): a future child is ready once started,
    /// unless it [signals readiness](Child::signals_ready); an actor once its `started()`
    /// returned. Fails if a child failed before it was ready, or was not ready within the
    /// group's [`ready_timeout`](TaskGroupBuilder::ready_timeout).
    pub async fn wait_ready(&self) -> Result<(), ReadyError> {
        let key = self.scope.ready_key();
        poll_fn(|cx| self.scope.poll_ready(key, cx)).await
    }

    /// A live picture of the group (R16): every child's state, attempts and (if the group
    /// keeps times) age, nested groups included.
    pub fn snapshot(&self) -> Snapshot {
        SnapshotSource::snapshot(&*self.scope)
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
    /// error is of kind `Cancelled` unless the group had already finished. Children that
    /// watch their stop signal (and actor children) get the grace period to finish.
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

impl<T: 'static> Drop for TaskGroup<T> {
    /// Dropping the group stops every child still running, at once (R6): nothing can wait
    /// for them any more, so children that would stop gracefully are dropped too.
    fn drop(&mut self) {
        self.scope.force_stop();
    }
}

impl<T: 'static> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("name", &self.scope.config().name.as_deref())
            .field("policy", &self.scope.config().policy)
            .finish_non_exhaustive()
    }
}

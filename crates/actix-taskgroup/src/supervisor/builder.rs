//! Options and initial children of a `GroupSupervisor`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use actix::{Actor, Addr, Context};

use crate::child::into_child;
use crate::scope::{Scope, ScopeConfig};
use crate::supervisor::PendingChild;
use crate::{GroupSupervisor, Policy, Reporter, SupervisorGuard};

/// Builds a [`GroupSupervisor`]: its name, policy, grace period, and the children it starts
/// with. Children are given as factories and built only when the supervisor starts.
///
/// ```
/// use actix_taskgroup::{GroupSupervisor, Join, Policy};
/// use std::time::Duration;
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<u32>::builder()
///     .name("batch")
///     .policy(Policy::CollectAll)
///     .grace(Duration::from_secs(2))
///     .child_future("one", || async { Ok::<_, anyhow::Error>(1) })
///     .child_future("two", || async { Ok::<_, anyhow::Error>(2) })
///     .start();
/// let report = group.send(Join::new()).await.unwrap().unwrap();
/// assert_eq!(report.values().copied().collect::<Vec<_>>(), [1, 2]);
/// # });
/// ```
pub struct GroupSupervisorBuilder<T: 'static> {
    config: ScopeConfig,
    children: Vec<PendingChild<T>>,
}

impl<T: 'static> GroupSupervisorBuilder<T> {
    pub(crate) fn new() -> Self {
        GroupSupervisorBuilder {
            config: ScopeConfig {
                name: None,
                policy: Policy::default(),
                grace: Duration::from_secs(5),
                timed: true,
            },
            children: Vec::new(),
        }
    }

    /// Names the group; the name appears in its error and its report.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.config.name = Some(name.into());
        self
    }

    /// Chooses what the group does when a child fails (default: [`Policy::FailFast`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.config.policy = policy;
        self
    }

    /// How long a child asked to stop may take before it is dropped (default: 5 s). One
    /// deadline is shared by every child of the group, never one per child.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.config.grace = grace;
        self
    }

    /// Adds a future child, built by `factory` when the supervisor starts.
    pub fn child_future<F, Fut, E>(mut self, name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        let name = name.into();
        self.children.push(Box::new(move |scope| {
            let _ = scope.spawn_with(Some(name), |_| Box::pin(into_child(factory())));
        }));
        self
    }

    /// Adds an actor child, built by `factory` when the supervisor starts. The factory is given
    /// the child's [`Reporter`].
    pub fn child_actor<A, F>(mut self, name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        A: Actor<Context = Context<A>>,
        F: FnOnce(Reporter<T>) -> A + 'static,
        T: Default,
    {
        let name = name.into();
        self.children.push(Box::new(move |scope| {
            scope.spawn_unaddressed_actor(Some(name), factory);
        }));
        self
    }

    /// Adds a nested group (R8): a supervisor built from `group` when this one starts. Its
    /// values are mapped into this group's value by `map`; its failure is one failure of this
    /// group that keeps the inner [`GroupError`](crate::GroupError) as a tree; stopping this
    /// group stops it, and it stops its own children, with its own grace, before it ends.
    pub fn child_group<U, M>(
        mut self,
        name: impl Into<Cow<'static, str>>,
        group: GroupSupervisorBuilder<U>,
        map: M,
    ) -> Self
    where
        U: Clone + 'static,
        M: FnOnce(Vec<U>) -> T + 'static,
        T: Default,
    {
        let name = name.into();
        self.children.push(Box::new(move |scope| {
            let _ = scope.spawn_group(Some(name), group, map);
        }));
        self
    }

    /// Builds the supervisor without starting it, for callers who want its
    /// [`handle`](GroupSupervisor::handle) first or start it their own way.
    pub fn build(self) -> GroupSupervisor<T> {
        GroupSupervisor::from_parts(Scope::new(self.config), self.children)
    }

    /// Builds and starts the supervisor on the current arbiter.
    pub fn start(self) -> Addr<GroupSupervisor<T>> {
        self.build().start()
    }

    /// Builds and starts the supervisor, tied to its owner (R6): the returned guard cancels the
    /// group when it is dropped. An actor that keeps the guard in its own state has its group
    /// stopped when it stops.
    pub fn start_guarded(self) -> SupervisorGuard<T> {
        SupervisorGuard::new(self.start())
    }
}

impl<T: 'static> fmt::Debug for GroupSupervisorBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSupervisorBuilder")
            .field("config", &self.config)
            .field("children", &self.children.len())
            .finish()
    }
}

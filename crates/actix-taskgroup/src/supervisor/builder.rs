//! Options and initial children of a `GroupSupervisor`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use actix::{Actor, Context};

use crate::child::ChildKind;
use crate::child_spec::Child;
use crate::engine::child::into_child;
use crate::engine::config::ScopeConfig;
use crate::engine::scope::Scope;
use crate::group_options::group_options;
use crate::supervisor::actor_child::{ActorChild, Once};
use crate::supervisor::guard::SupervisorGuard;
use crate::supervisor::reporter::Reporter;
use crate::supervisor::{GroupSupervisor, PendingChild};

/// Builds a [`GroupSupervisor`]: its name, policies, restart strategy and limits, grace
/// period, deadline, and the children it starts with. Children are given as factories and
/// built only when the supervisor starts.
///
/// ```
/// use actix_taskgroup::{Child, GroupSupervisor, Join, Policy, Restart};
/// use std::time::Duration;
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<u32>::builder()
///     .name("batch")
///     .policy(Policy::CollectAll)
///     .grace(Duration::from_secs(2))
///     .child_future("one", || async { Ok::<_, anyhow::Error>(1) })
///     .child(Child::future("two", || async { Ok::<_, anyhow::Error>(2) }).restart(Restart::Transient))
///     .start();
/// let report = group.send(Join::new()).await.unwrap();
/// assert_eq!(report.values().copied().collect::<Vec<_>>(), [1, 2]);
/// # });
/// ```
pub struct GroupSupervisorBuilder<T: 'static> {
    /// Boxed: a builder is moved at every call, and a supervisor may be given thousands of
    /// children one call at a time.
    config: Box<ScopeConfig>,
    children: Vec<PendingChild<T>>,
}

impl<T: 'static> GroupSupervisorBuilder<T> {
    pub(crate) fn new() -> Self {
        let mut config = ScopeConfig::new(Duration::from_secs(5), true);
        config.shared_result = true;
        GroupSupervisorBuilder {
            config: Box::new(config),
            children: Vec::new(),
        }
    }

    group_options!();

    /// Adds a child described by a [`Child`]: a future, an actor or a nested group, made
    /// again at each restart, with its options.
    pub fn child(mut self, child: Child<T>) -> Self {
        self.children
            .push(PendingChild::Later(Box::new(move |scope| {
                let _ = scope.spawn_child(child);
            })));
        self
    }

    /// Adds a future child, built once by `factory` when the supervisor starts (never
    /// restarted; use [`child`](Self::child) with [`Child::future`] for that).
    pub fn child_future<F, Fut, E>(mut self, name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        let lazy = futures::FutureExt::flatten(futures::future::lazy(move |_| factory()));
        self.children.push(PendingChild::Body {
            name: name.into(),
            kind: ChildKind::Future,
            body: Box::pin(into_child(lazy)),
        });
        self
    }

    /// Adds an actor child, built once by `factory` when the supervisor starts. The factory is
    /// given the child's [`Reporter`]. The actor runs until it stops itself or the group
    /// stops it (the group holds an address of its own).
    pub fn child_actor<A, F>(mut self, name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        A: Actor<Context = Context<A>>,
        F: FnOnce(Reporter<T>) -> A + 'static,
        T: Default,
    {
        let child = ActorChild::unbound(Once(Some(factory)), ChildKind::Actor, false);
        self.children.push(PendingChild::Body {
            name: name.into(),
            kind: ChildKind::Actor,
            body: child.boxed(),
        });
        self
    }

    /// Adds a nested group (R8): a supervisor built from `group` when this one starts. Its
    /// values are mapped into this group's value by `map`; its failure is one failure of this
    /// group that keeps the inner [`GroupError`](crate::GroupError) as a tree; its report is
    /// kept in its entry; stopping this group stops it, and it stops its own children, with
    /// its own grace, before it ends.
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
        self.children
            .push(PendingChild::Later(Box::new(move |scope| {
                let _ = scope.spawn_group(Some(name), group, map);
            })));
        self
    }

    /// Builds the supervisor without starting it, for callers who want its
    /// [`handle`](GroupSupervisor::handle) first or start it their own way (for example on
    /// another arbiter, with `Actor::start_in_arbiter`).
    pub fn build(self) -> GroupSupervisor<T> {
        GroupSupervisor::from_parts(Scope::new(*self.config), self.children)
    }

    /// Builds and starts the supervisor on the current arbiter. It is top-level: it runs
    /// until it is stopped (its end condition, [`Cancel`](crate::Cancel), its own stop),
    /// whoever holds its address.
    pub fn start(self) -> actix::Addr<GroupSupervisor<T>> {
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

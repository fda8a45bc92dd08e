//! Adding children to a running supervisor from any actor or thread (R7): the factories are
//! `Send`, what they build (on the supervisor's arbiter) need not be. A refused factory is
//! never called.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use actix::{Actor, Addr, Context, Handler, Message, MessageResult};

use crate::child::ChildId;
use crate::child_spec::Child;
use crate::engine::child::into_child;
use crate::engine::scope::Name;
use crate::error::SpawnError;
use crate::supervisor::GroupSupervisor;
use crate::supervisor::builder::GroupSupervisorBuilder;
use crate::supervisor::reporter::Reporter;

/// Spawns a future child, built once by a `Send` factory. Replies with the child's id, or
/// why the group refused it (R7).
///
/// ```
/// use actix_taskgroup::{GroupSupervisor, Join, SpawnFuture};
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<u8>::builder().start();
/// let id = group
///     .send(SpawnFuture::named("late", || async { Ok::<_, anyhow::Error>(9) }))
///     .await
///     .unwrap()
///     .unwrap();
/// let report = group.send(Join::new()).await.unwrap();
/// assert_eq!(report.child(id).unwrap().name(), Some("late"));
/// # });
/// ```
pub struct SpawnFuture<T> {
    name: Option<Name>,
    factory: Box<dyn FnOnce() -> LocalChildFuture<T> + Send>,
}

type LocalChildFuture<T> = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<T>>>>;

impl<T: 'static> SpawnFuture<T> {
    /// A future child built by `factory`.
    pub fn new<F, Fut, E>(factory: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        SpawnFuture {
            name: None,
            factory: Box::new(move || Box::pin(into_child(factory()))),
        }
    }

    /// A named future child built by `factory`.
    pub fn named<F, Fut, E>(name: impl Into<Cow<'static, str>>, factory: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        SpawnFuture {
            name: Some(name.into()),
            ..SpawnFuture::new(factory)
        }
    }
}

impl<T: 'static> Message for SpawnFuture<T> {
    type Result = Result<ChildId, SpawnError>;
}

impl<T: 'static> Handler<SpawnFuture<T>> for GroupSupervisor<T> {
    type Result = Result<ChildId, SpawnError>;

    fn handle(&mut self, msg: SpawnFuture<T>, _: &mut Context<Self>) -> Self::Result {
        let factory = msg.factory;
        let lazy = futures::FutureExt::flatten(futures::future::lazy(move |_| factory()));
        self.scope().spawn_future(msg.name, Box::pin(lazy))
    }
}

impl<T> fmt::Debug for SpawnFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnFuture")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Spawns an actor child, built once by a `Send` factory given the child's [`Reporter`].
/// Replies with the child's address (its mailbox exists from the spawn, even if the child
/// waits for a start slot), or why the group refused it (R7).
pub struct SpawnActor<A, T> {
    name: Option<Name>,
    factory: Box<dyn FnOnce(Reporter<T>) -> A + Send>,
}

impl<A, T> SpawnActor<A, T>
where
    A: Actor<Context = Context<A>>,
{
    /// An actor child built by `factory`.
    pub fn new(factory: impl FnOnce(Reporter<T>) -> A + Send + 'static) -> Self {
        SpawnActor {
            name: None,
            factory: Box::new(factory),
        }
    }

    /// A named actor child built by `factory`.
    pub fn named(
        name: impl Into<Cow<'static, str>>,
        factory: impl FnOnce(Reporter<T>) -> A + Send + 'static,
    ) -> Self {
        SpawnActor {
            name: Some(name.into()),
            factory: Box::new(factory),
        }
    }
}

impl<A, T> Message for SpawnActor<A, T>
where
    A: Actor<Context = Context<A>>,
{
    type Result = Result<Addr<A>, SpawnError>;
}

impl<A, T> Handler<SpawnActor<A, T>> for GroupSupervisor<T>
where
    A: Actor<Context = Context<A>>,
    T: Default + 'static,
{
    type Result = MessageResult<SpawnActor<A, T>>;

    fn handle(&mut self, msg: SpawnActor<A, T>, _: &mut Context<Self>) -> Self::Result {
        let spawned = self.scope().spawn_actor_once(msg.name, msg.factory, true);
        MessageResult(spawned.and_then(|(_, address)| address.ok_or(SpawnError::Closed)))
    }
}

impl<A, T> fmt::Debug for SpawnActor<A, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnActor")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Spawns a nested group (R7, R8) from any actor or thread: `builder` makes the inner
/// supervisor's builder on the supervisor's arbiter, `map` turns its values into this
/// group's value. Replies with the nested supervisor's address.
///
/// ```
/// use actix_taskgroup::{GroupSupervisor, Join, SpawnGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let root = GroupSupervisor::<usize>::builder().start();
/// root.send(SpawnGroup::named(
///     "shards",
///     || GroupSupervisor::<u8>::builder()
///         .child_future("a", || async { Ok::<_, anyhow::Error>(1) })
///         .child_future("b", || async { Ok::<_, anyhow::Error>(2) }),
///     |values: Vec<u8>| values.len(),
/// ))
/// .await
/// .unwrap()
/// .unwrap();
/// let report = root.send(Join::new()).await.unwrap();
/// assert_eq!(report.into_result().unwrap(), [2]);
/// # });
/// ```
pub struct SpawnGroup<U: 'static, T> {
    name: Option<Name>,
    builder: Box<dyn FnOnce() -> GroupSupervisorBuilder<U> + Send>,
    map: Box<dyn FnOnce(Vec<U>) -> T + Send>,
}

impl<U: Clone + 'static, T: 'static> SpawnGroup<U, T> {
    /// A named nested group.
    pub fn named(
        name: impl Into<Cow<'static, str>>,
        builder: impl FnOnce() -> GroupSupervisorBuilder<U> + Send + 'static,
        map: impl FnOnce(Vec<U>) -> T + Send + 'static,
    ) -> Self {
        SpawnGroup {
            name: Some(name.into()),
            builder: Box::new(builder),
            map: Box::new(map),
        }
    }
}

impl<U: 'static, T: 'static> Message for SpawnGroup<U, T> {
    type Result = Result<Addr<GroupSupervisor<U>>, SpawnError>;
}

impl<U, T> Handler<SpawnGroup<U, T>> for GroupSupervisor<T>
where
    U: Clone + 'static,
    T: Default + 'static,
{
    type Result = MessageResult<SpawnGroup<U, T>>;

    fn handle(&mut self, msg: SpawnGroup<U, T>, _: &mut Context<Self>) -> Self::Result {
        if let Err(refused) = self.refusal() {
            // Refused before the builder runs (R7).
            return MessageResult(Err(refused));
        }
        let builder = (msg.builder)();
        let spawned = self.scope().spawn_group(msg.name, builder, msg.map);
        MessageResult(spawned.map(|(_, address)| address))
    }
}

impl<U: 'static, T> fmt::Debug for SpawnGroup<U, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnGroup")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Spawns a child described by a [`Child`] (restartable, with options) from any actor or
/// thread: `make` runs on the supervisor's arbiter. Replies with the child's id; an actor
/// child's address can then be had with [`ChildAddr`](crate::ChildAddr).
///
/// ```
/// use actix_taskgroup::{Child, GroupSupervisor, Join, Restart, SpawnChild};
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<u8>::builder().start();
/// group
///     .send(SpawnChild::new(|| {
///         Child::future("job", || async { Ok::<_, anyhow::Error>(4) }).restart(Restart::Transient)
///     }))
///     .await
///     .unwrap()
///     .unwrap();
/// assert_eq!(group.send(Join::new()).await.unwrap().into_result().unwrap(), [4]);
/// # });
/// ```
pub struct SpawnChild<T> {
    make: Box<dyn FnOnce() -> Child<T> + Send>,
}

impl<T: 'static> SpawnChild<T> {
    /// The child `make` describes.
    pub fn new(make: impl FnOnce() -> Child<T> + Send + 'static) -> Self {
        SpawnChild {
            make: Box::new(make),
        }
    }
}

impl<T: 'static> Message for SpawnChild<T> {
    type Result = Result<ChildId, SpawnError>;
}

impl<T: 'static> Handler<SpawnChild<T>> for GroupSupervisor<T> {
    type Result = Result<ChildId, SpawnError>;

    fn handle(&mut self, msg: SpawnChild<T>, _: &mut Context<Self>) -> Self::Result {
        // Refused before the factory runs (R7).
        self.refusal()?;
        self.scope().spawn_child((msg.make)())
    }
}

impl<T> fmt::Debug for SpawnChild<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnChild").finish_non_exhaustive()
    }
}

impl<T: 'static> GroupSupervisor<T> {
    /// Why the group would refuse a child now, checked before a message's factory runs.
    fn refusal(&self) -> Result<(), SpawnError> {
        if self.scope().is_open() {
            Ok(())
        } else if self.scope().is_finished() {
            Err(SpawnError::Closed)
        } else {
            Err(SpawnError::ShuttingDown)
        }
    }
}

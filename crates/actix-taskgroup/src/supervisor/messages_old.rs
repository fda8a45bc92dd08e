//! The messages a `GroupSupervisor` answers.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use actix::{Actor, Addr, Context, Handler, Message, MessageResult, Recipient, ResponseFuture};

use crate::child::{BoxedChild, into_child};
use crate::scope::Name;
use crate::supervisor::JoinResult;
use crate::{ChildId, GroupError, GroupErrorKind, GroupSupervisor, Reporter, SpawnError};

/// Waits for the group: the reply is one combined result, sent once every child has stopped
/// (R1, R9). Every asker gets the answer; one that asks after the end gets it at once.
///
/// The reply must cross threads, so it needs `T: Send`, and `T: Clone` because several askers
/// may wait. A supervisor whose values are neither can be waited for through its
/// [`GroupHandle`](crate::GroupHandle) on the same arbiter.
///
/// ```
/// use actix_taskgroup::{GroupSupervisor, Join};
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<&str>::builder()
///     .child_future("greet", || async { Ok::<_, anyhow::Error>("hello") })
///     .start();
/// let report = group.send(Join::new()).await.unwrap().unwrap();
/// assert_eq!(report.values().copied().collect::<Vec<_>>(), ["hello"]);
/// # });
/// ```
pub struct Join<T = ()>(PhantomData<fn() -> T>);

impl<T> Join<T> {
    /// The message.
    pub fn new() -> Self {
        Join(PhantomData)
    }
}

impl<T> Default for Join<T> {
    fn default() -> Self {
        Join::new()
    }
}

impl<T> fmt::Debug for Join<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Join")
    }
}

impl<T: Send + 'static> Message for Join<T> {
    type Result = JoinResult<T>;
}

impl<T: Clone + Send + 'static> Handler<Join<T>> for GroupSupervisor<T> {
    type Result = ResponseFuture<JoinResult<T>>;

    fn handle(&mut self, _: Join<T>, _: &mut Context<Self>) -> Self::Result {
        if let Some(result) = self.result() {
            let result: JoinResult<T> = result.clone();
            return Box::pin(async move { result });
        }
        let (reply, answer) = futures::channel::oneshot::channel();
        // R9: an asker that went away is skipped quietly.
        self.on_finish(Box::new(move |result: &JoinResult<T>| {
            let _ = reply.send(result.clone());
        }));
        let group = self.scope().config().name.clone();
        Box::pin(async move {
            // The sender is dropped unanswered only if the supervisor itself was dropped
            // before its group ended (the System shutting down): the group was cancelled.
            answer.await.unwrap_or_else(|_| {
                Err(GroupError::new(
                    group,
                    GroupErrorKind::Cancelled,
                    Vec::new(),
                ))
            })
        })
    }
}

/// Cancels the group (R6): every child is asked to stop, then forced after the grace period.
/// Whoever waits gets a result of kind `Cancelled` (unless the group had already finished).
#[derive(Debug, Clone, Copy, Default, Message)]
#[rtype(result = "()")]
pub struct Cancel;

impl<T: 'static> Handler<Cancel> for GroupSupervisor<T> {
    type Result = ();

    fn handle(&mut self, _: Cancel, _: &mut Context<Self>) {
        self.scope().stop(GroupErrorKind::Cancelled);
    }
}

/// The message a [`NotifyWhenDone`] recipient receives: the group's combined result.
#[derive(Debug)]
pub struct GroupDone<T: 'static>(pub JoinResult<T>);

impl<T: Send + 'static> Message for GroupDone<T> {
    type Result = ();
}

/// Registers a recipient to be sent the group's result ([`GroupDone`]) once every child has
/// stopped. Registering starts the wait for the group's end, as [`Join`] does.
pub struct NotifyWhenDone<T: Send + 'static>(pub Recipient<GroupDone<T>>);

impl<T: Send + 'static> Message for NotifyWhenDone<T> {
    type Result = ();
}

impl<T: Clone + Send + 'static> Handler<NotifyWhenDone<T>> for GroupSupervisor<T> {
    type Result = ();

    fn handle(&mut self, NotifyWhenDone(recipient): NotifyWhenDone<T>, _: &mut Context<Self>) {
        // R9: a recipient that went away is skipped quietly.
        self.on_finish(Box::new(move |result: &JoinResult<T>| {
            recipient.do_send(GroupDone(result.clone()));
        }));
    }
}

impl<T: Send + 'static> fmt::Debug for NotifyWhenDone<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NotifyWhenDone")
    }
}

/// Spawns a future child from any actor or thread: the factory is `Send`, the future it
/// builds (on the supervisor's arbiter) need not be. Replies with the child's id, or why the
/// group refused it (R7); a refused factory is never called.
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
/// let report = group.send(Join::new()).await.unwrap().unwrap();
/// assert_eq!(report.children()[id.index()].name(), Some("late"));
/// # });
/// ```
pub struct SpawnFuture<T> {
    name: Option<Name>,
    factory: Box<dyn FnOnce() -> BoxedChild<T> + Send>,
}

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
        self.scope().spawn_with(msg.name, |_| factory())
    }
}

impl<T> fmt::Debug for SpawnFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnFuture")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Spawns an actor child from any actor or thread: the factory is `Send`, the actor it
/// builds (on the supervisor's arbiter) need not be. Replies with the child's address, or
/// why the group refused it (R7); a refused factory is never called.
pub struct SpawnActor<A, T> {
    name: Option<Name>,
    factory: Box<dyn FnOnce(Reporter<T>) -> A + Send>,
}

impl<A, T> SpawnActor<A, T>
where
    A: Actor<Context = Context<A>>,
{
    /// An actor child built by `factory`, which is given the child's [`Reporter`].
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
        MessageResult(self.scope().spawn_actor(msg.name, true, msg.factory))
    }
}

impl<A, T> fmt::Debug for SpawnActor<A, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnActor")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

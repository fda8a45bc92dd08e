//! A reference to an actor child that follows its restarts.

use std::borrow::Cow;
use std::fmt;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, MailboxError, Message, Recipient};

use crate::child::ChildId;
use crate::supervisor::GroupSupervisor;
use crate::supervisor::messages::lookup::ChildAddr;

/// Why a message sent through a [`ChildRef`] did not reach its child.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChildRefError {
    /// No incarnation of the child runs now: it waits to be restarted, or has ended for good.
    /// The message was not delivered.
    #[error("the child does not run now (it is restarting, or has ended)")]
    NotRunning,
    /// The supervisor, or the incarnation the message was sent to, stopped before it
    /// answered.
    #[error("the child's mailbox closed before it answered: {0}")]
    Mailbox(MailboxError),
}

/// A reference to an actor child by name or id that follows restarts (R12): each message is
/// delivered to the incarnation running when it is sent. Cloneable and `Send`: hand it to
/// other actors and threads in place of an `Addr`, which points at one incarnation only.
///
/// A message sent while no incarnation runs (the child waits out its backoff, or has
/// ended) is not delivered and not queued: the send returns [`ChildRefError::NotRunning`].
///
/// ```
/// use actix::prelude::*;
/// use actix_taskgroup::{Child, ChildRef, GroupSupervisor, Restart};
///
/// struct Counter(u32);
/// impl Actor for Counter {
///     type Context = Context<Self>;
/// }
///
/// #[derive(Message)]
/// #[rtype(result = "u32")]
/// struct Next;
///
/// impl Handler<Next> for Counter {
///     type Result = u32;
///     fn handle(&mut self, _: Next, _: &mut Context<Self>) -> u32 {
///         self.0 += 1;
///         self.0
///     }
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<()>::builder()
///     .child(Child::actor("counter", |_| Counter(0)).restart(Restart::Permanent))
///     .start();
/// let counter: ChildRef<Counter> = ChildRef::named(&group, "counter");
/// assert_eq!(counter.send(Next).await.unwrap(), 1);
/// assert_eq!(counter.send(Next).await.unwrap(), 2);
/// # });
/// ```
pub struct ChildRef<A: Actor> {
    supervisor: Recipient<ChildAddr<A>>,
    key: Key,
}

#[derive(Clone)]
enum Key {
    Name(Cow<'static, str>),
    Id(ChildId),
}

impl<A> ChildRef<A>
where
    A: Actor<Context = actix::Context<A>>,
{
    /// The oldest running child with this name, at each send.
    pub fn named<T: 'static>(
        supervisor: &Addr<GroupSupervisor<T>>,
        name: impl Into<Cow<'static, str>>,
    ) -> Self {
        ChildRef {
            supervisor: supervisor.clone().recipient(),
            key: Key::Name(name.into()),
        }
    }

    /// The child with this id, at each send.
    pub fn of<T: 'static>(supervisor: &Addr<GroupSupervisor<T>>, id: ChildId) -> Self {
        ChildRef {
            supervisor: supervisor.clone().recipient(),
            key: Key::Id(id),
        }
    }

    /// The current incarnation's address, if one runs.
    pub async fn current(&self) -> Result<Addr<A>, ChildRefError> {
        let lookup = match &self.key {
            Key::Name(name) => ChildAddr::named(name.clone()),
            Key::Id(id) => ChildAddr::of(*id),
        };
        match self.supervisor.send(lookup).await {
            Ok(Some(address)) => Ok(address),
            Ok(None) => Err(ChildRefError::NotRunning),
            Err(error) => Err(ChildRefError::Mailbox(error)),
        }
    }

    /// Sends `message` to the current incarnation and waits for its answer.
    pub async fn send<M>(&self, message: M) -> Result<M::Result, ChildRefError>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        let address = self.current().await?;
        address.send(message).await.map_err(ChildRefError::Mailbox)
    }
}

impl<A: Actor> Clone for ChildRef<A> {
    fn clone(&self) -> Self {
        ChildRef {
            supervisor: self.supervisor.clone(),
            key: self.key.clone(),
        }
    }
}

impl<A: Actor> fmt::Debug for ChildRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Key::Name(name) => f.debug_tuple("ChildRef").field(name).finish(),
            Key::Id(id) => f.debug_tuple("ChildRef").field(id).finish(),
        }
    }
}

//! Reaching a running child by name or id.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use actix::{Actor, Addr, Context, Handler, Message, MessageResult};

use crate::child::ChildId;
use crate::supervisor::GroupSupervisor;

enum Key {
    Name(Cow<'static, str>),
    Id(ChildId),
}

/// Asks a supervisor for the address of one of its actor children, from any thread: by
/// name (names need not be unique: the oldest running child of that name) or by id. The
/// reply is the current incarnation's address, or `None` if no such actor child runs now
/// (or it is of another type). A child waiting for a start slot already has an address.
///
/// ```
/// use actix::prelude::*;
/// use actix_taskgroup::{ChildAddr, GroupSupervisor};
///
/// struct Db;
/// impl Actor for Db {
///     type Context = Context<Self>;
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<()>::builder().child_actor("db", |_| Db).start();
/// let db: Option<Addr<Db>> = group.send(ChildAddr::named("db")).await.unwrap();
/// assert!(db.is_some());
/// # });
/// ```
pub struct ChildAddr<A> {
    key: Key,
    actor: PhantomData<fn() -> A>,
}

impl<A> ChildAddr<A> {
    /// The oldest running child with this name.
    pub fn named(name: impl Into<Cow<'static, str>>) -> Self {
        ChildAddr {
            key: Key::Name(name.into()),
            actor: PhantomData,
        }
    }

    /// The child with this id.
    pub fn of(id: ChildId) -> Self {
        ChildAddr {
            key: Key::Id(id),
            actor: PhantomData,
        }
    }
}

impl<A: Actor> Message for ChildAddr<A> {
    type Result = Option<Addr<A>>;
}

impl<A, T> Handler<ChildAddr<A>> for GroupSupervisor<T>
where
    A: Actor<Context = Context<A>>,
    T: 'static,
{
    type Result = MessageResult<ChildAddr<A>>;

    fn handle(&mut self, msg: ChildAddr<A>, _: &mut Context<Self>) -> Self::Result {
        let id = match msg.key {
            Key::Name(name) => self.scope().child_named(&name),
            Key::Id(id) => Some(id),
        };
        MessageResult(id.and_then(|id| self.scope().child_addr::<A>(id)))
    }
}

impl<A> fmt::Debug for ChildAddr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Key::Name(name) => f.debug_tuple("ChildAddr").field(name).finish(),
            Key::Id(id) => f.debug_tuple("ChildAddr").field(id).finish(),
        }
    }
}

impl<T: 'static> crate::engine::scope::Scope<T> {
    /// The address of an actor child of type `A` that runs (or waits to start) now.
    pub(crate) fn child_addr<A: Actor>(&self, id: ChildId) -> Option<Addr<A>> {
        self.child_address(id)?
            .downcast::<Addr<A>>()
            .ok()
            .map(|addr| *addr)
    }
}

//! Actor children: the group owns each child's mailbox and context and drives it itself.
//!
//! `actix::Actor::start` hands the context to a runtime task and throws the task's handle
//! away, so nobody can see the actor stop, catch its panics or force it. Instead the group
//! makes the mailbox (`channel` + `Context::with_receiver`, keeping the sender that
//! `Context::new()` would throw away), builds the actor on the child's first poll, and
//! polls the resulting `ContextFut` from its driver like any other child: it sees the stop
//! without polling for it, catches a panic in `started()`, a handler or `stopping()` (R5),
//! asks for a graceful stop with `ctx.stop()` and forces one by dropping the context (R2).
//!
//! The kept sender is the group's own address of the child (DESIGN §6): an idle actor that
//! only waits for messages lives until it stops itself or its group stops it, and its
//! address exists from the spawn, before its factory runs (a queued child's messages wait
//! in its mailbox).

use std::any::Any;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use actix::dev::ContextFut;
use actix::dev::channel::{self, AddressReceiver};
use actix::{Actor, ActorContext, Addr, Context};

use crate::child::{ChildId, ChildKind};
use crate::engine::child::{BoxedChild, ChildBody, StopAsk};
use crate::engine::spec::{Incarnate, Incarnation};
use crate::supervisor::reporter::Reporter;

/// actix's default mailbox capacity.
const MAILBOX_CAPACITY: usize = 16;

/// How an actor child's incarnations are built.
pub(crate) enum ActorFactory<A, T> {
    /// Once only (a builder's `child_actor`, a `SpawnActor` message).
    Once(Option<Box<dyn FnOnce(Reporter<T>) -> A>>),
    /// Once per incarnation (a restartable [`Child::actor`](crate::Child::actor)).
    Shared(Rc<dyn Fn(Reporter<T>) -> A>),
}

/// The group's own address of a child: strong unless it opted to stop once unaddressed.
enum OwnAddress<A: Actor> {
    Strong(Addr<A>),
    Weak(actix::WeakAddr<A>),
}

/// An actor child as the driver polls it.
pub(crate) struct ActorChild<A: Actor<Context = Context<A>>, T> {
    factory: ActorFactory<A, T>,
    reporter: Option<Reporter<T>>,
    mailbox: Option<AddressReceiver<A>>,
    address: OwnAddress<A>,
    /// Built on the first poll.
    context: Option<ContextFut<A, Context<A>>>,
    stop_asked: bool,
    kind: ChildKind,
    values: PhantomData<fn() -> T>,
}

impl<A, T> ActorChild<A, T>
where
    A: Actor<Context = Context<A>>,
    T: Default + 'static,
{
    pub(crate) fn new(
        factory: ActorFactory<A, T>,
        reporter: Reporter<T>,
        kind: ChildKind,
        stop_when_unaddressed: bool,
    ) -> Self {
        let (sender, mailbox) = channel::channel(MAILBOX_CAPACITY);
        let address = Addr::new(sender);
        let address = if stop_when_unaddressed {
            OwnAddress::Weak(address.downgrade())
        } else {
            OwnAddress::Strong(address)
        };
        ActorChild {
            factory,
            reporter: Some(reporter),
            mailbox: Some(mailbox),
            address,
            context: None,
            stop_asked: false,
            kind,
            values: PhantomData,
        }
    }

    pub(crate) fn boxed(self) -> BoxedChild<T> {
        Box::pin(self)
    }

    /// The child's address, for whoever spawned it or looks it up.
    pub(crate) fn addr(&self) -> Option<Addr<A>> {
        match &self.address {
            OwnAddress::Strong(address) => Some(address.clone()),
            OwnAddress::Weak(weak) => weak.upgrade(),
        }
    }

    /// Builds the actor: the user's factory runs here, on the first poll (under the
    /// driver's `catch_unwind`: a factory that panics is a child that panicked, R5).
    fn build(&mut self) -> Option<&mut ContextFut<A, Context<A>>> {
        if self.context.is_none() {
            let reporter = self.reporter.take()?;
            let mailbox = self.mailbox.take()?;
            let actor = match &mut self.factory {
                ActorFactory::Once(factory) => factory.take()?(reporter),
                ActorFactory::Shared(factory) => factory(reporter),
            };
            self.context = Some(Context::with_receiver(mailbox).into_future(actor));
        }
        self.context.as_mut()
    }
}

impl<A, T> ChildBody<T> for ActorChild<A, T>
where
    A: Actor<Context = Context<A>>,
    T: Default + 'static,
{
    fn poll_end(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<crate::outcome::Outcome<T>> {
        let this = self.get_mut();
        let Some(context) = this.build() else {
            return Poll::Ready(crate::outcome::Outcome::Cancelled);
        };
        if Pin::new(context).poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Stopped without a report: completed, unless the group had asked it to stop.
        Poll::Ready(if this.stop_asked {
            crate::outcome::Outcome::Cancelled
        } else {
            crate::outcome::Outcome::Completed(T::default())
        })
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        let this = self.get_mut();
        this.stop_asked = true;
        // A child accepted but not polled yet is started, then stopped: whoever holds its
        // address sees its whole lifecycle (`started()`, `stopping()`, `stopped()`). (A child
        // still waiting for a start slot is not here: it is dropped unbuilt, R14.)
        match this.build() {
            Some(context) => {
                context.ctx().stop();
                StopAsk::Stopping
            }
            None => StopAsk::DropNow,
        }
    }

    fn forceable(&self) -> bool {
        // A nested group is never dropped at its parent's grace deadline (DESIGN §6).
        self.kind != ChildKind::Group
    }

    fn address(&self) -> Option<Box<dyn Any>> {
        Some(Box::new(self.addr()?))
    }
}

/// Makes incarnations of a restartable actor child.
pub(crate) struct ActorMaker<A, T> {
    pub(crate) factory: Rc<dyn Fn(Reporter<T>) -> A>,
    pub(crate) kind: ChildKind,
}

impl<A, T> Incarnate<T> for ActorMaker<A, T>
where
    A: Actor<Context = Context<A>>,
    T: Default + 'static,
{
    fn incarnate(&self, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let reporter = Reporter {
            scope: incarnation.scope,
            id: incarnation.id,
            incarnation: incarnation.number,
        };
        ActorChild::new(
            ActorFactory::Shared(Rc::clone(&self.factory)),
            reporter,
            self.kind,
            incarnation.options.stop_when_unaddressed,
        )
        .boxed()
    }
}

impl<T: Default + 'static> crate::child_spec::Child<T> {
    /// An actor child: `factory` builds the actor of each incarnation, given the
    /// incarnation's [`Reporter`]. The group drives the actor's context itself and holds an
    /// address of its own, so the actor runs until it stops itself or the group stops it.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use actix_taskgroup::{Child, GroupSupervisor, Restart};
    ///
    /// struct Cache;
    /// impl Actor for Cache {
    ///     type Context = Context<Self>;
    /// }
    ///
    /// let builder = GroupSupervisor::<()>::builder()
    ///     .child(Child::actor("cache", |_reporter| Cache).restart(Restart::Permanent));
    /// # drop(builder);
    /// ```
    pub fn actor<A, F>(name: impl Into<std::borrow::Cow<'static, str>>, factory: F) -> Self
    where
        A: Actor<Context = Context<A>>,
        F: Fn(Reporter<T>) -> A + 'static,
    {
        let maker = ActorMaker {
            factory: Rc::new(factory),
            kind: ChildKind::Actor,
        };
        crate::child_spec::Child::with_maker(name, ChildKind::Actor, Rc::new(maker))
    }
}

impl<T: Default + 'static> crate::engine::scope::Scope<T> {
    /// Accepts an actor child built once by `factory`, and returns its id and address.
    pub(crate) fn spawn_actor_once<A>(
        self: &Rc<Self>,
        name: Option<crate::engine::scope::Name>,
        factory: Box<dyn FnOnce(Reporter<T>) -> A>,
    ) -> Result<(ChildId, Addr<A>), crate::error::SpawnError>
    where
        A: Actor<Context = Context<A>>,
    {
        let mut address = None;
        let scope = self.me.clone();
        let id = self.spawn_body(name, ChildKind::Actor, None, |id| {
            let reporter = Reporter {
                scope,
                id,
                incarnation: 1,
            };
            let child = ActorChild::new(
                ActorFactory::Once(Some(factory)),
                reporter,
                ChildKind::Actor,
                false,
            );
            address = child.addr();
            child.boxed()
        })?;
        match address {
            Some(address) => Ok((id, address)),
            None => Err(crate::error::SpawnError::Closed),
        }
    }
}

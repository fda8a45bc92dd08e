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
//! An idle actor that only waits for messages lives until it stops itself or its group
//! stops it (DESIGN §6), however many addresses to it are left: the group keeps the sender
//! that `channel` makes with the mailbox (and `Context::new()` drops at once), and a connected
//! mailbox is what actix counts to keep an actor alive (a graceful stop does not look at
//! it). The mailbox is made at the first poll (or when an address is first asked for), so
//! the kept sender lives no longer than the child and costs no allocation more (measured
//! against a never-ending item in the child's context, the former way: 3,510 instructions
//! per actor child against 3,631, docs/design-notes.md). Addresses are made on demand. One
//! exists from the spawn, before the factory runs: a queued child's messages wait in its
//! mailbox.

use std::any::Any;
use std::cell::OnceCell;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use actix::dev::ContextFut;
use actix::dev::channel::{self, AddressReceiver, AddressSender};
use actix::{Actor, ActorContext, Addr, Context};

use crate::child::{ChildId, ChildKind};
use crate::engine::child::{BoxedChild, ChildBody, StopAsk};
use crate::engine::spec::{Incarnate, Incarnation};
use crate::supervisor::reporter::Reporter;

/// actix's default mailbox capacity.
const MAILBOX_CAPACITY: usize = 16;

/// A mailbox and the sender `channel` makes with it (which `Context::new()` would drop at
/// once). Made as late as possible, right before the context that uses it (made for a
/// builder's thousands of children at the call, the mailboxes sat out of cache until the
/// driver reached them: docs/PERFORMANCE.md).
fn new_mailbox<A: Actor<Context = Context<A>>>() -> (AddressSender<A>, AddressReceiver<A>) {
    channel::channel(MAILBOX_CAPACITY)
}

/// How an actor child's actor is built, on its first poll.
pub(crate) trait MakeActor<A, T> {
    /// The actor, or `None` if it was already made.
    fn make(&mut self, reporter: Reporter<T>) -> Option<A>;
}

/// A factory called once only (a builder's `child_actor`, a `SpawnActor` message), kept
/// unboxed in the child.
pub(crate) struct Once<F>(pub(crate) Option<F>);

impl<A, T, F: FnOnce(Reporter<T>) -> A> MakeActor<A, T> for Once<F> {
    fn make(&mut self, reporter: Reporter<T>) -> Option<A> {
        Some(self.0.take()?(reporter))
    }
}

/// A factory shared by every incarnation (a restartable [`Child::actor`](crate::Child::actor)).
pub(crate) struct Shared<A, T>(pub(crate) Rc<dyn Fn(Reporter<T>) -> A>);

impl<A, T> MakeActor<A, T> for Shared<A, T> {
    fn make(&mut self, reporter: Reporter<T>) -> Option<A> {
        Some((self.0)(reporter))
    }
}

/// An actor child as the driver polls it.
pub(crate) struct ActorChild<A: Actor<Context = Context<A>>, T, F> {
    factory: F,
    /// Its line to the group; set at once, or when a builder's child is bound at start.
    reporter: Option<Reporter<T>>,
    /// The mailbox, until the actor is built: made when someone first asks for the child's
    /// address (messages to a child that waits for its start wait in it), else at the build.
    mailbox: OnceCell<(AddressSender<A>, AddressReceiver<A>)>,
    /// Whether the build was tried (the mailbox went to the context, if there is one).
    built: bool,
    /// Whether the actor lives until stopped, addresses or not (DESIGN §6; the default).
    keep_alive: bool,
    /// Says "ready" through its reporter once `started()` has returned (a child that
    /// signals readiness but is ready as any actor is: one that may run on another arbiter).
    ready_after_start: bool,
    /// The line that says it, kept from the reporter the factory is given.
    ready_line: Option<Reporter<T>>,
    /// Built on the first poll.
    context: Option<ContextFut<A, Context<A>>>,
    /// The sender made with the mailbox, held while the child lives unless it stops when
    /// unaddressed: a connected mailbox is what keeps an actor alive (DESIGN §6). Declared
    /// after `context`, so that a context dropped unfinished still finds its mailbox open.
    keeper: Option<AddressSender<A>>,
    stop_asked: bool,
    kind: ChildKind,
    values: PhantomData<fn() -> T>,
}

impl<A, T, F> ActorChild<A, T, F>
where
    A: Actor<Context = Context<A>>,
    T: Default + 'static,
    F: MakeActor<A, T> + 'static,
{
    pub(crate) fn new(
        factory: F,
        reporter: Reporter<T>,
        kind: ChildKind,
        stop_when_unaddressed: bool,
    ) -> Self {
        let mut child = Self::unbound(factory, kind, stop_when_unaddressed);
        child.reporter = Some(reporter);
        child
    }

    /// A child made before its group exists (a builder's child): bound at start.
    pub(crate) fn unbound(factory: F, kind: ChildKind, stop_when_unaddressed: bool) -> Self {
        ActorChild {
            factory,
            reporter: None,
            mailbox: OnceCell::new(),
            built: false,
            keep_alive: !stop_when_unaddressed,
            ready_after_start: false,
            ready_line: None,
            context: None,
            keeper: None,
            stop_asked: false,
            kind,
            values: PhantomData,
        }
    }

    pub(crate) fn boxed(self) -> BoxedChild<T> {
        Box::pin(self)
    }

    /// Says "ready" through the reporter once `started()` has returned.
    pub(crate) fn ready_after_start(&mut self) {
        self.ready_after_start = true;
    }

    /// The child's address, for whoever spawned it or looks it up.
    pub(crate) fn addr(&self) -> Option<Addr<A>> {
        match &self.context {
            Some(context) => Some(context.address()),
            // Its build was tried and gave no actor: there is nothing to address.
            None if self.built => None,
            None => Some(Addr::new(self.mailbox.get_or_init(new_mailbox).1.sender())),
        }
    }

    /// Builds the actor: the user's factory runs here, on the first poll (under the
    /// driver's `catch_unwind`: a factory that panics is a child that panicked, R5).
    fn build(&mut self) -> Option<&mut ContextFut<A, Context<A>>> {
        if self.context.is_none() {
            let reporter = self.reporter.take()?;
            if self.ready_after_start {
                self.ready_line = Some(reporter.clone());
            }
            self.built = true;
            let (sender, mailbox) = self.mailbox.take().unwrap_or_else(new_mailbox);
            let actor = self.factory.make(reporter)?;
            if self.keep_alive {
                self.keeper = Some(sender);
            }
            self.context = Some(Context::with_receiver(mailbox).into_future(actor));
        }
        self.context.as_mut()
    }
}

// The factory is never pinned (it is only called, never polled), so the child is `Unpin`
// whatever the factory captures.
impl<A: Actor<Context = Context<A>>, T, F> Unpin for ActorChild<A, T, F> {}

impl<A, T, F> ChildBody<T> for ActorChild<A, T, F>
where
    A: Actor<Context = Context<A>>,
    T: Default + 'static,
    F: MakeActor<A, T> + 'static,
{
    fn poll_end(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<crate::outcome::Outcome<T>> {
        let this = self.get_mut();
        let Some(context) = this.build() else {
            return Poll::Ready(crate::outcome::Outcome::Cancelled);
        };
        let pending = Pin::new(context).poll(cx).is_pending();
        if let Some(line) = this.ready_line.take() {
            line.ready();
        }
        if pending {
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

    fn bind(
        self: Pin<&mut Self>,
        scope: &std::rc::Weak<crate::engine::scope::Scope<T>>,
        id: ChildId,
    ) {
        self.get_mut().reporter = Some(Reporter {
            scope: std::rc::Weak::clone(scope),
            id,
            incarnation: 1,
            remote: None,
        });
    }
}

/// Makes incarnations of a restartable actor child.
pub(crate) struct ActorMaker<A, T> {
    pub(crate) factory: Rc<dyn Fn(Reporter<T>) -> A>,
    pub(crate) kind: ChildKind,
    pub(crate) ready_after_start: bool,
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
            remote: None,
        };
        let mut child = ActorChild::new(
            Shared(Rc::clone(&self.factory)),
            reporter,
            self.kind,
            incarnation.options.stop_when_unaddressed,
        );
        if self.ready_after_start {
            child.ready_after_start();
        }
        child.boxed()
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
            ready_after_start: false,
        };
        crate::child_spec::Child::with_maker(name, ChildKind::Actor, Rc::new(maker))
    }
}

impl<T: Default + 'static> crate::engine::scope::Scope<T> {
    /// Accepts an actor child built once by `factory`, and returns its id and, if
    /// `addressed`, its address (a builder's children need none: making one costs two
    /// allocations).
    pub(crate) fn spawn_actor_once<A, F>(
        self: &Rc<Self>,
        name: Option<crate::engine::scope::Name>,
        factory: F,
        addressed: bool,
    ) -> Result<(ChildId, Option<Addr<A>>), crate::error::SpawnError>
    where
        A: Actor<Context = Context<A>>,
        F: FnOnce(Reporter<T>) -> A + 'static,
    {
        let mut address = None;
        let scope = self.me.clone();
        let id = self.spawn_body(name, ChildKind::Actor, None, |id| {
            let reporter = Reporter {
                scope,
                id,
                incarnation: 1,
                remote: None,
            };
            let child = ActorChild::new(Once(Some(factory)), reporter, ChildKind::Actor, false);
            if addressed {
                address = child.addr();
            }
            child.boxed()
        })?;
        Ok((id, address))
    }
}

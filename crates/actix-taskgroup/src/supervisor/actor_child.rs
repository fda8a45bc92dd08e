//! Actor children: the group owns each child's context and drives it itself.
//!
//! `actix::Actor::start` hands the context to a runtime task and throws the task's handle
//! away, so nobody can see the actor stop, catch its panics or force it. Instead the group
//! builds the context (`Context::new()` + `into_future`) and polls the resulting `ContextFut`
//! from its driver like any other child: it sees the stop without polling for it, catches a
//! panic in `started()`, a handler or `stopping()` (R5), asks for a graceful stop with
//! `ctx.stop()` and forces one by dropping the context (R2).

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context as TaskContext, Poll, Waker};

use actix::dev::ContextFut;
use actix::{Actor, ActorContext, Addr, Context};

use crate::child::ChildBody;
use crate::scope::{Name, Scope};
use crate::{ChildId, Outcome, SpawnError};

/// An actor child's line to its group: how it reports a failure or a value before it stops.
///
/// The group gives one to the factory that builds each actor child. An actor that stops
/// without reporting anything has completed (with `T::default()`, so `()` for the usual
/// `GroupSupervisor<()>`); one that reported a failure has failed, and under fail-fast its
/// siblings are stopped as soon as it has stopped.
///
/// ```
/// use actix::prelude::*;
/// use actix_taskgroup::{GroupSupervisor, Join, Reporter};
///
/// struct Migrator {
///     reporter: Reporter<()>,
/// }
///
/// impl Actor for Migrator {
///     type Context = Context<Self>;
///
///     fn started(&mut self, ctx: &mut Context<Self>) {
///         // One line: record the failure and stop.
///         self.reporter.fail_and_stop(ctx, anyhow::anyhow!("table locked"));
///     }
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<()>::builder()
///     .child_actor("migrate", |reporter| Migrator { reporter })
///     .start();
/// let error = group.send(Join::new()).await.unwrap().unwrap_err();
/// assert_eq!(error.first_failure().unwrap().cause().to_string(), "table locked");
/// # });
/// ```
pub struct Reporter<T> {
    scope: Weak<Scope<T>>,
    id: ChildId,
}

impl<T> Reporter<T> {
    /// The child's id in its group.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// Records that the child failed. It takes effect when the actor stops; the last report
    /// before the stop wins. A report after the child has stopped is ignored.
    pub fn fail(&self, error: impl Into<anyhow::Error>) {
        self.report(Outcome::Failed(std::sync::Arc::new(error.into())));
    }

    pub(crate) fn report(&self, outcome: Outcome<T>) {
        if let Some(scope) = self.scope.upgrade() {
            scope.report(self.id, outcome);
        }
    }

    /// Records the child's value. It takes effect when the actor stops.
    pub fn complete(&self, value: T) {
        self.report(Outcome::Completed(value));
    }

    /// Records that the child failed and stops it: the one-line way to fail.
    pub fn fail_and_stop<A>(&self, ctx: &mut Context<A>, error: impl Into<anyhow::Error>)
    where
        A: Actor<Context = Context<A>>,
    {
        self.fail(error);
        ctx.stop();
    }

    /// Records the child's value and stops it.
    pub fn complete_and_stop<A>(&self, ctx: &mut Context<A>, value: T)
    where
        A: Actor<Context = Context<A>>,
    {
        self.complete(value);
        ctx.stop();
    }
}

impl<T> Clone for Reporter<T> {
    fn clone(&self) -> Self {
        Reporter {
            scope: Weak::clone(&self.scope),
            id: self.id,
        }
    }
}

impl<T> fmt::Debug for Reporter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter").field("id", &self.id).finish()
    }
}

/// An actor child as the driver polls it.
struct ActorChild<A: Actor<Context = Context<A>>, T> {
    context: ContextFut<A, Context<A>>,
    /// The waker of the last poll that returned pending: `ctx.stop()` does not wake the
    /// context, so asking the child to stop wakes it through this.
    waker: Option<Waker>,
    stop_asked: bool,
    /// Set when the context finished inside `ask_to_stop`: it must not be polled again (a
    /// finished `ContextFut` would run `stopped()` a second time).
    ended: bool,
    forceable: bool,
    values: PhantomData<fn() -> T>,
}

impl<A, T> ChildBody<T> for ActorChild<A, T>
where
    A: Actor<Context = Context<A>>,
    T: Default,
{
    fn poll_end(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Outcome<T>> {
        let this = self.get_mut();
        if !this.ended && Pin::new(&mut this.context).poll(cx).is_pending() {
            match &this.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => this.waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        // Stopped without a report: completed, unless the group had asked it to stop.
        Poll::Ready(if this.stop_asked {
            Outcome::Cancelled
        } else {
            Outcome::Completed(T::default())
        })
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        this.stop_asked = true;
        this.context.ctx().stop();
        // Run its `stopping()` now, so that siblings stop in exactly the order the group asks
        // (newest first). It is polled with the waker the group's own poll registered for
        // this child, so a veto leaves it waiting as if the group had polled it. A child never
        // polled yet has no waker: it is started, then stopped, when the group first polls it.
        if let Some(waker) = this.waker.clone() {
            let mut cx = TaskContext::from_waker(&waker);
            if Pin::new(&mut this.context).poll(&mut cx).is_ready() {
                this.ended = true;
                waker.wake();
            }
        }
        true
    }

    fn forceable(&self) -> bool {
        self.forceable
    }
}

impl<T: Default + 'static> Scope<T> {
    /// Accepts an actor child: builds it from `factory` (only once accepted, R7) in a context
    /// the group owns, and returns its address. The group itself keeps no strong address, so
    /// the child still stops when every address to it has been dropped.
    ///
    /// A nested group is not `forceable`: it is never dropped at the grace deadline.
    pub(crate) fn spawn_actor<A>(
        self: &Rc<Self>,
        name: Option<Name>,
        forceable: bool,
        factory: impl FnOnce(Reporter<T>) -> A,
    ) -> Result<Addr<A>, SpawnError>
    where
        A: Actor<Context = Context<A>>,
    {
        let mut address = None;
        self.spawn_actor_with(name, forceable, factory, |context| {
            address = Some(context.address());
        })?;
        address.ok_or(SpawnError::FactoryPanicked)
    }

    /// Accepts an actor child whose address nobody asked for (a builder's child): making an
    /// address, and dropping it, costs a shared count update and a wake-up per child.
    pub(crate) fn spawn_unaddressed_actor<A>(
        self: &Rc<Self>,
        name: Option<Name>,
        factory: impl FnOnce(Reporter<T>) -> A,
    ) where
        A: Actor<Context = Context<A>>,
    {
        // Refused only once the group has stopped, and then the factory is never called.
        let _ = self.spawn_actor_with(name, true, factory, |_| {});
    }

    fn spawn_actor_with<A>(
        self: &Rc<Self>,
        name: Option<Name>,
        forceable: bool,
        factory: impl FnOnce(Reporter<T>) -> A,
        built: impl FnOnce(&ContextFut<A, Context<A>>),
    ) -> Result<ChildId, SpawnError>
    where
        A: Actor<Context = Context<A>>,
    {
        let weak = Rc::downgrade(self);
        self.spawn_with(name, |id| {
            let actor = factory(Reporter { scope: weak, id });
            let context = Context::new().into_future(actor);
            built(&context);
            Box::pin(ActorChild {
                context,
                waker: None,
                stop_asked: false,
                ended: false,
                forceable,
                values: PhantomData::<fn() -> T>,
            })
        })
    }
}

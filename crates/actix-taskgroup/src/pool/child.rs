//! Children with `Send` factories: on a group spread over a pool, each incarnation is built
//! and run on a pool arbiter; on any other group, locally.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use actix::{Actor, Context};
use futures::FutureExt;

use crate::child::ChildKind;
use crate::child_spec::Child;
use crate::control::{ChildControl, Sink};
use crate::engine::child::{BoxedChild, into_child};
use crate::engine::spec::{Incarnate, Incarnation};
use crate::future_child::{FutureMaker, Graceful, GracefulMaker};
use crate::pool::binding::Launch;
use crate::pool::proxy::Proxy;
use crate::pool::slot::RemoteSlot;
use crate::supervisor::actor_child::{ActorChild, ActorMaker, Once};
use crate::supervisor::reporter::Reporter;

/// Makes a remote body from the slot, on the remote arbiter.
pub(crate) type MakeBody<T> =
    Arc<dyn Fn(&Arc<RemoteSlot<T>>, Incarnation0) -> BoxedChild<T> + Send + Sync>;

/// What the remote half knows of its incarnation (the home scope stays at home).
#[derive(Clone, Copy)]
pub(crate) struct Incarnation0 {
    id: crate::child::ChildId,
    number: u32,
    stop_when_unaddressed: bool,
}

/// Makes each incarnation: a proxy and its remote half if the group spreads over a pool,
/// the child itself otherwise.
struct SendMaker<T> {
    local: Rc<dyn Incarnate<T>>,
    remote: MakeBody<T>,
    /// The arbiter this child runs on, chosen at its first incarnation: restarts happen on
    /// the child's arbiter (R12).
    arbiter: Cell<Option<usize>>,
}

impl<T: Send + 'static> Incarnate<T> for SendMaker<T> {
    fn incarnate(&self, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let binding = incarnation
            .scope
            .upgrade()
            .and_then(|scope| scope.pool_binding());
        let Some(binding) = binding else {
            return self.local.incarnate(incarnation);
        };
        let arbiter = match self.arbiter.get() {
            Some(arbiter) => arbiter,
            None => {
                let arbiter = binding.place();
                self.arbiter.set(Some(arbiter));
                arbiter
            }
        };
        let slot = RemoteSlot::new();
        let remote = Arc::clone(&self.remote);
        let known = Incarnation0 {
            id: incarnation.id,
            number: incarnation.number,
            stop_when_unaddressed: incarnation.options.stop_when_unaddressed,
        };
        let launch = Launch {
            slot: Arc::clone(&slot),
            make: remote,
            known,
        };
        Box::pin(Proxy {
            slot,
            launch: Some(launch),
            binding,
            arbiter,
            scope: incarnation.scope,
            id: incarnation.id,
            incarnation: incarnation.number,
            told_ready: false,
            ended: false,
        })
    }
}

impl<T: Send + 'static> Child<T> {
    /// A future child made by a `Send` factory: on a group spread over an
    /// [`ArbiterPool`](crate::ArbiterPool), each incarnation is built and run on a pool
    /// arbiter (the future itself need not be `Send`); on any other group, locally.
    pub fn send_future<F, Fut, E>(
        name: impl Into<std::borrow::Cow<'static, str>>,
        factory: F,
    ) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        let factory = Arc::new(factory);
        let local: Rc<dyn Incarnate<T>> = Rc::new(FutureMaker(Arc::clone(&factory)));
        // The same body over there, built on the remote arbiter.
        let maker = FutureMaker(factory);
        let remote: MakeBody<T> = Arc::new(move |_slot, _known| maker.body());
        Child::with_maker(name, ChildKind::Future, send_maker(local, remote))
    }

    /// As [`Child::future_with`], with a `Send` factory that runs on a pool arbiter when the
    /// group spreads over a pool.
    pub fn send_future_with<F, Fut, E>(
        name: impl Into<std::borrow::Cow<'static, str>>,
        factory: F,
    ) -> Self
    where
        F: Fn(ChildControl) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        let factory = Arc::new(factory);
        let local = Arc::clone(&factory);
        let local: Rc<dyn Incarnate<T>> =
            Rc::new(GracefulMaker(Rc::new(move |control| local(control))));
        let remote: MakeBody<T> = Arc::new(move |slot, known| {
            let sink: Arc<dyn crate::control::ReadySink + Send + Sync> = Arc::clone(slot) as _;
            let control = ChildControl::new(known.id, known.number, Sink::Shared(sink));
            let stop = Rc::clone(control.signal());
            let factory = Arc::clone(&factory);
            let future = futures::future::lazy(move |_| factory(control)).flatten();
            Box::pin(Graceful::new(into_child(future), stop))
        });
        Child::with_maker(name, ChildKind::Future, send_maker(local, remote))
    }
}

impl<T: Send + Default + 'static> Child<T> {
    /// An actor child made by a `Send` factory: on a group spread over an
    /// [`ArbiterPool`](crate::ArbiterPool), each incarnation is built and run on a pool
    /// arbiter (the actor need not be `Send`); on any other group, locally. It is ready once
    /// its `started()` has returned, wherever it runs.
    pub fn send_actor<A, F>(name: impl Into<std::borrow::Cow<'static, str>>, factory: F) -> Self
    where
        A: Actor<Context = Context<A>>,
        F: Fn(Reporter<T>) -> A + Send + Sync + 'static,
    {
        let factory = Arc::new(factory);
        let local = Arc::clone(&factory);
        let local: Rc<dyn Incarnate<T>> = Rc::new(ActorMaker {
            factory: Rc::new(move |reporter| local(reporter)),
            kind: ChildKind::Actor,
            ready_after_start: true,
        });
        let remote: MakeBody<T> = Arc::new(move |slot, known| {
            let reporter = Reporter {
                scope: std::rc::Weak::new(),
                id: known.id,
                incarnation: known.number,
                remote: Some(Arc::clone(slot)),
            };
            let factory = Arc::clone(&factory);
            let mut child = ActorChild::new(
                Once(Some(move |reporter| factory(reporter))),
                reporter,
                ChildKind::Actor,
                known.stop_when_unaddressed,
            );
            child.ready_after_start();
            if let Some(address) = child.addr() {
                slot.set_address(Arc::new(move || Box::new(address.clone())));
            }
            child.boxed()
        });
        let mut child = Child::with_maker(name, ChildKind::Actor, send_maker(local, remote));
        // Ready when its remote `started()` has returned: the proxy says so.
        child.options.signals_ready = true;
        child
    }
}

fn send_maker<T: Send + 'static>(
    local: Rc<dyn Incarnate<T>>,
    remote: MakeBody<T>,
) -> Rc<dyn Incarnate<T>> {
    Rc::new(SendMaker {
        local,
        remote,
        arbiter: Cell::new(None),
    })
}

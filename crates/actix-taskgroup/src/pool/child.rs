//! Children with `Send` factories: on a group spread over a pool, each incarnation is built
//! and run on a pool arbiter; on any other group, locally.

use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Actor, Context};

use crate::child::ChildKind;
use crate::child_spec::Child;
use crate::control::{ChildControl, ReadySink, Sink};
use crate::engine::child::BoxedChild;
use crate::engine::spec::{Incarnate, Incarnation};
use crate::future_child::{graceful_child, lazy_child};
use crate::pool::line::{LineHome, RemoteLine};
use crate::pool::proxy::Proxy;
use crate::pool::wire::{Incarnation0, Launch, Make};
use crate::supervisor::actor_child::{ActorChild, Once};
use crate::supervisor::reporter::Reporter;

/// A `Send` child's maker: one allocation, shared by the child's description at home and
/// by every launch of it to a pool arbiter.
pub(crate) trait SendIncarnate<T>: Send + Sync {
    /// An incarnation: a proxy and its remote half to launch if the group spreads over a
    /// pool, the child itself otherwise.
    fn incarnate(self: Arc<Self>, incarnation: Incarnation<T>) -> BoxedChild<T>;
    /// The remote half, built on a pool arbiter with its line home.
    fn there(self: Arc<Self>, home: &mut LineHome<'_, T>) -> BoxedChild<T>;
}

/// What makes each kind of `Send` child, here or there.
trait MakeSend<T>: Sized + Send + Sync + 'static {
    fn here(this: Arc<SendFactory<Self>>, incarnation: Incarnation<T>) -> BoxedChild<T>;
    fn there(this: Arc<SendFactory<Self>>, home: &mut LineHome<'_, T>) -> BoxedChild<T>;
}

/// A `Send` factory of one kind, with the arbiter its child was placed on.
struct SendFactory<K> {
    kind: K,
    /// Chosen at the first incarnation (`UNPLACED` before): restarts happen on the child's
    /// arbiter (R12).
    arbiter: AtomicUsize,
}

const UNPLACED: usize = usize::MAX;

impl<T: Send + 'static, K: MakeSend<T>> SendIncarnate<T> for SendFactory<K> {
    fn incarnate(self: Arc<Self>, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let binding = incarnation
            .scope
            .upgrade()
            .and_then(|scope| scope.pool_binding());
        let Some(binding) = binding else {
            return K::here(self, incarnation);
        };
        let arbiter = match self.arbiter.load(Ordering::Relaxed) {
            UNPLACED => {
                let arbiter = binding.place();
                self.arbiter.store(arbiter, Ordering::Relaxed);
                arbiter
            }
            arbiter => arbiter,
        };
        let known = Incarnation0 {
            id: incarnation.id,
            number: incarnation.number,
            stop_when_unaddressed: incarnation.options.stop_when_unaddressed,
        };
        let launch = Launch {
            make: Make::Shared(self),
            known,
        };
        Box::pin(Proxy::new(binding, arbiter, launch))
    }

    fn there(self: Arc<Self>, home: &mut LineHome<'_, T>) -> BoxedChild<T> {
        K::there(self, home)
    }
}

fn send_child<T: Send + 'static, K: MakeSend<T>>(
    name: impl Into<std::borrow::Cow<'static, str>>,
    kind: ChildKind,
    factory: K,
) -> Child<T> {
    let maker = Arc::new(SendFactory {
        kind: factory,
        arbiter: AtomicUsize::new(UNPLACED),
    });
    Child::with_maker(name, kind, Rc::new(SendMaker(maker)))
}

/// A `Send` factory as the group holds it. (An `Rc` of its own, one allocation more per
/// described child, so that the engine keeps one kind of maker: an enum of both cost every
/// restart two matches, about 2% of a future child's restart.)
struct SendMaker<T>(Arc<dyn SendIncarnate<T>>);

impl<T> Incarnate<T> for SendMaker<T> {
    fn incarnate(&self, incarnation: Incarnation<T>) -> BoxedChild<T> {
        Arc::clone(&self.0).incarnate(incarnation)
    }
}

/// `Fn() -> Future`.
struct FutureFactory<F>(F);

impl<T, F, Fut, E> MakeSend<T> for FutureFactory<F>
where
    T: 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    fn here(this: Arc<SendFactory<Self>>, _: Incarnation<T>) -> BoxedChild<T> {
        lazy_child(move || (this.kind.0)())
    }

    fn there(this: Arc<SendFactory<Self>>, _: &mut LineHome<'_, T>) -> BoxedChild<T> {
        lazy_child(move || (this.kind.0)())
    }
}

/// `Fn(ChildControl) -> Future`.
struct ControlFactory<F>(F);

impl<T, F, Fut, E> MakeSend<T> for ControlFactory<F>
where
    T: Send + 'static,
    F: Fn(ChildControl) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    fn here(this: Arc<SendFactory<Self>>, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let sink: Weak<dyn ReadySink> = incarnation.scope;
        let control = ChildControl::new(incarnation.id, incarnation.number, Sink::Local(sink));
        graceful_child(control, move |control| (this.kind.0)(control))
    }

    fn there(this: Arc<SendFactory<Self>>, home: &mut LineHome<'_, T>) -> BoxedChild<T> {
        let known = home.known;
        let sink: Arc<dyn ReadySink + Send + Sync> = Arc::clone(home.line()) as _;
        let control = ChildControl::new(known.id, known.number, Sink::Shared(sink));
        graceful_child(control, move |control| (this.kind.0)(control))
    }
}

/// `Fn(Reporter) -> Actor`.
struct ActorFactory<F>(F);

impl<F> ActorFactory<F> {
    /// An incarnation, whose address goes home on `line` if it runs on a pool arbiter.
    fn child<A, T>(
        this: Arc<SendFactory<Self>>,
        reporter: Reporter<T>,
        unaddressed: bool,
        line: Option<&RemoteLine<T>>,
    ) -> BoxedChild<T>
    where
        A: Actor<Context = Context<A>>,
        T: Default + 'static,
        F: Fn(Reporter<T>) -> A + 'static,
    {
        let mut child = ActorChild::new(
            Once(Some(move |reporter| (this.kind.0)(reporter))),
            reporter,
            ChildKind::Actor,
            unaddressed,
        );
        child.ready_after_start();
        if let Some(line) = line
            && let Some(address) = child.addr()
        {
            line.set_address(Arc::new(move || Box::new(address.clone())));
        }
        child.boxed()
    }
}

impl<T, A, F> MakeSend<T> for ActorFactory<F>
where
    T: Send + Default + 'static,
    A: Actor<Context = Context<A>>,
    F: Fn(Reporter<T>) -> A + Send + Sync + 'static,
{
    fn here(this: Arc<SendFactory<Self>>, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let reporter = Reporter {
            scope: incarnation.scope,
            id: incarnation.id,
            incarnation: incarnation.number,
            remote: None,
        };
        ActorFactory::child(
            this,
            reporter,
            incarnation.options.stop_when_unaddressed,
            None,
        )
    }

    fn there(this: Arc<SendFactory<Self>>, home: &mut LineHome<'_, T>) -> BoxedChild<T> {
        let known = home.known;
        let line = Arc::clone(home.line());
        let reporter = Reporter {
            scope: Weak::new(),
            id: known.id,
            incarnation: known.number,
            remote: Some(Arc::clone(&line)),
        };
        ActorFactory::child(this, reporter, known.stop_when_unaddressed, Some(&line))
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
        send_child(name, ChildKind::Future, FutureFactory(factory))
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
        send_child(name, ChildKind::Future, ControlFactory(factory))
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
        let mut child = send_child(name, ChildKind::Actor, ActorFactory(factory));
        // Ready when its `started()` has returned: said by the reporter over there.
        child.options.signals_ready = true;
        child
    }
}

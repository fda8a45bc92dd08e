//! Children with `Send` factories: on a group spread over a pool, each incarnation is built
//! and run on a pool arbiter; on any other group, locally.

use std::cell::Cell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use actix::{Actor, Context};

use crate::child::ChildKind;
use crate::child_spec::Child;
use crate::control::{ChildControl, ReadySink, Sink};
use crate::engine::child::BoxedChild;
use crate::engine::spec::{Incarnate, Incarnation};
use crate::future_child::{graceful_child, lazy_child};
use crate::pool::line::{LineHome, RemoteLine};
use crate::pool::proxy::Proxy;
use crate::pool::wire::Incarnation0;
use crate::supervisor::actor_child::{ActorChild, Once};
use crate::supervisor::reporter::Reporter;

/// A `Send` child's maker: one allocation, shared by the child's description at home and
/// by every launch of it to a pool arbiter.
pub(crate) trait SendIncarnate<T>: Send + Sync {
    /// An incarnation to run here (the group is not spread over a pool).
    fn here(self: Arc<Self>, incarnation: Incarnation<T>) -> BoxedChild<T>;
    /// An incarnation built on a pool arbiter, with its line home.
    fn there(self: Arc<Self>, home: &mut LineHome<'_, T>) -> BoxedChild<T>;
}

/// Makes each incarnation: a proxy and its remote half if the group spreads over a pool,
/// the child itself otherwise.
struct SendMaker<T> {
    maker: Arc<dyn SendIncarnate<T>>,
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
            return Arc::clone(&self.maker).here(incarnation);
        };
        let arbiter = match self.arbiter.get() {
            Some(arbiter) => arbiter,
            None => {
                let arbiter = binding.place();
                self.arbiter.set(Some(arbiter));
                arbiter
            }
        };
        let known = Incarnation0 {
            id: incarnation.id,
            number: incarnation.number,
            stop_when_unaddressed: incarnation.options.stop_when_unaddressed,
        };
        Box::pin(Proxy::new(binding, arbiter, &self.maker, known))
    }
}

fn send_child<T: Send + 'static>(
    name: impl Into<std::borrow::Cow<'static, str>>,
    kind: ChildKind,
    maker: Arc<dyn SendIncarnate<T>>,
) -> Child<T> {
    let maker = Rc::new(SendMaker {
        maker,
        arbiter: Cell::new(None),
    });
    Child::with_maker(name, kind, maker)
}

/// `Fn() -> Future`.
struct FutureFactory<F>(F);

impl<T, F, Fut, E> SendIncarnate<T> for FutureFactory<F>
where
    T: 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    fn here(self: Arc<Self>, _: Incarnation<T>) -> BoxedChild<T> {
        lazy_child(move || (self.0)())
    }

    fn there(self: Arc<Self>, _: &mut LineHome<'_, T>) -> BoxedChild<T> {
        lazy_child(move || (self.0)())
    }
}

/// `Fn(ChildControl) -> Future`.
struct ControlFactory<F>(F);

impl<T, F, Fut, E> SendIncarnate<T> for ControlFactory<F>
where
    T: Send + 'static,
    F: Fn(ChildControl) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    fn here(self: Arc<Self>, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let sink: Weak<dyn ReadySink> = incarnation.scope;
        let control = ChildControl::new(incarnation.id, incarnation.number, Sink::Local(sink));
        graceful_child(control, move |control| (self.0)(control))
    }

    fn there(self: Arc<Self>, home: &mut LineHome<'_, T>) -> BoxedChild<T> {
        let known = home.known;
        let sink: Arc<dyn ReadySink + Send + Sync> = Arc::clone(home.line()) as _;
        let control = ChildControl::new(known.id, known.number, Sink::Shared(sink));
        graceful_child(control, move |control| (self.0)(control))
    }
}

/// `Fn(Reporter) -> Actor`.
struct ActorFactory<F>(F);

impl<F> ActorFactory<F> {
    /// An incarnation, whose address goes home on `line` if it runs on a pool arbiter.
    fn child<A, T>(
        self: Arc<Self>,
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
            Once(Some(move |reporter| (self.0)(reporter))),
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

impl<T, A, F> SendIncarnate<T> for ActorFactory<F>
where
    T: Send + Default + 'static,
    A: Actor<Context = Context<A>>,
    F: Fn(Reporter<T>) -> A + Send + Sync + 'static,
{
    fn here(self: Arc<Self>, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let reporter = Reporter {
            scope: incarnation.scope,
            id: incarnation.id,
            incarnation: incarnation.number,
            remote: None,
        };
        self.child(reporter, incarnation.options.stop_when_unaddressed, None)
    }

    fn there(self: Arc<Self>, home: &mut LineHome<'_, T>) -> BoxedChild<T> {
        let known = home.known;
        let line = Arc::clone(home.line());
        let reporter = Reporter {
            scope: Weak::new(),
            id: known.id,
            incarnation: known.number,
            remote: Some(Arc::clone(&line)),
        };
        self.child(reporter, known.stop_when_unaddressed, Some(&line))
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
        send_child(name, ChildKind::Future, Arc::new(FutureFactory(factory)))
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
        send_child(name, ChildKind::Future, Arc::new(ControlFactory(factory)))
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
        let mut child = send_child(name, ChildKind::Actor, Arc::new(ActorFactory(factory)));
        // Ready when its `started()` has returned: said by the reporter over there.
        child.options.signals_ready = true;
        child
    }
}

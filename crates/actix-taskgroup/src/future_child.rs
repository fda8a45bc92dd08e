//! Future children made by factories: each incarnation calls the factory on its first poll
//! (never before, so a queued child's factory waits for its start, R14), and a child given a
//! [`ChildControl`] finishes gracefully when its group asks it to stop.

use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use futures::FutureExt;

use crate::control::{ChildControl, ReadySink, Sink, StopSignal};
use crate::engine::child::{BoxedChild, ChildBody, StopAsk, into_child};
use crate::engine::spec::{Incarnate, Incarnation};
use crate::outcome::Outcome;

pin_project_lite::pin_project! {
    /// A future child that sees its stop request: asked to stop, it keeps running until it
    /// ends or its grace period is over.
    pub(crate) struct Graceful<F> {
        #[pin]
        future: F,
        stop: Rc<StopSignal>,
    }
}

impl<T, F> ChildBody<T> for Graceful<F>
where
    F: Future<Output = anyhow::Result<T>>,
{
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        let this = self.project();
        this.future.poll(cx).map(|result| match result {
            // Stopped by its group before it completed its work: cancelled (R2).
            Ok(_) if this.stop.is_requested() => Outcome::Cancelled,
            other => Outcome::from_result(other),
        })
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        self.stop.request();
        StopAsk::Stopping
    }
}

/// Makes incarnations of a future child from `Fn() -> Future`.
///
/// Generic over the pointer to the factory: an `Rc` for a child made here, the `Arc` a
/// `Send` factory already lives in for one that may also run on a pool (no second
/// allocation to hold it).
pub(crate) struct FutureMaker<P>(pub(crate) P);

impl<P: Clone + 'static> FutureMaker<P> {
    /// A new incarnation's body: the factory runs on its first poll.
    pub(crate) fn body<T, F, Fut, E>(&self) -> BoxedChild<T>
    where
        T: 'static,
        P: std::ops::Deref<Target = F>,
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        let factory = self.0.clone();
        lazy_child(move || (*factory)())
    }
}

/// A future child whose future is made by `start` on its first poll.
pub(crate) fn lazy_child<T, Fut, E>(start: impl FnOnce() -> Fut + 'static) -> BoxedChild<T>
where
    T: 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    Box::pin(into_child(
        futures::future::lazy(move |_| start()).flatten(),
    ))
}

/// A future child given `control`, whose future is made by `start` on its first poll, and
/// which is told when its group asks it to stop.
pub(crate) fn graceful_child<T, Fut, E>(
    control: ChildControl,
    start: impl FnOnce(ChildControl) -> Fut + 'static,
) -> BoxedChild<T>
where
    T: 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    let stop = Rc::clone(control.signal());
    let future = futures::future::lazy(move |_| start(control)).flatten();
    Box::pin(Graceful {
        future: into_child(future),
        stop,
    })
}

impl<T, P, F, Fut, E> Incarnate<T> for FutureMaker<P>
where
    T: 'static,
    P: std::ops::Deref<Target = F> + Clone + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    fn incarnate(&self, _: Incarnation<T>) -> BoxedChild<T> {
        self.body()
    }
}

/// Makes incarnations of a future child from `Fn(ChildControl) -> Future`.
pub(crate) struct GracefulMaker<F>(pub(crate) Rc<F>);

impl<T, F, Fut, E> Incarnate<T> for GracefulMaker<F>
where
    T: 'static,
    F: Fn(ChildControl) -> Fut + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
    E: Into<anyhow::Error>,
{
    fn incarnate(&self, incarnation: Incarnation<T>) -> BoxedChild<T> {
        let sink: Weak<dyn ReadySink> = incarnation.scope;
        let control = ChildControl::new(incarnation.id, incarnation.number, Sink::Local(sink));
        let factory = Rc::clone(&self.0);
        graceful_child(control, move |control| factory(control))
    }
}

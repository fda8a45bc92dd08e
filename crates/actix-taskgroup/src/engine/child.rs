//! A child of a group: its identity, and the wrapper the group's driver polls.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::Outcome;
use crate::panic::{drop_catching_panic, panic_message};
use crate::ready_queue::{ChildWaker, ReadyQueue};
use futures::task::waker_ref;

/// The identity of a child within its group: its position in spawn order, starting at 0.
///
/// ```
/// use actix_taskgroup::TaskGroup;
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::new();
/// let first = group.spawn(async { Ok::<_, anyhow::Error>(1) }).unwrap();
/// let second = group.spawn(async { Ok::<_, anyhow::Error>(2) }).unwrap();
/// assert_eq!((first.index(), second.index()), (0, 1));
/// assert_eq!(second.to_string(), "#1");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChildId(usize);

impl ChildId {
    pub(crate) fn new(index: usize) -> Self {
        ChildId(index)
    }

    /// The child's position in spawn order.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A child future with its error turned into `anyhow::Error`.
// Not an `async fn`: that would capture `E` in the returned future and so demand
// `E: 'static` from every caller of `spawn`, a bound the children do not need.
#[allow(clippy::manual_async_fn)]
pub(crate) fn into_child<T, E>(
    future: impl Future<Output = Result<T, E>> + 'static,
) -> impl Future<Output = anyhow::Result<T>> + 'static
where
    E: Into<anyhow::Error>,
{
    async move { future.await.map_err(Into::into) }
}

/// What the driver polls for one child: a future, or an actor's context.
pub(crate) trait ChildBody<T> {
    /// Polls the child; ready with its outcome once it has ended.
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>>;

    /// Asks the child to stop on its own (an actor's graceful stop). Returns `false` when the
    /// child cannot stop by itself and must be dropped now: a future.
    fn ask_to_stop(self: Pin<&mut Self>) -> bool {
        false
    }

    /// Whether the group may drop the child when the grace period ends. A nested group is
    /// never forced: it applies its own grace to its own children.
    fn forceable(&self) -> bool {
        true
    }
}

impl<T, F> ChildBody<T> for F
where
    F: Future<Output = anyhow::Result<T>>,
{
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        self.poll(cx).map(|result| match result {
            Ok(value) => Outcome::Completed(value),
            Err(error) => Outcome::Failed(Arc::new(error)),
        })
    }
}

pub(crate) type BoxedChild<T> = Pin<Box<dyn ChildBody<T>>>;

/// A child as the driver holds it: boxed, and polled under `catch_unwind` so that a panic
/// becomes `Outcome::Panicked` instead of unwinding into the group (R5).
///
/// It sits in its group's slot for its id, which is why it does not hold the id itself: a
/// large group holds many, and a slot's size is what a child costs in memory.
pub(crate) struct ChildTask<T> {
    /// `None` once the child has ended or been dropped.
    body: Option<BoxedChild<T>>,
    /// The child's own waker, made the first time it returns `Pending`.
    waker: Option<Arc<ChildWaker>>,
    /// Whether the group has asked it to stop.
    stop_asked: bool,
}

impl<T> ChildTask<T> {
    pub(crate) fn new(body: BoxedChild<T>) -> Self {
        ChildTask {
            body: Some(body),
            waker: None,
            stop_asked: false,
        }
    }

    /// Whether the child still runs and may be dropped when the grace period ends.
    pub(crate) fn is_forceable(&self) -> bool {
        self.body.as_ref().is_some_and(|body| body.forceable())
    }

    /// Whether the group has asked this child to stop.
    pub(crate) fn stop_asked(&self) -> bool {
        self.stop_asked
    }

    /// Polls the child; ready with its outcome once it has ended (and been dropped).
    ///
    /// The first poll is made with the no-op waker: most children of a large group end in
    /// it, and then never cost a waker. One that returns `Pending` is given its own waker and
    /// polled again at once; the `Future` contract only asks that the waker of the latest
    /// poll be woken, and anything that happened between the two polls is seen by the second.
    #[inline]
    pub(crate) fn poll(&mut self, id: ChildId, queue: &Arc<ReadyQueue>) -> Poll<Outcome<T>> {
        let waker = match self.waker.take() {
            Some(waker) => waker,
            None => {
                if let Poll::Ready(outcome) = self.poll_with(Waker::noop()) {
                    return Poll::Ready(outcome);
                }
                ChildWaker::new(id.index(), queue)
            }
        };
        waker.clear();
        let polled = self.poll_with(&waker_ref(&waker));
        self.waker = Some(waker);
        polled
    }

    fn poll_with(&mut self, waker: &Waker) -> Poll<Outcome<T>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Outcome::Cancelled);
        };
        let mut cx = Context::from_waker(waker);
        match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll_end(&mut cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            // The child is done: drop it here, where a panic in its destructor is caught and
            // kept (R5).
            Ok(Poll::Ready(outcome)) => {
                Poll::Ready(match self.body.take().and_then(drop_catching_panic) {
                    Some(message) => Outcome::Panicked(message),
                    None => outcome,
                })
            }
            Err(payload) => Poll::Ready(self.end_after_panic(payload)),
        }
    }

    /// Asks the child to stop gracefully. Returns its outcome if it ended there and then (a
    /// future is dropped; a panic is caught), `None` if it will stop on its own.
    pub(crate) fn ask_to_stop(&mut self) -> Option<Outcome<T>> {
        self.stop_asked = true;
        let body = self.body.as_mut()?;
        match catch_unwind(AssertUnwindSafe(|| body.as_mut().ask_to_stop())) {
            Ok(true) => None,
            Ok(false) => self.cancel(),
            Err(payload) => Some(self.end_after_panic(payload)),
        }
    }

    /// Drops the child now and says how it ended: `Cancelled`, or `Panicked` if its
    /// destructor panicked. `None` if it had already ended.
    pub(crate) fn cancel(&mut self) -> Option<Outcome<T>> {
        let body = self.body.take()?;
        Some(match drop_catching_panic(body) {
            Some(message) => Outcome::Panicked(message),
            None => Outcome::Cancelled,
        })
    }

    fn end_after_panic(&mut self, payload: Box<dyn std::any::Any + Send>) -> Outcome<T> {
        let message = panic_message(&*payload);
        // A child that panicked may panic again while being dropped; that second panic is
        // part of the same failure and must not escape either.
        let _ = self.body.take().map(drop_catching_panic);
        let _ = drop_catching_panic(payload);
        Outcome::Panicked(message)
    }
}

impl<T> Drop for ChildTask<T> {
    fn drop(&mut self) {
        // Reached only when the whole group is torn down without its children being ended
        // first (the runtime shutting down); the panic is caught so that it cannot abort the
        // process.
        if let Some(body) = self.body.take() {
            let _ = drop_catching_panic(body);
        }
    }
}

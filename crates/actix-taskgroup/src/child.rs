//! A child of a group: its identity, and the wrapper the group's driver polls.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::Outcome;
use crate::panic::{drop_catching_panic, panic_message};

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
pub(crate) struct ChildTask<T> {
    id: ChildId,
    /// `None` once the child has ended or been dropped; the task then only waits to be
    /// removed from the running set, and yields nothing when polled.
    body: Option<BoxedChild<T>>,
}

impl<T> ChildTask<T> {
    pub(crate) fn new(id: ChildId, body: BoxedChild<T>) -> Self {
        ChildTask {
            id,
            body: Some(body),
        }
    }

    pub(crate) fn id(&self) -> ChildId {
        self.id
    }

    /// Whether the child still runs and may be dropped when the grace period ends.
    pub(crate) fn is_forceable(&self) -> bool {
        self.body.as_ref().is_some_and(|body| body.forceable())
    }

    /// Asks the child to stop gracefully. Returns its outcome if it ended there and then (a
    /// future is dropped; a panic is caught), `None` if it will stop on its own.
    pub(crate) fn ask_to_stop(&mut self) -> Option<Outcome<T>> {
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

impl<T> Future for ChildTask<T> {
    /// `None` for a child that had already been ended by the group.
    type Output = Option<(ChildId, Outcome<T>)>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll_end(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(outcome)) => {
                // The child is done: drop it here, where a panic in its destructor is caught
                // and kept (R5).
                match self.body.take().and_then(drop_catching_panic) {
                    Some(message) => Outcome::Panicked(message),
                    None => outcome,
                }
            }
            Err(payload) => self.end_after_panic(payload),
        };
        Poll::Ready(Some((id, outcome)))
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

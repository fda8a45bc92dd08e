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

pub(crate) type BoxedChild<T> = Pin<Box<dyn Future<Output = anyhow::Result<T>>>>;

/// A child future as the driver holds it: boxed, and polled under `catch_unwind` so that a
/// panic becomes `Outcome::Panicked` instead of unwinding into the group (R5).
pub(crate) struct ChildTask<T> {
    id: ChildId,
    /// `None` once the future has been taken out to be cancelled.
    future: Option<BoxedChild<T>>,
}

impl<T> ChildTask<T> {
    pub(crate) fn new(id: ChildId, future: BoxedChild<T>) -> Self {
        ChildTask {
            id,
            future: Some(future),
        }
    }

    pub(crate) fn id(&self) -> ChildId {
        self.id
    }

    /// Drops the child's future now and says how it ended: `Cancelled`, or `Panicked` if its
    /// destructor panicked.
    pub(crate) fn cancel(&mut self) -> Outcome<T> {
        match self.future.take().and_then(drop_catching_panic) {
            Some(message) => Outcome::Panicked(message),
            None => Outcome::Cancelled,
        }
    }
}

impl<T> Future for ChildTask<T> {
    type Output = (ChildId, Outcome<T>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready((id, Outcome::Cancelled));
        };
        let polled = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
        if let Ok(Poll::Pending) = polled {
            return Poll::Pending;
        }
        // The future is done: drop it here, where a panic in its destructor (or a second
        // panic from a future that already panicked) is caught and kept (R5).
        let drop_panic = self.future.take().and_then(drop_catching_panic);
        let outcome = match (polled, drop_panic) {
            (Err(payload), _) => {
                let message = panic_message(&*payload);
                let _ = drop_catching_panic(payload);
                Outcome::Panicked(message)
            }
            (Ok(_), Some(message)) => Outcome::Panicked(message),
            (Ok(Poll::Ready(Ok(value))), None) => Outcome::Completed(value),
            (Ok(Poll::Ready(Err(error))), None) => Outcome::Failed(Arc::new(error)),
            (Ok(Poll::Pending), None) => return Poll::Pending,
        };
        Poll::Ready((id, outcome))
    }
}

impl<T> Drop for ChildTask<T> {
    fn drop(&mut self) {
        // Reached only when the whole group is torn down without being cancelled first (the
        // runtime shutting down); the panic is caught so that it cannot abort the process.
        if let Some(future) = self.future.take() {
            let _ = drop_catching_panic(future);
        }
    }
}

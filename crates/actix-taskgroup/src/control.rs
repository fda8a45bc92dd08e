//! What a future child built by a factory is given to take part in its own lifecycle: it
//! can say it is ready (R15) and see its group ask it to stop, then finish gracefully
//! within the group's grace period (R2) instead of being dropped at once.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use crate::child::ChildId;

/// Where a child's readiness is told: its group.
pub(crate) trait ReadySink {
    fn mark_ready(&self, id: ChildId, incarnation: u32);
}

impl<T: 'static> ReadySink for crate::engine::scope::Scope<T> {
    fn mark_ready(&self, id: ChildId, incarnation: u32) {
        crate::engine::scope::Scope::mark_ready(self, id, incarnation);
    }
}

/// Set when the group asks the child to stop.
#[derive(Default)]
pub(crate) struct StopSignal {
    requested: Cell<bool>,
    wakers: RefCell<Vec<Waker>>,
}

impl StopSignal {
    pub(crate) fn request(&self) {
        self.requested.set(true);
        for waker in self.wakers.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.requested.get()
    }
}

/// A future child's line to its group: its id and attempt, a way to say it is ready, and
/// the group's request to stop.
///
/// A child built with [`Child::future_with`](crate::Child::future_with) gets one. When its
/// group stops it (a sibling failed, a cancel, a deadline), such a child is not dropped at
/// once: [`stop_requested`](ChildControl::stop_requested) resolves and it has the group's
/// grace period to finish (close a connection, stop a process), after which it is dropped.
/// It ends `Cancelled` if it then returns `Ok`, and with its error if it fails.
///
/// ```
/// use actix_taskgroup::{Child, GroupSupervisor, Join, Outcome};
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<()>::builder()
///     .child(Child::future_with("server", |control| async move {
///         control.ready();
///         control.stop_requested().await;
///         // Clean up here, within the grace period.
///         Ok::<_, anyhow::Error>(())
///     }))
///     .start();
/// group.send(actix_taskgroup::Cancel).await.unwrap();
/// let report = group.send(Join::new()).await.unwrap();
/// assert!(matches!(report.children()[0].outcome(), Outcome::Cancelled));
/// # });
/// ```
#[derive(Clone)]
pub struct ChildControl {
    id: ChildId,
    attempt: u32,
    sink: Sink,
    stop: Rc<StopSignal>,
}

/// Where readiness is told: the group on this arbiter, or a child's line home from another.
#[derive(Clone)]
pub(crate) enum Sink {
    Local(Weak<dyn ReadySink>),
    Shared(std::sync::Arc<dyn ReadySink + Send + Sync>),
}

impl ChildControl {
    pub(crate) fn new(id: ChildId, attempt: u32, sink: Sink) -> Self {
        ChildControl {
            id,
            attempt,
            sink,
            stop: Rc::default(),
        }
    }

    pub(crate) fn signal(&self) -> &Rc<StopSignal> {
        &self.stop
    }

    /// The child's id in its group.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// Which incarnation this is: 1 the first time, 2 after the first restart, …
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Says the child is ready (R15), for a child built with
    /// [`signals_ready`](crate::Child::signals_ready); otherwise it is ready once it starts.
    /// Saying it again, or after the child has ended, does nothing.
    pub fn ready(&self) {
        match &self.sink {
            Sink::Local(sink) => {
                if let Some(sink) = sink.upgrade() {
                    sink.mark_ready(self.id, self.attempt);
                }
            }
            Sink::Shared(sink) => sink.mark_ready(self.id, self.attempt),
        }
    }

    /// Whether the group has asked the child to stop.
    pub fn is_stop_requested(&self) -> bool {
        self.stop.is_requested()
    }

    /// Resolves when the group asks the child to stop (at once if it already has).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing; a new one resolves as well.
    pub fn stop_requested(&self) -> impl Future<Output = ()> + 'static {
        let stop = Rc::clone(&self.stop);
        poll_fn(move |cx| {
            if stop.is_requested() {
                return Poll::Ready(());
            }
            let mut wakers = stop.wakers.borrow_mut();
            if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

impl fmt::Debug for ChildControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildControl")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("stop_requested", &self.is_stop_requested())
            .finish()
    }
}

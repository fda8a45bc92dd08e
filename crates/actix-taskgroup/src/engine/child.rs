//! One incarnation of a child as the driver holds it: the body behind a small trait, polled
//! under `catch_unwind` (R5), with its own waker once it has waited.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::task::waker_ref;

use std::rc::Weak;

use crate::child::ChildId;
use crate::engine::panic::{drop_catching_panic, panic_message};
use crate::engine::ready_queue::{ChildWaker, ReadyQueue};
use crate::engine::scope::Scope;
use crate::outcome::Outcome;

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

/// What a child does when its group asks it to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopAsk {
    /// It cannot stop by itself (a plain future): drop it now.
    DropNow,
    /// It was told and stops on its own (an actor's `ctx.stop()`, a future that watches its
    /// stop signal): keep polling it until it ends or its grace period is over.
    Stopping,
}

/// What the driver polls for one child: a future, an actor's context, a nested group.
pub(crate) trait ChildBody<T> {
    /// Polls the child; ready with its outcome once it has ended.
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>>;

    /// Asks the child to stop on its own.
    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        StopAsk::DropNow
    }

    /// Whether the group may drop the child when the grace period ends. A nested group is
    /// never forced: it applies its own grace to its own children (DESIGN §6).
    fn forceable(&self) -> bool {
        true
    }

    /// The address of an actor child (an `Addr<A>`, boxed), for lookups.
    fn address(&self) -> Option<Box<dyn Any>> {
        None
    }

    /// Tells a body made before its group existed (a builder's child) which group and id
    /// it has.
    fn bind(self: Pin<&mut Self>, _scope: &Weak<Scope<T>>, _id: ChildId) {}

    /// The grace period is over: the child must end now. `false`: drop it here (the usual
    /// way). `true`: it ends by itself shortly and must be kept until it has, because
    /// dropping it would not end it — a proxy for a child on another arbiter, which tells
    /// that arbiter to drop the child and then reports it gone (R1).
    fn force(self: Pin<&mut Self>) -> bool {
        false
    }

    /// Whether the child's end comes from elsewhere: its group is told it directly
    /// ([`Scope::end_afar`]), so the child needs no waker of its own and nothing to run when
    /// it is asked to stop (a proxy for a child on another arbiter).
    fn ends_afar(&self) -> bool {
        false
    }

    /// Its end came from elsewhere; it is dropped next.
    fn ended_afar(self: Pin<&mut Self>) {}
}

impl<T, F> ChildBody<T> for F
where
    F: Future<Output = anyhow::Result<T>>,
{
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        self.poll(cx).map(Outcome::from_result)
    }
}

pub(crate) type BoxedChild<T> = Pin<Box<dyn ChildBody<T>>>;

/// How one poll of a child went.
pub(crate) enum Polled<T> {
    /// The child ended (and has been dropped).
    Ended(Outcome<T>),
    /// The child waits, and its waker will say when to poll it again.
    Pending,
    /// The child waited on its first poll, made with the no-op waker: poll it again with its
    /// own waker after the siblings that are already due, as a task woken before it returned
    /// `Pending` would be (R10: a child that yields lets its siblings run first).
    Repoll,
}

/// `ChildTask::remote` of a child that is not on a pool arbiter.
const HERE: u32 = u32::MAX;

/// A child incarnation as the driver holds it. It sits in its group's slot for its id, which
/// is why it does not hold the id itself: a slot's size is what a child costs in memory.
pub(crate) struct ChildTask<T> {
    /// `None` once the child has ended or been dropped.
    body: Option<BoxedChild<T>>,
    /// The child's own waker, made the first time it returns `Pending`.
    waker: Option<Arc<ChildWaker>>,
    /// Whether the group has asked it to stop.
    stop_asked: bool,
    /// An actor child counts as not ready until its first poll has run `started()` (R15).
    awaiting_first_poll: bool,
    /// The child was told to end at once and will (`ChildBody::force`).
    force_asked: bool,
    /// For a child on a pool arbiter with no body here at all (`ChildTask::remote`): the
    /// arbiter, which its group's pool link orders to stop or drop it; `HERE` for any other
    /// (a plain `u32`, not an `Option`: it fits in the task's padding, and a slot's size is
    /// what a child costs).
    remote: u32,
}

impl<T> ChildTask<T> {
    pub(crate) fn new(body: BoxedChild<T>) -> Self {
        Self::with_first_poll_awaited(body, false)
    }

    /// Whether the child still runs and may be dropped when the grace period ends.
    pub(crate) fn is_forceable(&self) -> bool {
        self.remote != HERE || self.body.as_ref().is_some_and(|body| body.forceable())
    }

    pub(crate) fn address(&self) -> Option<Box<dyn Any>> {
        self.body.as_ref()?.address()
    }

    /// Whether the group has asked this child to stop.
    pub(crate) fn stop_asked(&self) -> bool {
        self.stop_asked
    }

    /// As [`new`](ChildTask::new), for an actor child that is not ready until its first
    /// poll if `awaited`.
    pub(crate) fn with_first_poll_awaited(body: BoxedChild<T>, awaited: bool) -> Self {
        ChildTask {
            body: Some(body),
            waker: None,
            stop_asked: false,
            awaiting_first_poll: awaited,
            force_asked: false,
            remote: HERE,
        }
    }

    /// A child that runs on pool arbiter `arbiter`, launched with its spawn, and needs no
    /// body here: the group orders it through its pool link (`engine::stop`), and its end
    /// comes from there (`Scope::end_afar`). No allocation.
    pub(crate) fn remote(arbiter: usize) -> Self {
        ChildTask {
            body: None,
            waker: None,
            stop_asked: false,
            awaiting_first_poll: false,
            force_asked: false,
            remote: u32::try_from(arbiter).unwrap_or(HERE - 1),
        }
    }

    /// The pool arbiter of a child with no body here.
    pub(crate) fn remote_arbiter(&self) -> Option<usize> {
        (self.remote != HERE).then_some(self.remote as usize)
    }

    /// A child with no body here has been ordered to stop (`force`: dropped) over there.
    pub(crate) fn ordered(&mut self, force: bool) {
        self.stop_asked = true;
        self.force_asked |= force;
    }

    /// True once, after the first poll of a child that waited for it.
    pub(crate) fn take_first_poll_done(&mut self) -> bool {
        std::mem::take(&mut self.awaiting_first_poll)
    }

    pub(crate) fn counts_unready(&self) -> bool {
        self.awaiting_first_poll
    }

    /// Whether the child has been polled and waited before (it has its own waker).
    pub(crate) fn polled_before(&self) -> bool {
        self.waker.is_some()
    }

    /// Polls the child.
    ///
    /// The first poll is made with the no-op waker: most children of a large group end in
    /// it, and then never cost a waker. One that returns `Pending` gets its own waker and is
    /// polled again with it (`Polled::Repoll`); the `Future` contract only asks that the
    /// waker of the latest poll be woken, and the second poll sees anything that happened in
    /// between.
    #[inline]
    pub(crate) fn poll(&mut self, id: ChildId, queue: &Arc<ReadyQueue>) -> Polled<T> {
        match &self.waker {
            None => match self.poll_with(Waker::noop()) {
                Poll::Ready(outcome) => Polled::Ended(outcome),
                // A child whose end comes from elsewhere is never woken: no waker.
                Poll::Pending if self.ends_afar() => Polled::Pending,
                Poll::Pending => {
                    self.waker = Some(ChildWaker::new(id.index(), queue));
                    Polled::Repoll
                }
            },
            Some(waker) => {
                waker.clear();
                let waker = Arc::clone(waker);
                match self.poll_with(&waker_ref(&waker)) {
                    Poll::Ready(outcome) => Polled::Ended(outcome),
                    Poll::Pending => Polled::Pending,
                }
            }
        }
    }

    fn poll_with(&mut self, waker: &Waker) -> Poll<Outcome<T>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Outcome::Cancelled);
        };
        let mut cx = Context::from_waker(waker);
        match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll_end(&mut cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            // The child is done: drop it here, where a panic in its destructor is caught and
            // kept (R5), and before anything else happens (a restart, R12, starts only once
            // the old incarnation is gone).
            Ok(Poll::Ready(outcome)) => {
                Poll::Ready(match self.take_body().and_then(drop_catching_panic) {
                    Some(message) => Outcome::Panicked(message),
                    None => outcome,
                })
            }
            Err(payload) => Poll::Ready(self.end_after_panic(payload)),
        }
    }

    /// Asks the child to stop gracefully, and runs it at once so that its stop hooks, and its
    /// `Drop` if it ends there and then, happen in the order the group asks (R2: newest
    /// first). Returns its outcome if it ended, `None` if it is still stopping.
    pub(crate) fn ask_to_stop(
        &mut self,
        id: ChildId,
        queue: &Arc<ReadyQueue>,
    ) -> Option<Outcome<T>> {
        if self.body.is_none() {
            self.stop_asked = true;
            return None;
        }
        if let Some(outcome) = self.ask_only() {
            return Some(outcome);
        }
        if self.ends_afar() {
            // Told; its end comes from elsewhere.
            return None;
        }
        // Stopping: run its stop hooks now, with its own waker for what comes after.
        let waker = self
            .waker
            .get_or_insert_with(|| ChildWaker::new(id.index(), queue));
        waker.clear();
        let waker = Arc::clone(waker);
        match self.poll_with(&waker_ref(&waker)) {
            Poll::Ready(outcome) => Some(outcome),
            Poll::Pending => None,
        }
    }

    fn ends_afar(&self) -> bool {
        self.body.as_ref().is_some_and(|body| body.ends_afar())
    }

    /// The child's end came from elsewhere (`ChildBody::ends_afar`): drops it. `Some` with
    /// the message if its destructor panicked.
    pub(crate) fn end_afar(&mut self) -> Option<String> {
        if let Some(body) = self.body.as_mut() {
            body.as_mut().ended_afar();
        }
        self.take_body().and_then(drop_catching_panic)
    }

    /// Whether the child was told to end at once and is ending by itself.
    pub(crate) fn force_asked(&self) -> bool {
        self.force_asked
    }

    /// Ends the child now: drops it, unless it ends by itself shortly (`ChildBody::force`);
    /// then `None`, and it stays until it has.
    pub(crate) fn force(&mut self) -> Option<Outcome<T>> {
        let body = self.body.as_mut()?;
        match catch_unwind(AssertUnwindSafe(|| body.as_mut().force())) {
            Ok(true) => {
                self.force_asked = true;
                None
            }
            Ok(false) => self.cancel(),
            Err(payload) => Some(self.end_after_panic(payload)),
        }
    }

    /// Polls the child with the caller's context (a body that wraps a child, on another
    /// arbiter), catching its panics as `poll` does.
    pub(crate) fn poll_in(&mut self, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        self.poll_with(cx.waker())
    }

    /// Asks the child to stop without polling it (its wrapper is polled next). Returns its
    /// outcome if that ended it, `None` if it is stopping (or had already ended).
    pub(crate) fn ask_only(&mut self) -> Option<Outcome<T>> {
        self.stop_asked = true;
        let body = self.body.as_mut()?;
        match catch_unwind(AssertUnwindSafe(|| body.as_mut().ask_to_stop())) {
            Ok(StopAsk::DropNow) => self.cancel(),
            Ok(StopAsk::Stopping) => None,
            Err(payload) => Some(self.end_after_panic(payload)),
        }
    }

    /// The body, taken out to be dropped: the child has ended, so its waker is retired (a
    /// wake after the end — its last address dropped, a timer it left armed — queues
    /// nothing and wakes nobody).
    fn take_body(&mut self) -> Option<BoxedChild<T>> {
        if let Some(waker) = &self.waker {
            waker.retire();
        }
        self.body.take()
    }

    /// Drops the child now and says how it ended: `Cancelled`, or `Panicked` if its
    /// destructor panicked. `None` if it had already ended.
    pub(crate) fn cancel(&mut self) -> Option<Outcome<T>> {
        let body = self.take_body()?;
        Some(match drop_catching_panic(body) {
            Some(message) => Outcome::Panicked(message),
            None => Outcome::Cancelled,
        })
    }

    fn end_after_panic(&mut self, payload: Box<dyn Any + Send>) -> Outcome<T> {
        let message = panic_message(&*payload);
        // A child that panicked may panic again while being dropped; that second panic is
        // part of the same failure and must not escape either.
        let _ = self.take_body().map(drop_catching_panic);
        let _ = drop_catching_panic(payload);
        Outcome::Panicked(message)
    }
}

impl<T> Drop for ChildTask<T> {
    fn drop(&mut self) {
        // Reached only when the whole group is torn down without its children being ended
        // first (the runtime shutting down); the panic is caught so that it cannot abort the
        // process.
        if let Some(body) = self.take_body() {
            let _ = drop_catching_panic(body);
        }
    }
}

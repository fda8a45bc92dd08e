//! A remote child's stand-in at home: a body the home group polls, stops and forces like any
//! other, which relays all of it to the child's shard.

use std::any::Any;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::child::ChildId;
use crate::engine::child::{ChildBody, StopAsk};
use crate::engine::scope::Scope;
use crate::outcome::Outcome;
use crate::pool::binding::{Binding, Launch};
use crate::pool::slot::{Order, RemoteSlot};

pub(crate) struct Proxy<T: Send + 'static> {
    pub(crate) slot: Arc<RemoteSlot<T>>,
    /// The remote half to make, until the first poll sends it (a queued child's factory
    /// waits for its start, R14).
    pub(crate) launch: Option<Launch<T>>,
    pub(crate) binding: Rc<Binding<T>>,
    pub(crate) arbiter: usize,
    pub(crate) scope: Weak<Scope<T>>,
    pub(crate) id: ChildId,
    pub(crate) incarnation: u32,
    pub(crate) told_ready: bool,
    pub(crate) ended: bool,
}

impl<T: Send + 'static> ChildBody<T> for Proxy<T> {
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        let this = self.get_mut();
        // Its end first: a proxy is polled once after its child ended, and then needs no
        // waker (registering one is two atomic operations and a waker clone).
        if this.launch.is_none()
            && let Some(outcome) = this.take_end()
        {
            this.note_ready();
            return Poll::Ready(outcome);
        }
        this.slot.register_home(cx.waker());
        if let Some(launch) = this.launch.take()
            && this.binding.launch(this.arbiter, launch).is_err()
        {
            this.ended = true;
            return Poll::Ready(Outcome::Failed(Arc::new(anyhow::anyhow!(
                "the pool's arbiter {} has stopped",
                this.arbiter
            ))));
        }
        this.note_ready();
        match this.take_end() {
            Some(outcome) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        if self.launch.is_some() {
            // Never sent: nothing runs remotely; its factory never runs.
            return StopAsk::DropNow;
        }
        self.slot.ask(Order::Stop);
        StopAsk::Stopping
    }

    fn force(self: Pin<&mut Self>) -> bool {
        if self.launch.is_some() {
            return false;
        }
        // Dropped over there; this proxy ends when the shard says it is gone (R1).
        self.slot.ask(Order::Force);
        true
    }

    fn address(&self) -> Option<Box<dyn Any>> {
        self.slot.address()
    }
}

impl<T: Send + 'static> Proxy<T> {
    /// Tells the group, once, that the remote child has said it is ready.
    fn note_ready(&mut self) {
        if !self.told_ready && self.slot.is_ready() {
            self.told_ready = true;
            if let Some(scope) = self.scope.upgrade() {
                scope.mark_ready(self.id, self.incarnation);
            }
        }
    }

    /// The child's outcome, once its remote half has ended; the proxy has ended then too.
    fn take_end(&mut self) -> Option<Outcome<T>> {
        let outcome = self.slot.take_end()?;
        self.ended = true;
        self.binding.ended(self.arbiter);
        Some(outcome)
    }
}

impl<T: Send + 'static> Drop for Proxy<T> {
    fn drop(&mut self) {
        if !self.ended && self.launch.is_none() {
            // The group is being dropped: nobody can wait; the child is dropped over there.
            self.slot.ask(Order::Force);
            self.binding.ended(self.arbiter);
        }
    }
}

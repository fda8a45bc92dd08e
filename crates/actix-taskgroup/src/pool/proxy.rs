//! A remote child's stand-in at home: a body the home group polls, stops and forces like any
//! other, which relays all of it to the child's shard. Its end comes back in the shard's
//! batch and is given to the group directly (`ChildBody::ends_afar`): a proxy has no waker
//! and shares nothing with its remote half.

use std::any::Any;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::engine::child::{ChildBody, StopAsk};
use crate::outcome::Outcome;
use crate::pool::binding::Binding;
use crate::pool::wire::{Command, Incarnation0, Launch, arbiter_stopped};

pub(crate) struct Proxy<T: Send + 'static> {
    binding: Rc<Binding<T>>,
    /// The remote half to make, until the first poll sends it (a queued child's factory
    /// waits for its start, R14).
    launch: Option<Launch<T>>,
    known: Incarnation0,
    arbiter: usize,
    ended: bool,
}

impl<T: Send + 'static> Proxy<T> {
    /// A proxy whose child is launched at its first poll.
    pub(crate) fn new(binding: Rc<Binding<T>>, arbiter: usize, launch: Launch<T>) -> Self {
        Proxy {
            binding,
            known: launch.known,
            launch: Some(launch),
            arbiter,
            ended: false,
        }
    }

    /// Whether the child runs over there (or is about to).
    fn sent(&self) -> bool {
        self.launch.is_none()
    }

    fn order(&self, command: fn(crate::child::ChildId, u32) -> Command<T>) {
        let command = command(self.known.id, self.known.number);
        self.binding.order(self.arbiter, command);
    }

    fn end(&mut self) {
        self.ended = true;
        self.binding.forget_address(self.known.id);
    }
}

impl<T: Send + 'static> ChildBody<T> for Proxy<T> {
    fn poll_end(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Outcome<T>> {
        let this = self.get_mut();
        if let Some(launch) = this.launch.take()
            && this.binding.launch(this.arbiter, launch).is_err()
        {
            this.ended = true;
            return Poll::Ready(arbiter_stopped(this.arbiter));
        }
        Poll::Pending
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        if !self.sent() {
            // Never sent: nothing runs remotely; its factory never runs.
            return StopAsk::DropNow;
        }
        self.order(Command::Stop);
        StopAsk::Stopping
    }

    fn force(self: Pin<&mut Self>) -> bool {
        if !self.sent() {
            return false;
        }
        // Dropped over there; this proxy ends when the shard says it is gone (R1).
        self.order(Command::Force);
        true
    }

    fn address(&self) -> Option<Box<dyn Any>> {
        self.binding.address(self.known.id)
    }

    fn ends_afar(&self) -> bool {
        true
    }

    fn ended_afar(self: Pin<&mut Self>) {
        self.get_mut().end();
    }
}

impl<T: Send + 'static> Drop for Proxy<T> {
    fn drop(&mut self) {
        if !self.ended && self.sent() {
            // The group is being dropped: nobody can wait; the child is dropped over there.
            self.order(Command::Force);
            self.end();
        }
    }
}

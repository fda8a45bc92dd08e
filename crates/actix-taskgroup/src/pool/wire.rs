//! What crosses between a group at home and its shard on a pool arbiter: launches and
//! orders one way, ends, readiness and addresses the other, each way in batches through a
//! [`Mailbox`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::task::AtomicWaker;

use crate::child::ChildId;
use crate::engine::ready_queue::ReadyQueue;
use crate::outcome::Outcome;
use crate::pool::child::SendIncarnate;
use crate::pool::line::AddressMaker;
use crate::pool::mailbox::{Mailbox, Posted};

/// What the remote half knows of its incarnation (the home scope stays at home).
#[derive(Clone, Copy)]
pub(crate) struct Incarnation0 {
    pub(crate) id: ChildId,
    pub(crate) number: u32,
    pub(crate) stop_when_unaddressed: bool,
}

/// One child to start on a shard.
pub(crate) struct Launch<T> {
    /// The child's maker, shared with its description at home (a launch allocates
    /// nothing of its own).
    pub(crate) make: Arc<dyn SendIncarnate<T>>,
    pub(crate) known: Incarnation0,
}

/// From home to a shard.
pub(crate) enum Command<T> {
    Launch(Launch<T>),
    /// Ask the child to stop on its own (R2's first phase).
    Stop(ChildId, u32),
    /// Drop the child now (the grace period is over, or its group is gone).
    Force(ChildId, u32),
}

/// From a shard to home.
pub(crate) enum Event<T> {
    /// The remote child is gone, with its outcome.
    End(ChildId, u32, Outcome<T>),
    /// It has said it is ready (R15).
    Ready(ChildId, u32),
    /// Its actor's address, for lookups from home.
    Address(ChildId, u32, AddressMaker),
}

impl<T> Event<T> {
    /// The end of a child whose launch never reached a running shard.
    pub(crate) fn not_launched(known: Incarnation0, arbiter: usize) -> Self {
        Event::End(known.id, known.number, arbiter_stopped(arbiter))
    }
}

/// The outcome of a child whose arbiter has stopped under it.
pub(crate) fn arbiter_stopped<T>(arbiter: usize) -> Outcome<T> {
    Outcome::Failed(Arc::new(anyhow::anyhow!(
        "the pool's arbiter {arbiter} has stopped"
    )))
}

/// A shard's mailbox, with its task's waker.
pub(crate) struct ShardLine<T> {
    pub(crate) commands: Mailbox<Command<T>>,
    waker: AtomicWaker,
    /// The group at home is gone: no command comes any more.
    home_gone: AtomicBool,
}

impl<T> Default for ShardLine<T> {
    fn default() -> Self {
        ShardLine {
            commands: Mailbox::default(),
            waker: AtomicWaker::new(),
            home_gone: AtomicBool::new(false),
        }
    }
}

impl<T> ShardLine<T> {
    /// Posts a batch, and wakes the shard if it needs it. `Posted::Closed`: the shard is
    /// gone and the batch stays in `commands`.
    pub(crate) fn post(&self, commands: &mut Vec<Command<T>>) -> Posted {
        let posted = self.commands.post(commands);
        if posted == Posted::Wake {
            self.waker.wake();
        }
        posted
    }

    pub(crate) fn register(&self, waker: &std::task::Waker) {
        self.waker.register(waker);
    }

    /// Home is gone: the shard ends once its children have.
    pub(crate) fn say_home_gone(&self) {
        self.home_gone.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn home_gone(&self) -> bool {
        self.home_gone.load(Ordering::Acquire)
    }
}

/// Home's mailbox: every shard of the group posts here, and a post wakes the group's
/// driver, whose next idle moment takes it all in.
pub(crate) struct HomeInbox<T> {
    events: Mailbox<Event<T>>,
    home: Arc<ReadyQueue>,
}

impl<T> HomeInbox<T> {
    pub(crate) fn new(home: Arc<ReadyQueue>) -> Self {
        HomeInbox {
            events: Mailbox::default(),
            home,
        }
    }

    pub(crate) fn post(&self, events: &mut Vec<Event<T>>) {
        if self.events.post(events) == Posted::Wake {
            self.home.wake_driver();
        }
    }

    pub(crate) fn post_one(&self, event: Event<T>) {
        if let Ok(Posted::Wake) = self.events.post_one(event) {
            self.home.wake_driver();
        }
    }

    pub(crate) fn take(&self, into: &mut Vec<Event<T>>) {
        self.events.take(into);
    }

    /// Wakes the group's driver, to send out what waits to be sent.
    pub(crate) fn wake_home(&self) {
        self.home.wake_driver();
    }
}

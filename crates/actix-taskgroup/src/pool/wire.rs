//! What crosses between a group at home and its shard on a pool arbiter: launches and
//! orders one way, ends, readiness and addresses the other, each way in batches through a
//! [`Mailbox`].

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::task::AtomicWaker;

use crate::child::ChildId;
use crate::engine::child::BoxedChild;
use crate::engine::ready_queue::ReadyQueue;
use crate::outcome::Outcome;
use crate::pool::child::SendIncarnate;
use crate::pool::line::{AddressMaker, LineHome};
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
    pub(crate) make: Make<T>,
    pub(crate) known: Incarnation0,
}

/// How a launched child is made over there.
pub(crate) enum Make<T> {
    /// By its maker, shared with its description at home (a launch allocates nothing of
    /// its own).
    Shared(Arc<dyn SendIncarnate<T>>),
    /// By a one-shot closure, moved over (`spawn_send`).
    Once(Box<dyn FnOnce() -> BoxedChild<T> + Send>),
}

impl<T> Make<T> {
    pub(crate) fn there(self, home: &mut LineHome<'_, T>) -> BoxedChild<T> {
        match self {
            Make::Shared(maker) => maker.there(home),
            Make::Once(make) => make(),
        }
    }
}

/// From home to a shard.
pub(crate) enum Command<T> {
    Launch(Launch<T>),
    /// One-shot children launched one after the other, side by side (`spawn_send`).
    Batch(Box<dyn LaunchBatch<T>>),
    /// Ask the child to stop on its own (R2's first phase).
    Stop(ChildId, u32),
    /// Drop the child now (the grace period is over, or its group is gone).
    Force(ChildId, u32),
}

impl<T> Command<T> {
    /// The command never reached a running shard: the ends of the children it would have
    /// launched (none for an order: its child has already ended).
    pub(crate) fn unlaunched(self, arbiter: usize, into: &mut Vec<Event<T>>) {
        match self {
            Command::Launch(launch) => into.push(Event::not_launched(launch.known, arbiter)),
            Command::Batch(batch) => {
                batch.each_known(&mut |known| into.push(Event::not_launched(known, arbiter)))
            }
            Command::Stop(..) | Command::Force(..) => {}
        }
    }
}

/// Launches of one-shot children whose closures are of one type, in one allocation: the
/// only allocation their launches make, however many they are (up to a send's worth).
pub(crate) trait LaunchBatch<T>: Send {
    fn as_any(&mut self) -> &mut dyn Any;
    /// Makes each child's body, over there, in launch order.
    fn make_each(self: Box<Self>, each: &mut dyn FnMut(Incarnation0, BoxedChild<T>));
    fn each_known(&self, each: &mut dyn FnMut(Incarnation0));
}

pub(crate) struct OnceBatch<T, G> {
    pub(crate) launches: Vec<(Incarnation0, G)>,
    values: PhantomData<fn() -> T>,
}

impl<T, G> OnceBatch<T, G> {
    /// At most this many launches in one batch: it is made at its full size at once, which
    /// stays under glibc's "large request" (1 KiB), a size that would make it merge every
    /// freed chunk (`malloc_consolidate`) at each batch.
    pub(crate) const SIZE: usize = 32;

    pub(crate) fn new(known: Incarnation0, make: G) -> Self {
        let mut launches = Vec::with_capacity(Self::SIZE);
        launches.push((known, make));
        OnceBatch {
            launches,
            values: PhantomData,
        }
    }

    /// Adds a launch; `Err` gives it back if the batch is full.
    pub(crate) fn add(&mut self, known: Incarnation0, make: G) -> Result<(), G> {
        if self.launches.len() == Self::SIZE {
            return Err(make);
        }
        self.launches.push((known, make));
        Ok(())
    }
}

impl<T, G> LaunchBatch<T> for OnceBatch<T, G>
where
    T: 'static,
    G: FnOnce() -> BoxedChild<T> + Send + 'static,
{
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn make_each(self: Box<Self>, each: &mut dyn FnMut(Incarnation0, BoxedChild<T>)) {
        for (known, make) in self.launches {
            each(known, make());
        }
    }

    fn each_known(&self, each: &mut dyn FnMut(Incarnation0)) {
        for (known, _) in &self.launches {
            each(*known);
        }
    }
}

/// From a shard to home.
pub(crate) enum Event<T> {
    /// The remote child is gone, with its arbiter and its outcome.
    End(ChildId, u32, usize, Outcome<T>),
    /// It has said it is ready (R15).
    Ready(ChildId, u32),
    /// Its actor's address, for lookups from home.
    Address(ChildId, u32, AddressMaker),
}

impl<T> Event<T> {
    /// The end of a child whose launch never reached a running shard.
    pub(crate) fn not_launched(known: Incarnation0, arbiter: usize) -> Self {
        Event::End(known.id, known.number, arbiter, arbiter_stopped(arbiter))
    }
}

/// The outcome of a child whose arbiter has stopped under it.
pub(crate) fn arbiter_stopped<T>(arbiter: usize) -> Outcome<T> {
    Outcome::Failed(Arc::new(arbiter_stopped_error(arbiter)))
}

/// Why a child whose arbiter has stopped under it failed.
pub(crate) fn arbiter_stopped_error(arbiter: usize) -> anyhow::Error {
    anyhow::anyhow!("the pool's arbiter {arbiter} has stopped")
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

//! A group's hold on a pool: one shard per arbiter, started at the first child placed there;
//! the placement of each child; and the two ways across, in batches: launches and orders
//! out, ends in.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::mem;
use std::rc::Rc;
use std::sync::Arc;

use crate::child::ChildId;
use crate::engine::child::BoxedChild;
use crate::engine::ready_queue::ReadyQueue;
use crate::engine::scope::Scope;
use crate::pool::line::AddressMaker;
use crate::pool::mailbox::Posted;
use crate::pool::shard::ShardSeed;
use crate::pool::wire::{Command, Event, HomeInbox, Incarnation0, Launch, OnceBatch, ShardLine};
use crate::pool::{Placement, Spread};

/// A shard gets its commands at the latest once this many wait, so that it starts on a
/// large spawn before home has placed it all; the rest go when home's driver is idle.
const SEND_AT: usize = 128;

/// How a scope reaches its pool binding, whatever the binding's bounds.
pub(crate) trait PoolLink<T> {
    /// Sends what waits to be sent, and takes in what came: `true` if anything came.
    fn pump(&self, scope: &Scope<T>) -> bool;
    /// Orders a child on `arbiter` to stop, or (`force`) to be dropped.
    fn order(&self, arbiter: usize, id: ChildId, incarnation: u32, force: bool);
    fn as_any(self: Rc<Self>) -> Rc<dyn Any>;
}

/// Home's end of one shard.
struct ShardLink<T> {
    line: Arc<ShardLine<T>>,
    /// Commands not yet posted.
    outgoing: Vec<Command<T>>,
    /// The launches and orders in them.
    waiting: usize,
}

pub(crate) struct Binding<T> {
    spread: Spread,
    shards: RefCell<Vec<Option<ShardLink<T>>>>,
    inbox: Arc<HomeInbox<T>>,
    /// The buffer the inbox is taken into, kept between pumps.
    incoming: RefCell<Vec<Event<T>>>,
    /// The remote actors' addresses by `ChildId` index.
    addresses: RefCell<HashMap<usize, AddressMaker>>,
    /// This group's children running on each arbiter, for `LeastLoaded`.
    live: Vec<Cell<usize>>,
    next: Cell<usize>,
}

impl<T: Send + 'static> Binding<T> {
    /// `home` is the group's ready queue: a post to the inbox wakes its driver.
    pub(crate) fn new(spread: Spread, home: Arc<ReadyQueue>) -> Self {
        let arbiters = spread.pool.len();
        Binding {
            shards: RefCell::new((0..arbiters).map(|_| None).collect()),
            inbox: Arc::new(HomeInbox::new(home)),
            incoming: RefCell::new(Vec::new()),
            addresses: RefCell::new(HashMap::new()),
            live: (0..arbiters).map(|_| Cell::new(0)).collect(),
            next: Cell::new(0),
            spread,
        }
    }

    /// The arbiter for a new child.
    pub(crate) fn place(&self) -> usize {
        match self.spread.placement {
            Placement::LeastLoaded => (0..self.live.len())
                .min_by_key(|&i| (self.live[i].get(), i))
                .unwrap_or(0),
            _ => {
                let next = self.next.get();
                self.next.set(next.wrapping_add(1));
                next % self.live.len().max(1)
            }
        }
    }

    /// Home's end of `arbiter`'s shard, started if it is not yet; `None` if the arbiter is
    /// gone.
    fn link<'a>(
        &self,
        shards: &'a mut [Option<ShardLink<T>>],
        arbiter: usize,
    ) -> Option<&'a mut ShardLink<T>> {
        let entry = shards.get_mut(arbiter)?;
        if entry.is_none() {
            *entry = self.start_shard(arbiter);
        }
        let link = entry.as_mut()?;
        if link.line.commands.is_closed() {
            return None;
        }
        self.live[arbiter].set(self.live[arbiter].get() + 1);
        Some(link)
    }

    /// Starts a child's remote half on `arbiter`. `Err` gives the launch back if the arbiter
    /// is gone.
    pub(crate) fn launch(&self, arbiter: usize, launch: Launch<T>) -> Result<(), Launch<T>> {
        let mut shards = self.shards.borrow_mut();
        let Some(link) = self.link(&mut shards, arbiter) else {
            return Err(launch);
        };
        self.push(link, arbiter, Command::Launch(launch));
        Ok(())
    }

    /// Starts a one-shot child on `arbiter`, in the batch of its kind if the last command
    /// is one. `false` if the arbiter is gone.
    pub(crate) fn launch_once<G>(&self, arbiter: usize, known: Incarnation0, make: G) -> bool
    where
        G: FnOnce() -> BoxedChild<T> + Send + 'static,
    {
        let mut shards = self.shards.borrow_mut();
        let Some(link) = self.link(&mut shards, arbiter) else {
            return false;
        };
        let mut make = make;
        if let Some(Command::Batch(batch)) = link.outgoing.last_mut()
            && let Some(batch) = batch.as_any().downcast_mut::<OnceBatch<T, G>>()
        {
            match batch.add(known, make) {
                Ok(()) => {
                    self.count(link, arbiter);
                    return true;
                }
                Err(back) => make = back,
            }
        }
        let batch = Box::new(OnceBatch::new(known, make));
        self.push(link, arbiter, Command::Batch(batch));
        true
    }

    /// Sends an order to a launched child's shard.
    pub(crate) fn order(&self, arbiter: usize, command: Command<T>) {
        let mut shards = self.shards.borrow_mut();
        if let Some(Some(link)) = shards.get_mut(arbiter) {
            self.push(link, arbiter, command);
        }
    }

    fn push(&self, link: &mut ShardLink<T>, arbiter: usize, command: Command<T>) {
        link.outgoing.push(command);
        self.count(link, arbiter);
    }

    /// One more launch or order waits in `link`.
    fn count(&self, link: &mut ShardLink<T>, arbiter: usize) {
        link.waiting += 1;
        if link.waiting == 1 {
            // Sent when the driver is next idle: make sure it runs (a stop from outside).
            self.inbox.wake_home();
        } else if link.waiting >= SEND_AT {
            self.send(link, arbiter);
        }
    }

    fn send(&self, link: &mut ShardLink<T>, arbiter: usize) {
        link.waiting = 0;
        if link.line.post(&mut link.outgoing) == Posted::Closed {
            // The shard is gone: the launches never reached it, and their children failed;
            // the orders were for children it has already ended.
            let mut failed = Vec::new();
            for command in link.outgoing.drain(..) {
                command.unlaunched(arbiter, &mut failed);
            }
            self.inbox.post(&mut failed);
        }
    }

    fn start_shard(&self, arbiter: usize) -> Option<ShardLink<T>> {
        let line = Arc::new(ShardLine::default());
        let seed = ShardSeed::new(Arc::clone(&line), Arc::clone(&self.inbox), arbiter);
        let handle = &self.spread.pool.handles()[arbiter];
        // The shard's scope is `!Send`: it is made over there, by a `Send` closure.
        let started = handle.spawn_fn(move || {
            if let Some(shard) = seed.grow() {
                actix_rt::spawn(shard);
            }
        });
        started.then(|| ShardLink {
            line,
            outgoing: Vec::new(),
            waiting: 0,
        })
    }

    /// A remote child has ended: its address, if it sent one, goes (its arbiter's count of
    /// live children was lowered when its end came in).
    pub(crate) fn forget_address(&self, id: ChildId) {
        let mut addresses = self.addresses.borrow_mut();
        if !addresses.is_empty() {
            addresses.remove(&id.index());
        }
    }

    /// The address of the remote actor with this id, once it has sent it.
    pub(crate) fn address(&self, id: ChildId) -> Option<Box<dyn Any>> {
        let maker = self.addresses.borrow().get(&id.index()).cloned()?;
        Some(maker())
    }
}

impl<T: Send + 'static> PoolLink<T> for Binding<T> {
    fn pump(&self, scope: &Scope<T>) -> bool {
        {
            let mut shards = self.shards.borrow_mut();
            for (arbiter, link) in shards.iter_mut().enumerate() {
                if let Some(link) = link
                    && link.waiting > 0
                {
                    self.send(link, arbiter);
                }
            }
        }
        let mut events = mem::take(&mut *self.incoming.borrow_mut());
        self.inbox.take(&mut events);
        let came = !events.is_empty();
        for event in events.drain(..) {
            match event {
                Event::End(id, incarnation, arbiter, outcome) => {
                    if let Some(live) = self.live.get(arbiter) {
                        live.set(live.get().saturating_sub(1));
                    }
                    scope.end_afar(id, incarnation, outcome);
                }
                Event::Ready(id, incarnation) => scope.mark_ready(id, incarnation),
                Event::Address(id, incarnation, maker) => {
                    let current = {
                        let state = scope.state.borrow();
                        state.is_live(id.index()) && state.incarnation(id.index()) == incarnation
                    };
                    if current {
                        self.addresses.borrow_mut().insert(id.index(), maker);
                    }
                }
            }
        }
        *self.incoming.borrow_mut() = events;
        came
    }

    fn order(&self, arbiter: usize, id: ChildId, incarnation: u32, force: bool) {
        let command = if force {
            Command::Force(id, incarnation)
        } else {
            Command::Stop(id, incarnation)
        };
        Binding::order(self, arbiter, command);
    }

    fn as_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}

impl<T> Drop for Binding<T> {
    fn drop(&mut self) {
        // The group is gone: its proxies have each ordered their child dropped; the shards
        // end once that is done.
        for link in self.shards.get_mut().iter_mut().flatten() {
            link.line.post(&mut link.outgoing);
            link.line.say_home_gone();
        }
    }
}

impl<T: Send + 'static> Scope<T> {
    /// The group's hold on its pool, if it spreads over one.
    pub(crate) fn pool_binding(&self) -> Option<Rc<Binding<T>>> {
        let spread = self.config.spread.as_ref()?;
        let mut pool = self.pool.borrow_mut();
        let binding = pool.get_or_insert_with(|| {
            Rc::new(Binding::<T>::new(spread.clone(), Arc::clone(&self.ready)))
        });
        Rc::clone(binding).as_any().downcast().ok()
    }
}

impl<T: 'static> Scope<T> {
    /// Takes in what the pool's arbiters sent and sends this turn's launches and orders
    /// out; `true` if anything came in.
    pub(crate) fn pump_pool(&self) -> bool {
        if self.config.spread.is_none() {
            return false;
        }
        let link = self.pool.borrow().clone();
        link.is_some_and(|link| link.pump(self))
    }
}

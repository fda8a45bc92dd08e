//! A group's hold on a pool: one shard per arbiter, started at the first child placed there,
//! and the placement of each child.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use futures::channel::mpsc::{UnboundedSender, unbounded};

use crate::pool::child::{Incarnation0, MakeBody};
use crate::pool::shard::shard;
use crate::pool::slot::RemoteSlot;
use crate::pool::{Placement, Spread};

/// One child to start on a shard.
pub(crate) struct Launch<T> {
    pub(crate) slot: Arc<RemoteSlot<T>>,
    /// Makes the child's body over there, told its line home and which incarnation it is:
    /// shared by every incarnation, so that a launch allocates nothing of its own.
    pub(crate) make: MakeBody<T>,
    pub(crate) known: Incarnation0,
}

pub(crate) struct Binding<T> {
    spread: Spread,
    /// One channel per arbiter, made when the first child is placed there.
    shards: RefCell<Vec<Option<UnboundedSender<Launch<T>>>>>,
    /// This group's children running on each arbiter, for `LeastLoaded`.
    live: Vec<Cell<usize>>,
    next: Cell<usize>,
}

impl<T: Send + 'static> Binding<T> {
    pub(crate) fn new(spread: Spread) -> Self {
        let arbiters = spread.pool.len();
        Binding {
            shards: RefCell::new((0..arbiters).map(|_| None).collect()),
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

    /// Starts a child's remote half on `arbiter`. `Err` gives the launch back if the arbiter
    /// is gone.
    pub(crate) fn launch(&self, arbiter: usize, launch: Launch<T>) -> Result<(), Launch<T>> {
        let mut shards = self.shards.borrow_mut();
        let Some(entry) = shards.get_mut(arbiter) else {
            return Err(launch);
        };
        if entry.is_none() {
            let (sender, commands) = unbounded();
            let handle = &self.spread.pool.handles()[arbiter];
            // The shard's scope is `!Send`: it is made over there, by a `Send` closure.
            let started = handle.spawn_fn(move || {
                actix_rt::spawn(shard(commands));
            });
            if !started {
                return Err(launch);
            }
            *entry = Some(sender);
        }
        let Some(sender) = entry.as_ref() else {
            return Err(launch);
        };
        match sender.unbounded_send(launch) {
            Ok(()) => {
                self.live[arbiter].set(self.live[arbiter].get() + 1);
                Ok(())
            }
            Err(refused) => {
                *entry = None;
                Err(refused.into_inner())
            }
        }
    }

    /// A child on `arbiter` has ended.
    pub(crate) fn ended(&self, arbiter: usize) {
        if let Some(live) = self.live.get(arbiter) {
            live.set(live.get().saturating_sub(1));
        }
    }
}

//! The line between a remote child and its proxy at home: one `Arc` per incarnation.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures::task::AtomicWaker;

use crate::child::ChildId;
use crate::control::ReadySink;
use crate::outcome::Outcome;

const RUN: u8 = 0;
const STOP: u8 = 1;
const FORCE: u8 = 2;

/// What home asks of the remote child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Run,
    Stop,
    Force,
}

/// A cloneable maker of the remote actor's address, for lookups from home.
pub(crate) type AddressMaker = Arc<dyn Fn() -> Box<dyn Any> + Send + Sync>;

pub(crate) struct RemoteSlot<T> {
    order: AtomicU8,
    remote: AtomicWaker,
    end: Mutex<Option<Outcome<T>>>,
    /// Set once `end` has been written: a poll from home that finds the child still running
    /// reads one flag instead of taking the lock.
    ended: AtomicBool,
    ready: AtomicBool,
    home: AtomicWaker,
    /// What a remote actor reported through its `Reporter`, applied when it stops.
    reported: Mutex<Option<Outcome<T>>>,
    /// Set once `reported` holds a report: most children end without one, and their end
    /// then takes no lock for it.
    has_report: AtomicBool,
    address: Mutex<Option<AddressMaker>>,
}

impl<T> RemoteSlot<T> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(RemoteSlot {
            order: AtomicU8::new(RUN),
            remote: AtomicWaker::new(),
            end: Mutex::new(None),
            ended: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            home: AtomicWaker::new(),
            reported: Mutex::new(None),
            has_report: AtomicBool::new(false),
            address: Mutex::new(None),
        })
    }

    // Home's side.

    pub(crate) fn register_home(&self, waker: &std::task::Waker) {
        self.home.register(waker);
    }

    pub(crate) fn ask(&self, order: Order) {
        let value = match order {
            Order::Run => RUN,
            Order::Stop => STOP,
            Order::Force => FORCE,
        };
        // Only ever escalate: a late "stop" must not undo a "force".
        self.order.fetch_max(value, Ordering::AcqRel);
        self.remote.wake();
    }

    pub(crate) fn take_end(&self) -> Option<Outcome<T>> {
        if !self.ended.load(Ordering::Acquire) {
            return None;
        }
        self.end
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(crate) fn address(&self) -> Option<Box<dyn Any>> {
        let maker = self
            .address
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        Some(maker())
    }

    // The remote side.

    pub(crate) fn register_remote(&self, waker: &std::task::Waker) {
        self.remote.register(waker);
    }

    pub(crate) fn order(&self) -> Order {
        match self.order.load(Ordering::Acquire) {
            RUN => Order::Run,
            STOP => Order::Stop,
            _ => Order::Force,
        }
    }

    /// The child is gone (dropped): its outcome, after its own report (which stands unless
    /// its end was a panic, as at home).
    pub(crate) fn finish(&self, outcome: Outcome<T>) {
        let reported = if self.has_report.load(Ordering::Acquire) {
            self.reported
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        } else {
            None
        };
        let outcome = match (reported, outcome) {
            (_, Outcome::Panicked(message)) => Outcome::Panicked(message),
            (Some(reported), _) => reported,
            (None, outcome) => outcome,
        };
        *self.end.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.ended.store(true, Ordering::Release);
        self.home.wake();
    }

    /// Whether the remote child has finished, whether or not home has taken its end yet.
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    pub(crate) fn signal_ready(&self) {
        if !self.ready.swap(true, Ordering::AcqRel) {
            self.home.wake();
        }
    }

    pub(crate) fn keep_report(&self, outcome: Outcome<T>) {
        *self.reported.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.has_report.store(true, Ordering::Release);
    }

    pub(crate) fn set_address(&self, maker: AddressMaker) {
        *self.address.lock().unwrap_or_else(PoisonError::into_inner) = Some(maker);
    }
}

impl<T: Send> ReadySink for RemoteSlot<T> {
    fn mark_ready(&self, _: ChildId, _: u32) {
        self.signal_ready();
    }
}

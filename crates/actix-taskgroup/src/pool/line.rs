//! A remote child's own line home, for what only some children say: readiness (R15), an
//! actor's report, its address. Made only for the children that ask for it: a plain `Send`
//! future's end goes home in its shard's batch and needs none.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::child::ChildId;
use crate::control::ReadySink;
use crate::outcome::Outcome;
use crate::pool::wire::{Event, HomeInbox, Incarnation0};

/// A cloneable maker of the remote actor's address, for lookups from home.
pub(crate) type AddressMaker = Arc<dyn Fn() -> Box<dyn Any> + Send + Sync>;

pub(crate) struct RemoteLine<T> {
    known: Incarnation0,
    inbox: Arc<HomeInbox<T>>,
    ready: AtomicBool,
    /// What a remote actor reported through its `Reporter`, applied when it stops.
    reported: Mutex<Option<Outcome<T>>>,
    /// Set once `reported` holds a report: most children end without one, and their end
    /// then takes no lock for it.
    has_report: AtomicBool,
}

impl<T> RemoteLine<T> {
    /// Says once that the child is ready. Straight home, not through the shard's batch:
    /// anything may say it, from any thread.
    pub(crate) fn signal_ready(&self) {
        if !self.ready.swap(true, Ordering::AcqRel) {
            self.inbox
                .post_one(Event::Ready(self.known.id, self.known.number));
        }
    }

    pub(crate) fn keep_report(&self, outcome: Outcome<T>) {
        *self.reported.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.has_report.store(true, Ordering::Release);
    }

    /// The child's outcome, after its own report (which stands unless its end was a
    /// panic, as at home).
    pub(crate) fn final_outcome(&self, outcome: Outcome<T>) -> Outcome<T> {
        if matches!(outcome, Outcome::Panicked(_)) || !self.has_report.load(Ordering::Acquire) {
            return outcome;
        }
        let reported = self
            .reported
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        reported.unwrap_or(outcome)
    }

    /// Sends the actor's address home. Ahead of its readiness, on the same way: a lookup
    /// after `WaitReady` finds it.
    pub(crate) fn set_address(&self, maker: AddressMaker) {
        self.inbox
            .post_one(Event::Address(self.known.id, self.known.number, maker));
    }
}

impl<T: Send> ReadySink for RemoteLine<T> {
    fn mark_ready(&self, _: ChildId, _: u32) {
        self.signal_ready();
    }
}

/// What a remote incarnation is built with: what it knows of itself, and its line home,
/// made if it asks for one.
pub(crate) struct LineHome<'a, T> {
    pub(crate) known: Incarnation0,
    inbox: &'a Arc<HomeInbox<T>>,
    line: Option<Arc<RemoteLine<T>>>,
}

impl<'a, T> LineHome<'a, T> {
    pub(crate) fn new(known: Incarnation0, inbox: &'a Arc<HomeInbox<T>>) -> Self {
        LineHome {
            known,
            inbox,
            line: None,
        }
    }

    /// The child's own line home.
    pub(crate) fn line(&mut self) -> &Arc<RemoteLine<T>> {
        let (known, inbox) = (self.known, self.inbox);
        self.line.get_or_insert_with(|| {
            Arc::new(RemoteLine {
                known,
                inbox: Arc::clone(inbox),
                ready: AtomicBool::new(false),
                reported: Mutex::new(None),
                has_report: AtomicBool::new(false),
            })
        })
    }

    pub(crate) fn into_line(self) -> Option<Arc<RemoteLine<T>>> {
        self.line
    }
}

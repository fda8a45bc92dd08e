//! The hot path of work spread over a pool: a one-shot child made by a `Send` closure, with
//! no description to keep (`TaskGroup::spawn_send`).

use std::future::Future;
use std::rc::Rc;

use crate::child::{ChildId, ChildKind};
use crate::engine::scope::Scope;
use crate::error::SpawnError;
use crate::future_child::lazy_child;
use crate::pool::proxy::Proxy;
use crate::pool::wire::{Incarnation0, Launch, Make, arbiter_stopped_error};

impl<T: Send + 'static> Scope<T> {
    /// Accepts a child whose future `make` makes on its first poll: on a pool arbiter if
    /// the group spreads over a pool (the closure is moved there), here otherwise.
    pub(crate) fn spawn_send<F, Fut, E>(self: &Rc<Self>, make: F) -> Result<ChildId, SpawnError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        E: Into<anyhow::Error>,
    {
        let Some(binding) = self.pool_binding() else {
            return self.spawn_future(None, lazy_child(make));
        };
        if self.config.gated() {
            // It may wait for a start slot (R14): a proxy launches it at its first poll.
            return self.spawn_body(None, ChildKind::Future, None, |id| {
                let launch = Launch {
                    make: Make::Once(Box::new(move || lazy_child(make))),
                    known: known(id),
                };
                Box::pin(Proxy::new(Rc::clone(&binding), binding.place(), launch))
            });
        }
        // It starts now: launched now, in its kind's batch, and nothing of it stays here.
        self.spawn_remote(|id| {
            let arbiter = binding.place();
            if binding.launch_once(arbiter, known(id), move || lazy_child(make)) {
                Ok(arbiter)
            } else {
                Err(Box::pin(std::future::ready(Err(arbiter_stopped_error(
                    arbiter,
                )))))
            }
        })
    }
}

/// A one-shot child's first and only incarnation.
fn known(id: ChildId) -> Incarnation0 {
    Incarnation0 {
        id,
        number: 1,
        stop_when_unaddressed: false,
    }
}

//! The hot path of work spread over a pool: a one-shot child made by a `Send` closure, with
//! no description to keep (`TaskGroup::spawn_send`).

use std::future::Future;
use std::rc::Rc;

use crate::child::{ChildId, ChildKind};
use crate::engine::scope::Scope;
use crate::error::SpawnError;
use crate::future_child::lazy_child;
use crate::pool::proxy::Proxy;
use crate::pool::wire::{Incarnation0, Launch, Make};

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
        let gated = self.config.gated();
        let mut sent = false;
        let id = self.spawn_body(None, ChildKind::Future, None, |id| {
            let arbiter = binding.place();
            let known = Incarnation0 {
                id,
                number: 1,
                stop_when_unaddressed: false,
            };
            let make = move || lazy_child(make);
            if gated {
                // It may wait for a start slot (R14): launched at its first poll.
                let launch = Launch {
                    make: Make::Once(Box::new(make)),
                    known,
                };
                return Box::pin(Proxy::new(binding, arbiter, launch));
            }
            // It starts now: launched now, in its kind's batch, with no box of its own.
            sent = binding.launch_once(arbiter, known, make);
            Box::pin(Proxy::launched(binding, arbiter, known, sent))
        })?;
        if sent && let Some(Some(task)) = self.state.borrow_mut().children.get_mut(id.index()) {
            // Launched already: nothing to poll here (a refused one is polled, to fail).
            task.park();
        }
        Ok(id)
    }
}

//! How a child enters its group (R7, R11, R14): the group gives it an id and its slots, or
//! says why it refuses it; then starts it at once, or queues it for a start slot; and starts
//! the driver at the group's first child. One borrow of the state per spawn, O(1) per child.

use std::cell::RefMut;
use std::rc::Rc;

use crate::child::{ChildId, ChildKind};
use crate::engine::child::{BoxedChild, ChildTask};
use crate::engine::events;
use crate::engine::scope::{ChildTimes, Name, Phase, Scope, State};
use crate::engine::spec::ChildSpec;
use crate::error::SpawnError;

impl<T: 'static> Scope<T> {
    /// Accepts a plain future child, in one borrow of the state: the hot path of a
    /// `TaskGroup`. The future is boxed before the group is asked; a refused one is dropped,
    /// never polled (R7).
    pub(crate) fn spawn_future(
        self: &Rc<Self>,
        name: Option<Name>,
        body: BoxedChild<T>,
    ) -> Result<ChildId, SpawnError> {
        self.spawn_body(name, ChildKind::Future, None, |_| body)
    }

    /// Accepts a child with its kind and spec; `body` makes its first incarnation (a body
    /// that runs the user's factory on its first poll).
    pub(crate) fn spawn_body(
        self: &Rc<Self>,
        name: Option<Name>,
        kind: ChildKind,
        spec: Option<Box<ChildSpec<T>>>,
        body: impl FnOnce(ChildId) -> BoxedChild<T>,
    ) -> Result<ChildId, SpawnError> {
        let mut state = self.state.borrow_mut();
        let id = self.admit(&mut state, name, kind, spec)?;
        let body = body(id);
        self.launch(state, id, body);
        Ok(id)
    }

    /// Accepts a child whose body was made before the group existed (a builder's child),
    /// telling it its group and id.
    pub(crate) fn spawn_bound(
        self: &Rc<Self>,
        name: Option<Name>,
        kind: ChildKind,
        mut body: BoxedChild<T>,
    ) -> Result<ChildId, SpawnError> {
        let mut state = self.state.borrow_mut();
        let id = self.admit(&mut state, name, kind, None)?;
        body.as_mut().bind(&self.me, id);
        self.launch(state, id, body);
        Ok(id)
    }

    /// Accepts a plain future child that runs on a pool arbiter, with no body here:
    /// `launch` sends it there and says on which arbiter, or, if it cannot, gives the body
    /// to run here instead (one that fails). Only for a group without start slots (R14):
    /// the child starts with its spawn.
    pub(crate) fn spawn_remote(
        self: &Rc<Self>,
        launch: impl FnOnce(ChildId) -> Result<usize, BoxedChild<T>>,
    ) -> Result<ChildId, SpawnError> {
        let mut state = self.state.borrow_mut();
        let id = self.admit(&mut state, None, ChildKind::Future, None)?;
        match launch(id) {
            Ok(arbiter) => {
                events::started(self, &state, id);
                state.children[id.index()] = Some(ChildTask::remote(arbiter));
            }
            Err(body) => self.start_incarnation(&mut state, id, body, false),
        }
        self.start_driver(state);
        Ok(id)
    }

    /// Gives a new child its id and its slots, or says why the group refuses it.
    fn admit(
        &self,
        state: &mut State<T>,
        name: Option<Name>,
        kind: ChildKind,
        spec: Option<Box<ChildSpec<T>>>,
    ) -> Result<ChildId, SpawnError> {
        match state.phase {
            Phase::Open => {}
            Phase::Stopping => return Err(SpawnError::ShuttingDown),
            Phase::Finished => return Err(SpawnError::Closed),
        }
        // The first child starts the driver with `actix_rt::spawn`, which needs an arbiter:
        // say so instead of panicking deep inside tokio.
        if !state.driver_started && actix_rt::Arbiter::try_current().is_none() {
            return Err(SpawnError::NoRuntime);
        }
        let id = ChildId::new(state.outcomes.len());
        state.outcomes.push(None);
        state.children.push(None);
        if let Some(name) = name {
            state.names.resize_with(id.index(), || None);
            state.names.push(Some(name));
        }
        if kind != ChildKind::Future {
            state.kinds.resize_with(id.index(), || ChildKind::Future);
            state.kinds.push(kind);
        }
        let service = spec.as_ref().is_some_and(|spec| spec.options.service);
        if let Some(spec) = spec {
            state.specs.resize_with(id.index(), || None);
            state.specs.push(Some(spec));
        }
        if self.config.timed {
            let started = state.now();
            state.times.push(ChildTimes {
                started,
                stopped: None,
            });
        }
        state.live += 1;
        if !service {
            state.main_live += 1;
        }
        state.counters.spawned += 1;
        events::spawned(self, state, id);
        Ok(id)
    }

    /// Starts an admitted child now, or queues it for a start slot (R14).
    fn launch(self: &Rc<Self>, mut state: RefMut<'_, State<T>>, id: ChildId, body: BoxedChild<T>) {
        if self.config.gated() && !self.may_start_now(&state) {
            self.enqueue(&mut state, id, body);
        } else {
            self.start_incarnation(&mut state, id, body, false);
        }
        self.start_driver(state);
    }

    /// Puts a child's new incarnation in its slot, to be polled: new children by the fresh
    /// cursor, older ones (dequeued, restarted) through the woken list.
    ///
    /// Given the body, not a `ChildTask`: the task is made in its slot. (Made by the caller
    /// and moved in, a task just written was read back at once in wider pieces than it was
    /// written in, which stalled the processor's store-to-load forwarding: a tenth of a
    /// future restart's time in `perf`.)
    pub(crate) fn start_incarnation(
        &self,
        state: &mut State<T>,
        id: ChildId,
        body: BoxedChild<T>,
        restart: bool,
    ) {
        let index = id.index();
        if self.config.limit.is_some() && !restart {
            state.queue.running += 1;
        }
        let kind = state.kind(index);
        if kind == ChildKind::Future && !self.config.timed && index >= state.specs.len() {
            // A plain future: nothing to note (the hot path of a `TaskGroup`).
            events::started(self, state, id);
            state.children[index] = Some(ChildTask::new(body));
            if index < state.next_fresh {
                state.woken.push(index);
            }
            return;
        }
        let now = if self.config.timed || state.spec(index).is_some() {
            Some(state.now())
        } else {
            None
        };
        let mut counted_unready = false;
        // A child with a spec may have waited in the queue: its start is now, not its spawn.
        let restamp = self.config.timed && (restart || state.spec(index).is_some());
        if let Some(spec) = state.spec_mut(index) {
            spec.incarnation += 1;
            spec.incarnation_started = now;
            if let Some(now) = now {
                spec.streak.started(now);
            }
            spec.restarting_until = None;
            spec.ready = false;
            spec.counted_unready = spec.options.signals_ready || kind == ChildKind::Group;
            counted_unready = spec.counted_unready;
            let incarnation = spec.incarnation;
            if let (Some(timeout), Some(now)) = (spec.options.timeout, now) {
                state.timers.timeout(
                    timeout,
                    crate::engine::timers::Due {
                        at: now + timeout,
                        index,
                        incarnation,
                    },
                );
            }
        }
        // An actor is ready once its first poll has run `started()`. A plain one (no spec)
        // always starts through the fresh cursor, so "polled once" is "behind the cursor"
        // and costs nothing to track (readiness.rs); one with a spec may restart or leave a
        // queue, so it is counted.
        let awaits_first_poll =
            !counted_unready && kind == ChildKind::Actor && state.spec(index).is_some();
        if awaits_first_poll {
            counted_unready = true;
        }
        if counted_unready {
            self.count_unready(state, index);
        }
        if restamp && index < state.times.len() {
            // A restarted child's times are its current incarnation's; a queued child's
            // begin when it leaves the queue.
            let now = state.now();
            state.times[index] = ChildTimes {
                started: now,
                stopped: None,
            };
        }
        if !restart {
            // A new incarnation of a restarted child says `restarted` instead.
            events::started(self, state, id);
        }
        if let Some(slot) = state.children.get_mut(index) {
            *slot = Some(ChildTask::with_first_poll_awaited(body, awaits_first_poll));
        }
        if index < state.next_fresh {
            state.woken.push(index);
        }
    }

    /// Wakes the driver, or starts it at the group's first child.
    pub(crate) fn start_driver(self: &Rc<Self>, mut state: RefMut<'_, State<T>>) {
        if state.driver_started {
            state.wake_driver();
        } else {
            state.driver_started = true;
            drop(state);
            actix_rt::spawn(crate::engine::driver::Driver::new(Rc::clone(self)));
        }
    }
}

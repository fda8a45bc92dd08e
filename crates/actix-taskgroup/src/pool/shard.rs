//! A group's shard on one pool arbiter: a scope of its own that builds the children it is
//! sent and drives them, and sends their ends home in one batch per turn.

use std::cell::RefCell;
use std::future::Future;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::child::{ChildId, ChildKind};
use crate::engine::child::{BoxedChild, ChildBody, ChildTask, StopAsk};
use crate::engine::config::ScopeConfig;
use crate::engine::driver::Driving;
use crate::engine::panic::panic_message;
use crate::engine::scope::Scope;
use crate::outcome::Outcome;
use crate::policy::{EndCondition, Policy};
use crate::pool::line::{LineHome, RemoteLine};
use crate::pool::wire::{Command, Event, HomeInbox, Incarnation0, Launch, ShardLine};

/// What a shard is started with, made at home and sent over. Dropped without growing into
/// a shard (its arbiter stopped first), it fails the launches already posted to it.
pub(crate) struct ShardSeed<T> {
    /// The shard's mailbox and home's, until the shard grows from them.
    parts: Option<ShardParts<T>>,
    arbiter: usize,
}

type ShardParts<T> = (Arc<ShardLine<T>>, Arc<HomeInbox<T>>);

impl<T: Send + 'static> ShardSeed<T> {
    pub(crate) fn new(line: Arc<ShardLine<T>>, inbox: Arc<HomeInbox<T>>, arbiter: usize) -> Self {
        ShardSeed {
            parts: Some((line, inbox)),
            arbiter,
        }
    }

    /// The shard, on its arbiter.
    pub(crate) fn grow(mut self) -> Option<Shard<T>> {
        let (line, inbox) = self.parts.take()?;
        // The shard decides nothing: its group at home applies the policy, the restarts and
        // the grace period, and orders each child stopped or dropped.
        let mut config = ScopeConfig::new(Duration::from_secs(3600 * 24 * 365), false);
        config.policy = Policy::CollectAll;
        config.end = EndCondition::Never;
        let scope = Scope::<()>::new(config);
        {
            // The shard's own poll drives the children (no driver task of its own): their
            // ends are then sent home as soon as they are in.
            let mut state = scope.state.borrow_mut();
            state.driver_started = true;
            state.join_drives = true;
        }
        scope.open_joins();
        Some(Shard {
            scope: Some(scope),
            line,
            inbox,
            here: Rc::new(Here::new(self.arbiter)),
            commands: Vec::new(),
            arbiter: self.arbiter,
            closing: false,
        })
    }
}

impl<T> Drop for ShardSeed<T> {
    fn drop(&mut self) {
        if let Some((line, inbox)) = self.parts.take() {
            close(&line, &inbox, self.arbiter);
        }
    }
}

/// Refuses the shard's later commands, and fails the launches it never took.
fn close<T>(line: &ShardLine<T>, inbox: &HomeInbox<T>, arbiter: usize) {
    let mut failed = Vec::new();
    for command in line.commands.close() {
        command.unlaunched(arbiter, &mut failed);
    }
    inbox.post(&mut failed);
}

/// What the shard's children share on this thread: their ends to send, and which shard
/// child each home child is.
struct Here<T> {
    arbiter: usize,
    outbox: RefCell<Vec<Event<T>>>,
    /// By the home `ChildId` index: the incarnation and the shard's id for it.
    routes: RefCell<Vec<Option<(u32, ChildId)>>>,
}

impl<T> Here<T> {
    fn new(arbiter: usize) -> Self {
        Here {
            arbiter,
            outbox: RefCell::new(Vec::new()),
            routes: RefCell::new(Vec::new()),
        }
    }

    fn ended(&self, id: ChildId, incarnation: u32, outcome: Outcome<T>) {
        if let Some(route) = self.routes.borrow_mut().get_mut(id.index())
            && route.is_some_and(|(number, _)| number == incarnation)
        {
            *route = None;
        }
        self.outbox
            .borrow_mut()
            .push(Event::End(id, incarnation, self.arbiter, outcome));
    }

    fn route(&self, id: ChildId, incarnation: u32) -> Option<usize> {
        match self.routes.borrow().get(id.index()) {
            Some(Some((number, child))) if *number == incarnation => Some(child.index()),
            _ => None,
        }
    }

    fn set_route(&self, id: ChildId, incarnation: u32, child: ChildId) {
        let mut routes = self.routes.borrow_mut();
        if routes.len() <= id.index() {
            routes.resize(id.index() + 1, None);
        }
        routes[id.index()] = Some((incarnation, child));
    }
}

/// The shard's task. Ends once its group is gone and every child it started has ended.
pub(crate) struct Shard<T> {
    scope: Option<Rc<Scope<()>>>,
    line: Arc<ShardLine<T>>,
    inbox: Arc<HomeInbox<T>>,
    here: Rc<Here<T>>,
    /// The buffer commands are taken into, kept between turns.
    commands: Vec<Command<T>>,
    arbiter: usize,
    closing: bool,
}

impl<T: Send + 'static> Future for Shard<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(scope) = this.scope.clone() else {
            return Poll::Ready(());
        };
        this.line.register(cx.waker());
        // Read before the commands are taken: every command posted before home went is in.
        let home_gone = this.line.home_gone();
        let mut commands = mem::take(&mut this.commands);
        this.line.commands.take(&mut commands);
        for command in commands.drain(..) {
            this.run(&scope, command);
        }
        this.commands = commands;
        if home_gone && !this.closing {
            // The group is gone: nobody waits; every child still here is dropped.
            this.closing = true;
            scope.force_stop();
            scope.close();
            scope.begin_join(false);
        }
        let finished = scope.drive_children(cx, Driving::Join).is_ready();
        this.send_home();
        if finished {
            this.scope = None;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<T: Send + 'static> Shard<T> {
    fn run(&self, scope: &Rc<Scope<()>>, command: Command<T>) {
        match command {
            Command::Launch(launch) => self.start(scope, launch),
            Command::Batch(batch) => batch.make_each(&mut |known, body| {
                self.start_body(scope, known, Ok(body), None);
            }),
            Command::Stop(id, incarnation) => {
                if let Some(child) = self.here.route(id, incarnation) {
                    scope.stop_one(child);
                }
            }
            Command::Force(id, incarnation) => {
                if let Some(child) = self.here.route(id, incarnation) {
                    scope.force_one(child);
                }
            }
        }
    }

    fn start(&self, scope: &Rc<Scope<()>>, launch: Launch<T>) {
        let Launch { make, known } = launch;
        let mut home = LineHome::new(known, &self.inbox);
        // Making a body runs no user code but an actor's constructor's; a panic there is
        // the child's, not the shard's (R5).
        let body = catch_unwind(AssertUnwindSafe(|| make.there(&mut home)));
        let body = body.map_err(|payload| panic_message(&*payload));
        self.start_body(scope, known, body, home.into_line());
    }

    fn start_body(
        &self,
        scope: &Rc<Scope<()>>,
        known: Incarnation0,
        body: Result<BoxedChild<T>, String>,
        line: Option<Arc<RemoteLine<T>>>,
    ) {
        let body = match body {
            Ok(body) => body,
            Err(message) => {
                self.here
                    .ended(known.id, known.number, Outcome::Panicked(message));
                return;
            }
        };
        let mut task = ChildTask::new(body);
        // Most children of a large batch end in their first poll: it runs now, and only a
        // child that waits joins the shard's scope (as the engine polls a new child with
        // the no-op waker first, engine/child.rs).
        if let Poll::Ready(outcome) = task.poll_in(&mut Context::from_waker(Waker::noop())) {
            let outcome = match &line {
                Some(line) => line.final_outcome(outcome),
                None => outcome,
            };
            self.here.ended(known.id, known.number, outcome);
            return;
        }
        let remote = Remote {
            task,
            id: known.id,
            incarnation: known.number,
            line,
            here: Rc::clone(&self.here),
            ended: false,
        };
        // Refused (the shard is closing), the remote half is dropped, which sends its end.
        if let Ok(child) = scope.spawn_body(None, ChildKind::Future, None, |_| Box::pin(remote)) {
            self.here.set_route(known.id, known.number, child);
        }
    }

    fn send_home(&self) {
        let mut outbox = self.here.outbox.borrow_mut();
        if !outbox.is_empty() {
            self.inbox.post(&mut outbox);
        }
    }
}

impl<T> Drop for Shard<T> {
    fn drop(&mut self) {
        // Its arbiter is stopping, or its group is gone: later launches fail at home, and
        // every child still here is dropped and its end sent home (R1: home never waits on
        // a child that is gone).
        close(&self.line, &self.inbox, self.arbiter);
        drop(self.scope.take());
        let mut outbox = self.here.outbox.borrow_mut();
        self.inbox.post(&mut outbox);
    }
}

/// A child's remote half: the child itself, polled with the shard's waker, which says how
/// it ended.
struct Remote<T> {
    task: ChildTask<T>,
    id: ChildId,
    incarnation: u32,
    line: Option<Arc<RemoteLine<T>>>,
    here: Rc<Here<T>>,
    ended: bool,
}

impl<T> Remote<T> {
    fn end(&mut self, outcome: Outcome<T>) {
        self.ended = true;
        let outcome = match &self.line {
            Some(line) => line.final_outcome(outcome),
            None => outcome,
        };
        self.here.ended(self.id, self.incarnation, outcome);
    }
}

impl<T> ChildBody<()> for Remote<T> {
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<()>> {
        let this = self.get_mut();
        match this.task.poll_in(cx) {
            Poll::Ready(outcome) => {
                this.end(outcome);
                Poll::Ready(Outcome::Completed(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        let this = self.get_mut();
        match this.task.ask_only() {
            Some(outcome) => {
                this.end(outcome);
                StopAsk::DropNow
            }
            None => StopAsk::Stopping,
        }
    }
}

impl<T> Drop for Remote<T> {
    fn drop(&mut self) {
        // Dropped without having ended: forced, or its arbiter shut down.
        if !self.ended {
            let outcome = self.task.cancel().unwrap_or(Outcome::Cancelled);
            self.end(outcome);
        }
    }
}

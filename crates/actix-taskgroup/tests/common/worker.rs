//! A scripted actor child whose lifecycle hooks are logged, for the supervisor tests.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::Reporter;

/// What a worker does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Script {
    /// Runs until stopped (a pending future in its own context keeps it alive without any
    /// address).
    Idle,
    /// Runs while someone holds its address: actix stops it when the last one drops.
    WhileAddressed,
    /// Reports a failure and stops in `started()`.
    FailInStarted,
    /// Panics in `started()`.
    PanicInStarted,
    /// Fails (report + stop) after this many milliseconds.
    FailAfter(u64),
    /// Completes with its value after this many milliseconds.
    CompleteAfter(u64),
    /// Panics after this many milliseconds.
    PanicAfter(u64),
    /// Returns `Running::Continue` from `stopping()`, forever.
    VetoStop,
    /// Panics in `stopping()`.
    PanicInStopping,
}

/// The shared log of lifecycle events: "name started", "name stopping", "name stopped",
/// "name dropped".
pub type Log = Rc<RefCell<Vec<String>>>;

pub fn count(log: &Log, suffix: &str) -> usize {
    log.borrow().iter().filter(|e| e.ends_with(suffix)).count()
}

pub struct Worker<T: 'static = ()> {
    pub name: String,
    pub script: Script,
    pub log: Log,
    pub reporter: Reporter<T>,
    pub value: Option<T>,
}

impl<T: 'static> Worker<T> {
    pub fn new(name: &str, script: Script, log: &Log, reporter: Reporter<T>) -> Self {
        Worker {
            name: name.to_owned(),
            script,
            log: Rc::clone(log),
            reporter,
            value: None,
        }
    }

    fn note(&self, event: &str) {
        self.log.borrow_mut().push(format!("{} {event}", self.name));
    }
}

impl<T: Unpin + 'static> Actor for Worker<T> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.note("started");
        if !matches!(
            self.script,
            Script::WhileAddressed | Script::FailInStarted | Script::PanicInStarted
        ) {
            ctx.spawn(actix::fut::wrap_future(std::future::pending::<()>()));
        }
        match self.script {
            Script::FailInStarted => {
                let error = anyhow::anyhow!("{} failed", self.name);
                self.reporter.fail_and_stop(ctx, error);
            }
            Script::PanicInStarted => panic!("{} panicked in started", self.name),
            Script::FailAfter(ms) => {
                ctx.run_later(Duration::from_millis(ms), |worker, ctx| {
                    let error = anyhow::anyhow!("{} failed", worker.name);
                    worker.reporter.fail_and_stop(ctx, error);
                });
            }
            Script::PanicAfter(ms) => {
                ctx.run_later(Duration::from_millis(ms), |worker, _| {
                    panic!("{} panicked", worker.name);
                });
            }
            Script::CompleteAfter(ms) => {
                ctx.run_later(Duration::from_millis(ms), |worker, ctx| {
                    if let Some(value) = worker.value.take() {
                        worker.reporter.complete(value);
                    }
                    ctx.stop();
                });
            }
            _ => {}
        }
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        self.note("stopping");
        match self.script {
            Script::VetoStop => Running::Continue,
            Script::PanicInStopping => panic!("{} panicked in stopping", self.name),
            _ => Running::Stop,
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.note("stopped");
    }
}

impl<T: 'static> Drop for Worker<T> {
    fn drop(&mut self) {
        self.note("dropped");
    }
}

/// Asks a worker to panic in a handler.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PanicNow;

impl<T: Unpin + 'static> Handler<PanicNow> for Worker<T> {
    type Result = ();

    fn handle(&mut self, _: PanicNow, _: &mut Context<Self>) {
        panic!("{} panicked in a handler", self.name);
    }
}

/// Asks a worker who it is: it answers with its name, proving its mailbox is served.
#[derive(Message)]
#[rtype(result = "String")]
pub struct Ping;

impl<T: Unpin + 'static> Handler<Ping> for Worker<T> {
    type Result = String;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> String {
        self.name.clone()
    }
}

/// The events of `log` that end with `suffix`, in the order they happened.
pub fn events(log: &Log, suffix: &str) -> Vec<String> {
    log.borrow()
        .iter()
        .filter(|e| e.ends_with(suffix))
        .cloned()
        .collect()
}

/// Logs "name dropped" when dropped: a future child holds one to show when it is dropped.
pub struct DropNote {
    name: String,
    log: Log,
}

impl DropNote {
    pub fn new(name: &str, log: &Log) -> Self {
        DropNote {
            name: name.to_owned(),
            log: Rc::clone(log),
        }
    }
}

impl Drop for DropNote {
    fn drop(&mut self) {
        self.log.borrow_mut().push(format!("{} dropped", self.name));
    }
}

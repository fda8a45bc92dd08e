//! The children of the state-machine test (`tests/state_machine.rs`): futures and actors
//! that end when the test tells them to, counted alive from their making to their `Drop`.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;

use actix::prelude::*;
use actix_taskgroup::{Child, Reporter, Restart};
use futures::channel::oneshot;

/// What a child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain future: dropped when stopped.
    Plain,
    /// A `future_with` that returns at once when asked to stop.
    Quick,
    /// A `future_with` that ignores the request: dropped at the grace deadline.
    Ignore,
    Actor,
    /// An actor that returns `Running::Continue` from `stopping()`.
    Veto,
}

/// What the test tells a running child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Complete(u32),
    Fail,
    Panic,
}

/// How many incarnations a restartable child may have.
pub const ATTEMPTS: u32 = 3;

thread_local! {
    pub static LIVE: RefCell<i64> = const { RefCell::new(0) };
    pub static COMMANDS: RefCell<HashMap<usize, oneshot::Sender<Cmd>>> = RefCell::default();
}

pub struct Live;

impl Live {
    fn new() -> Live {
        LIVE.with(|l| *l.borrow_mut() += 1);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|l| *l.borrow_mut() -= 1);
    }
}

/// A new incarnation of child `i` listens for its command.
pub fn listen(i: usize) -> oneshot::Receiver<Cmd> {
    let (tx, rx) = oneshot::channel();
    COMMANDS.with(|c| c.borrow_mut().insert(i, tx));
    rx
}

pub async fn obey(rx: oneshot::Receiver<Cmd>) -> anyhow::Result<u32> {
    match rx.await {
        Ok(Cmd::Complete(v)) => Ok(v),
        Ok(Cmd::Fail) => anyhow::bail!("told to fail"),
        Ok(Cmd::Panic) => panic!("sm: told to panic"),
        Err(_) => std::future::pending().await,
    }
}

pub struct Puppet {
    veto: bool,
    rx: Option<oneshot::Receiver<Cmd>>,
    reporter: Reporter<u32>,
    _live: Live,
}

impl Actor for Puppet {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let rx = self.rx.take().expect("a command channel");
        ctx.spawn(actix::fut::wrap_future(rx).map(
            |cmd, puppet: &mut Puppet, ctx: &mut Context<Self>| {
                match cmd {
                    Ok(Cmd::Complete(v)) => puppet.reporter.complete_and_stop(ctx, v),
                    Ok(Cmd::Fail) => puppet
                        .reporter
                        .fail_and_stop(ctx, anyhow::anyhow!("told to fail")),
                    Ok(Cmd::Panic) => panic!("sm: told to panic"),
                    Err(_) => {}
                }
            },
        ));
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        if self.veto {
            Running::Continue
        } else {
            Running::Stop
        }
    }
}

pub fn child(i: usize, kind: Kind, restartable: bool) -> Child<u32> {
    let name = format!("c{i}");
    let child = match kind {
        Kind::Plain => Child::future(name, move || {
            let rx = listen(i);
            async move {
                let _live = Live::new();
                obey(rx).await
            }
        }),
        Kind::Quick | Kind::Ignore => Child::future_with(name, move |control| {
            let rx = listen(i);
            async move {
                let _live = Live::new();
                if kind == Kind::Ignore {
                    return obey(rx).await;
                }
                let stop = control.stop_requested();
                match futures::future::select(Box::pin(obey(rx)), Box::pin(stop)).await {
                    futures::future::Either::Left((result, _)) => result,
                    futures::future::Either::Right(_) => Ok(0),
                }
            }
        }),
        Kind::Actor | Kind::Veto => Child::actor(name, move |reporter| Puppet {
            veto: kind == Kind::Veto,
            rx: Some(listen(i)),
            reporter,
            _live: Live::new(),
        }),
    };
    if restartable {
        child.restart(Restart::Transient).attempts(ATTEMPTS)
    } else {
        child
    }
}

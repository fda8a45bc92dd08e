//! Restart throughput: a child that fails at once, restarted `n` times, by the group and by
//! hand (what users write today), and by actix's own `Supervisor` for reference.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{Cancel, Child, GroupSupervisor, Join, Restart, TaskGroup};

/// Counts incarnations; the `n`-th one tells the waiting caller.
pub struct Tally {
    left: Cell<usize>,
    done: Cell<Option<futures::channel::oneshot::Sender<()>>>,
    /// When the first and the last incarnation started.
    first: Cell<Option<std::time::Instant>>,
    last: Cell<Option<std::time::Instant>>,
}

impl Tally {
    pub fn new(n: usize) -> (Rc<Self>, futures::channel::oneshot::Receiver<()>) {
        let (done, wait) = futures::channel::oneshot::channel();
        let tally = Tally {
            left: Cell::new(n),
            done: Cell::new(Some(done)),
            first: Cell::new(None),
            last: Cell::new(None),
        };
        (Rc::new(tally), wait)
    }

    /// One more incarnation; true when it is the last wanted.
    fn one(&self) -> bool {
        if self.first.get().is_none() {
            self.first.set(Some(std::time::Instant::now()));
        }
        let left = self.left.get().saturating_sub(1);
        self.left.set(left);
        if left == 0 {
            self.last.set(Some(std::time::Instant::now()));
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
            return true;
        }
        false
    }
}

/// An actor that fails as soon as it starts, until the tally is full.
pub struct Crasher {
    tally: Rc<Tally>,
    reporter: Option<actix_taskgroup::Reporter<()>>,
}

impl Actor for Crasher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.tally.one() {
            return; // the last one stays, until the group is cancelled
        }
        match &self.reporter {
            Some(reporter) => reporter.fail_and_stop(ctx, anyhow::anyhow!("crash")),
            None => ctx.stop(),
        }
    }
}

/// The group restarts its permanent actor child `n - 1` times.
pub async fn group_restarts_actor(n: usize) -> usize {
    let (tally, wait) = Tally::new(n);
    let group = GroupSupervisor::<()>::builder()
        .intensity(u32::MAX, Duration::from_secs(1))
        .child(
            Child::actor("crasher", move |reporter| Crasher {
                tally: Rc::clone(&tally),
                reporter: Some(reporter),
            })
            .restart(Restart::Permanent),
        )
        .start();
    let _ = wait.await;
    group.do_send(Cancel);
    match group.send(Join::new()).await {
        Ok(report) => report.children()[0].attempts() as usize,
        Err(_) => 0,
    }
}

/// By hand: a plain actor that stops at once; its `stopped()` starts a fresh one.
pub struct HandRestarted(Rc<Tally>);

impl Actor for HandRestarted {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if !self.0.one() {
            ctx.stop();
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Not after the last: actix runs `stopped()` when the System drops a context too,
        // and a start from there would be dropped at once, and so on.
        if self.0.left.get() > 0 {
            HandRestarted(Rc::clone(&self.0)).start();
        }
    }
}

pub async fn raw_restarts_actor(n: usize) -> usize {
    let (tally, wait) = Tally::new(n);
    let first = HandRestarted(Rc::clone(&tally)).start();
    drop(first);
    let _ = wait.await;
    n - tally.left.get()
}

/// actix's `Supervisor`: restarts the same actor value in place, in the same context.
pub struct Supervised(Rc<Tally>);

impl Actor for Supervised {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if !self.0.one() {
            ctx.stop();
        }
    }
}

impl actix::Supervised for Supervised {}

pub async fn actix_supervisor_restarts(n: usize) -> usize {
    let (tally, wait) = Tally::new(n);
    let address = actix::Supervisor::start(move |_| Supervised(Rc::clone(&tally)));
    let _ = wait.await;
    drop(address);
    n
}

/// The group restarts its permanent future child `n - 1` times.
pub async fn group_restarts_future(n: usize) -> usize {
    let (tally, wait) = Tally::new(n);
    let group = TaskGroup::<()>::builder()
        .intensity(u32::MAX, Duration::from_secs(1))
        .build();
    let _ = group.spawn_child(
        Child::future("crasher", move || {
            let last = tally.one();
            async move {
                if last {
                    std::future::pending::<()>().await;
                }
                anyhow::bail!("crash")
            }
        })
        .restart(Restart::Permanent),
    );
    let _ = wait.await;
    let handle = group.handle();
    handle.cancel();
    group.join_report().await.children()[0].attempts() as usize
}

/// By hand: a task that fails, and whose end spawns the next one.
pub async fn raw_respawn_future(n: usize) -> usize {
    fn next(tally: Rc<Tally>) {
        actix_rt::spawn(async move {
            let result: anyhow::Result<()> = Err(anyhow::anyhow!("crash"));
            if result.is_err() && !tally.one() {
                next(tally);
            }
        });
    }
    let (tally, wait) = Tally::new(n);
    next(Rc::clone(&tally));
    let _ = wait.await;
    n - tally.left.get()
}

/// One-for-one restarts of one child beside `siblings` idle ones: the cost per restart must
/// not depend on the siblings (R11). Returns the time from the first incarnation to the
/// last, leaving out the siblings' own start and stop.
pub async fn restarts_beside_idle_siblings(n: usize, siblings: usize) -> Duration {
    let (tally, wait) = Tally::new(n);
    let probe = Rc::clone(&tally);
    let mut builder = GroupSupervisor::<()>::builder().intensity(u32::MAX, Duration::from_secs(1));
    for _ in 0..siblings {
        builder = builder.child_future("idle", std::future::pending::<anyhow::Result<()>>);
    }
    let group = builder
        .child(
            Child::actor("crasher", move |reporter| Crasher {
                tally: Rc::clone(&tally),
                reporter: Some(reporter),
            })
            .restart(Restart::Permanent),
        )
        .start();
    let _ = wait.await;
    let span = match (probe.first.get(), probe.last.get()) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::ZERO,
    };
    group.do_send(Cancel);
    let _ = group.send(Join::new()).await;
    span
}

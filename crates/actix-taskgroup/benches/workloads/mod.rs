//! The workloads both benches measure: a `TaskGroup` and a `GroupSupervisor` against the
//! baselines they replace, and against the floor of doing the same work with no group at all.
// Each bench uses the workloads it compares; the criterion bench leaves one out.
#![allow(dead_code)]

pub mod peers;
pub mod pool;
pub mod restarts;

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;

use actix::prelude::*;
use actix_taskgroup::{GroupSupervisor, Join, TaskGroup};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

/// `actix_rt::spawn` per child, then `join_all` of the join handles.
pub async fn raw_spawn_join_all(n: usize) -> usize {
    let handles: Vec<_> = (0..n).map(|i| actix_rt::spawn(async move { i })).collect();
    futures::future::join_all(handles)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count()
}

/// `TaskGroup::spawn` per child, then `join`.
pub async fn task_group(n: usize) -> usize {
    let group = TaskGroup::new();
    for i in 0..n {
        let spawned = group.spawn(async move { Ok::<_, Infallible>(i) });
        debug_assert!(spawned.is_ok());
    }
    group.join().await.map_or(0, |values| values.len())
}

/// `TaskGroup` with a concurrency limit: all but `limit` children wait in its queue first.
pub async fn task_group_limited(n: usize, limit: usize) -> usize {
    let group = TaskGroup::builder().limit(limit).build();
    for i in 0..n {
        let spawned = group.spawn(async move { Ok::<_, Infallible>(i) });
        debug_assert!(spawned.is_ok());
    }
    group.join().await.map_or(0, |values| values.len())
}

/// `TaskGroup` under a deadline that does not pass, every child waiting once: the deadline's
/// cost, and a waker per child.
pub async fn task_group_deadline(n: usize) -> usize {
    let group = TaskGroup::builder()
        .deadline(std::time::Duration::from_secs(3600))
        .build();
    for i in 0..n {
        let spawned = group.spawn(async move {
            tokio::task::yield_now().await;
            Ok::<_, Infallible>(i)
        });
        debug_assert!(spawned.is_ok());
    }
    group.join().await.map_or(0, |values| values.len())
}

/// `actix_rt::spawn` per child, each waiting once, then `join_all`: the raw baseline of the
/// deadline workload.
pub async fn raw_spawn_yield_join_all(n: usize) -> usize {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            actix_rt::spawn(async move {
                tokio::task::yield_now().await;
                i
            })
        })
        .collect();
    futures::future::join_all(handles)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count()
}

/// The children polled in a `FuturesUnordered` inside the caller.
pub async fn floor_futures_unordered(n: usize) -> usize {
    let children: FuturesUnordered<_> = (0..n).map(|i| async move { i }).collect();
    children.count().await
}

/// The same, with each child boxed as a `Result` future: what holding children of any type,
/// as a group does, takes (the shape of the teardown floor too).
pub async fn floor_futures_unordered_boxed(n: usize) -> usize {
    type Boxed = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<usize>>>>;
    let children: FuturesUnordered<Boxed> = (0..n)
        .map(|i| Box::pin(async move { Ok(i) }) as Boxed)
        .collect();
    children
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await
}

/// How an actor that stops as soon as it has started tells its parent that it stopped.
pub enum Tell {
    /// A message to the parent actor: what actix code writes.
    Message(Addr<Parent>),
    /// A shared counter on the same thread: the cheapest possible, for reference.
    Counter(Rc<Counter>),
    /// Nothing: a supervisor's child, whose group sees it stop.
    Nobody,
}

pub struct Brief(pub Tell);

impl Actor for Brief {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        match &self.0 {
            Tell::Message(parent) => parent.do_send(ChildStopped),
            Tell::Counter(counter) => counter.one_stopped(),
            Tell::Nobody => {}
        }
    }
}

/// Counts the children that have not stopped yet; the last one wakes the waiting parent.
pub struct Counter {
    remaining: Cell<usize>,
    done: Cell<Option<futures::channel::oneshot::Sender<()>>>,
}

impl Counter {
    fn new(n: usize) -> (Rc<Self>, futures::channel::oneshot::Receiver<()>) {
        let (done, all_stopped) = futures::channel::oneshot::channel();
        let counter = Counter {
            remaining: Cell::new(n),
            done: Cell::new(Some(done)),
        };
        (Rc::new(counter), all_stopped)
    }

    fn one_stopped(&self) {
        self.remaining.set(self.remaining.get() - 1);
        if self.remaining.get() == 0
            && let Some(done) = self.done.take()
        {
            let _ = done.send(());
        }
    }
}

/// The parent actor of the raw baseline: told by message when each child has stopped.
pub struct Parent(Rc<Counter>);

impl Actor for Parent {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct ChildStopped;

impl Handler<ChildStopped> for Parent {
    type Result = ();

    fn handle(&mut self, _: ChildStopped, _: &mut Context<Self>) {
        self.0.one_stopped();
    }
}

/// `Actor::start` per child; each child's `stopped()` sends its parent actor a message.
pub async fn raw_actors_told_by_message(n: usize) -> usize {
    let (counter, all_stopped) = Counter::new(n);
    let parent = Parent(Rc::clone(&counter)).start();
    for _ in 0..n {
        Brief(Tell::Message(parent.clone())).start();
    }
    let _ = all_stopped.await;
    n - counter.remaining.get()
}

/// `Actor::start` per child; each child's `stopped()` decrements a shared counter.
pub async fn raw_actors_counted(n: usize) -> usize {
    let (counter, all_stopped) = Counter::new(n);
    for _ in 0..n {
        Brief(Tell::Counter(Rc::clone(&counter))).start();
    }
    let _ = all_stopped.await;
    n - counter.remaining.get()
}

/// The same actors given to a supervisor's builder; the combined reply comes after every
/// child has stopped.
pub async fn supervised_actors(n: usize) -> usize {
    let mut builder = GroupSupervisor::<()>::builder();
    for _ in 0..n {
        builder = builder.child_actor("brief", |_| Brief(Tell::Nobody));
    }
    match builder.start().send(Join::new()).await {
        Ok(report) if report.is_success() => report.children().len(),
        _ => 0,
    }
}

/// The actors' contexts polled in a `FuturesUnordered` inside the caller, with no group, no
/// catch_unwind, no bookkeeping and no reply.
pub async fn floor_actor_contexts(n: usize) -> usize {
    let contexts: FuturesUnordered<_> = (0..n)
        .map(|_| Box::pin(Context::new().into_future(Brief(Tell::Nobody))))
        .collect();
    contexts.count().await
}

/// Makes and frees one large allocation, to be called before a round starts its timer.
///
/// glibc merges the small chunks freed so far into its free lists at the first large
/// request after them (`malloc_consolidate`). Rounds are interleaved, so without this the
/// first large allocation of each round paid for the chunks the round before it had freed:
/// the group's round, which follows the raw baseline's, paid for the baseline's thousands
/// (callgrind, 1,000 actor children: 447 of the builder's 806 instructions per child, and 17
/// of its cache misses). Settled first, every round starts from the same allocator state.
pub fn settle_allocator() {
    // Large enough to be a "large" request (1 KiB and up), small enough that freeing it
    // neither consolidates again nor trims the heap (64 KiB and up).
    let large: Vec<u8> = Vec::with_capacity(4 << 10);
    drop(std::hint::black_box(large));
}

/// With `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) set, every `anyhow::Error` captures a
/// backtrace (~5 µs), which would swamp every figure with an error in it: run again without.
pub fn without_backtraces() -> Option<std::process::ExitCode> {
    let set = ["RUST_BACKTRACE", "RUST_LIB_BACKTRACE"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| value != "0"));
    if !set {
        return None;
    }
    eprintln!(
        "(backtraces are on: running again with RUST_BACKTRACE and RUST_LIB_BACKTRACE unset)"
    );
    let status = std::process::Command::new(std::env::current_exe().ok()?)
        .args(std::env::args_os().skip(1))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .status()
        .ok()?;
    Some(std::process::ExitCode::from(
        status.code().unwrap_or(1) as u8
    ))
}

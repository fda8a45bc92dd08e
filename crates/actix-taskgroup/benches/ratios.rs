//! The comparison harness: the same workloads as `group_vs_raw`, run interleaved (raw, group,
//! floor, raw, group, floor, …) in one process so that every ratio compares runs made under
//! the same conditions. Prints the median time per child of each and the group/raw ratio.
//!
//! Run with `cargo bench -p actix-taskgroup --bench ratios`.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use std::cell::Cell;
use std::rc::Rc;

use actix::prelude::*;
use actix_taskgroup::{GroupSupervisor, Join, TaskGroup};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

async fn raw_spawn_join_all(n: usize) -> usize {
    let handles: Vec<_> = (0..n).map(|i| actix_rt::spawn(async move { i })).collect();
    futures::future::join_all(handles)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count()
}

async fn task_group(n: usize) -> usize {
    let group = TaskGroup::new();
    for i in 0..n {
        let spawned = group.spawn(async move { Ok::<_, Infallible>(i) });
        debug_assert!(spawned.is_ok());
    }
    group.join().await.map_or(0, |values| values.len())
}

async fn floor_futures_unordered(n: usize) -> usize {
    let children: FuturesUnordered<_> = (0..n).map(|i| async move { i }).collect();
    children.count().await
}

/// How an actor that stops as soon as it has started tells its parent that it stopped.
enum Tell {
    /// A message to the parent actor: what actix code writes.
    Message(Addr<Parent>),
    /// A shared counter on the same thread: the cheapest possible, for reference.
    Counter(Rc<Counter>),
    /// Nothing: a supervisor's child, whose group sees it stop.
    Nobody,
}

struct Brief(Tell);

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
struct Counter {
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
struct Parent(Rc<Counter>);

impl Actor for Parent {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct ChildStopped;

impl Handler<ChildStopped> for Parent {
    type Result = ();

    fn handle(&mut self, _: ChildStopped, _: &mut Context<Self>) {
        self.0.one_stopped();
    }
}

/// `Actor::start` per child; each child's `stopped()` sends its parent actor a message.
async fn raw_actors_told_by_message(n: usize) -> usize {
    let (counter, all_stopped) = Counter::new(n);
    let parent = Parent(Rc::clone(&counter)).start();
    for _ in 0..n {
        Brief(Tell::Message(parent.clone())).start();
    }
    let _ = all_stopped.await;
    n - counter.remaining.get()
}

/// `Actor::start` per child; each child's `stopped()` decrements a shared counter.
async fn raw_actors_counted(n: usize) -> usize {
    let (counter, all_stopped) = Counter::new(n);
    for _ in 0..n {
        Brief(Tell::Counter(Rc::clone(&counter))).start();
    }
    let _ = all_stopped.await;
    n - counter.remaining.get()
}

/// The floor: the actors' contexts polled in a `FuturesUnordered` inside the caller, with no
/// group, no catch_unwind, no bookkeeping and no reply.
async fn floor_actor_contexts(n: usize) -> usize {
    let contexts: FuturesUnordered<_> = (0..n)
        .map(|_| Box::pin(Context::new().into_future(Brief(Tell::Nobody))))
        .collect();
    contexts.count().await
}

/// The same actors as children of a supervisor, given to its builder; the combined reply
/// comes after every child has stopped.
async fn supervised_actors(n: usize) -> usize {
    let mut builder = GroupSupervisor::<()>::builder();
    for _ in 0..n {
        builder = builder.child_actor("brief", |_| Brief(Tell::Nobody));
    }
    match builder.start().send(Join::new()).await {
        Ok(Ok(report)) => report.children().len(),
        _ => 0,
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent: stay quick then.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let system = actix_rt::System::new();
    println!("spawn + join of N trivial children, median of interleaved rounds");
    println!(
        "{:>7} {:>6} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "N", "rounds", "raw ns/ch", "group ns/ch", "floor ns/ch", "group/raw", "floor/raw"
    );
    for (n, rounds) in [(1_000, 400), (10_000, 60), (100_000, 12)] {
        let rounds = if quick { 2 } else { rounds };
        let (mut raw, mut group, mut floor) = (Vec::new(), Vec::new(), Vec::new());
        system.block_on(async {
            for _ in 0..rounds {
                let start = Instant::now();
                black_box(raw_spawn_join_all(n).await);
                raw.push(start.elapsed());
                let start = Instant::now();
                assert_eq!(task_group(n).await, n);
                group.push(start.elapsed());
                let start = Instant::now();
                black_box(floor_futures_unordered(n).await);
                floor.push(start.elapsed());
            }
        });
        let per_child = |d: Duration| d.as_nanos() as f64 / n as f64;
        let (raw, group, floor) = (
            per_child(median(&mut raw)),
            per_child(median(&mut group)),
            per_child(median(&mut floor)),
        );
        println!(
            "{n:>7} {rounds:>6} {raw:>12.1} {group:>12.1} {floor:>12.1} {:>10.2} {:>10.2}",
            group / raw,
            floor / raw
        );
    }

    println!();
    println!("actor children: start -> stop -> parent told, median of interleaved rounds");
    println!(
        "{:>7} {:>6} {:>11} {:>11} {:>11} {:>11} {:>10} {:>11} {:>11}",
        "N",
        "rounds",
        "raw msg ns",
        "group ns",
        "raw cnt ns",
        "floor ns",
        "group/raw",
        "group/rawcnt",
        "floor/raw"
    );
    for (n, rounds) in [(1_000, 200), (10_000, 30), (100_000, 6)] {
        let rounds = if quick { 2 } else { rounds };
        let (mut raw, mut group) = (Vec::new(), Vec::new());
        let (mut counted, mut floor) = (Vec::new(), Vec::new());
        system.block_on(async {
            for _ in 0..rounds {
                let start = Instant::now();
                assert_eq!(raw_actors_told_by_message(n).await, n);
                raw.push(start.elapsed());
                let start = Instant::now();
                assert_eq!(supervised_actors(n).await, n);
                group.push(start.elapsed());
                let start = Instant::now();
                assert_eq!(raw_actors_counted(n).await, n);
                counted.push(start.elapsed());
                let start = Instant::now();
                assert_eq!(floor_actor_contexts(n).await, n);
                floor.push(start.elapsed());
            }
        });
        let per_child = |d: Duration| d.as_nanos() as f64 / n as f64;
        let (raw, group) = (per_child(median(&mut raw)), per_child(median(&mut group)));
        let (counted, floor) = (
            per_child(median(&mut counted)),
            per_child(median(&mut floor)),
        );
        println!(
            "{n:>7} {rounds:>6} {raw:>11.1} {group:>11.1} {counted:>11.1} {floor:>11.1} {:>10.2} {:>11.2} {:>11.2}",
            group / raw,
            group / counted,
            floor / raw
        );
    }
}

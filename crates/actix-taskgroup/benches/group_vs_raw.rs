//! Spawn + join of N trivial children: a `TaskGroup` against the baselines it replaces,
//! measured side by side in one run (R11).
//!
//! * `raw_spawn_join_all`: `actix_rt::spawn` per child, then `futures::future::join_all` of
//!   the join handles: what a user writes without this crate.
//! * `task_group`: `TaskGroup::spawn` per child, then `join`.
//! * `floor_futures_unordered`: the children polled in a `FuturesUnordered` inside the
//!   caller, with no task, boxing or bookkeeping: the cost nothing can beat.
//!
//! And an actor child (start -> stop -> the parent told) three ways:
//!
//! * `raw_actors_told_by_message`: `Actor::start` per child, whose `stopped()` sends its parent
//!   actor a message; the parent counts them.
//! * `supervised_actors`: the same actors given to a `GroupSupervisor`'s builder, and the
//!   combined reply to `Join` once every child has stopped.
//! * `floor_actor_contexts`: the actors' contexts polled in a `FuturesUnordered` inside the
//!   caller, with no group at all.
//!
//! Run with `cargo bench -p actix-taskgroup --bench group_vs_raw`.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use std::cell::Cell;
use std::rc::Rc;

use actix::prelude::*;
use actix_taskgroup::{GroupSupervisor, Join, TaskGroup};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
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

/// Counts the children that have not stopped yet; the last one wakes the waiting parent.
struct Counter {
    remaining: Cell<usize>,
    done: Cell<Option<futures::channel::oneshot::Sender<()>>>,
}

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
        let counter = &self.0;
        counter.remaining.set(counter.remaining.get() - 1);
        if counter.remaining.get() == 0
            && let Some(done) = counter.done.take()
        {
            let _ = done.send(());
        }
    }
}

/// Stops as soon as it has started; tells its parent, if it has one, from `stopped()`.
struct Brief(Option<Addr<Parent>>);

impl Actor for Brief {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(parent) = &self.0 {
            parent.do_send(ChildStopped);
        }
    }
}

async fn raw_actors_told_by_message(n: usize) -> usize {
    let (done, all_stopped) = futures::channel::oneshot::channel();
    let counter = Rc::new(Counter {
        remaining: Cell::new(n),
        done: Cell::new(Some(done)),
    });
    let parent = Parent(Rc::clone(&counter)).start();
    for _ in 0..n {
        Brief(Some(parent.clone())).start();
    }
    let _ = all_stopped.await;
    n - counter.remaining.get()
}

async fn supervised_actors(n: usize) -> usize {
    let mut builder = GroupSupervisor::<()>::builder();
    for _ in 0..n {
        builder = builder.child_actor("brief", |_| Brief(None));
    }
    match builder.start().send(Join::new()).await {
        Ok(Ok(report)) => report.children().len(),
        _ => 0,
    }
}

async fn floor_actor_contexts(n: usize) -> usize {
    let contexts: FuturesUnordered<_> = (0..n)
        .map(|_| Box::pin(Context::new().into_future(Brief(None))))
        .collect();
    contexts.count().await
}

fn actor_children(c: &mut Criterion) {
    let system = actix_rt::System::new();
    let mut group = c.benchmark_group("actor_children");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for n in [1_000, 10_000, 100_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(if n >= 100_000 { 10 } else { 30 });
        group.bench_with_input(
            BenchmarkId::new("raw_actors_told_by_message", n),
            &n,
            |b, &n| b.iter_custom(|iters| time(&system, iters, || raw_actors_told_by_message(n))),
        );
        group.bench_with_input(BenchmarkId::new("supervised_actors", n), &n, |b, &n| {
            b.iter_custom(|iters| time(&system, iters, || supervised_actors(n)))
        });
        group.bench_with_input(BenchmarkId::new("floor_actor_contexts", n), &n, |b, &n| {
            b.iter_custom(|iters| time(&system, iters, || floor_actor_contexts(n)))
        });
    }
    group.finish();
}

fn spawn_and_join(c: &mut Criterion) {
    let system = actix_rt::System::new();
    let mut group = c.benchmark_group("spawn_and_join");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for n in [1_000, 10_000, 100_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(if n >= 100_000 { 20 } else { 50 });
        group.bench_with_input(BenchmarkId::new("raw_spawn_join_all", n), &n, |b, &n| {
            b.iter_custom(|iters| time(&system, iters, || raw_spawn_join_all(n)))
        });
        group.bench_with_input(BenchmarkId::new("task_group", n), &n, |b, &n| {
            b.iter_custom(|iters| time(&system, iters, || task_group(n)))
        });
        group.bench_with_input(
            BenchmarkId::new("floor_futures_unordered", n),
            &n,
            |b, &n| b.iter_custom(|iters| time(&system, iters, || floor_futures_unordered(n))),
        );
    }
    group.finish();
}

/// Runs `round` `iters` times inside the actix System and returns the total time.
fn time<F, Fut>(system: &actix_rt::SystemRunner, iters: u64, round: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = usize>,
{
    system.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(round().await);
        }
        start.elapsed()
    })
}

criterion_group!(benches, spawn_and_join, actor_children);
criterion_main!(benches);

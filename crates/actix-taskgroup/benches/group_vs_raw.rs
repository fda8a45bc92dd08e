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

mod workloads;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use workloads::{
    floor_actor_contexts, floor_futures_unordered, raw_actors_told_by_message, raw_spawn_join_all,
    supervised_actors, task_group,
};

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

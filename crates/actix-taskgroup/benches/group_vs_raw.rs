//! Spawn + join of N trivial children: a `TaskGroup` against the baselines it replaces,
//! measured side by side in one run (R11).
//!
//! * `raw_spawn_join_all`: `actix_rt::spawn` per child, then `futures::future::join_all` of
//!   the join handles: what a user writes without this crate.
//! * `task_group`: `TaskGroup::spawn` per child, then `join`.
//! * `floor_futures_unordered`: the children polled in a `FuturesUnordered` inside the
//!   caller, with no task, boxing or bookkeeping: the cost nothing can beat.
//!
//! Run with `cargo bench -p actix-taskgroup --bench group_vs_raw`.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use actix_taskgroup::TaskGroup;
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

criterion_group!(benches, spawn_and_join);
criterion_main!(benches);

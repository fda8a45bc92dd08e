//! The comparison harness: the same workloads as `group_vs_raw`, run interleaved (raw, group,
//! floor, raw, group, floor, …) in one process so that every ratio compares runs made under
//! the same conditions. Prints the median time per child of each and the group/raw ratio.
//!
//! Run with `cargo bench -p actix-taskgroup --bench ratios`.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use actix_taskgroup::TaskGroup;
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
}

//! Soak (issue 19): ten thousand nested groups with restarts, then a million children through
//! groups, in waves, sampling the resident set after each wave.
//!
//! What it measures: the process's resident set (`/proc/self/statm`, pages × page size) after
//! each wave, once every group of the wave has ended. glibc keeps memory that was freed for
//! later allocations instead of returning it to the system, so the resident set after a wave
//! is about the peak of that wave, not what is still allocated: a leak shows as growth from
//! wave to wave, which is what this checks. Live children are counted too, from their `Drop`
//! (futures) and their actors' `Drop`: zero after every wave.
//!
//! Passes if every wave's resident set stays within 10 % of the first wave's, and no child is
//! left alive after any wave. A warm-up wave of each kind runs first and is printed, not
//! judged (see `main`). Run with `just soak`
//! (`cargo run --release -p actix-taskgroup --example soak`).

use std::cell::Cell;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_taskgroup::{
    Child, GroupSupervisor, Join, Policy, Reporter, Restart, Strategy, TaskGroup,
};

const CHILDREN: usize = 1_000_000;
const CHILD_WAVES: usize = 20;
const NESTED_GROUPS: usize = 10_000;
const NESTED_WAVES: usize = 10;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static BUILT: Cell<u64> = const { Cell::new(0) };
}

/// Counts one live child from its making to its drop.
struct Live;

impl Live {
    fn new() -> Live {
        LIVE.with(|l| l.set(l.get() + 1));
        BUILT.with(|b| b.set(b.get() + 1));
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// The resident set, in KiB.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("the resident pages");
    // Linux on x86-64 and aarch64 as built here: 4 KiB pages.
    pages * 4
}

/// An actor child that completes at once.
struct Worker {
    reporter: Reporter<u64>,
    value: u64,
    _live: Live,
}

impl Actor for Worker {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.reporter.complete_and_stop(ctx, self.value);
    }
}

/// One wave of plain children: a `TaskGroup` of futures (some yield, one in a thousand
/// fails: collected, not cancelling) and a supervisor of actors.
async fn child_wave(n: usize) -> (u64, usize) {
    let futures = n / 2;
    let group = TaskGroup::<u64>::builder()
        .policy(Policy::CollectAll)
        .build();
    for i in 0..futures {
        let live = Live::new();
        group
            .spawn(async move {
                let _live = live;
                if i % 7 == 0 {
                    actix_rt::task::yield_now().await;
                }
                anyhow::ensure!(i % 1000 != 999, "child {i} failed");
                Ok(i as u64)
            })
            .expect("spawn");
    }
    let report = group.join_report().await;
    let failed = report.failures().count();
    let mut sum: u64 = report.values().sum();
    let actors = n - futures;
    let mut builder = GroupSupervisor::<u64>::builder();
    for i in 0..actors {
        builder = builder.child_actor("worker", move |reporter| Worker {
            reporter,
            value: i as u64,
            _live: Live::new(),
        });
    }
    let report = builder.start().send(Join::new()).await.expect("the join");
    sum += report.values().sum::<u64>();
    assert!(report.is_success());
    (sum, failed)
}

/// One wave of nested groups: a root supervisor whose children are nested groups, each with
/// a child that fails once and is restarted (transient) and one that completes; the nested
/// groups are restarted one-for-all once each (permanent, two attempts).
async fn nested_wave(groups: usize) -> (u32, u32) {
    let mut root = GroupSupervisor::<u32>::builder()
        .policy(Policy::CollectAll)
        .intensity(u32::MAX, Duration::from_secs(1));
    for _ in 0..groups {
        let nested = || {
            GroupSupervisor::<u32>::builder()
                .strategy(Strategy::OneForAll)
                .intensity(10, Duration::from_secs(60))
                .child(
                    Child::future_with("flaky", |control| async move {
                        let _live = Live::new();
                        anyhow::ensure!(control.attempt() > 1, "first attempt fails");
                        Ok(1)
                    })
                    .restart(Restart::Transient)
                    .attempts(2),
                )
                .child(Child::future("steady", || async {
                    let _live = Live::new();
                    actix_rt::task::yield_now().await;
                    Ok::<_, anyhow::Error>(1)
                }))
        };
        root = root.child(
            Child::group("nested", nested, |values: Vec<u32>| values.iter().sum())
                .restart(Restart::Permanent)
                .attempts(2),
        );
    }
    let report = root.start().send(Join::new()).await.expect("the join");
    let restarts: u32 = report.children().iter().map(|c| c.attempts() - 1).sum();
    assert!(report.is_success(), "{}", report.error().unwrap());
    (report.values().sum(), restarts)
}

/// Whether every wave after the first stays within 10 % of the first, printing the figures.
fn judge(kind: &str, samples: &[u64]) -> bool {
    let first = samples[0];
    let limit = first + first / 10;
    let max = *samples.iter().max().unwrap();
    let last = *samples.last().unwrap();
    let ok = samples.iter().all(|&s| s <= limit);
    println!(
        "{kind}: first wave {first} KiB, last {last} KiB, max {max} KiB ({:+.1} % of the first), limit {limit} KiB: {}",
        (max as f64 / first as f64 - 1.0) * 100.0,
        if ok { "ok" } else { "GROWTH" }
    );
    ok
}

fn main() -> ExitCode {
    let start = Instant::now();
    let mut ok = true;
    let (child_samples, nested_samples) = actix_rt::System::new().block_on(async {
        println!("soak: resident set after each wave (KiB), live children counted by Drop");
        // The nested groups first: their waves are smaller, and a heap grown by the million
        // children would hide their growth.
        let per_wave = NESTED_GROUPS / NESTED_WAVES;
        let _ = nested_wave(per_wave).await;
        println!("nested wave  0 (warm-up, not judged): rss {} KiB, live {}", rss_kib(), live());
        let mut nested = Vec::new();
        let mut groups = 0;
        for wave in 1..=NESTED_WAVES {
            let began = Instant::now();
            let (sum, restarts) = nested_wave(per_wave).await;
            groups += per_wave;
            let (rss, live) = (rss_kib(), live());
            println!(
                "nested wave {wave:>2}: {groups:>6} nested groups so far, {restarts} group restarts, \
                 sum {sum}, live {live}, rss {rss} KiB, {:.0?}",
                began.elapsed()
            );
            assert_eq!(live, 0, "children left alive after a wave");
            nested.push(rss);
        }
        let per_wave = CHILDREN / CHILD_WAVES;
        // Wave 0 warms the allocator up and is not judged: glibc raises its mmap threshold
        // the first time a large block is freed, so the first wave's large buffers are
        // mapped and unmapped while every later wave's come from the heap and stay resident.
        let (_, _) = child_wave(per_wave).await;
        println!("children wave  0 (warm-up, not judged): rss {} KiB, live {}", rss_kib(), live());
        let mut samples = Vec::new();
        let mut total = 0;
        for wave in 1..=CHILD_WAVES {
            let began = Instant::now();
            let (sum, failed) = child_wave(per_wave).await;
            total += per_wave;
            let (rss, live) = (rss_kib(), live());
            println!(
                "children wave {wave:>2}: {total:>9} children so far, {failed} failed (collected), \
                 sum {sum}, live {live}, rss {rss} KiB, {:.0?}",
                began.elapsed()
            );
            assert_eq!(live, 0, "children left alive after a wave");
            samples.push(rss);
        }
        (samples, nested)
    });
    ok &= judge("nested groups", &nested_samples);
    ok &= judge("children", &child_samples);
    println!(
        "soak: {} children built in all, {:.1?}",
        BUILT.with(Cell::get),
        start.elapsed()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

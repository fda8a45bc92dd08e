//! The comparison harness: the same workloads as `group_vs_raw`, run interleaved (raw, group,
//! floor, raw, group, floor, …) in one process so that every ratio compares runs made under
//! the same conditions. Prints the median time per child of each and the group/raw ratio.
//!
//! Run with `cargo bench -p actix-taskgroup --bench ratios`.

mod workloads;

use std::hint::black_box;
use std::time::{Duration, Instant};

use workloads::{
    floor_actor_contexts, floor_futures_unordered, raw_actors_counted, raw_actors_told_by_message,
    raw_spawn_join_all, restarts, supervised_actors, task_group,
};

/// Runs one round, checks that it handled all `n` children, and keeps its time. The round
/// starts from a settled allocator, whatever ran before it.
async fn timed(samples: &mut Vec<Duration>, n: usize, round: impl Future<Output = usize>) {
    workloads::settle_allocator();
    let start = Instant::now();
    let handled = black_box(round.await);
    samples.push(start.elapsed());
    assert_eq!(handled, n);
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() -> std::process::ExitCode {
    if let Some(code) = workloads::without_backtraces() {
        return code;
    }
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
                timed(&mut raw, n, raw_spawn_join_all(n)).await;
                timed(&mut group, n, task_group(n)).await;
                timed(&mut floor, n, floor_futures_unordered(n)).await;
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
                timed(&mut raw, n, raw_actors_told_by_message(n)).await;
                timed(&mut group, n, supervised_actors(n)).await;
                timed(&mut counted, n, raw_actors_counted(n)).await;
                timed(&mut floor, n, floor_actor_contexts(n)).await;
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

    println!();
    println!(
        "restarts: a child that fails at once, restarted N times, median of interleaved rounds"
    );
    println!(
        "{:>7} {:>6} {:>11} {:>11} {:>11} {:>11} {:>11} {:>10} {:>10} {:>12}",
        "N",
        "rounds",
        "raw act ns",
        "group act",
        "actix sup",
        "raw fut ns",
        "group fut",
        "act/raw",
        "fut/raw",
        "act/actixsup"
    );
    {
        let (n, rounds) = (10_000, if quick { 2 } else { 30 });
        let (mut raw_actor, mut group_actor, mut supervisor) = (Vec::new(), Vec::new(), Vec::new());
        let (mut raw_future, mut group_future) = (Vec::new(), Vec::new());
        system.block_on(async {
            for _ in 0..rounds {
                timed(&mut raw_actor, n, restarts::raw_restarts_actor(n)).await;
                timed(&mut group_actor, n, restarts::group_restarts_actor(n)).await;
                timed(&mut supervisor, n, restarts::actix_supervisor_restarts(n)).await;
                timed(&mut raw_future, n, restarts::raw_respawn_future(n)).await;
                timed(&mut group_future, n, restarts::group_restarts_future(n)).await;
            }
        });
        let per = |samples: &mut Vec<Duration>| median(samples).as_nanos() as f64 / n as f64;
        let (ra, ga, sa) = (
            per(&mut raw_actor),
            per(&mut group_actor),
            per(&mut supervisor),
        );
        let (rf, gf) = (per(&mut raw_future), per(&mut group_future));
        println!(
            "{n:>7} {rounds:>6} {ra:>11.1} {ga:>11.1} {sa:>11.1} {rf:>11.1} {gf:>11.1} {:>10.2} {:>10.2} {:>12.2}",
            ga / ra,
            gf / rf,
            ga / sa
        );
    }

    println!();
    println!("one-for-one restart cost beside idle siblings (R11: flat in the siblings)");
    println!(
        "{:>9} {:>6} {:>12} {:>12} {:>8}",
        "restarts", "rounds", "10 sibl. ns", "10k sibl. ns", "ratio"
    );
    let (n, rounds) = (10_000, if quick { 2 } else { 15 });
    let (mut few, mut many) = (Vec::new(), Vec::new());
    system.block_on(async {
        for _ in 0..rounds {
            few.push(restarts::restarts_beside_idle_siblings(n, 10).await);
            many.push(restarts::restarts_beside_idle_siblings(n, 10_000).await);
        }
    });
    let (few, many) = (
        median(&mut few).as_nanos() as f64 / n as f64,
        median(&mut many).as_nanos() as f64 / n as f64,
    );
    println!(
        "{n:>9} {rounds:>6} {few:>12.1} {many:>12.1} {:>8.2}",
        many / few
    );

    println!();
    println!(
        "limits and deadlines at scale (R11, R14, R13): ns per child, median of interleaved rounds"
    );
    println!(
        "{:>7} {:>6} {:>10} {:>10} {:>12} {:>12} {:>12} {:>12}",
        "N", "rounds", "raw", "group", "limit 64", "raw+yield", "deadline", "limit/raw"
    );
    for (n, rounds) in [(1_000, 200), (100_000, 8)] {
        let rounds = if quick { 2 } else { rounds };
        let (mut raw, mut group, mut limited) = (Vec::new(), Vec::new(), Vec::new());
        let (mut raw_yield, mut deadline) = (Vec::new(), Vec::new());
        system.block_on(async {
            for _ in 0..rounds {
                timed(&mut raw, n, raw_spawn_join_all(n)).await;
                timed(&mut group, n, task_group(n)).await;
                timed(&mut limited, n, workloads::task_group_limited(n, 64)).await;
                timed(&mut raw_yield, n, workloads::raw_spawn_yield_join_all(n)).await;
                timed(&mut deadline, n, workloads::task_group_deadline(n)).await;
            }
        });
        let per = |samples: &mut Vec<Duration>| median(samples).as_nanos() as f64 / n as f64;
        let (r, g, l) = (per(&mut raw), per(&mut group), per(&mut limited));
        let (ry, d) = (per(&mut raw_yield), per(&mut deadline));
        println!(
            "{n:>7} {rounds:>6} {r:>10.1} {g:>10.1} {l:>12.1} {ry:>12.1} {d:>12.1} {:>12.2}",
            l / r
        );
    }

    println!();
    println!("with a tracing subscriber installed at INFO (events below INFO filtered)");
    println!(
        "{:>7} {:>6} {:>10} {:>12} {:>12} {:>10}",
        "N", "rounds", "raw ns", "group ns", "group+sub ns", "sub/none"
    );
    {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
                .with(tracing_subscriber::filter::LevelFilter::INFO),
        );
        let (n, rounds) = (10_000, if quick { 2 } else { 40 });
        let (mut raw, mut plain, mut observed) = (Vec::new(), Vec::new(), Vec::new());
        system.block_on(async {
            for _ in 0..rounds {
                timed(&mut raw, n, raw_spawn_join_all(n)).await;
                timed(&mut plain, n, task_group(n)).await;
                let guard = tracing::dispatcher::set_default(&subscriber);
                timed(&mut observed, n, task_group(n)).await;
                drop(guard);
            }
        });
        let per = |samples: &mut Vec<Duration>| median(samples).as_nanos() as f64 / n as f64;
        let (r, p, o) = (per(&mut raw), per(&mut plain), per(&mut observed));
        println!(
            "{n:>7} {rounds:>6} {r:>10.1} {p:>12.1} {o:>12.1} {:>10.2}",
            o / p
        );
    }
    std::process::ExitCode::SUCCESS
}

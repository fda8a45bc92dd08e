//! Issue 20's figures: a group spread over a two-arbiter `ArbiterPool` against the same
//! group on one arbiter, and against `Arbiter::spawn` with the results gathered by hand;
//! the contenders interleaved round by round, the median and the spread of the per-round
//! ratios.
//!
//! `cargo bench -p actix-taskgroup --bench pool` (about a minute), `-- --quick` for a
//! smaller run.

#[path = "workloads/mod.rs"]
mod workloads;

// Shared with the peers bench, which uses all of it.
#[allow(dead_code)]
#[path = "peers/stats.rs"]
mod stats;

use std::time::Duration;

use actix_taskgroup::ArbiterPool;
use stats::{Samples, ratio, ratio_cell};
use workloads::pool::{self, Work};

fn main() -> std::process::ExitCode {
    if let Some(code) = workloads::without_backtraces() {
        return code;
    }
    // `cargo test --benches` runs bench targets without `--bench`: stay quick then.
    let quick =
        std::env::args().any(|arg| arg == "--quick") || !std::env::args().any(|a| a == "--bench");
    let system = actix_rt::System::new();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("{cores} cores; a pool of 2 arbiters; medians of interleaved rounds");
    system.block_on(async {
        let pool = ArbiterPool::new(2);
        let arbiters = pool::arbiters(2);
        let handles: Vec<_> = arbiters.iter().map(|a| a.handle()).collect();
        let work = Work::calibrate(Duration::from_millis(1));

        let (n, rounds) = if quick { (200, 2) } else { (2_000, 5) };
        let (mut one, mut spread) = (Samples::default(), Samples::default());
        for _ in 0..rounds {
            one.time(n, pool::cpu_bound(None, n, work)).await;
            spread.time(n, pool::cpu_bound(Some(&pool), n, work)).await;
        }
        println!("\nCPU-bound children (~1 ms of work each), N = {n}: ns per child");
        println!(
            "{:>12} {:>12}   speed-up (one/pool, target >= 1.8)",
            "one arbiter", "pool of 2"
        );
        println!(
            "{:>12.0} {:>12.0}   {}",
            one.median(),
            spread.median(),
            ratio_cell(ratio(&one, &spread))
        );

        let (n, rounds) = if quick { (10_000, 5) } else { (10_000, 40) };
        let (mut raw, mut spread) = (Samples::default(), Samples::default());
        let mut described = Samples::default();
        for _ in 0..rounds {
            raw.time(n, pool::raw_arbiter_spawn(&handles, n)).await;
            spread.time(n, pool::trivial(Some(&pool), n)).await;
            described
                .time(n, pool::trivial_described(Some(&pool), n))
                .await;
        }
        println!("\nTrivial Send children, N = {n}: ns per child");
        println!(
            "{:>12} {:>12}   pool/raw (target <= 0.5)",
            "raw spawn", "spawn_send"
        );
        println!(
            "{:>12.1} {:>12.1}   {}",
            raw.median(),
            spread.median(),
            ratio_cell(ratio(&spread, &raw))
        );
        println!(
            "{:>12} {:>12.1}   {} (each a Child::send_future: named, restartable)",
            "",
            described.median(),
            ratio_cell(ratio(&described, &raw))
        );

        let (mut one, mut spread) = (Samples::default(), Samples::default());
        for _ in 0..rounds {
            one.time(n, pool::teardown(None, n)).await;
            spread.time(n, pool::teardown(Some(&pool), n)).await;
        }
        println!("\nFail-fast teardown, N = {n} pending children: ns per child");
        println!(
            "{:>12} {:>12}   pool/one (target <= 2.0)",
            "one arbiter", "pool of 2"
        );
        println!(
            "{:>12.1} {:>12.1}   {}",
            one.median(),
            spread.median(),
            ratio_cell(ratio(&spread, &one))
        );
        drop(pool);
        for arbiter in arbiters {
            arbiter.stop();
            let _ = arbiter.join();
        }
    });
    std::process::ExitCode::SUCCESS
}

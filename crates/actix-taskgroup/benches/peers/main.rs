//! The peer comparison (issue 18): the library against what a competent user writes instead,
//! workload by workload, every figure a ratio against baselines run in the same process,
//! interleaved round by round; the median, and the spread of the per-round ratios.
//!
//! `cargo bench -p actix-taskgroup --bench peers` (about two minutes), or with `-- --quick`
//! (under two minutes); `-- --svg PATH` writes the plot of ns per child against N (a relative
//! PATH is taken from the workspace's root).
//! Python 3.11's asyncio is measured in a subprocess, when `python3` is there.

#[path = "../workloads/mod.rs"]
mod workloads;

mod stats;
mod svg;

use std::process::Command;

use stats::{Samples, ratio, ratio_cell};
use workloads::peers;

struct Settings {
    quick: bool,
    svg: Option<String>,
}

fn sizes(settings: &Settings) -> Vec<(usize, usize)> {
    if settings.quick {
        vec![(1_000, 20), (10_000, 5)]
    } else {
        vec![(1_000, 200), (10_000, 40), (100_000, 8)]
    }
}

fn row(label: &str, values: &[f64]) {
    print!("{label:>9}");
    for value in values {
        print!(" {value:>11.1}");
    }
    println!();
}

/// Median ns per child of asyncio on `workload`, or `None` without a usable `python3`.
fn asyncio(workload: &str, n: usize, rounds: usize) -> Option<f64> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/peers/asyncio_bench.py"
    );
    let output = Command::new("python3")
        .args([script, workload, &n.to_string(), &rounds.to_string()])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// Bytes per pending child, measured in a fresh process (memory freed by an earlier round
/// would be reused and show no growth).
fn memory_in_fresh_process(contender: &str, n: usize) -> Option<f64> {
    let output = Command::new(std::env::current_exe().ok()?)
        .args(["--memory", contender, &n.to_string()])
        .env_remove("RUST_BACKTRACE")
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn main() -> std::process::ExitCode {
    if let Some(code) = workloads::without_backtraces() {
        return code;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--memory") {
        let contender = args.get(at + 1).cloned().unwrap_or_default();
        let n: usize = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        let system = actix_rt::System::new();
        let bytes = system.block_on(async {
            match contender.as_str() {
                "raw" => peers::raw_memory(n).await,
                _ => peers::group_memory(n).await,
            }
        });
        println!("{bytes}");
        return std::process::ExitCode::SUCCESS;
    }
    // `cargo test --benches` runs bench targets without `--bench`: one quick pass then.
    let settings = Settings {
        quick: args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench"),
        svg: args
            .iter()
            .position(|a| a == "--svg")
            .and_then(|at| args.get(at + 1).cloned()),
    };
    let system = actix_rt::System::new();
    let python = asyncio("spawn_join", 100, 1).is_some();
    if !python {
        println!("(python3 with asyncio.TaskGroup not found: the asyncio column is skipped)");
    }
    let mut plot: Vec<svg::Series> = [
        "raw spawn+join_all",
        "JoinSet",
        "FuturesUnordered",
        "TaskGroup",
        "asyncio TaskGroup",
    ]
    .iter()
    .map(|name| svg::Series {
        name: name.to_string(),
        points: Vec::new(),
    })
    .collect();

    println!("\n1. spawn + join of N trivial children: ns per child, median of interleaved rounds");
    println!(
        "{:>9} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}   group/raw           group/joinset       group/floor(box)    group/floor         group/asyncio",
        "N", "raw", "joinset", "floor(box)", "floor", "group", "asyncio"
    );
    for (n, rounds) in sizes(&settings) {
        let (mut raw, mut joinset, mut boxed, mut floor, mut group) = (
            Samples::default(),
            Samples::default(),
            Samples::default(),
            Samples::default(),
            Samples::default(),
        );
        system.block_on(async {
            for _ in 0..rounds {
                raw.time(n, workloads::raw_spawn_join_all(n)).await;
                joinset.time(n, peers::joinset_spawn_join(n)).await;
                boxed
                    .time(n, workloads::floor_futures_unordered_boxed(n))
                    .await;
                floor.time(n, workloads::floor_futures_unordered(n)).await;
                group.time(n, workloads::task_group(n)).await;
            }
        });
        let py = if python {
            asyncio("spawn_join", n, (rounds / 10).max(3))
        } else {
            None
        };
        print!(
            "{n:>9} {:>11.1} {:>11.1} {:>11.1} {:>11.1} {:>11.1} {:>11}",
            raw.median(),
            joinset.median(),
            boxed.median(),
            floor.median(),
            group.median(),
            py.map_or("-".into(), |v| format!("{v:.1}"))
        );
        print!(
            "   {:<19} {:<19} {:<19} {:<19}",
            ratio_cell(ratio(&group, &raw)),
            ratio_cell(ratio(&group, &joinset)),
            ratio_cell(ratio(&group, &boxed)),
            ratio_cell(ratio(&group, &floor))
        );
        println!(
            " {}",
            py.map_or("-".into(), |p| format!("{:.3}", group.median() / p))
        );
        for (series, value) in plot.iter_mut().zip([
            raw.median(),
            joinset.median(),
            floor.median(),
            group.median(),
        ]) {
            series.points.push((n as f64, value));
        }
        if let Some(p) = py {
            plot[4].points.push((n as f64, p));
        }
    }

    println!(
        "\n2. fail-fast teardown: N pending siblings dropped, the error in hand (spawns included)"
    );
    println!(
        "{:>9} {:>11} {:>11} {:>11} {:>11} {:>11}   group/floor         group/joinset       group/abort",
        "N", "floor", "joinset", "abort", "group", "asyncio"
    );
    for (n, rounds) in sizes(&settings) {
        let (mut floor, mut joinset, mut abort, mut group) = (
            Samples::default(),
            Samples::default(),
            Samples::default(),
            Samples::default(),
        );
        system.block_on(async {
            for _ in 0..rounds {
                floor.time(n, peers::futures_unordered_teardown(n)).await;
                joinset.time(n, peers::joinset_teardown(n)).await;
                abort.time(n, peers::abort_handles_teardown(n)).await;
                group.time(n, peers::group_teardown(n)).await;
            }
        });
        let py = if python {
            asyncio("teardown", n, (rounds / 10).max(3))
        } else {
            None
        };
        print!(
            "{n:>9} {:>11.1} {:>11.1} {:>11.1} {:>11.1} {:>11}",
            floor.median(),
            joinset.median(),
            abort.median(),
            group.median(),
            py.map_or("-".into(), |v| format!("{v:.1}"))
        );
        println!(
            "   {:<19} {:<19} {:<19}",
            ratio_cell(ratio(&group, &floor)),
            ratio_cell(ratio(&group, &joinset)),
            ratio_cell(ratio(&group, &abort))
        );
    }

    println!("\n3. children woken one at a time (each awaits its own oneshot)");
    println!(
        "{:>9} {:>11} {:>11} {:>11}   group/floor         group/raw",
        "N", "floor", "raw", "group"
    );
    for (n, rounds) in sizes(&settings) {
        let (mut floor, mut raw, mut group) =
            (Samples::default(), Samples::default(), Samples::default());
        system.block_on(async {
            for _ in 0..rounds {
                floor.time(n, peers::futures_unordered_wakeups(n)).await;
                raw.time(n, peers::raw_wakeups(n)).await;
                group.time(n, peers::group_wakeups(n)).await;
            }
        });
        row(
            &n.to_string(),
            &[floor.median(), raw.median(), group.median()],
        );
        println!(
            "{:>45}   {:<19} {:<19}",
            "",
            ratio_cell(ratio(&group, &floor)),
            ratio_cell(ratio(&group, &raw))
        );
    }

    println!("\n4. actor children: start -> stop -> parent told");
    println!(
        "{:>9} {:>11} {:>11} {:>11} {:>11}   group/raw msg       group/raw counted",
        "N", "raw msg", "raw count", "floor", "group"
    );
    for (n, rounds) in sizes(&settings) {
        let (mut raw, mut counted, mut floor, mut group) = (
            Samples::default(),
            Samples::default(),
            Samples::default(),
            Samples::default(),
        );
        system.block_on(async {
            for _ in 0..rounds / 2 {
                raw.time(n, workloads::raw_actors_told_by_message(n)).await;
                counted.time(n, workloads::raw_actors_counted(n)).await;
                floor.time(n, workloads::floor_actor_contexts(n)).await;
                group.time(n, workloads::supervised_actors(n)).await;
            }
        });
        row(
            &n.to_string(),
            &[
                raw.median(),
                counted.median(),
                floor.median(),
                group.median(),
            ],
        );
        println!(
            "{:>57}   {:<19} {:<19}",
            "",
            ratio_cell(ratio(&group, &raw)),
            ratio_cell(ratio(&group, &counted))
        );
    }

    println!("\n5. actor teardown: N idle actors stopped (raw: by message, its Addrs dropped)");
    println!("{:>9} {:>11} {:>11}   group/raw", "N", "raw", "group");
    for (n, rounds) in sizes(&settings) {
        let (mut raw, mut group) = (Samples::default(), Samples::default());
        system.block_on(async {
            for _ in 0..rounds / 2 {
                raw.time(n, peers::raw_actor_teardown(n)).await;
                group.time(n, peers::group_actor_teardown(n)).await;
            }
        });
        row(&n.to_string(), &[raw.median(), group.median()]);
        println!("{:>33}   {}", "", ratio_cell(ratio(&group, &raw)));
    }

    println!(
        "\n6. memory per pending child: resident bytes grown per child, each in a fresh process"
    );
    let n = if settings.quick { 20_000 } else { 100_000 };
    let tries = if settings.quick { 1 } else { 3 };
    let (mut raw, mut group) = (Samples::default(), Samples::default());
    for _ in 0..tries {
        if let (Some(r), Some(g)) = (
            memory_in_fresh_process("raw", n),
            memory_in_fresh_process("group", n),
        ) {
            raw.push(r);
            group.push(g);
        }
    }
    println!("{:>9} {:>11} {:>11}   group/raw", "N", "raw B", "group B");
    row(&n.to_string(), &[raw.median(), group.median()]);
    println!("{:>33}   {:.2}", "", group.median() / raw.median());

    println!("\n7. restarts: a child that fails at once, restarted 10,000 times (ns per restart)");
    let (n, rounds) = (10_000, if settings.quick { 3 } else { 20 });
    let (mut raw_actor, mut group_actor, mut supervisor, mut raw_future, mut group_future) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    system.block_on(async {
        for _ in 0..rounds {
            raw_actor
                .time(n, workloads::restarts::raw_restarts_actor(n))
                .await;
            group_actor
                .time(n, workloads::restarts::group_restarts_actor(n))
                .await;
            supervisor
                .time(n, workloads::restarts::actix_supervisor_restarts(n))
                .await;
            raw_future
                .time(n, workloads::restarts::raw_respawn_future(n))
                .await;
            group_future
                .time(n, workloads::restarts::group_restarts_future(n))
                .await;
        }
    });
    println!(
        "{:>9} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "", "raw actor", "group actor", "actix sup", "raw future", "group fut"
    );
    row(
        "ns",
        &[
            raw_actor.median(),
            group_actor.median(),
            supervisor.median(),
            raw_future.median(),
            group_future.median(),
        ],
    );
    println!(
        "actor group/raw {}   future group/raw {}   actor group/actix Supervisor {:.1}",
        ratio_cell(ratio(&group_actor, &raw_actor)),
        ratio_cell(ratio(&group_future, &raw_future)),
        group_actor.median() / supervisor.median()
    );

    println!("\n8. nested groups: 1,000 groups of 100 children (ns per child)");
    let rounds = if settings.quick { 3 } else { 15 };
    let (mut raw, mut group) = (Samples::default(), Samples::default());
    system.block_on(async {
        for _ in 0..rounds {
            raw.time(100_000, peers::raw_nested(1_000, 100)).await;
            group.time(100_000, peers::nested_groups(1_000, 100)).await;
        }
    });
    println!("{:>9} {:>11} {:>11}   group/raw", "", "raw", "group");
    row("ns", &[raw.median(), group.median()]);
    println!("{:>33}   {}", "", ratio_cell(ratio(&group, &raw)));

    println!("\n9. a deadline and a limit at 100,000 children (ns per child)");
    let (n, rounds) = (100_000, if settings.quick { 2 } else { 8 });
    let (mut raw, mut limited, mut raw_yield, mut deadline) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    system.block_on(async {
        for _ in 0..rounds {
            raw.time(n, workloads::raw_spawn_join_all(n)).await;
            limited.time(n, workloads::task_group_limited(n, 64)).await;
            raw_yield
                .time(n, workloads::raw_spawn_yield_join_all(n))
                .await;
            deadline.time(n, workloads::task_group_deadline(n)).await;
        }
    });
    println!(
        "{:>9} {:>11} {:>11} {:>11} {:>11}   limit/raw           deadline/raw+yield",
        "", "raw", "limit 64", "raw+yield", "deadline"
    );
    row(
        "ns",
        &[
            raw.median(),
            limited.median(),
            raw_yield.median(),
            deadline.median(),
        ],
    );
    println!(
        "{:>57}   {:<19} {}",
        "",
        ratio_cell(ratio(&limited, &raw)),
        ratio_cell(ratio(&deadline, &raw_yield))
    );

    if let Some(path) = settings.svg {
        // `cargo bench` runs a bench in its package's folder: a relative path is taken from
        // the workspace's root, where `just bench` and the docs' commands are typed.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path);
        plot.retain(|series| !series.points.is_empty());
        let svg = svg::plot(
            "spawn + join of N trivial children: ns per child (log-log)",
            &plot,
        );
        match std::fs::write(&path, svg) {
            Ok(()) => println!("\nplot written to {}", path.display()),
            Err(error) => println!("\nno plot: {}: {error}", path.display()),
        }
    }
    std::process::ExitCode::SUCCESS
}

//! A small supervision tree: a root group with two worker actors and a nested group of two
//! more. One worker in the nested group fails; the output shows every sibling, in both
//! groups, running its `stopping()` and `stopped()`, then the one combined error as a tree.
//!
//! Run with `cargo run --release --example supervision_tree`.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_taskgroup::{GroupSupervisor, Join, Reporter};

/// A worker that runs until stopped, or fails after `fail_after`.
struct Worker {
    name: &'static str,
    fail_after: Option<Duration>,
    reporter: Reporter<()>,
    start: Instant,
}

impl Worker {
    fn say(&self, what: &str) {
        let at = self.start.elapsed().as_millis();
        println!("{at:>5} ms  {:<10} {what}", self.name);
    }
}

impl Actor for Worker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.say("started");
        // A heartbeat keeps the worker alive (and busy) without anyone holding its address.
        ctx.run_interval(Duration::from_millis(100), |_, _| {});
        if let Some(delay) = self.fail_after {
            ctx.run_later(delay, |worker, ctx| {
                worker.say("fails: disk full");
                worker
                    .reporter
                    .fail_and_stop(ctx, anyhow::anyhow!("disk full on /var/{}", worker.name));
            });
        }
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        self.say("stopping");
        Running::Stop
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.say("stopped");
    }
}

fn worker(
    name: &'static str,
    fail_after: Option<u64>,
    start: Instant,
) -> impl FnOnce(Reporter<()>) -> Worker {
    move |reporter| Worker {
        name,
        fail_after: fail_after.map(Duration::from_millis),
        reporter,
        start,
    }
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let start = Instant::now();
    println!("root ── api, cache, storage ── shard-a, shard-b (shard-b fails at 300 ms)\n");
    let storage = GroupSupervisor::<()>::builder()
        .name("storage")
        .child_actor("shard-a", worker("shard-a", None, start))
        .child_actor("shard-b", worker("shard-b", Some(300), start));
    let root = GroupSupervisor::<()>::builder()
        .name("root")
        .grace(Duration::from_secs(2))
        .child_actor("api", worker("api", None, start))
        .child_actor("cache", worker("cache", None, start))
        .child_group("storage", storage, drop)
        .start();

    let report = root.send(Join::new()).await?;
    let at = start.elapsed().as_millis();
    match report.error() {
        None => println!("\n{at:>5} ms  unexpected: the tree succeeded"),
        Some(error) => {
            println!("\n{at:>5} ms  every actor has stopped; the combined error:\n{error}");
            // The report is complete too, failed or not: the whole tree, nested groups kept.
            println!("\nthe report:\n{report}");
        }
    }
    Ok(())
}

//! The demo batch: a fan-out of "fetch" children in a fail-fast group, with a nested group.
//! First a direct child fails: its siblings are cancelled at once, nested group included.
//! Then a child of the nested group fails: the one combined error is printed as a tree.
//!
//! Run with `cargo run --release --example demo`.

use std::time::Duration;

use actix_rt::time::{Instant, sleep};
use actix_taskgroup::{Outcome, TaskGroup};
use anyhow::{Context, bail};
use futures::StreamExt;

/// A pretend download: takes `ms`, then returns a page count or fails.
async fn fetch(site: &'static str, ms: u64, fails: bool) -> anyhow::Result<u32> {
    sleep(Duration::from_millis(ms)).await;
    if fails {
        bail!("connection reset by {site}");
    }
    Ok(site.len() as u32)
}

/// A nested group: mirrors two sites; its children are cancelled when the outer group fails.
async fn mirror(us_fails: bool) -> anyhow::Result<u32> {
    let group = TaskGroup::builder().name("mirror").build();
    group.spawn_named("mirror eu", fetch("eu.example", 900, false))?;
    group.spawn_named("mirror us", fetch("us.example", 300, us_fails))?;
    let pages = group.join().await.context("mirroring failed")?;
    Ok(pages.iter().sum())
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    println!("actix-taskgroup demo: one group, five children, fail-fast\n");
    let start = Instant::now();
    let group = TaskGroup::builder().name("crawl").build();
    group.spawn_named("fetch alpha", fetch("alpha.example", 150, false))?;
    group.spawn_named("fetch beta", fetch("beta.example", 700, false))?;
    group.spawn_named("fetch gamma", fetch("gamma.example", 250, false))?;
    group.spawn_named("fetch delta", fetch("delta.example", 400, true))?;
    group.spawn_named("mirror", mirror(false))?;

    // The stream hands out each child's outcome as it ends, in completion order.
    let mut outcomes = group.outcomes();
    let mut failures = Vec::new();
    while let Some(child) = outcomes.next().await {
        let at = start.elapsed().as_millis();
        let name = child.name().unwrap_or("?");
        match child.outcome() {
            Outcome::Completed(pages) => {
                println!("{at:>5} ms  {name:<12} completed: {pages} pages")
            }
            Outcome::Failed(cause) => {
                println!("{at:>5} ms  {name:<12} FAILED: {cause:#}");
                failures.push(name.to_owned());
            }
            Outcome::Panicked(message) => println!("{at:>5} ms  {name:<12} PANICKED: {message}"),
            Outcome::Cancelled => println!("{at:>5} ms  {name:<12} cancelled (a sibling failed)"),
            other => println!("{at:>5} ms  {name:<12} {other:?}"),
        }
    }
    println!(
        "\nevery child has stopped after {} ms",
        start.elapsed().as_millis()
    );

    // Again through `join`, with the failure deeper down: a child of the nested group fails.
    // The error is one tree: the outer failure keeps the inner group's error.
    let group = TaskGroup::builder().name("crawl").build();
    group.spawn_named("fetch alpha", fetch("alpha.example", 150, false))?;
    group.spawn_named("fetch beta", fetch("beta.example", 700, false))?;
    group.spawn_named("mirror", mirror(true))?;
    match group.join().await {
        Ok(pages) => println!("unexpected success: {pages:?}"),
        Err(error) => println!("\njoin() returned one combined error:\n{error}"),
    }
    anyhow::ensure!(failures == ["fetch delta"], "the demo expected one failure");
    Ok(())
}

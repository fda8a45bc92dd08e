//! A fan-out to slow backends under a deadline: when it passes, the backends still running
//! are cancelled and the report keeps what had arrived (partial results). One backend is
//! best-effort, one is raced against a mirror.
//!
//! Run with `cargo run --release -p examples --example deadline_partial`.

use std::time::Duration;

use actix_rt::time::{Instant, sleep};
use actix_taskgroup::{Child, Outcome, Policy, TaskGroup};

/// A pretend backend: answers after `ms`, or fails.
async fn backend(name: &'static str, ms: u64, fails: bool) -> anyhow::Result<String> {
    sleep(Duration::from_millis(ms)).await;
    anyhow::ensure!(!fails, "{name}: 503 service unavailable");
    Ok(format!("{name} answered after {ms} ms"))
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let start = Instant::now();
    let search = TaskGroup::builder()
        .name("search")
        .deadline(Duration::from_millis(250))
        .build();
    search.spawn_named("web", backend("web", 80, false))?;
    search.spawn_named("images", backend("images", 190, false))?;
    search.spawn_named("video", backend("video", 900, false))?;
    // Ads are nice to have: their failure changes nothing.
    search.spawn_child(Child::future("ads", || backend("ads", 40, true)).best_effort())?;
    // Maps: the first of two mirrors wins, the other is cancelled.
    search.spawn_named("maps", async {
        let race = TaskGroup::builder().policy(Policy::FirstSuccess).build();
        race.spawn_named("maps-eu", backend("maps-eu", 300, false))?;
        race.spawn_named("maps-us", backend("maps-us", 120, false))?;
        Ok::<_, anyhow::Error>(race.race().await?)
    })?;

    let report = search.join_report().await;
    println!(
        "the deadline passed after {} ms; what arrived:\n",
        start.elapsed().as_millis()
    );
    for child in report.children() {
        let name = child.name().unwrap_or("?");
        match child.outcome() {
            Outcome::Completed(answer) => println!("  {name:<8} {answer}"),
            Outcome::Cancelled => println!("  {name:<8} cut off by the deadline"),
            Outcome::Failed(cause) => println!("  {name:<8} failed (best-effort): {cause:#}"),
            other => println!("  {name:<8} {other:?}"),
        }
    }
    let error = report.error().expect("the deadline passed");
    println!("\nthe group's error: {error}");
    anyhow::ensure!(error.is_timed_out());
    let partial: Vec<&String> = report.values().collect();
    anyhow::ensure!(
        partial.len() == 3,
        "web, images and maps arrived: {partial:?}"
    );
    Ok(())
}

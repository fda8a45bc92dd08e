//! Watching a tree: a small supervision tree under load with a flaky child; the live
//! snapshot printed before and after its restart, and every lifecycle event printed by
//! `tracing-subscriber`'s fmt layer.
//!
//! Run with `cargo run --release -p examples --example tree_snapshot`
//! (`RUST_LOG`-style filtering is up to your subscriber; this one shows DEBUG and above).

use std::time::Duration;

use actix_rt::time::sleep;
use actix_taskgroup::{Backoff, Cancel, Child, GroupSupervisor, Join, Restart, TakeSnapshot};
use tracing::level_filters::LevelFilter;

fn worker(
    ms: u64,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>>>> {
    move || {
        Box::pin(async move {
            loop {
                sleep(Duration::from_millis(ms)).await;
            }
        })
    }
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(LevelFilter::DEBUG)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .without_time()
        .init();

    let ingest = || {
        GroupSupervisor::<()>::builder()
            .name("ingest")
            .child(Child::future("reader", worker(10)).restart(Restart::Permanent))
            .child(Child::future("parser", worker(15)).restart(Restart::Permanent))
    };
    let root = GroupSupervisor::<()>::builder()
        .name("app")
        .backoff(Backoff::constant(Duration::from_millis(200)))
        .child(Child::group("ingest", ingest, |_| ()))
        .child(
            Child::future_with("uploader", |control| async move {
                sleep(Duration::from_millis(100)).await;
                anyhow::ensure!(control.attempt() > 1, "upload endpoint returned 500");
                // Serve until the group asks this child to stop, then finish at once.
                control.stop_requested().await;
                Ok(())
            })
            .restart(Restart::Transient),
        )
        .start();

    sleep(Duration::from_millis(150)).await;
    let before = root.send(TakeSnapshot).await?;
    println!("\nthe tree while the uploader waits to restart:\n{before}\n");
    sleep(Duration::from_millis(300)).await;
    let after = root.send(TakeSnapshot).await?;
    println!("\nthe tree after its restart:\n{after}\n");

    root.send(Cancel).await?;
    let report = root.send(Join::new()).await?;
    anyhow::ensure!(after.counters.restarted == 1, "one restart");
    anyhow::ensure!(report.child_named("uploader").unwrap().attempts() == 2);
    Ok(())
}

//! Restarts, OTP-style: a flaky worker actor restarted with exponential backoff until it
//! holds, and a one-for-all pair that restarts together. The report is printed at the end.
//!
//! Run with `cargo run --release -p examples --example restart_backoff`.

use std::time::Duration;

use actix::prelude::*;
use actix_rt::time::Instant;
use actix_taskgroup::{Backoff, Cancel, Child, GroupSupervisor, Join, Reporter, Restart, Strategy};

/// Connects to a database that is down for its first three attempts.
struct DbWriter {
    reporter: Reporter<()>,
    started: Instant,
}

impl Actor for DbWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let attempt = self.reporter.attempt();
        let at = self.started.elapsed().as_millis();
        if attempt <= 3 {
            println!("{at:>5} ms  db-writer attempt {attempt}: connection refused");
            self.reporter.fail_and_stop(
                ctx,
                anyhow::anyhow!("connection refused (attempt {attempt})"),
            );
        } else {
            println!("{at:>5} ms  db-writer attempt {attempt}: connected, serving");
        }
    }
}

/// One of a pair that must restart together: the producer and the consumer of a stream.
struct Peer {
    name: &'static str,
    reporter: Reporter<()>,
    started: Instant,
}

impl Actor for Peer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let attempt = self.reporter.attempt();
        println!(
            "{:>5} ms  {} incarnation {attempt} started",
            self.started.elapsed().as_millis(),
            self.name
        );
        if self.name == "consumer" && attempt == 1 {
            ctx.run_later(Duration::from_millis(150), |peer, ctx| {
                println!(
                    "{:>5} ms  consumer: stream corrupted",
                    peer.started.elapsed().as_millis()
                );
                peer.reporter
                    .fail_and_stop(ctx, anyhow::anyhow!("stream corrupted"));
            });
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        println!(
            "{:>5} ms  {} incarnation {} stopped",
            self.started.elapsed().as_millis(),
            self.name,
            self.reporter.attempt()
        );
    }
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    println!("restarts with backoff, and a one-for-all pair\n");

    let pair = move || {
        GroupSupervisor::<()>::builder()
            .name("pair")
            .strategy(Strategy::OneForAll)
            .child(
                Child::actor("producer", move |reporter| Peer {
                    name: "producer",
                    reporter,
                    started,
                })
                .restart(Restart::Permanent),
            )
            .child(
                Child::actor("consumer", move |reporter| Peer {
                    name: "consumer",
                    reporter,
                    started,
                })
                .restart(Restart::Permanent),
            )
    };
    let root = GroupSupervisor::<()>::builder()
        .name("service")
        .intensity(5, Duration::from_secs(10))
        .backoff(
            Backoff::exponential(Duration::from_millis(100))
                .max(Duration::from_secs(2))
                .jitter(0.1),
        )
        .child(
            Child::actor("db-writer", move |reporter| DbWriter { reporter, started })
                .restart(Restart::Permanent),
        )
        .child(Child::group("pair", pair, |_| ()))
        .start();

    actix_rt::time::sleep(Duration::from_millis(1200)).await;
    println!("\n{:>5} ms  the tree now:\n", started.elapsed().as_millis());
    println!("{}", root.send(actix_taskgroup::TakeSnapshot).await?);
    root.send(Cancel).await?;
    let report = root.send(Join::new()).await?;
    println!("\nthe report after a cancel:\n{report}");

    let writer = report.child_named("db-writer").unwrap();
    anyhow::ensure!(
        writer.attempts() == 4,
        "db-writer held at its fourth attempt"
    );
    anyhow::ensure!(writer.recent_failures().len() == 3, "three failures kept");
    let pair = report.child_named("pair").unwrap().nested().unwrap();
    anyhow::ensure!(
        pair.children().iter().all(|peer| peer.attempts() == 2),
        "the pair restarted together"
    );
    Ok(())
}

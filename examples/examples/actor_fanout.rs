//! A parent actor fans a request out to a group and awaits the combined result inside its
//! handler, without blocking its arbiter: while the group runs, the same actor keeps
//! answering other messages.
//!
//! Run with `cargo run --release --example actor_fanout`.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_taskgroup::{GroupSupervisor, Join};

/// Answers lookups by fanning out to several backends at once.
struct Frontend {
    start: Instant,
    pings: u32,
}

impl Actor for Frontend {
    type Context = Context<Self>;
}

/// Look a key up in every backend; the reply is every answer, in backend order, or the
/// group's combined error.
#[derive(Message)]
#[rtype(result = "anyhow::Result<Vec<String>>")]
struct Lookup(&'static str);

impl Handler<Lookup> for Frontend {
    type Result = ResponseActFuture<Self, anyhow::Result<Vec<String>>>;

    fn handle(&mut self, Lookup(key): Lookup, _: &mut Context<Self>) -> Self::Result {
        let mut group = GroupSupervisor::<String>::builder().name("lookup");
        for (backend, ms) in [("eu", 250u64), ("us", 400), ("ap", 150)] {
            group = group.child_future(backend, move || async move {
                actix_rt::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, anyhow::Error>(format!("{key}@{backend} ({ms} ms)"))
            });
        }
        let group = group.start();
        println!(
            "{:>5} ms  lookup {key:?}: fanned out to 3 backends",
            self.at()
        );
        // The handler returns a future; the actor goes on serving its mailbox meanwhile.
        let answer = async move {
            let report = group.send(Join::new()).await?;
            Ok(report.into_result()?)
        };
        Box::pin(answer.into_actor(self).map(|answers, frontend, _| {
            println!("{:>5} ms  lookup done", frontend.at());
            answers
        }))
    }
}

#[derive(Message)]
#[rtype(result = "u32")]
struct Ping;

impl Handler<Ping> for Frontend {
    type Result = u32;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> u32 {
        self.pings += 1;
        println!("{:>5} ms  ping {} answered", self.at(), self.pings);
        self.pings
    }
}

impl Frontend {
    fn at(&self) -> u128 {
        self.start.elapsed().as_millis()
    }
}

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let frontend = Frontend {
        start: Instant::now(),
        pings: 0,
    }
    .start();
    let lookup = frontend.send(Lookup("user:42"));
    let pings = async {
        for _ in 0..3 {
            actix_rt::time::sleep(Duration::from_millis(100)).await;
            frontend.send(Ping).await?;
        }
        Ok::<_, MailboxError>(())
    };
    let (answers, pings) = futures::join!(lookup, pings);
    pings?;
    for answer in answers?? {
        println!("           {answer}");
    }
    Ok(())
}

//! `TaskGroup` used from actix actors and arbiters (R10): a handler that awaits a group of
//! `!Send` children without blocking its arbiter, and a group living on another arbiter.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{GroupError, TaskGroup};

/// Fans a request out to a group of children that share `!Send` state with the actor.
struct Fanout {
    seen: Rc<RefCell<Vec<u32>>>,
    pings_served: u32,
}

impl Actor for Fanout {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "Result<Vec<u32>, GroupError>")]
struct Crawl {
    pages: Vec<u32>,
    broken: Option<u32>,
}

impl Handler<Crawl> for Fanout {
    type Result = ResponseActFuture<Self, Result<Vec<u32>, GroupError>>;

    fn handle(&mut self, msg: Crawl, _ctx: &mut Self::Context) -> Self::Result {
        let group = TaskGroup::builder().name("crawl").build();
        for page in msg.pages {
            let seen = Rc::clone(&self.seen);
            let broken = msg.broken;
            let spawned = group.spawn(async move {
                actix_rt::time::sleep(Duration::from_millis(u64::from(page))).await;
                anyhow::ensure!(Some(page) != broken, "page {page} is broken");
                seen.borrow_mut().push(page);
                Ok(page * 10)
            });
            assert!(spawned.is_ok());
        }
        Box::pin(group.join().into_actor(self))
    }
}

#[derive(Message)]
#[rtype(result = "u32")]
struct Ping;

impl Handler<Ping> for Fanout {
    type Result = u32;

    fn handle(&mut self, _: Ping, _: &mut Self::Context) -> u32 {
        self.pings_served += 1;
        self.pings_served
    }
}

#[actix_rt::test]
async fn an_actor_awaits_a_group_of_not_send_children_in_a_handler() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let actor = Fanout {
        seen: Rc::clone(&seen),
        pings_served: 0,
    }
    .start();
    let values = actor
        .send(Crawl {
            pages: vec![30, 10, 20],
            broken: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(values, [300, 100, 200], "values in spawn order");
    assert_eq!(*seen.borrow(), [10, 20, 30], "children ran concurrently");
}

#[actix_rt::test]
async fn a_failing_child_reaches_the_actors_caller_as_one_group_error() {
    let actor = Fanout {
        seen: Rc::default(),
        pings_served: 0,
    }
    .start();
    let error = actor
        .send(Crawl {
            pages: vec![5, 1000, 10],
            broken: Some(10),
        })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.group_name(), Some("crawl"));
    assert_eq!(error.failures().count(), 1);
    assert_eq!(
        error.first_failure().unwrap().cause().to_string(),
        "page 10 is broken"
    );
}

#[actix_rt::test]
async fn the_arbiter_keeps_serving_other_actors_while_a_group_runs() {
    let crawler = Fanout {
        seen: Rc::default(),
        pings_served: 0,
    }
    .start();
    let other = Fanout {
        seen: Rc::default(),
        pings_served: 0,
    }
    .start();
    let finished = RefCell::new(Vec::new());
    let crawl = async {
        let crawled = crawler.send(Crawl {
            pages: vec![200],
            broken: None,
        });
        let values = crawled.await.unwrap().unwrap();
        finished.borrow_mut().push("crawl");
        values
    };
    let pings = async {
        let mut served = 0;
        for _ in 0..5 {
            served = other.send(Ping).await.unwrap();
        }
        finished.borrow_mut().push("pings");
        served
    };
    let (crawled, served) = futures::join!(crawl, pings);
    assert_eq!(served, 5);
    assert_eq!(crawled, [2000]);
    assert_eq!(
        *finished.borrow(),
        ["pings", "crawl"],
        "the other actor was served while the group ran"
    );
}

#[test]
fn a_group_runs_on_another_arbiter_and_sends_its_result_back() {
    let system = actix_rt::System::new();
    let values = system.block_on(async {
        let arbiter = actix_rt::Arbiter::new();
        let (tx, rx) = futures::channel::oneshot::channel();
        // The closure is `Send`; the group it builds lives on the arbiter's own thread.
        let spawned = arbiter.spawn_fn(move || {
            actix_rt::spawn(async move {
                let group = TaskGroup::new();
                for n in 1..=3u32 {
                    let spawned = group.spawn(async move { Ok::<_, anyhow::Error>(n * 2) });
                    assert!(spawned.is_ok());
                }
                let _ = tx.send(group.join().await);
            });
        });
        assert!(spawned, "the arbiter is running");
        let result = rx.await.expect("the arbiter's group answers");
        arbiter.stop();
        result
    });
    assert_eq!(values.unwrap(), [2, 4, 6]);
}

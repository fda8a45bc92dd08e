//! DESIGN §6: an actor child lives until it stops itself or its group stops it. The group
//! holds its address, so an idle child nobody else addresses keeps running; callers reach it
//! by name (by message from any thread or actor, or through a handle), the oldest running
//! child of that name; stopping once unaddressed is an opt-in.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{Cancel, Child, ChildAddr, GroupSupervisor, Join, OutcomeKind, SpawnActor};
use common::worker::{Log, Ping, Script, Worker, count, events};
use common::{run_paused, run_real};
use futures::channel::oneshot;

/// `Script::WhileAddressed` is a plain actor: nothing in its own context keeps it alive, so
/// started with `Actor::start` and no address kept, actix would stop it at once.
fn plain_worker(
    name: &'static str,
    log: &Log,
) -> impl FnOnce(actix_taskgroup::Reporter<()>) -> Worker + 'static {
    let log = log.clone();
    move |r| Worker::new(name, Script::WhileAddressed, &log, r)
}

#[test]
fn an_idle_builder_child_nobody_addresses_lives_until_the_group_stops_it() {
    run_paused(async {
        let log = Log::default();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("db", plain_worker("db", &log))
            .start();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(events(&log, ""), ["db started"], "alive an hour later");

        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(count(&log, "db stopped"), 1);
        assert_eq!(
            report.children()[0].outcome().kind(),
            OutcomeKind::Cancelled
        );
    });
}

#[test]
fn an_idle_builder_child_stays_alive_while_a_join_waits() {
    run_paused(async {
        let log = Log::default();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("db", plain_worker("db", &log))
            .start();
        let watcher = actix_rt::spawn(group.send(Join::new()));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !watcher.is_finished(),
            "the group still has a running child"
        );
        assert_eq!(count(&log, "stopped"), 0);
        group.send(Cancel).await.unwrap();
        assert!(
            watcher
                .await
                .unwrap()
                .unwrap()
                .error()
                .unwrap()
                .is_cancelled()
        );
    });
}

#[test]
fn a_builder_child_can_be_reached_by_name_through_the_handle_and_answers() {
    run_paused(async {
        let log = Log::default();
        let supervisor = GroupSupervisor::<()>::builder()
            .child_actor("db", plain_worker("db", &log))
            .build();
        let handle = supervisor.handle();
        let _group = supervisor.start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let db = handle.child_addr::<Worker>("db").expect("a running child");
        assert_eq!(db.send(Ping).await.unwrap(), "db");
        assert!(handle.child_addr::<Worker>("nobody").is_none());
        assert!(
            handle.child_addr::<GroupSupervisor<()>>("db").is_none(),
            "an actor of another type is not found"
        );
    });
}

#[test]
fn names_need_not_be_unique_the_lookup_returns_the_oldest_running_one() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            // The older one stops by itself after 10 ms; the newer one runs on.
            .child_actor("x", move |r| {
                Worker::new("older", Script::CompleteAfter(10), &l1, r)
            })
            .child_actor("x", move |r| {
                Worker::new("newer", Script::WhileAddressed, &l2, r)
            })
            .start();
        let x = group.send(ChildAddr::<Worker>::named("x")).await.unwrap();
        assert_eq!(x.unwrap().send(Ping).await.unwrap(), "older");

        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(count(&log, "older stopped"), 1);
        let x = group.send(ChildAddr::<Worker>::named("x")).await.unwrap();
        assert_eq!(x.unwrap().send(Ping).await.unwrap(), "newer");
    });
}

/// Asks the supervisor for a child by name from its own arbiter (another thread), pings it,
/// and tells the test the answer.
struct Asker {
    supervisor: Addr<GroupSupervisor<()>>,
    answer: Option<oneshot::Sender<Option<String>>>,
}

impl Actor for Asker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let supervisor = self.supervisor.clone();
        let answer = self.answer.take().unwrap();
        ctx.spawn(actix::fut::wrap_future(async move {
            let db = supervisor
                .send(ChildAddr::<Worker>::named("db"))
                .await
                .unwrap();
            let pong = match db {
                Some(db) => Some(db.send(Ping).await.unwrap()),
                None => None,
            };
            let _ = answer.send(pong);
        }));
    }
}

#[test]
fn a_builder_child_can_be_reached_by_name_from_an_actor_on_another_thread() {
    run_real(async {
        let log = Log::default();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("db", plain_worker("db", &log))
            .start();
        let other = Arbiter::new();
        let (answer, pong) = oneshot::channel();
        let supervisor = group.clone();
        Asker::start_in_arbiter(&other.handle(), move |_| Asker {
            supervisor,
            answer: Some(answer),
        });
        assert_eq!(pong.await.unwrap().as_deref(), Some("db"));
        assert_eq!(count(&log, "stopped"), 0);
        other.stop();
    });
}

#[test]
fn a_builder_child_can_be_reached_by_name_from_another_system_on_another_thread() {
    run_real(async {
        let log = Log::default();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("db", plain_worker("db", &log))
            .start();
        let (answer, pong) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let db = group.send(ChildAddr::<Worker>::named("db")).await.unwrap();
                let _ = answer.send(db.unwrap().send(Ping).await.unwrap());
            })
        });
        assert_eq!(pong.await.unwrap(), "db");
        thread.join().unwrap();
    });
}

#[test]
fn an_opted_in_builder_child_stops_once_the_callers_addresses_drop() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child(
                Child::actor("short", move |r| {
                    Worker::new("short", Script::WhileAddressed, &l1, r)
                })
                .stop_when_unaddressed(),
            )
            .start();
        let address = group
            .send(ChildAddr::<Worker>::named("short"))
            .await
            .unwrap();
        let address = address.expect("running while its caller may still address it");
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(address.send(Ping).await.unwrap(), "short");
        assert_eq!(count(&log, "stopped"), 0, "alive while addressed");

        drop(address);
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(count(&log, "short stopped"), 1);
        assert_eq!(
            report.children()[0].outcome().kind(),
            OutcomeKind::Completed
        );
        assert!(report.is_success());
    });
}

/// A `Send`-built actor for spawns by message (a factory sent in a message must be `Send`,
/// so it cannot hold the `Rc` log): it counts its stops in an atomic.
struct Echo {
    name: &'static str,
    stopped: Arc<AtomicUsize>,
}

impl Actor for Echo {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
    }
}

impl Handler<Ping> for Echo {
    type Result = String;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> String {
        self.name.to_owned()
    }
}

#[test]
fn an_actor_spawned_by_message_gets_an_address_that_works_and_outlives_it() {
    run_paused(async {
        let stopped = Arc::new(AtomicUsize::new(0));
        let group = GroupSupervisor::<()>::builder().start();
        let counter = Arc::clone(&stopped);
        let spawned = group
            .send(SpawnActor::named("late", move |_| Echo {
                name: "late",
                stopped: counter,
            }))
            .await
            .unwrap()
            .expect("the group takes it");
        assert_eq!(spawned.send(Ping).await.unwrap(), "late");
        drop(spawned);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            stopped.load(Ordering::SeqCst),
            0,
            "the group holds it, not its caller"
        );
        let again = group.send(ChildAddr::<Echo>::named("late")).await.unwrap();
        assert_eq!(again.unwrap().send(Ping).await.unwrap(), "late");

        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();
        assert_eq!(stopped.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_child_waiting_for_a_start_slot_has_an_address_and_its_messages_wait_for_it() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .limit(1)
            .child_actor("first", move |r| {
                Worker::new("first", Script::CompleteAfter(10), &l1, r)
            })
            .child_actor("queued", plain_worker("queued", &l2))
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let queued = group
            .send(ChildAddr::<Worker>::named("queued"))
            .await
            .unwrap();
        let queued = queued.expect("its mailbox exists from the spawn");
        assert_eq!(count(&log, "queued started"), 0, "not started yet");

        let start = tokio::time::Instant::now();
        assert_eq!(queued.send(Ping).await.unwrap(), "queued");
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(9),
            "answered once it started"
        );
        assert_eq!(events(&log, "started"), ["first started", "queued started"]);
    });
}

#[test]
fn a_stopped_child_is_no_longer_found_by_name() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let supervisor = GroupSupervisor::<()>::builder()
            .end(actix_taskgroup::EndCondition::Never)
            .child_actor("x", move |r| {
                Worker::new("x", Script::CompleteAfter(10), &l1, r)
            })
            .build();
        let handle = supervisor.handle();
        let group = supervisor.start();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(count(&log, "x stopped"), 1);
        assert!(
            group
                .send(ChildAddr::<Worker>::named("x"))
                .await
                .unwrap()
                .is_none()
        );
        assert!(handle.child_addr::<Worker>("x").is_none());
    });
}

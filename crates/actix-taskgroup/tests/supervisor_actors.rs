//! `GroupSupervisor` with actor children: panics, two-phase stop, replies, ownership.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Cancel, Child, FailureKind, GroupDone, GroupErrorKind, GroupSupervisor, Join, NotifyWhenDone,
    Outcome, Policy, SpawnActor, SpawnError, SpawnFuture,
};
use common::run_paused;
use common::worker::{Log, PanicNow, Script, Worker, count};
use tokio::time::Instant;

fn log() -> Log {
    Log::default()
}

#[test]
fn a_failing_child_stops_its_siblings_and_the_reply_comes_after_every_stopped() {
    run_paused(async {
        let log = log();
        let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .child_actor("a", move |r| Worker::new("a", Script::Idle, &l1, r))
            .child_actor("b", move |r| {
                Worker::new("b", Script::FailAfter(10), &l2, r)
            })
            .child_actor("c", move |r| Worker::new("c", Script::Idle, &l3, r))
            .start();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(
            count(&log, "stopped"),
            3,
            "every child's stopped() ran before the reply"
        );
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        let failure = error.first_failure().unwrap();
        assert_eq!(
            (failure.name(), failure.kind()),
            (Some("b"), FailureKind::Failed)
        );
        assert_eq!(failure.cause().to_string(), "b failed");
        assert_eq!(error.failures().count(), 1);
    });
}

#[test]
fn siblings_are_asked_to_stop_newest_first_and_run_stopping_and_stopped() {
    run_paused(async {
        let log = log();
        let mut builder = GroupSupervisor::<()>::builder();
        for name in ["first", "second", "third"] {
            let log = log.clone();
            builder = builder.child_actor(name, move |r| Worker::new(name, Script::Idle, &log, r));
        }
        let group = builder.start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert!(error.is_cancelled());
        let stopping: Vec<String> = log
            .borrow()
            .iter()
            .filter(|e| e.ends_with("stopping"))
            .cloned()
            .collect();
        assert_eq!(
            stopping,
            ["third stopping", "second stopping", "first stopping"]
        );
        assert_eq!(count(&log, "stopped"), 3);
    });
}

#[test]
fn a_panic_in_started_is_a_panicked_failure() {
    run_paused(async {
        let log = log();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .child_actor("steady", move |r| {
                Worker::new("steady", Script::Idle, &l1, r)
            })
            .child_actor("bad", move |r| {
                Worker::new("bad", Script::PanicInStarted, &l2, r)
            })
            .start();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        let failure = error.failure_named("bad").unwrap();
        assert_eq!(failure.kind(), FailureKind::Panicked);
        assert_eq!(failure.cause().to_string(), "bad panicked in started");
        assert_eq!(count(&log, "steady stopped"), 1);
    });
}

#[test]
fn a_panic_in_a_handler_is_a_panicked_failure() {
    run_paused(async {
        let log = log();
        let sup = GroupSupervisor::<()>::builder().build();
        let handle = sup.handle();
        let group = sup.start();
        let l1 = log.clone();
        let worker = handle
            .spawn_actor("handler", move |r| {
                Worker::new("handler", Script::Idle, &l1, r)
            })
            .unwrap();
        let l2 = log.clone();
        handle
            .spawn_actor("sibling", move |r| {
                Worker::new("sibling", Script::Idle, &l2, r)
            })
            .unwrap();
        worker.do_send(PanicNow);
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        let failure = error.failure_named("handler").unwrap();
        assert_eq!(failure.kind(), FailureKind::Panicked);
        assert_eq!(failure.cause().to_string(), "handler panicked in a handler");
        assert_eq!(count(&log, "sibling stopped"), 1);
    });
}

#[test]
fn a_panic_in_stopping_while_being_stopped_is_kept_after_the_first_failure() {
    run_paused(async {
        let log = log();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .child_actor("fragile", move |r| {
                Worker::new("fragile", Script::PanicInStopping, &l1, r)
            })
            .child_actor("trigger", move |r| {
                Worker::new("trigger", Script::FailAfter(5), &l2, r)
            })
            .start();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        let failures: Vec<_> = error.failures().map(|f| (f.name(), f.kind())).collect();
        assert_eq!(
            failures,
            [
                (Some("trigger"), FailureKind::Failed),
                (Some("fragile"), FailureKind::Panicked)
            ]
        );
    });
}

#[test]
fn a_child_that_vetoes_its_stop_is_dropped_when_the_grace_period_ends() {
    run_paused(async {
        let log = log();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .grace(Duration::from_secs(3))
            .child_actor("stubborn", move |r| {
                Worker::new("stubborn", Script::VetoStop, &l1, r)
            })
            .child_actor("polite", move |r| {
                Worker::new("polite", Script::Idle, &l2, r)
            })
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let start = Instant::now();
        group.send(Cancel).await.unwrap();
        let report = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "one grace period, not more"
        );
        assert!(report.is_cancelled());
        assert_eq!(
            count(&log, "stubborn stopped"),
            0,
            "actix never runs stopped() then"
        );
        assert_eq!(count(&log, "stubborn dropped"), 1);
        assert_eq!(count(&log, "polite stopped"), 1);
    });
}

#[test]
fn one_grace_deadline_is_shared_by_every_child() {
    run_paused(async {
        let log = log();
        let mut builder = GroupSupervisor::<()>::builder().grace(Duration::from_secs(2));
        for name in ["s1", "s2", "s3", "s4"] {
            let log = log.clone();
            builder =
                builder.child_actor(name, move |r| Worker::new(name, Script::VetoStop, &log, r));
        }
        let group = builder.start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let start = Instant::now();
        group.send(Cancel).await.unwrap();
        group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_secs(2), "never N x grace");
        assert_eq!(count(&log, "dropped"), 4);
    });
}

#[test]
fn a_child_that_opted_in_stops_once_its_addresses_are_dropped() {
    run_paused(async {
        let log = log();
        let sup = GroupSupervisor::<()>::builder().build();
        let handle = sup.handle();
        let group = sup.start();
        let l1 = log.clone();
        let id = handle
            .spawn_child(
                Child::actor("short-lived", move |r| {
                    Worker::new("short-lived", Script::WhileAddressed, &l1, r)
                })
                .stop_when_unaddressed(),
            )
            .unwrap();
        let address = handle.child_addr_of::<Worker>(id).unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(count(&log, "stopped"), 0, "alive while addressed");
        drop(address);
        let report = group.send(Join::new()).await.unwrap();
        assert!(matches!(
            report.children()[0].outcome(),
            Outcome::Completed(())
        ));
        assert_eq!(count(&log, "stopped"), 1);
    });
}

#[test]
fn an_actor_child_can_report_a_value() {
    run_paused(async {
        let log = log();
        let l1 = log.clone();
        let group = GroupSupervisor::<u32>::builder()
            .child_actor("answer", move |r| {
                let mut worker = Worker::new("answer", Script::CompleteAfter(5), &l1, r);
                worker.value = Some(42);
                worker
            })
            .child_future("future", || async { Ok::<_, anyhow::Error>(7) })
            .start();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [42, 7]);
        let child = &report.children()[0];
        let (started, stopped) = (child.started_at().unwrap(), child.stopped_at().unwrap());
        assert_eq!(stopped - started, Duration::from_millis(5));
    });
}

#[derive(Default)]
struct Listener {
    told: Rc<Cell<usize>>,
}

impl Actor for Listener {
    type Context = Context<Self>;
}

impl Handler<GroupDone<()>> for Listener {
    type Result = ();
    fn handle(&mut self, done: GroupDone<()>, _: &mut Context<Self>) {
        assert!(!done.0.is_success());
        self.told.set(self.told.get() + 1);
    }
}

#[test]
fn every_asker_gets_the_answer_once_and_a_late_asker_gets_it_at_once() {
    run_paused(async {
        let log = log();
        let l1 = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("w", move |r| {
                Worker::new("w", Script::FailAfter(10), &l1, r)
            })
            .start();
        let told = Rc::new(Cell::new(0));
        let listener = Listener { told: told.clone() }.start();
        group
            .send(NotifyWhenDone(listener.recipient()))
            .await
            .unwrap();
        let (a, b, c) = futures::join!(
            group.send(Join::new()),
            group.send(Join::new()),
            group.send(Join::new())
        );
        for answer in [a, b, c] {
            assert_eq!(answer.unwrap().error().unwrap().failures().count(), 1);
        }
        let late = group.send(Join::new()).await.unwrap();
        assert!(!late.is_success());
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(told.get(), 1, "the recipient is told exactly once");
    });
}

#[test]
fn an_asker_that_went_away_does_not_disturb_the_group() {
    run_paused(async {
        let log = log();
        let l1 = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("w", move |r| {
                Worker::new("w", Script::FailAfter(10), &l1, r)
            })
            .start();
        // This asker gives up before the answer.
        let gone = tokio::time::timeout(Duration::from_millis(1), group.send(Join::new())).await;
        assert!(gone.is_err());
        let answer = group.send(Join::new()).await.unwrap();
        assert!(!answer.is_success());
        assert_eq!(count(&log, "stopped"), 1);
    });
}

/// An actor that owns a group through its guard.
struct Parent {
    guard: Option<actix_taskgroup::SupervisorGuard<()>>,
    log: Log,
}

impl Actor for Parent {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        let mut builder = GroupSupervisor::<()>::builder();
        for name in ["c1", "c2", "c3"] {
            let log = self.log.clone();
            builder = builder.child_actor(name, move |r| Worker::new(name, Script::Idle, &log, r));
        }
        self.guard = Some(builder.start_guarded());
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct StopParent;

impl Handler<StopParent> for Parent {
    type Result = ();
    fn handle(&mut self, _: StopParent, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[test]
fn when_the_parent_stops_every_child_is_stopped() {
    run_paused(async {
        let log = log();
        let parent = Parent {
            guard: None,
            log: log.clone(),
        }
        .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(count(&log, "started"), 3);
        parent.send(StopParent).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(count(&log, "stopped"), 3, "no child outlives its parent");
    });
}

#[test]
fn the_parent_can_cancel_by_message_and_still_get_the_combined_result() {
    run_paused(async {
        let log = log();
        let l1 = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("w", move |r| Worker::new("w", Script::Idle, &l1, r))
            .child_future("f", std::future::pending::<anyhow::Result<()>>)
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(error.failures().count(), 0);
        assert_eq!(count(&log, "stopped"), 1);
    });
}

#[test]
fn spawn_by_message_from_anywhere_and_refusal_after_the_end() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder().start();
        // A `Send` factory: the actor itself (which holds an `Rc`) is built on the
        // supervisor's arbiter.
        let spawned = group
            .send(SpawnActor::named("remote", move |r| {
                Worker::new("remote", Script::FailAfter(3), &log(), r)
            }))
            .await
            .unwrap();
        assert!(spawned.is_ok());
        group
            .send(SpawnFuture::named("job", || async {
                Ok::<_, anyhow::Error>(())
            }))
            .await
            .unwrap()
            .unwrap();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(error.first_failure().unwrap().name(), Some("remote"));

        let refused = group
            .send(SpawnFuture::new(|| async { Ok::<_, anyhow::Error>(()) }))
            .await
            .unwrap();
        assert_eq!(refused, Err(SpawnError::Closed));
    });
}

#[test]
fn collect_all_keeps_every_actor_failure() {
    run_paused(async {
        let log = log();
        let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .policy(Policy::CollectAll)
            .child_actor("x", move |r| {
                Worker::new("x", Script::FailAfter(20), &l1, r)
            })
            .child_actor("y", move |r| {
                Worker::new("y", Script::FailAfter(10), &l2, r)
            })
            .child_actor("z", move |r| {
                Worker::new("z", Script::CompleteAfter(30), &l3, r)
            })
            .start();
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        let names: Vec<_> = error.failures().map(|f| f.name().unwrap()).collect();
        assert_eq!(names, ["y", "x"]);
    });
}

#[test]
fn the_system_is_healthy_afterwards_and_runs_a_new_group() {
    let system = actix_rt::System::new();
    system.block_on(async {
        let log = log();
        let l1 = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("bad", move |r| {
                Worker::new("bad", Script::PanicInStarted, &l1, r)
            })
            .start();
        assert!(!group.send(Join::new()).await.unwrap().is_success());
    });
    let values = system.block_on(async {
        let group = GroupSupervisor::<u8>::builder()
            .child_future("ok", || async { Ok::<_, anyhow::Error>(1) })
            .start();
        group.send(Join::new()).await.unwrap()
    });
    assert_eq!(values.values().copied().collect::<Vec<_>>(), [1]);
}

#[test]
fn a_factory_that_cancels_its_own_group_while_being_built_still_ends_the_group() {
    run_paused(async {
        let log = log();
        let sup = GroupSupervisor::<()>::builder().build();
        let handle = sup.handle();
        let group = sup.start();
        let l1 = log.clone();
        let inside = handle.clone();
        // The group's first child: its factory cancels the group before the child exists.
        let spawned = handle.spawn_actor("first", move |r| {
            inside.cancel();
            Worker::new("first", Script::Idle, &l1, r)
        });
        assert!(spawned.is_ok());
        let error = group
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(count(&log, "started"), 1);
        assert_eq!(count(&log, "stopped"), 1, "it was started, then stopped");
    });
}

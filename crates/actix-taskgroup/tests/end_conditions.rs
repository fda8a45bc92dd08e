//! When a group ends by itself (DESIGN §6, OTP's `auto_shutdown`): `WhenDone` (the default:
//! someone waits and no child is left), `Never` (serves until stopped; `Close` switches it
//! to when-done), `WhenMainDone` (services are stopped, `Cancelled`, once every other child
//! has ended). A refused spawn says why; a first spawn outside an actix `System` is an error,
//! not a panic.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Cancel, Child, Close, EndCondition, GroupSupervisor, Join, OutcomeKind, SpawnActor, SpawnError,
    SpawnFuture, TaskGroup,
};
use common::worker::{Log, Script, Worker, count};
use common::{DropCounter, after, run_paused};
use tokio::time::Instant;

#[test]
fn by_default_a_join_on_an_empty_supervisor_ends_it_and_later_spawns_are_refused_as_closed() {
    run_paused(async {
        let group = GroupSupervisor::<u8>::builder().start();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.is_success() && report.children().is_empty());

        let refused = group
            .send(SpawnFuture::named("late", || after(1, 1u8)))
            .await
            .unwrap();
        let error = refused.unwrap_err();
        assert_eq!(error, SpawnError::Closed);
        assert!(error.to_string().contains("has ended"), "{error}");
    });
}

#[test]
fn by_default_a_supervisor_ends_once_someone_waits_and_its_children_are_done() {
    run_paused(async {
        let start = Instant::now();
        let group = GroupSupervisor::<u8>::builder()
            .end(EndCondition::WhenDone)
            .child_future("one", || after(10, 1u8))
            .start();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(10));
        assert_eq!(report.into_result().unwrap(), [1]);
    });
}

#[test]
fn under_never_an_early_join_waits_children_arrive_by_message_and_close_ends_it_with_every_value() {
    run_paused(async {
        let group = GroupSupervisor::<u8>::builder()
            .end(EndCondition::Never)
            .start();
        let watcher = actix_rt::spawn(group.send(Join::new()));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!watcher.is_finished(), "a Join does not end an empty group");

        group
            .send(SpawnFuture::named("first", || after(5, 1u8)))
            .await
            .unwrap()
            .expect("still open");
        group
            .send(SpawnActor::named("second", |r| Completer {
                reporter: r,
                value: 2,
            }))
            .await
            .unwrap()
            .expect("still open");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !watcher.is_finished(),
            "done children do not end a group that never ends by itself"
        );
        group
            .send(SpawnFuture::named("third", || after(5, 3u8)))
            .await
            .unwrap()
            .expect("still open after its children are done");

        group.send(Close).await.unwrap();
        let report = watcher.await.unwrap().unwrap();
        assert_eq!(report.into_result().unwrap(), [1, 2, 3]);
        let refused = group
            .send(SpawnFuture::named("late", || after(1, 4u8)))
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err(), SpawnError::Closed);
    });
}

/// An actor child that completes with its value as soon as it starts (built by a `Send`
/// factory: sent by message).
struct Completer {
    reporter: actix_taskgroup::Reporter<u8>,
    value: u8,
}

impl actix::Actor for Completer {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.reporter.complete_and_stop(ctx, self.value);
    }
}

#[test]
fn under_never_a_cancel_still_ends_the_group() {
    run_paused(async {
        let group = GroupSupervisor::<u8>::builder()
            .end(EndCondition::Never)
            .child_future("done", || after(1, 1u8))
            .start();
        let watcher = actix_rt::spawn(group.send(Join::new()));
        tokio::time::sleep(Duration::from_millis(10)).await;
        group.send(Cancel).await.unwrap();
        let report = watcher.await.unwrap().unwrap();
        assert!(report.error().unwrap().is_cancelled());
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [1]);
    });
}

#[test]
fn under_when_main_done_services_are_stopped_as_cancelled_once_the_main_children_ended() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let drops = DropCounter::default();
        let token = std::cell::Cell::new(Some(drops.token()));
        let start = Instant::now();
        let group = GroupSupervisor::<u8>::builder()
            .end(EndCondition::WhenMainDone)
            .child(Child::actor("db", move |r| Worker::new("db", Script::Idle, &l1, r)).service())
            .child_future("job1", || after(10, 1u8))
            .child(
                Child::future("metrics", move || {
                    let token = token.take();
                    async move {
                        let _token = token;
                        std::future::pending::<anyhow::Result<u8>>().await
                    }
                })
                .service(),
            )
            .child_actor("job2", move |r| {
                let mut worker = Worker::new("job2", Script::CompleteAfter(30), &l2, r);
                worker.value = Some(2);
                worker
            })
            .start();
        let report = group.send(Join::new()).await.unwrap();

        assert_eq!(
            start.elapsed(),
            Duration::from_millis(30),
            "ends with the last main child"
        );
        assert!(
            report.is_success(),
            "stopped services are not failures:\n{report}"
        );
        let outcome = |name| report.child_named(name).unwrap().outcome().kind();
        assert_eq!(outcome("db"), OutcomeKind::Cancelled);
        assert_eq!(outcome("metrics"), OutcomeKind::Cancelled);
        assert_eq!(outcome("job1"), OutcomeKind::Completed);
        assert_eq!(outcome("job2"), OutcomeKind::Completed);
        assert!(report.child_named("db").unwrap().is_service());
        let db_stop = report.child_named("db").unwrap().stopped_at().unwrap();
        assert_eq!(
            db_stop,
            start + Duration::from_millis(30),
            "served until then"
        );
        assert_eq!(count(&log, "db stopped"), 1);
        assert_eq!(drops.dropped(), 1);
        assert_eq!(report.into_result().unwrap(), [1, 2]);
    });
}

#[test]
fn under_when_main_done_a_main_failure_still_fails_the_group() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .end(EndCondition::WhenMainDone)
            .child(Child::actor("db", move |r| Worker::new("db", Script::Idle, &l1, r)).service())
            .child_future("job", || common::fail_after::<()>(5, "job failed"))
            .start();
        let report = group.send(Join::new()).await.unwrap();
        let error = report.error().expect("a main child's failure is a failure");
        assert_eq!(error.first_failure().unwrap().name(), Some("job"));
        assert_eq!(error.failures().count(), 1, "the stopped service adds none");
        assert_eq!(count(&log, "db stopped"), 1);
    });
}

#[test]
fn a_spawn_while_the_group_is_stopping_is_refused_and_says_why() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let group = GroupSupervisor::<u8>::builder()
            .grace(Duration::from_secs(5))
            .child_actor("stubborn", move |r| {
                Worker::new("stubborn", Script::VetoStop, &l1, r)
            })
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        let refused = group
            .send(SpawnFuture::named("late", || after(1, 1u8)))
            .await
            .unwrap();
        let error = refused.unwrap_err();
        assert_eq!(error, SpawnError::ShuttingDown);
        assert!(error.to_string().contains("stopping"), "{error}");
        assert_ne!(error.to_string(), SpawnError::Closed.to_string());
    });
}

#[test]
fn a_first_spawn_outside_an_actix_system_is_an_error_not_a_panic() {
    let drops = DropCounter::default();
    let group = TaskGroup::<()>::new();
    let token = drops.token();
    let refused = group.spawn_named("orphan", async move {
        let _token = token;
        Ok::<_, anyhow::Error>(())
    });
    let error = refused.unwrap_err();
    assert_eq!(error, SpawnError::NoRuntime);
    assert!(error.to_string().contains("actix System"), "{error}");
    assert_eq!(drops.dropped(), 1, "the refused future is dropped unpolled");
}

#[test]
fn a_first_spawn_in_a_plain_tokio_runtime_without_actix_is_an_error_not_a_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let group = TaskGroup::<()>::new();
        let refused = group.spawn(async { Ok::<_, anyhow::Error>(()) });
        assert_eq!(refused.unwrap_err(), SpawnError::NoRuntime);
        let child = Child::future("spec", || async { Ok::<_, anyhow::Error>(()) });
        assert_eq!(group.spawn_child(child).unwrap_err(), SpawnError::NoRuntime);
    });
}

#[test]
fn a_first_spawn_outside_an_actix_system_into_a_group_with_time_and_limits_is_an_error_too() {
    let group = TaskGroup::<()>::builder()
        .deadline(Duration::from_secs(1))
        .limit(2)
        .keep_times()
        .build();
    let child = Child::future("spec", || async { Ok::<_, anyhow::Error>(()) })
        .timeout(Duration::from_secs(1))
        .attempts(3);
    assert_eq!(group.spawn_child(child).unwrap_err(), SpawnError::NoRuntime);
}

#[test]
fn a_spawn_through_a_handle_outside_an_actix_system_is_an_error_not_a_panic() {
    let group = TaskGroup::<()>::new();
    let handle = group.handle();
    let refused = handle.spawn(async { Ok::<_, anyhow::Error>(()) });
    assert_eq!(refused.unwrap_err(), SpawnError::NoRuntime);
}

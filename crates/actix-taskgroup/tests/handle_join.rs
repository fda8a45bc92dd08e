//! DESIGN §6, asking on the same arbiter: `GroupHandle::join` waits for a supervisor whose
//! values are neither `Send` nor `Clone` (which `Join` by message cannot carry) and returns
//! the report, shared, once every child has stopped. A `TaskGroup`'s handle has no report to
//! share: its owner takes the result with `join`.

mod common;

use std::rc::Rc;
use std::time::Duration;

use actix::Actor;
use actix_taskgroup::{GroupSupervisor, OutcomeKind, TaskGroup};
use common::worker::{Log, Script, Worker, count};
use common::{after, fail_after, run_paused};
use tokio::time::Instant;

/// Neither `Send` (an `Rc`) nor `Clone`. (`Default`: an actor child that stops without
/// reporting a value completes with the default.)
#[derive(Debug, Default, PartialEq)]
struct Session(Rc<str>);

#[test]
fn a_handle_join_returns_the_shared_report_of_rc_values_after_every_child_stopped() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let start = Instant::now();
        let supervisor = GroupSupervisor::<Rc<Session>>::builder()
            .child_future("alice", || async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok::<_, anyhow::Error>(Rc::new(Session(Rc::from("alice"))))
            })
            .child_actor("worker", move |r| {
                let mut worker = Worker::new("worker", Script::CompleteAfter(20), &l1, r);
                worker.value = Some(Rc::new(Session(Rc::from("bob"))));
                worker
            })
            .child_actor("short", move |r| {
                Worker::new("short", Script::CompleteAfter(10), &l2, r)
            })
            .build();
        let handle = supervisor.handle();
        let _address = supervisor.start();

        let report = handle.join().await.expect("a supervisor's handle can join");
        assert_eq!(start.elapsed(), Duration::from_millis(20));
        assert_eq!(count(&log, "stopped"), 2, "every child stopped first");
        assert_eq!(count(&log, "dropped"), 2);
        assert!(report.is_success());
        let names: Vec<&str> = report.values().map(|s| &*s.0).collect();
        assert_eq!(
            names,
            ["alice", "bob", ""],
            "short reported nothing: the default"
        );
        assert_eq!(
            report.child_named("short").unwrap().outcome().kind(),
            OutcomeKind::Completed
        );

        // A later waiter gets the same report at once.
        let again = handle.join().await.unwrap();
        assert!(Rc::ptr_eq(&report, &again));
        assert_eq!(start.elapsed(), Duration::from_millis(20));
    });
}

#[test]
fn several_handle_waiters_share_one_report_of_a_failed_group() {
    run_paused(async {
        let supervisor = GroupSupervisor::<Rc<Session>>::builder()
            .child_future("done", || async {
                Ok::<_, anyhow::Error>(Rc::new(Session(Rc::from("kept"))))
            })
            .child_future("broken", || fail_after::<Rc<Session>>(5, "lost"))
            .child_future("slow", || async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, anyhow::Error>(Rc::new(Session(Rc::from("never"))))
            })
            .build();
        let handle = supervisor.handle();
        let _address = supervisor.start();
        let (first, second) = futures::join!(handle.join(), handle.join());
        let (first, second) = (first.unwrap(), second.unwrap());
        assert!(Rc::ptr_eq(&first, &second), "one report, shared");
        let error = first.error().expect("the group failed");
        assert_eq!(error.first_failure().unwrap().name(), Some("broken"));
        let kept: Vec<&str> = first.values().map(|s| &*s.0).collect();
        assert_eq!(
            kept,
            ["kept"],
            "the completed value is in the failed group's report"
        );
        assert!(first.child_named("slow").unwrap().outcome().is_cancelled());
    });
}

#[test]
fn a_handle_join_waits_for_children_spawned_through_the_handle() {
    run_paused(async {
        let supervisor = GroupSupervisor::<Rc<Session>>::builder().build();
        let handle = supervisor.handle();
        let _address = supervisor.start();
        handle
            .spawn_named("late", async {
                tokio::time::sleep(Duration::from_millis(7)).await;
                Ok::<_, anyhow::Error>(Rc::new(Session(Rc::from("late"))))
            })
            .unwrap();
        let start = Instant::now();
        let report = handle.join().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(7));
        assert_eq!(report.values().count(), 1);
    });
}

#[test]
fn a_taskgroups_handle_join_returns_none() {
    run_paused(async {
        let group = TaskGroup::<u8>::new();
        group.spawn(after(5, 1)).unwrap();
        let handle = group.handle();
        let start = Instant::now();
        assert!(handle.join().await.is_none());
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "answered at once, without waiting"
        );
        assert_eq!(
            group.join().await.unwrap(),
            [1],
            "the owner still gets the values"
        );
    });
}

#[test]
fn a_handle_join_on_a_dropped_supervisor_returns_none() {
    run_paused(async {
        let supervisor = GroupSupervisor::<Rc<Session>>::builder().build();
        let handle = supervisor.handle();
        drop(supervisor);
        assert!(handle.join().await.is_none());
    });
}

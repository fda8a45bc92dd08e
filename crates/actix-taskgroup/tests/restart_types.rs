//! R12: restart types. Each of temporary, transient and permanent, after a normal exit, an
//! error and a panic, for actor children and for future children.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_taskgroup::{
    Child, FailureKind, GroupSupervisor, Join, Outcome, OutcomeKind, Restart, TaskGroup,
};
use common::run_paused;
use common::worker::{Log, Script, Worker, count};

#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Normal,
    Error,
    Panic,
}

impl End {
    fn script(self) -> Script {
        match self {
            End::Normal => Script::CompleteAfter(1),
            End::Error => Script::FailAfter(1),
            End::Panic => Script::PanicAfter(1),
        }
    }
}

/// The first incarnation ends as `end`; later ones run until stopped. Returns how many
/// incarnations started and the child's final outcome kind.
fn actor_incarnations(restart: Restart, end: End) -> (usize, OutcomeKind, u32) {
    run_paused(async move {
        let log = Log::default();
        let l = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child(
                Child::actor("w", move |r| {
                    let script = if r.attempt() == 1 {
                        end.script()
                    } else {
                        Script::Idle
                    };
                    Worker::new(&format!("w{}", r.attempt()), script, &l, r)
                })
                .restart(restart),
            )
            .start();
        tokio::time::sleep(Duration::from_secs(1)).await;
        group.send(actix_taskgroup::Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        let child = &report.children()[0];
        (
            count(&log, "started"),
            child.outcome().kind(),
            child.attempts(),
        )
    })
}

#[test]
fn a_temporary_actor_is_never_restarted() {
    for end in [End::Normal, End::Error, End::Panic] {
        let (started, _, attempts) = actor_incarnations(Restart::Temporary, end);
        assert_eq!((started, attempts), (1, 1), "{end:?}");
    }
}

#[test]
fn a_transient_actor_is_restarted_after_a_failure_only() {
    assert_eq!(actor_incarnations(Restart::Transient, End::Normal).0, 1);
    assert_eq!(actor_incarnations(Restart::Transient, End::Error).0, 2);
    assert_eq!(actor_incarnations(Restart::Transient, End::Panic).0, 2);
}

#[test]
fn a_permanent_actor_is_restarted_after_any_end() {
    for end in [End::Normal, End::Error, End::Panic] {
        let (started, outcome, attempts) = actor_incarnations(Restart::Permanent, end);
        assert_eq!((started, attempts), (2, 2), "{end:?}");
        // The second incarnation was cancelled by the group's stop.
        assert_eq!(outcome, OutcomeKind::Cancelled, "{end:?}");
    }
}

/// The same matrix for future children in a `TaskGroup`.
fn future_incarnations(restart: Restart, end: End) -> (u32, OutcomeKind) {
    run_paused(async move {
        let started = Rc::new(Cell::new(0u32));
        let counter = Rc::clone(&started);
        let group = TaskGroup::<u32>::new();
        group
            .spawn_child(
                Child::future("f", move || {
                    let counter = Rc::clone(&counter);
                    async move {
                        counter.set(counter.get() + 1);
                        if counter.get() == 1 {
                            match end {
                                End::Normal => return Ok(1),
                                End::Error => anyhow::bail!("broke"),
                                End::Panic => panic!("broke"),
                            }
                        }
                        std::future::pending::<()>().await;
                        Ok(2)
                    }
                })
                .restart(restart),
            )
            .unwrap();
        let handle = group.handle();
        tokio::time::sleep(Duration::from_secs(1)).await;
        handle.cancel();
        let report = group.join_report().await;
        (started.get(), report.children()[0].outcome().kind())
    })
}

#[test]
fn future_children_follow_the_same_restart_types() {
    use OutcomeKind::*;
    let cases = [
        (Restart::Temporary, End::Normal, 1, Completed),
        (Restart::Temporary, End::Error, 1, Failed),
        (Restart::Temporary, End::Panic, 1, Panicked),
        (Restart::Transient, End::Normal, 1, Completed),
        (Restart::Transient, End::Error, 2, Cancelled),
        (Restart::Transient, End::Panic, 2, Cancelled),
        (Restart::Permanent, End::Normal, 2, Cancelled),
        (Restart::Permanent, End::Error, 2, Cancelled),
        (Restart::Permanent, End::Panic, 2, Cancelled),
    ];
    for (restart, end, incarnations, outcome) in cases {
        assert_eq!(
            future_incarnations(restart, end),
            (incarnations, outcome),
            "{restart:?} after {end:?}"
        );
    }
}

#[test]
fn the_attempt_limit_makes_the_last_failure_the_outcome_and_triggers_fail_fast() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .child_actor("steady", move |r| {
                Worker::new("steady", Script::Idle, &l1, r)
            })
            .child(
                Child::actor("flaky", move |r| {
                    Worker::new(
                        &format!("flaky{}", r.attempt()),
                        Script::FailAfter(5),
                        &l2,
                        r,
                    )
                })
                .restart(Restart::Transient)
                .attempts(3),
            )
            .start();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(
            count(&log, "flaky1 started") + count(&log, "flaky2 started"),
            2
        );
        assert_eq!(count(&log, "flaky3 started"), 1);
        assert_eq!(count(&log, "flaky4 started"), 0, "at most three attempts");
        let flaky = report.child_named("flaky").unwrap();
        assert_eq!(flaky.attempts(), 3);
        assert!(
            matches!(flaky.outcome(), Outcome::Failed(cause) if cause.to_string() == "flaky3 failed")
        );
        assert_eq!(
            flaky.recent_failures().len(),
            3,
            "the causes of the last attempts"
        );
        // The last failure is an ordinary failure: fail-fast stops the sibling.
        let error = report.error().unwrap();
        assert_eq!(error.failures().count(), 1);
        assert_eq!(error.first_failure().unwrap().kind(), FailureKind::Failed);
        assert!(
            report
                .child_named("steady")
                .unwrap()
                .outcome()
                .is_cancelled()
        );
    });
}

#[test]
fn attempts_on_a_temporary_child_retry_its_failures() {
    run_paused(async {
        let tries = Rc::new(Cell::new(0));
        let counter = Rc::clone(&tries);
        let group = TaskGroup::<u32>::new();
        group
            .spawn_child(
                Child::future("retried", move || {
                    let counter = Rc::clone(&counter);
                    async move {
                        counter.set(counter.get() + 1);
                        anyhow::ensure!(counter.get() == 3, "try {}", counter.get());
                        Ok(7)
                    }
                })
                .attempts(4),
            )
            .unwrap();
        assert_eq!(group.join().await.unwrap(), [7]);
        assert_eq!(tries.get(), 3);
    });
}

#[test]
fn a_restarted_failure_stops_nobody() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .intensity(10, Duration::from_secs(60))
            .child_actor("steady", move |r| {
                Worker::new("steady", Script::Idle, &l1, r)
            })
            .child(
                Child::actor("flaky", move |r| {
                    let script = if r.attempt() < 4 {
                        Script::FailAfter(10)
                    } else {
                        Script::Idle
                    };
                    Worker::new(&format!("flaky{}", r.attempt()), script, &l2, r)
                })
                .restart(Restart::Transient),
            )
            .start();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(count(&log, "flaky4 started"), 1);
        assert_eq!(count(&log, "steady stopping"), 0, "fail-fast did not fire");
        group.send(actix_taskgroup::Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        let error = report.error().unwrap();
        assert!(error.is_cancelled());
        assert_eq!(
            error.failures().count(),
            0,
            "absorbed failures are not group failures"
        );
        assert_eq!(report.child_named("flaky").unwrap().attempts(), 4);
    });
}

#[test]
fn a_group_of_permanent_children_ends_only_when_stopped() {
    run_paused(async {
        let runs = Rc::new(Cell::new(0));
        let counter = Rc::clone(&runs);
        let group = GroupSupervisor::<()>::builder()
            .intensity(1000, Duration::from_secs(1))
            .child(
                Child::future("ticker", move || {
                    let counter = Rc::clone(&counter);
                    async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        counter.set(counter.get() + 1);
                        Ok::<_, anyhow::Error>(())
                    }
                })
                .restart(Restart::Permanent),
            )
            .start();
        let join = group.send(Join::new());
        tokio::time::sleep(Duration::from_millis(1050)).await;
        group.do_send(actix_taskgroup::Cancel);
        let report = join.await.unwrap();
        assert_eq!(runs.get(), 10, "completed ten times, restarted after each");
        assert!(report.error().unwrap().is_cancelled());
    });
}

#[test]
fn the_system_runs_a_fresh_group_after_restarts() {
    run_paused(async {
        let group = GroupSupervisor::<u8>::builder()
            .intensity(0, Duration::from_secs(1))
            .child(
                Child::future("f", || async { anyhow::bail!("always") })
                    .restart(Restart::Permanent),
            )
            .start();
        assert!(!group.send(Join::new()).await.unwrap().is_success());
        let fresh = TaskGroup::new();
        fresh.spawn(async { Ok::<_, anyhow::Error>(5u8) }).unwrap();
        assert_eq!(fresh.join().await.unwrap(), [5]);
    });
}

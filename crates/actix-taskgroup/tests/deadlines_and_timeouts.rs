//! R13: the group deadline (partial results, a real failure ranks above it, restarts and
//! queued children bounded by it) and per-child timeouts (from each incarnation's start).

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actix_taskgroup::{
    Backoff, Child, FailureKind, GroupErrorKind, GroupSupervisor, Join, Outcome, OutcomeKind,
    Restart, TaskGroup,
};
use common::worker::{Log, Script, Worker, count};
use common::{after, fail_after, run_paused};
use tokio::time::Instant;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn the_deadline_cancels_what_still_runs_and_keeps_the_partial_results() {
    run_paused(async {
        let start = Instant::now();
        let group = TaskGroup::builder().deadline(ms(150)).build();
        group.spawn_named("fast", after(50, 1)).unwrap();
        group.spawn_named("medium", after(100, 2)).unwrap();
        group.spawn_named("slow", after(500, 3)).unwrap();
        let report = group.join_report().await;
        assert_eq!(start.elapsed(), ms(150));
        let error = report.error().unwrap();
        assert_eq!(error.kind(), GroupErrorKind::TimedOut);
        assert!(error.is_timed_out());
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [1, 2]);
        assert!(report.child_named("slow").unwrap().outcome().is_cancelled());
    });
}

#[test]
fn the_deadline_runs_from_when_a_task_group_is_built() {
    run_paused(async {
        let group = TaskGroup::<()>::builder().deadline(ms(100)).build();
        tokio::time::sleep(ms(80)).await;
        let start = Instant::now();
        group
            .spawn(async {
                tokio::time::sleep(ms(1000)).await;
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        let error = group.join().await.unwrap_err();
        assert!(error.is_timed_out());
        assert_eq!(start.elapsed(), ms(20));
    });
}

#[test]
fn an_instant_deadline_works_too() {
    run_paused(async {
        let at = Instant::now() + ms(70);
        let group = TaskGroup::<()>::builder().deadline_at(at).build();
        group
            .spawn(async {
                tokio::time::sleep(ms(1000)).await;
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        assert!(group.join().await.unwrap_err().is_timed_out());
        assert_eq!(Instant::now(), at);
    });
}

#[test]
fn a_supervisors_deadline_stops_actors_gracefully_and_runs_from_its_start() {
    run_paused(async {
        let log = Log::default();
        let l = log.clone();
        let builder = GroupSupervisor::<()>::builder()
            .deadline(ms(200))
            .child_actor("idle", move |r| Worker::new("idle", Script::Idle, &l, r));
        tokio::time::sleep(ms(500)).await; // not started yet: the clock has not begun
        let start = Instant::now();
        let group = builder.start();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(start.elapsed(), ms(200));
        assert!(report.error().unwrap().is_timed_out());
        assert_eq!(
            count(&log, "idle stopped"),
            1,
            "two-phase: stopped gracefully"
        );
    });
}

#[test]
fn a_real_failure_before_the_deadline_ranks_above_it() {
    run_paused(async {
        let group = TaskGroup::<u8>::builder().deadline(ms(100)).build();
        group.spawn_named("breaks", fail_after(50, "boom")).unwrap();
        group.spawn_named("slow", after(500, 1)).unwrap();
        let error = group.join().await.unwrap_err();
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        assert_eq!(error.failures().count(), 1);
    });
}

#[test]
fn a_failure_while_the_deadline_stops_the_children_ranks_above_it() {
    run_paused(async {
        let log = Log::default();
        let l = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .deadline(ms(100))
            .child_actor("fragile", move |r| {
                Worker::new("fragile", Script::PanicInStopping, &l, r)
            })
            .start();
        let report = group.send(Join::new()).await.unwrap();
        let error = report.error().unwrap();
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        assert_eq!(error.first_failure().unwrap().kind(), FailureKind::Panicked);
    });
}

#[test]
fn the_deadline_cuts_off_a_child_in_restart_backoff() {
    run_paused(async {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let recorded = Rc::clone(&starts);
        let group = TaskGroup::<()>::builder()
            .deadline(ms(500))
            .backoff(Backoff::constant(Duration::from_secs(60)))
            .build();
        group
            .spawn_child(
                Child::future("flaky", move || {
                    recorded.borrow_mut().push(Instant::now());
                    fail_after(10, "down")
                })
                .restart(Restart::Permanent),
            )
            .unwrap();
        let start = Instant::now();
        let report = group.join_report().await;
        assert_eq!(
            start.elapsed(),
            ms(500),
            "the backoff does not hold the group"
        );
        assert!(report.error().unwrap().is_timed_out());
        assert_eq!(starts.borrow().len(), 1);
        assert!(report.children()[0].outcome().is_cancelled());
    });
}

#[test]
fn a_child_timeout_makes_it_timed_out_and_triggers_fail_fast() {
    run_paused(async {
        let group = TaskGroup::<u8>::new();
        group
            .spawn_child(Child::future("stuck", || after(1000, 1)).timeout(ms(100)))
            .unwrap();
        group.spawn_named("sibling", after(5000, 2)).unwrap();
        let start = Instant::now();
        let report = group.join_report().await;
        assert_eq!(start.elapsed(), ms(100));
        let stuck = report.child_named("stuck").unwrap();
        assert!(matches!(stuck.outcome(), Outcome::TimedOut));
        let error = report.error().unwrap();
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        assert_eq!(error.first_failure().unwrap().kind(), FailureKind::TimedOut);
        assert!(
            report
                .child_named("sibling")
                .unwrap()
                .outcome()
                .is_cancelled()
        );
    });
}

#[test]
fn a_timed_out_actor_is_stopped_gracefully_then_forced() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .grace(ms(300))
            .child(
                Child::actor("slow", move |r| Worker::new("slow", Script::Idle, &l1, r))
                    .timeout(ms(100)),
            )
            .child(
                Child::actor("stubborn", move |r| {
                    Worker::new("stubborn", Script::VetoStop, &l2, r)
                })
                .timeout(ms(200))
                .best_effort(),
            )
            .start();
        let start = Instant::now();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(count(&log, "slow stopped"), 1);
        assert_eq!(
            report.child_named("slow").unwrap().outcome().kind(),
            OutcomeKind::TimedOut
        );
        // fail-fast at 100 ms stops the stubborn one; forced at 100 + 300 ms.
        assert_eq!(start.elapsed(), ms(400));
        assert_eq!(count(&log, "stubborn dropped"), 1);
    });
}

#[test]
fn a_per_child_timeout_runs_from_each_incarnation_and_a_transient_child_restarts_after_it() {
    run_paused(async {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let recorded = Rc::clone(&starts);
        let group = TaskGroup::<u8>::builder()
            .backoff(Backoff::constant(ms(1000)))
            .build();
        group
            .spawn_child(
                Child::future("slowish", move || {
                    let n = {
                        let mut starts = recorded.borrow_mut();
                        starts.push(Instant::now());
                        starts.len()
                    };
                    // The first two attempts hang; the third answers in 50 ms.
                    after(if n < 3 { 10_000 } else { 50 }, n as u8)
                })
                .timeout(ms(100))
                .restart(Restart::Transient),
            )
            .unwrap();
        let start = Instant::now();
        assert_eq!(group.join().await.unwrap(), [3]);
        // 100 ms timeout, 1 s backoff (not counted by the timeout), twice; then 50 ms.
        assert_eq!(start.elapsed(), ms(100 + 1000 + 100 + 1000 + 50));
        let starts = starts.borrow();
        assert_eq!(starts[1] - starts[0], ms(1100));
    });
}

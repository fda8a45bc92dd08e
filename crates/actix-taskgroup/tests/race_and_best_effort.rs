//! §3 policies: FirstSuccess (a race) and best-effort children.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Child, GroupSupervisor, Join, Outcome, OutcomeKind, Policy, Restart, TaskGroup,
};
use common::worker::{Log, Script, Worker, count};
use common::{DropCounter, after, fail_after, forever, run_paused};
use tokio::time::Instant;

#[test]
fn the_first_to_complete_wins_and_every_other_is_cancelled() {
    run_paused(async {
        let drops = DropCounter::default();
        let group = TaskGroup::builder().policy(Policy::FirstSuccess).build();
        group.spawn_named("slow", after(300, "slow")).unwrap();
        group.spawn_named("fast", after(100, "fast")).unwrap();
        group.spawn_named("hangs", forever(drops.token())).unwrap();
        let start = Instant::now();
        assert_eq!(group.race().await.unwrap(), "fast");
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(drops.dropped(), 1, "the losers are dropped");
    });
}

#[test]
fn a_failure_cancels_nothing_in_a_race() {
    run_paused(async {
        let group = TaskGroup::builder().policy(Policy::FirstSuccess).build();
        group
            .spawn_named("broken", fail_after::<u8>(10, "refused"))
            .unwrap();
        group.spawn_named("mirror", after(50, 2u8)).unwrap();
        let report = group.join_report().await;
        assert!(report.is_success(), "a winner: the race succeeded");
        assert_eq!(report.winner().unwrap().name(), Some("mirror"));
        assert_eq!(
            report.child_named("broken").unwrap().outcome().kind(),
            OutcomeKind::Failed
        );
    });
}

#[test]
fn if_every_child_fails_the_error_lists_every_failure() {
    run_paused(async {
        let group = TaskGroup::<u8>::builder()
            .policy(Policy::FirstSuccess)
            .build();
        group.spawn_named("a", fail_after(10, "a down")).unwrap();
        group.spawn_named("b", fail_after(30, "b down")).unwrap();
        group.spawn_named("c", fail_after(20, "c down")).unwrap();
        let error = group.race().await.unwrap_err();
        let names: Vec<_> = error.failures().map(|f| f.name().unwrap()).collect();
        assert_eq!(names, ["a", "c", "b"], "in order of occurrence");
    });
}

#[test]
fn a_winner_and_a_failure_in_the_same_tick_the_winner_stands() {
    run_paused(async {
        let group = TaskGroup::builder().policy(Policy::FirstSuccess).build();
        group
            .spawn_named("fails", fail_after::<&str>(10, "late failure"))
            .unwrap();
        group.spawn_named("wins", after(10, "won")).unwrap();
        let report = group.join_report().await;
        assert!(report.is_success());
        assert_eq!(report.winner().unwrap().name(), Some("wins"));
        // The failure came first in the same tick: it is recorded, it changes nothing.
        assert!(report.child_named("fails").unwrap().outcome().is_failure());
    });
}

#[test]
fn a_race_of_actors_stops_the_losers_gracefully_and_names_the_winner() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<u32>::builder()
            .policy(Policy::FirstSuccess)
            .child_actor("loser", move |r| Worker::new("loser", Script::Idle, &l1, r))
            .child_actor("winner", move |r| {
                let mut worker = Worker::new("winner", Script::CompleteAfter(20), &l2, r);
                worker.value = Some(9);
                worker
            })
            .start();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.is_success());
        assert_eq!(report.winner().unwrap().name(), Some("winner"));
        assert!(matches!(
            report.winner().unwrap().outcome(),
            Outcome::Completed(9)
        ));
        assert_eq!(count(&log, "loser stopped"), 1, "stopped gracefully");
        assert!(
            report
                .child_named("loser")
                .unwrap()
                .outcome()
                .is_cancelled()
        );
    });
}

#[test]
fn an_empty_race_has_no_winner() {
    run_paused(async {
        let group = TaskGroup::<u8>::builder()
            .policy(Policy::FirstSuccess)
            .build();
        let error = group.race().await.unwrap_err();
        assert_eq!(error.failures().count(), 0);
        assert_eq!(error.to_string(), "task group failed: no child completed");
    });
}

#[test]
fn a_best_effort_failure_under_fail_fast_cancels_nothing_and_leaves_the_result_ok() {
    run_paused(async {
        let group = TaskGroup::<u8>::new();
        group
            .spawn_child(Child::future("warmup", || fail_after(10, "cache cold")).best_effort())
            .unwrap();
        group.spawn_named("work", after(100, 1)).unwrap();
        let report = group.join_report().await;
        assert!(report.is_success());
        let warmup = report.child_named("warmup").unwrap();
        assert!(warmup.is_best_effort());
        assert!(
            matches!(warmup.outcome(), Outcome::Failed(cause) if cause.to_string() == "cache cold")
        );
        assert!(report.child_named("work").unwrap().outcome().is_completed());
        assert_eq!(report.into_result().unwrap(), [1]);
    });
}

#[test]
fn a_best_effort_value_is_in_the_report_not_in_the_joined_values() {
    run_paused(async {
        let group = TaskGroup::<u8>::new();
        group
            .spawn_child(Child::future("extra", || after(1, 7)).best_effort())
            .unwrap();
        group.spawn_named("main", after(1, 1)).unwrap();
        assert_eq!(group.join().await.unwrap(), [1]);
    });
}

#[test]
fn a_failing_best_effort_child_is_not_in_the_group_error_of_a_failed_group() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .policy(Policy::CollectAll)
            .child(Child::future("optional", || fail_after(5, "meh")).best_effort())
            .child_future("required", || fail_after(10, "fatal"))
            .start();
        let report = group.send(Join::new()).await.unwrap();
        let error = report.error().unwrap();
        let names: Vec<_> = error.failures().map(|f| f.name().unwrap()).collect();
        assert_eq!(names, ["required"]);
        assert_eq!(report.failures().count(), 2, "the report has both");
    });
}

#[test]
fn a_best_effort_restartable_child_restarts_and_its_last_failure_triggers_nothing() {
    run_paused(async {
        let group = TaskGroup::<u8>::new();
        group
            .spawn_child(
                Child::future("flaky", || fail_after(5, "nope"))
                    .best_effort()
                    .restart(Restart::Transient)
                    .attempts(3),
            )
            .unwrap();
        group.spawn_named("main", after(100, 1)).unwrap();
        let report = group.join_report().await;
        assert!(report.is_success());
        assert_eq!(report.child_named("flaky").unwrap().attempts(), 3);
    });
}

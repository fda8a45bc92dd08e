//! R9: the combined reply is complete whether the group succeeded or failed: every child's
//! outcome, its start and stop times, every completed value, and the error. The same report
//! comes from `Join`, `NotifyWhenDone` and `TaskGroup::join_report`, and a nested group's
//! entry keeps the inner report, so that the whole tree can be walked.

mod common;

use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Cancel, Child, ChildKind, GroupDone, GroupErrorKind, GroupReport, GroupSupervisor,
    GroupSupervisorBuilder, Join, NotifyWhenDone, OutcomeKind, TaskGroup,
};
use common::worker::{Log, Script, Worker, count};
use common::{DropCounter, after, fail_after, forever, run_paused};
use futures::channel::oneshot;
use tokio::time::Instant;

/// Five children: two complete (at 5 and 10 ms), one fails at 20 ms, two are cancelled.
fn mixed_group(log: &Log, drops: &DropCounter) -> GroupSupervisorBuilder<u32> {
    let (l1, l2) = (log.clone(), log.clone());
    let token = drops.token();
    GroupSupervisor::<u32>::builder()
        .name("mixed")
        .child_future("quick", || after(5, 1))
        .child_actor("answer", move |r| {
            let mut worker = Worker::new("answer", Script::CompleteAfter(10), &l1, r);
            worker.value = Some(2);
            worker
        })
        .child_future("broken", || fail_after(20, "boom"))
        .child_actor("idle", move |r| Worker::new("idle", Script::Idle, &l2, r))
        .child_future("waiting", move || forever(token))
}

/// Asserts what `mixed_group`'s report must say, the group having started at `start`.
fn assert_complete_failed_report(report: &GroupReport<u32>, start: Instant) {
    let error = report.error().expect("the group failed");
    assert_eq!(error.kind(), GroupErrorKind::Failed);
    assert_eq!(error.failures().count(), 1);
    assert_eq!(error.first_failure().unwrap().name(), Some("broken"));

    let summary: Vec<(&str, ChildKind, OutcomeKind)> = report
        .children()
        .iter()
        .map(|c| (c.name().unwrap(), c.kind(), c.outcome().kind()))
        .collect();
    assert_eq!(
        summary,
        [
            ("quick", ChildKind::Future, OutcomeKind::Completed),
            ("answer", ChildKind::Actor, OutcomeKind::Completed),
            ("broken", ChildKind::Future, OutcomeKind::Failed),
            ("idle", ChildKind::Actor, OutcomeKind::Cancelled),
            ("waiting", ChildKind::Future, OutcomeKind::Cancelled),
        ]
    );
    assert_eq!(report.values().copied().collect::<Vec<_>>(), [1, 2]);
    let cause = report.child_named("broken").unwrap().outcome().cause();
    assert_eq!(cause.unwrap().to_string(), "boom");

    let ms = Duration::from_millis;
    for (child, stopped) in report.children().iter().zip([5, 10, 20, 20, 20]) {
        assert_eq!(child.started_at(), Some(start), "{:?}", child.name());
        assert_eq!(
            child.stopped_at(),
            Some(start + ms(stopped)),
            "{:?}",
            child.name()
        );
    }
    assert_eq!(report.finished_at(), Some(start + ms(20)));
}

#[test]
fn a_failed_supervisors_join_reply_lists_every_outcome_time_and_value_with_the_error() {
    run_paused(async {
        let (log, drops) = (Log::default(), DropCounter::default());
        let start = Instant::now();
        let group = mixed_group(&log, &drops).start();
        let report = group.send(Join::new()).await.unwrap();

        assert_complete_failed_report(&report, start);
        assert_eq!(count(&log, "idle stopped"), 1, "stopped before the reply");
        assert_eq!(
            drops.dropped(),
            1,
            "the cancelled future was dropped before the reply"
        );
        assert!(report.into_result().is_err());
    });
}

#[test]
fn every_asker_keeps_a_whole_report_when_another_takes_its_own_apart() {
    run_paused(async {
        let group = GroupSupervisor::<String>::builder()
            .child_future("a", || async { Ok::<_, anyhow::Error>("one".to_owned()) })
            .child_future("b", || async { Ok::<_, anyhow::Error>("two".to_owned()) })
            .start();
        let (first, second) = futures::join!(group.send(Join::new()), group.send(Join::new()));
        let (first, second) = (first.unwrap(), second.unwrap());
        // Taking one apart copies the values out: the other and the supervisor's stay whole.
        assert_eq!(first.into_result().unwrap(), ["one", "two"]);
        assert_eq!(second.values().cloned().collect::<Vec<_>>(), ["one", "two"]);
        let children = second.into_children();
        assert_eq!(children.len(), 2);
        assert_eq!(
            children[1].outcome().value().map(String::as_str),
            Some("two")
        );
        let late = group.send(Join::new()).await.unwrap();
        assert_eq!(late.into_result().unwrap(), ["one", "two"]);
    });
}

/// Forwards the report it is told to the test.
struct Listener(Option<oneshot::Sender<GroupReport<u32>>>);

impl Actor for Listener {
    type Context = Context<Self>;
}

impl Handler<GroupDone<u32>> for Listener {
    type Result = ();

    fn handle(&mut self, GroupDone(report): GroupDone<u32>, _: &mut Context<Self>) {
        let _ = self.0.take().expect("told once").send(report);
    }
}

#[test]
fn notify_when_done_tells_the_same_complete_report() {
    run_paused(async {
        let (log, drops) = (Log::default(), DropCounter::default());
        let start = Instant::now();
        let group = mixed_group(&log, &drops).start();
        let (told, report) = oneshot::channel();
        let listener = Listener(Some(told)).start();
        group
            .send(NotifyWhenDone(listener.recipient()))
            .await
            .unwrap();
        let report = report.await.expect("the listener is told");
        assert_complete_failed_report(&report, start);
    });
}

#[test]
fn a_taskgroups_join_report_is_the_same_complete_report() {
    run_paused(async {
        let drops = DropCounter::default();
        let start = Instant::now();
        let group = TaskGroup::<u32>::builder().keep_times().build();
        group.spawn_named("quick", after(5, 1)).unwrap();
        group.spawn_named("second", after(10, 2)).unwrap();
        group.spawn_named("broken", fail_after(20, "boom")).unwrap();
        group
            .spawn_named("waiting", forever(drops.token()))
            .unwrap();
        let report: GroupReport<u32> = group.join_report().await;

        assert_eq!(report.error().unwrap().kind(), GroupErrorKind::Failed);
        let outcomes: Vec<OutcomeKind> = report
            .children()
            .iter()
            .map(|c| c.outcome().kind())
            .collect();
        assert_eq!(
            outcomes,
            [
                OutcomeKind::Completed,
                OutcomeKind::Completed,
                OutcomeKind::Failed,
                OutcomeKind::Cancelled
            ]
        );
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [1, 2]);
        let stops: Vec<Duration> = report
            .children()
            .iter()
            .map(|c| c.stopped_at().unwrap() - c.started_at().unwrap())
            .collect();
        let ms = Duration::from_millis;
        assert_eq!(stops, [ms(5), ms(10), ms(20), ms(20)]);
        assert!(
            report
                .children()
                .iter()
                .all(|c| c.started_at() == Some(start))
        );
        assert_eq!(drops.dropped(), 1);
    });
}

#[test]
fn a_cancelled_supervisors_reply_keeps_the_values_that_completed() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let group = GroupSupervisor::<u32>::builder()
            .child_future("done", || after(1, 9))
            .child_actor("idle", move |r| Worker::new("idle", Script::Idle, &l1, r))
            .start();
        tokio::time::sleep(Duration::from_millis(5)).await;
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.error().unwrap().is_cancelled());
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [9]);
        assert!(report.child_named("idle").unwrap().outcome().is_cancelled());
    });
}

/// root ─ front (future, 7)
///      └ mid (group) ─ m-ok (future)
///                    └ leaf (group) ─ worker (actor, fails at 5 ms)
///                                   └ w-idle (actor, cancelled)
fn three_level_tree(log: &Log, leaf_fails: bool) -> GroupSupervisorBuilder<u32> {
    let (l1, l2) = (log.clone(), log.clone());
    let script = if leaf_fails {
        Script::FailAfter(5)
    } else {
        Script::CompleteAfter(5)
    };
    let leaf = GroupSupervisor::<()>::builder()
        .name("leaf")
        .child_actor("worker", move |r| Worker::new("worker", script, &l1, r))
        .child_actor("w-idle", move |r| {
            let script = if leaf_fails {
                Script::Idle
            } else {
                Script::CompleteAfter(1)
            };
            Worker::new("w-idle", script, &l2, r)
        });
    let mid = GroupSupervisor::<u8>::builder()
        .name("mid")
        .child_future("m-ok", || after(1, 1u8))
        .child_group("leaf", leaf, |_| 2u8);
    GroupSupervisor::<u32>::builder()
        .name("root")
        .child_future("front", || after(1, 7))
        .child_group("mid", mid, |values: Vec<u8>| values.len() as u32)
}

fn outcome_of(report: &GroupReport<()>, name: &str) -> OutcomeKind {
    report.child_named(name).unwrap().outcome().kind()
}

#[test]
fn a_failed_nested_groups_entry_keeps_its_inner_report_three_levels_deep() {
    run_paused(async {
        let log = Log::default();
        let start = Instant::now();
        let report = three_level_tree(&log, true)
            .start()
            .send(Join::new())
            .await
            .unwrap();
        assert!(!report.is_success());
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [7]);

        let mid_entry = report.child_named("mid").unwrap();
        assert_eq!(mid_entry.kind(), ChildKind::Group);
        assert!(mid_entry.outcome().is_failure());
        let mid = mid_entry
            .nested()
            .expect("the failed group's report is kept");
        assert_eq!(mid.name(), Some("mid"));
        assert_eq!(outcome_of(mid, "m-ok"), OutcomeKind::Completed);
        assert_eq!(outcome_of(mid, "leaf"), OutcomeKind::Failed);

        let leaf_entry = mid.child_named("leaf").unwrap();
        let leaf = leaf_entry.nested().expect("kept at the second level too");
        assert_eq!(leaf.name(), Some("leaf"));
        assert_eq!(outcome_of(leaf, "worker"), OutcomeKind::Failed);
        assert_eq!(outcome_of(leaf, "w-idle"), OutcomeKind::Cancelled);
        let worker = leaf.child_named("worker").unwrap();
        assert_eq!(
            worker.outcome().cause().unwrap().to_string(),
            "worker failed"
        );
        assert_eq!(worker.started_at(), Some(start));
        assert_eq!(worker.stopped_at(), Some(start + Duration::from_millis(5)));
        assert!(leaf.error().is_some() && mid.error().is_some());
    });
}

#[test]
fn a_successful_nested_groups_entry_keeps_its_inner_report_too() {
    run_paused(async {
        let log = Log::default();
        let report = three_level_tree(&log, false)
            .start()
            .send(Join::new())
            .await
            .unwrap();
        assert!(report.is_success(), "{report}");
        let mid = report.child_named("mid").unwrap().nested().unwrap();
        assert!(mid.is_success());
        assert_eq!(outcome_of(mid, "m-ok"), OutcomeKind::Completed);
        let leaf = mid.child_named("leaf").unwrap().nested().unwrap();
        assert_eq!(outcome_of(leaf, "worker"), OutcomeKind::Completed);
        assert_eq!(outcome_of(leaf, "w-idle"), OutcomeKind::Completed);
        assert_eq!(report.into_result().unwrap(), [7, 2]);
    });
}

#[test]
fn a_restartable_nested_group_spec_keeps_its_inner_report() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let root = GroupSupervisor::<()>::builder()
            .child(Child::group(
                "inner",
                move || {
                    let log = l1.clone();
                    GroupSupervisor::<()>::builder().child_actor("w", move |r| {
                        Worker::new("w", Script::FailAfter(3), &log, r)
                    })
                },
                drop,
            ))
            .start();
        let report = root.send(Join::new()).await.unwrap();
        let inner = report.child_named("inner").unwrap().nested().unwrap();
        assert_eq!(outcome_of(inner, "w"), OutcomeKind::Failed);
        assert_eq!(count(&log, "w stopped"), 1);
    });
}

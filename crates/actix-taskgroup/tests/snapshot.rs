//! R16: the live snapshot shows every state while it holds, nested groups included, with
//! attempts, ages and counters, and prints as a tree.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Backoff, Cancel, Child, ChildKind, ChildState, GroupState, GroupSupervisor, Join, OutcomeKind,
    Restart, Snapshot, TakeSnapshot, TaskGroup,
};
use common::worker::{Log, Script, Worker};
use common::{after, fail_after, run_paused};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn state_of(snapshot: &Snapshot, name: &str) -> ChildState {
    snapshot
        .child_named(name)
        .unwrap_or_else(|| panic!("{name} in\n{snapshot}"))
        .state
}

#[test]
fn every_state_appears_while_it_holds_three_levels_deep() {
    run_paused(async {
        let log = Log::default();
        let l = log.clone();
        let leaf_group = move || {
            let l = l.clone();
            GroupSupervisor::<()>::builder()
                .name("level3")
                .grace(ms(500))
                .child_actor("stubborn", move |r| {
                    Worker::new("stubborn", Script::VetoStop, &l, r)
                })
        };
        let middle = move || {
            GroupSupervisor::<()>::builder()
                .name("level2")
                .child(Child::group("level3", leaf_group.clone(), |_| ()))
        };
        let root = GroupSupervisor::<()>::builder()
            .name("level1")
            .limit(3)
            .deadline(Duration::from_secs(60))
            .backoff(Backoff::constant(Duration::from_secs(10)))
            .child(Child::group("level2", middle, |_| ()))
            .child_future("done", || after(1, ()))
            .child(Child::future_with("warming", |_c| after(10_000, ())).signals_ready())
            .child(
                Child::future("flaky", || fail_after::<()>(5, "down")).restart(Restart::Permanent),
            )
            .child_future("waiting", || after(1, ()))
            .start();
        tokio::time::sleep(ms(20)).await;
        let snapshot = root.send(TakeSnapshot).await.unwrap();
        assert_eq!(snapshot.state, GroupState::Running);
        assert_eq!(
            state_of(&snapshot, "done"),
            ChildState::Stopped(OutcomeKind::Completed)
        );
        assert_eq!(state_of(&snapshot, "warming"), ChildState::Starting);
        assert!(matches!(
            state_of(&snapshot, "flaky"),
            ChildState::Restarting { in_: Some(_) }
        ));
        assert_eq!(
            state_of(&snapshot, "waiting"),
            ChildState::Queued,
            "the limit is full"
        );
        assert_eq!(snapshot.child_named("waiting").unwrap().attempts, 0);
        let level2 = snapshot.child_named("level2").unwrap();
        assert_eq!(level2.kind, ChildKind::Group);
        assert_eq!(
            level2.state,
            ChildState::Running,
            "ready once its children are"
        );
        let level3 = level2
            .nested
            .as_ref()
            .unwrap()
            .child_named("level3")
            .unwrap();
        let stubborn = level3
            .nested
            .as_ref()
            .unwrap()
            .child_named("stubborn")
            .unwrap();
        assert_eq!(stubborn.kind, ChildKind::Actor);
        assert_eq!(stubborn.state, ChildState::Running);
        assert_eq!(stubborn.age, Some(ms(20)));
        assert!(snapshot.deadline_in.unwrap() > Duration::from_secs(59));
        assert_eq!(snapshot.counters.completed, 1);
        // Printed as an indented tree, three levels deep.
        let text = snapshot.to_string();
        for line in [
            "group \"level1\" running",
            "  #0 \"level2\" group running",
            "      group \"level3\"",
            "\"stubborn\" actor running",
            "\"waiting\" future queued",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }

        root.send(Cancel).await.unwrap();
        tokio::time::sleep(ms(1)).await;
        let stopping = root.send(TakeSnapshot).await.unwrap();
        assert_eq!(stopping.state, GroupState::Stopping);
        let level3 = stopping
            .child_named("level2")
            .unwrap()
            .nested
            .as_ref()
            .unwrap()
            .child_named("level3")
            .unwrap();
        assert_eq!(
            level3
                .nested
                .as_ref()
                .unwrap()
                .child_named("stubborn")
                .unwrap()
                .state,
            ChildState::Stopping
        );
        assert_eq!(
            state_of(&stopping, "waiting"),
            ChildState::Stopped(OutcomeKind::Cancelled)
        );
    });
}

#[test]
fn a_task_group_snapshot_has_no_ages_unless_it_keeps_times() {
    run_paused(async {
        let plain = TaskGroup::<()>::new();
        plain.spawn_named("a", after(100, ())).unwrap();
        tokio::time::sleep(ms(10)).await;
        assert_eq!(plain.snapshot().children[0].age, None);
        let timed = TaskGroup::<()>::builder().keep_times().build();
        timed.spawn_named("a", after(100, ())).unwrap();
        tokio::time::sleep(ms(10)).await;
        assert_eq!(timed.snapshot().children[0].age, Some(ms(10)));
        let report = timed.join_report().await;
        assert_eq!(report.children()[0].duration(), Some(ms(100)));
        plain.cancel();
    });
}

#[test]
fn the_counters_count_spawns_ends_and_restarts() {
    run_paused(async {
        let group = TaskGroup::<()>::builder()
            .policy(actix_taskgroup::Policy::CollectAll)
            .build();
        group.spawn(after(1, ())).unwrap();
        group.spawn(fail_after(1, "x")).unwrap();
        group
            .spawn_child(Child::future("retry", || fail_after::<()>(1, "y")).attempts(3))
            .unwrap();
        let handle = group.handle();
        let _ = group.join_report().await;
        // The driver task lets go of the group at its next turn: nothing keeps it alive.
        actix_rt::task::yield_now().await;
        assert!(handle.snapshot().is_none(), "the group is gone");
        let group = TaskGroup::<()>::new();
        group.spawn(after(1, ())).unwrap();
        group.spawn(after(100, ())).unwrap();
        tokio::time::sleep(ms(10)).await;
        let counters = group.snapshot().counters;
        assert_eq!(
            (counters.spawned, counters.completed, counters.failed),
            (2, 1, 0)
        );
        group.cancel();
    });
}

#[test]
fn restart_counters_and_attempts_show_in_the_snapshot() {
    run_paused(async {
        let group = TaskGroup::<()>::builder()
            .policy(actix_taskgroup::Policy::CollectAll)
            .build();
        group
            .spawn_child(Child::future("retry", || fail_after::<()>(1, "y")).attempts(3))
            .unwrap();
        group.spawn(after(100, ())).unwrap();
        tokio::time::sleep(ms(10)).await;
        let snapshot = group.snapshot();
        assert_eq!(snapshot.counters.restarted, 2);
        assert_eq!(snapshot.counters.failed, 1);
        assert_eq!(snapshot.children[0].attempts, 3);
        assert_eq!(
            snapshot.children[0].state,
            ChildState::Stopped(OutcomeKind::Failed)
        );
        group.cancel();
    });
}

#[test]
fn an_ended_nested_group_keeps_its_last_view_in_its_parents_snapshot() {
    run_paused(async {
        let inner = || {
            GroupSupervisor::<()>::builder()
                .name("inner")
                .child_future("quick", || after(5, ()))
                .child_future("quicker", || after(1, ()))
        };
        let root = GroupSupervisor::<()>::builder()
            .child(Child::group("inner", inner, |_| ()))
            .child_future("long", || after(1000, ()))
            .start();
        tokio::time::sleep(ms(100)).await;
        let snapshot = root.send(TakeSnapshot).await.unwrap();
        let inner = snapshot.child_named("inner").unwrap();
        assert_eq!(inner.state, ChildState::Stopped(OutcomeKind::Completed));
        let last = inner.nested.as_ref().expect("the last view is kept");
        assert_eq!(last.state, GroupState::Finished);
        assert_eq!(last.counters.completed, 2);
        assert_eq!(last.children.len(), 2, "{snapshot}");
        assert_eq!(
            last.children[0].state,
            ChildState::Stopped(OutcomeKind::Completed)
        );
        root.send(Cancel).await.unwrap();
    });
}

/// R16: once a supervisor has built its report (its first `Join` was answered) its snapshot
/// still lists every child, from the report.
#[test]
fn a_finished_supervisors_snapshot_lists_its_children() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .child_future("a", || async { Ok::<_, anyhow::Error>(()) })
            .start();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.is_success());
        let snapshot = group.send(TakeSnapshot).await.unwrap();
        assert_eq!(snapshot.state, GroupState::Finished);
        assert_eq!(snapshot.counters.spawned, 1);
        assert_eq!(snapshot.children.len(), 1, "{snapshot}");
        assert_eq!(
            snapshot.children[0].state,
            ChildState::Stopped(OutcomeKind::Completed)
        );
        assert_eq!(snapshot.children[0].name.as_deref(), Some("a"));
    });
}

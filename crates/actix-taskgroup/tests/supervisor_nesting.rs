//! R8 for supervisors: trees of groups, actors and futures; failures up, cancellation down.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Cancel, FailureKind, GroupError, GroupSupervisor, GroupSupervisorBuilder, Join,
};
use common::run_paused;
use common::worker::{Log, Script, Worker, count};
use tokio::time::Instant;

/// A tree of supervisors `depth` levels deep with `fanout` subgroups per group; every
/// bottom group holds one idle worker, except the path of first children, whose bottom
/// worker fails after 10 ms. Returns the number of supervisors and workers built.
fn tree(
    depth: usize,
    fanout: usize,
    path_to_failure: bool,
    log: &Log,
) -> (GroupSupervisorBuilder<()>, usize, usize) {
    let mut builder = GroupSupervisor::<()>::builder().name(format!("level{depth}"));
    if depth == 1 {
        let log = log.clone();
        let script = if path_to_failure {
            Script::FailAfter(10)
        } else {
            Script::Idle
        };
        builder = builder.child_actor("worker", move |r| Worker::new("worker", script, &log, r));
        return (builder, 1, 1);
    }
    let (mut groups, mut workers) = (1, 0);
    for index in 0..fanout {
        let (child, g, w) = tree(depth - 1, fanout, path_to_failure && index == 0, log);
        builder = builder.child_group(format!("group{index}"), child, drop);
        groups += g;
        workers += w;
    }
    (builder, groups, workers)
}

#[test]
fn a_leaf_failure_five_levels_down_is_one_error_tree_and_every_actor_stops() {
    run_paused(async {
        let log = Log::default();
        let (builder, groups, workers) = tree(5, 3, true, &log);
        assert!(groups >= 100, "{groups} supervisors");
        let root = builder.start();
        let error = root
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();

        // One failure per level, each keeping the level below: a tree, not a flat list.
        let mut level: &GroupError = &error;
        for depth in (2..=5).rev() {
            assert_eq!(level.group_name(), Some(format!("level{depth}").as_str()));
            assert_eq!(level.failures().count(), 1);
            let failure = level.first_failure().unwrap();
            assert_eq!(failure.name(), Some("group0"));
            level = failure.nested().expect("the inner group's error is kept");
        }
        let leaf = level.first_failure().unwrap();
        assert_eq!(
            (leaf.name(), leaf.kind()),
            (Some("worker"), FailureKind::Failed)
        );
        assert_eq!(leaf.cause().to_string(), "worker failed");
        assert_eq!(count(&log, "started"), workers);
        assert_eq!(
            count(&log, "stopped"),
            workers,
            "every worker in the tree stopped"
        );
    });
}

#[test]
fn cancelling_the_root_stops_the_whole_tree() {
    run_paused(async {
        let log = Log::default();
        let (builder, _, workers) = tree(3, 3, false, &log);
        let root = builder.start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(count(&log, "started"), workers);
        root.send(Cancel).await.unwrap();
        let error = root
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(
            error.failures().count(),
            0,
            "cancelled children are not failures"
        );
        assert_eq!(count(&log, "stopped"), workers);
    });
}

#[test]
fn a_nested_group_is_not_forced_before_it_has_stopped_its_own_children() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        // The inner group gives its stubborn child 3 s; the outer group's grace is 1 s.
        let inner = GroupSupervisor::<()>::builder()
            .name("inner")
            .grace(Duration::from_secs(3))
            .child_actor("stubborn", move |r| {
                Worker::new("stubborn", Script::VetoStop, &l1, r)
            });
        let outer = GroupSupervisor::<()>::builder()
            .grace(Duration::from_secs(1))
            .child_group("inner", inner, drop)
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let start = Instant::now();
        outer.send(Cancel).await.unwrap();
        let error = outer
            .send(Join::new())
            .await
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "the inner grace applies"
        );
        assert!(error.is_cancelled());
        assert_eq!(count(&log, "stubborn dropped"), 1);
    });
}

#[test]
fn a_mixed_tree_of_actors_futures_and_groups_maps_values_up() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let inner = GroupSupervisor::<u32>::builder()
            .child_future("f1", || async { Ok::<_, anyhow::Error>(2) })
            .child_actor("a1", move |r| {
                let mut worker = Worker::new("a1", Script::CompleteAfter(5), &l1, r);
                worker.value = Some(3);
                worker
            });
        let outer = GroupSupervisor::<u32>::builder()
            .child_future("f0", || async { Ok::<_, anyhow::Error>(1) })
            .child_group("sum", inner, |values: Vec<u32>| values.iter().sum())
            .start();
        let report = outer.send(Join::new()).await.unwrap();
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [1, 5]);
    });
}

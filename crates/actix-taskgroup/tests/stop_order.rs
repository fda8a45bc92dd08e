//! R2 to the end: children are stopped in reverse start order, and they are *gone* in that
//! order too: `stopped()` and `Drop` newest first, on a cancel, on fail-fast, and for the
//! forced drops at the grace deadline.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Cancel, Child, GroupSupervisor, GroupSupervisorBuilder, Join, Policy, TaskGroup,
};
use common::run_paused;
use common::worker::{DropNote, Log, Script, Worker, events};
use tokio::time::Instant;

/// A supervisor whose actor children are `(name, script)`, started in this order.
fn supervisor(log: &Log, children: &[(&'static str, Script)]) -> GroupSupervisorBuilder<()> {
    let mut builder = GroupSupervisor::<()>::builder().grace(Duration::from_secs(2));
    for &(name, script) in children {
        let log = log.clone();
        builder = builder.child_actor(name, move |r| Worker::new(name, script, &log, r));
    }
    builder
}

/// The events ending with `suffix`, without the child named `except`.
fn events_except(log: &Log, suffix: &str, except: &str) -> Vec<String> {
    events(log, suffix)
        .into_iter()
        .filter(|e| !e.starts_with(&format!("{except} ")))
        .collect()
}

#[test]
fn on_cancel_every_actor_is_stopped_and_dropped_newest_first() {
    run_paused(async {
        let log = Log::default();
        let children = [
            ("a", Script::Idle),
            ("b", Script::Idle),
            ("c", Script::Idle),
            ("d", Script::Idle),
            ("e", Script::Idle),
        ];
        let group = supervisor(&log, &children).start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.error().unwrap().is_cancelled());

        let newest_first = |what: &str| -> Vec<String> {
            ["e", "d", "c", "b", "a"]
                .iter()
                .map(|name| format!("{name} {what}"))
                .collect()
        };
        assert_eq!(events(&log, "stopping"), newest_first("stopping"));
        assert_eq!(events(&log, "stopped"), newest_first("stopped"));
        assert_eq!(events(&log, "dropped"), newest_first("dropped"));
    });
}

#[test]
fn on_fail_fast_the_siblings_are_stopped_and_dropped_newest_first() {
    run_paused(async {
        let log = Log::default();
        let children = [
            ("a", Script::Idle),
            ("b", Script::Idle),
            ("broken", Script::FailAfter(10)),
            ("c", Script::Idle),
            ("d", Script::Idle),
        ];
        let group = supervisor(&log, &children).start();
        let report = group.send(Join::new()).await.unwrap();
        let failure = report.error().unwrap().first_failure().unwrap();
        assert_eq!(failure.name(), Some("broken"));

        // The failed child is gone first, by its own stop; its siblings follow, newest first.
        assert_eq!(events(&log, "dropped")[0], "broken dropped");
        let expected = ["d", "c", "b", "a"];
        let stopped = events_except(&log, "stopped", "broken");
        let dropped = events_except(&log, "dropped", "broken");
        assert_eq!(stopped, expected.map(|n| format!("{n} stopped")));
        assert_eq!(dropped, expected.map(|n| format!("{n} dropped")));
    });
}

#[test]
fn at_the_grace_deadline_the_forced_drops_go_newest_first() {
    run_paused(async {
        let log = Log::default();
        let children = [
            ("a", Script::VetoStop),
            ("b", Script::VetoStop),
            ("c", Script::VetoStop),
            ("d", Script::VetoStop),
        ];
        let group = supervisor(&log, &children).start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let start = Instant::now();
        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(2), "one grace period");

        assert_eq!(
            events(&log, "dropped"),
            ["d dropped", "c dropped", "b dropped", "a dropped"]
        );
        assert!(
            events(&log, "stopped").is_empty(),
            "actix never runs stopped() of a forced actor"
        );
    });
}

#[test]
fn polite_children_go_in_the_graceful_phase_and_vetoing_ones_at_the_deadline_each_newest_first() {
    run_paused(async {
        let log = Log::default();
        let children = [
            ("a", Script::VetoStop),
            ("b", Script::Idle),
            ("c", Script::VetoStop),
            ("d", Script::Idle),
            ("e", Script::VetoStop),
        ];
        let group = supervisor(&log, &children).start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();

        // The graceful round (actix's drop of a forced context runs `stopping()` once more).
        assert_eq!(
            events(&log, "stopping")[..5],
            [
                "e stopping",
                "d stopping",
                "c stopping",
                "b stopping",
                "a stopping"
            ]
        );
        assert_eq!(events(&log, "stopped"), ["d stopped", "b stopped"]);
        assert_eq!(
            events(&log, "dropped"),
            // graceful phase, newest first; then the forced ones, newest first
            [
                "d dropped",
                "b dropped",
                "e dropped",
                "c dropped",
                "a dropped"
            ]
        );
    });
}

#[test]
fn on_fail_fast_at_the_grace_deadline_the_forced_drops_go_newest_first() {
    run_paused(async {
        let log = Log::default();
        let children = [
            ("a", Script::VetoStop),
            ("b", Script::VetoStop),
            ("c", Script::VetoStop),
            ("broken", Script::FailAfter(10)),
        ];
        let group = supervisor(&log, &children).start();
        let start = Instant::now();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.error().is_some());
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(10) + Duration::from_secs(2)
        );
        assert_eq!(
            events(&log, "dropped"),
            ["broken dropped", "c dropped", "b dropped", "a dropped"]
        );
    });
}

#[test]
fn a_taskgroup_drops_its_futures_newest_first_on_cancel() {
    run_paused(async {
        let log = Log::default();
        let group = TaskGroup::<()>::new();
        for name in ["a", "b", "c", "d"] {
            let note = DropNote::new(name, &log);
            group
                .spawn_named(name, async move {
                    let _note = note;
                    std::future::pending::<anyhow::Result<()>>().await
                })
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.cancel();
        let error = group.join().await.unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(
            events(&log, "dropped"),
            ["d dropped", "c dropped", "b dropped", "a dropped"]
        );
    });
}

#[test]
fn a_taskgroup_drops_its_futures_newest_first_on_fail_fast() {
    run_paused(async {
        let log = Log::default();
        let group = TaskGroup::<()>::builder().policy(Policy::FailFast).build();
        for name in ["a", "b", "c", "d"] {
            let note = DropNote::new(name, &log);
            group
                .spawn_named(name, async move {
                    let _note = note;
                    std::future::pending::<anyhow::Result<()>>().await
                })
                .unwrap();
        }
        group
            .spawn_named("broken", common::fail_after::<()>(5, "broken"))
            .unwrap();
        group.join().await.unwrap_err();
        assert_eq!(
            events(&log, "dropped"),
            ["d dropped", "c dropped", "b dropped", "a dropped"]
        );
    });
}

#[test]
fn a_supervisor_drops_its_future_and_actor_children_newest_first_on_cancel() {
    run_paused(async {
        let log = Log::default();
        let mut builder = GroupSupervisor::<()>::builder();
        for (index, name) in ["a", "b", "c", "d", "e", "f"].into_iter().enumerate() {
            let log = log.clone();
            builder = if index % 2 == 0 {
                builder.child(Child::future(name, move || {
                    let note = DropNote::new(name, &log);
                    async move {
                        let _note = note;
                        std::future::pending::<anyhow::Result<()>>().await
                    }
                }))
            } else {
                builder.child_actor(name, move |r| Worker::new(name, Script::Idle, &log, r))
            };
        }
        let group = builder.start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();
        assert_eq!(
            events(&log, "dropped"),
            [
                "f dropped",
                "e dropped",
                "d dropped",
                "c dropped",
                "b dropped",
                "a dropped"
            ]
        );
    });
}

#[test]
fn dropping_a_taskgroup_drops_its_futures_newest_first() {
    run_paused(async {
        let log = Log::default();
        let group = TaskGroup::<()>::new();
        for name in ["a", "b", "c", "d"] {
            let note = DropNote::new(name, &log);
            group
                .spawn_named(name, async move {
                    let _note = note;
                    std::future::pending::<anyhow::Result<()>>().await
                })
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        drop(group);
        assert_eq!(
            events(&log, "dropped"),
            ["d dropped", "c dropped", "b dropped", "a dropped"]
        );
    });
}

#[test]
fn a_nested_groups_children_go_in_their_parents_reverse_order_too() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
        let inner = GroupSupervisor::<()>::builder()
            .child_actor("inner", move |r| Worker::new("inner", Script::Idle, &l2, r));
        let group = GroupSupervisor::<()>::builder()
            .child_actor("older", move |r| Worker::new("older", Script::Idle, &l1, r))
            .child_group("group", inner, drop)
            .child_actor("newer", move |r| Worker::new("newer", Script::Idle, &l3, r))
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();
        assert_eq!(
            events(&log, "dropped"),
            ["newer dropped", "inner dropped", "older dropped"]
        );
    });
}

/// The guide's table: a child forced after the grace period gets `stopping()` once more
/// (actix asks again as its context is dropped), then `Drop`, never `stopped()`.
#[test]
fn a_child_forced_at_the_grace_deadline_is_asked_once_more_then_dropped_never_stopped() {
    run_paused(async {
        let log = Log::default();
        let group = supervisor(&log, &[("stubborn", Script::VetoStop)]).start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        group.send(Cancel).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(events(&log, ""), ["stubborn started", "stubborn stopping"]);
        group.send(Join::new()).await.unwrap();
        assert_eq!(
            events(&log, ""),
            [
                "stubborn started",
                "stubborn stopping",
                "stubborn stopping",
                "stubborn dropped"
            ]
        );
    });
}

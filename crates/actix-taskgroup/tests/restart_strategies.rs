//! R12: restart strategies. The bystanders are stopped newest first, then every child is
//! started again in start order, each new incarnation only once the old one is gone.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Cancel, Child, GroupSupervisor, Join, Outcome, OutcomeKind, Restart, Strategy,
};
use common::run_paused;
use common::worker::{Log, Script, Worker};

/// A group of children `names`, each permanent (or temporary for names starting with `t`);
/// the child named `failing` fails in its first incarnation after 10 ms, every other
/// incarnation runs until stopped. Returns the log after the restart, from the failure on,
/// and the report after a cancel.
fn run(
    strategy: Strategy,
    names: &'static [&'static str],
    failing: &'static str,
) -> (Vec<String>, Vec<(String, OutcomeKind, u32)>) {
    run_paused(async move {
        let log = Log::default();
        let mut builder = GroupSupervisor::<()>::builder()
            .strategy(strategy)
            .intensity(5, Duration::from_secs(10));
        for &name in names {
            let log = log.clone();
            let restart = if name.starts_with('t') {
                Restart::Temporary
            } else {
                Restart::Permanent
            };
            builder = builder.child(
                Child::actor(name, move |r| {
                    let script = if name == failing && r.attempt() == 1 {
                        Script::FailAfter(10)
                    } else {
                        Script::Idle
                    };
                    Worker::new(&format!("{name}{}", r.attempt()), script, &log, r)
                })
                .restart(restart),
            );
        }
        let group = builder.start();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let events: Vec<String> = {
            let log = log.borrow();
            let from = log
                .iter()
                .position(|e| e == &format!("{failing}1 stopping"))
                .expect("the failing child stopped");
            log[from..].to_vec()
        };
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        let children = report
            .children()
            .iter()
            .map(|c| {
                (
                    c.name().unwrap().to_owned(),
                    c.outcome().kind(),
                    c.attempts(),
                )
            })
            .collect();
        (events, children)
    })
}

fn strings(events: &[&str]) -> Vec<String> {
    events.iter().map(|e| e.to_string()).collect()
}

#[test]
fn one_for_one_restarts_only_the_failed_child_after_its_old_incarnation_is_gone() {
    let (events, children) = run(Strategy::OneForOne, &["a", "b", "c"], "b");
    assert_eq!(
        events,
        strings(&["b1 stopping", "b1 stopped", "b1 dropped", "b2 started"])
    );
    let attempts: Vec<u32> = children.iter().map(|c| c.2).collect();
    assert_eq!(attempts, [1, 2, 1]);
}

#[test]
fn one_for_all_stops_the_others_newest_first_then_starts_all_in_start_order() {
    let (events, children) = run(Strategy::OneForAll, &["a", "b", "c", "d"], "b");
    assert_eq!(
        events,
        strings(&[
            "b1 stopping",
            "b1 stopped",
            "b1 dropped",
            "d1 stopping",
            "d1 stopped",
            "d1 dropped",
            "c1 stopping",
            "c1 stopped",
            "c1 dropped",
            "a1 stopping",
            "a1 stopped",
            "a1 dropped",
            "a2 started",
            "b2 started",
            "c2 started",
            "d2 started",
        ])
    );
    assert!(children.iter().all(|c| c.2 == 2), "{children:?}");
}

#[test]
fn rest_for_one_takes_the_children_started_after_the_failed_one() {
    let (events, children) = run(Strategy::RestForOne, &["a", "b", "c", "d"], "b");
    assert_eq!(
        events,
        strings(&[
            "b1 stopping",
            "b1 stopped",
            "b1 dropped",
            "d1 stopping",
            "d1 stopped",
            "d1 dropped",
            "c1 stopping",
            "c1 stopped",
            "c1 dropped",
            "b2 started",
            "c2 started",
            "d2 started",
        ])
    );
    let attempts: Vec<u32> = children.iter().map(|c| c.2).collect();
    assert_eq!(attempts, [1, 2, 2, 2], "a is untouched");
}

#[test]
fn a_temporary_bystander_is_stopped_and_cancelled_not_started_again() {
    let (events, children) = run(Strategy::OneForAll, &["a", "b", "tc"], "b");
    assert!(events.contains(&"tc1 stopped".to_owned()));
    assert!(!events.iter().any(|e| e == "tc2 started"), "{events:?}");
    assert_eq!(children[2], ("tc".to_owned(), OutcomeKind::Cancelled, 1));
    assert_eq!(children[0].2, 2);
    assert_eq!(children[1].2, 2);
}

#[test]
fn a_bystander_that_vetoes_its_stop_is_forced_after_the_grace_period_before_the_restart() {
    run_paused(async {
        let log = Log::default();
        let (l1, l2) = (log.clone(), log.clone());
        let group = GroupSupervisor::<()>::builder()
            .strategy(Strategy::OneForAll)
            .grace(Duration::from_millis(300))
            .child(
                Child::actor("stubborn", move |r| {
                    let script = if r.attempt() == 1 {
                        Script::VetoStop
                    } else {
                        Script::Idle
                    };
                    Worker::new(&format!("stubborn{}", r.attempt()), script, &l1, r)
                })
                .restart(Restart::Permanent),
            )
            .child(
                Child::actor("flaky", move |r| {
                    let script = if r.attempt() == 1 {
                        Script::FailAfter(10)
                    } else {
                        Script::Idle
                    };
                    Worker::new(&format!("flaky{}", r.attempt()), script, &l2, r)
                })
                .restart(Restart::Permanent),
            )
            .start();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !log.borrow().iter().any(|e| e.ends_with("2 started")),
            "waits for the stubborn one"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let events = log.borrow().clone();
        let dropped = events
            .iter()
            .position(|e| e == "stubborn1 dropped")
            .unwrap();
        let restarted = events
            .iter()
            .position(|e| e == "stubborn2 started")
            .unwrap();
        assert!(dropped < restarted);
        assert!(
            !events.iter().any(|e| e == "stubborn1 stopped"),
            "forced: no stopped()"
        );
        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();
    });
}

#[test]
fn one_failure_counts_once_however_many_children_its_strategy_restarts() {
    run_paused(async {
        let log = Log::default();
        let mut builder = GroupSupervisor::<()>::builder()
            .strategy(Strategy::OneForAll)
            // Exactly one restart allowed: a one-for-all restart of four children is one.
            .intensity(1, Duration::from_secs(10));
        for name in ["a", "b", "c", "d"] {
            let log = log.clone();
            builder = builder.child(
                Child::actor(name, move |r| {
                    let script = if name == "a" && r.attempt() == 1 {
                        Script::FailAfter(5)
                    } else {
                        Script::Idle
                    };
                    Worker::new(&format!("{name}{}", r.attempt()), script, &log, r)
                })
                .restart(Restart::Permanent),
            );
        }
        let group = builder.start();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            log.borrow()
                .iter()
                .filter(|e| e.ends_with("2 started"))
                .count(),
            4
        );
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert!(
            report.error().unwrap().is_cancelled(),
            "the limit was not broken"
        );
    });
}

/// R12 / `Child::attempts`: "at most `attempts` incarnations", bystanders of a one-for-all
/// restart included: a child capped at one attempt is not started again when its sibling
/// restarts; like a temporary bystander it ends `Cancelled`.
#[test]
fn a_bystander_is_not_restarted_past_its_attempts() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .strategy(Strategy::OneForAll)
            .intensity(10, Duration::from_secs(60))
            .child(
                Child::future("capped", || async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok::<_, anyhow::Error>(())
                })
                .restart(Restart::Transient)
                .attempts(1),
            )
            .child(
                Child::future_with("flaky", |control| async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    anyhow::ensure!(control.attempt() >= 3, "not yet");
                    Ok(())
                })
                .restart(Restart::Transient)
                .attempts(3),
            )
            .start();
        let report = group.send(Join::new()).await.unwrap();
        let capped = report.child_named("capped").unwrap();
        assert!(capped.attempts() <= 1, "{report}");
        assert!(matches!(
            capped.outcome(),
            Outcome::Completed(()) | Outcome::Cancelled
        ));
    });
}

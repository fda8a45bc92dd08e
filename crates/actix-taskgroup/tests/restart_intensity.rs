//! R12: the intensity window (more than `max_restarts` within `window` fails the group) and
//! its escalation through nested groups.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Child, FailureKind, GroupErrorKind, GroupSupervisor, Join, Restart, RestartLimitError,
};
use common::run_paused;
use tokio::time::Instant;

/// A permanent child that fails every `every` of virtual time.
fn failing_every(every: Duration) -> Child<()> {
    Child::future("flaky", move || async move {
        tokio::time::sleep(every).await;
        anyhow::bail!("connection refused")
    })
    .restart(Restart::Permanent)
}

#[test]
fn more_than_max_restarts_within_the_window_fails_the_group() {
    run_paused(async {
        let start = Instant::now();
        let group = GroupSupervisor::<()>::builder()
            .name("pool")
            .intensity(3, Duration::from_secs(1))
            .child(failing_every(Duration::from_millis(100)))
            .start();
        let report = group.send(Join::new()).await.unwrap();
        // Restarts at 100, 200, 300 ms are allowed; the end at 400 ms would be the fourth.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
        let error = report.error().unwrap();
        assert_eq!(error.kind(), GroupErrorKind::RestartLimit);
        let failure = error.first_failure().unwrap();
        assert_eq!(failure.kind(), FailureKind::RestartLimit);
        assert_eq!(failure.name(), Some("flaky"));
        let limit = failure.cause().downcast_ref::<RestartLimitError>().unwrap();
        assert_eq!((limit.child(), limit.restarts()), (Some("flaky"), 4));
        assert_eq!(limit.window(), Duration::from_secs(1));
        assert_eq!(limit.cause().unwrap().to_string(), "connection refused");
        // The message names the child, the count and the window, and carries the cause.
        let text = error.to_string();
        assert!(
            text.contains("4 restarts of \"flaky\" within 1s: connection refused"),
            "{text}"
        );
        assert_eq!(report.child_named("flaky").unwrap().attempts(), 4);
    });
}

#[test]
fn exactly_max_restarts_within_the_window_is_allowed() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .intensity(3, Duration::from_secs(1))
            .child(
                Child::future("flaky", || async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    anyhow::bail!("again")
                })
                .restart(Restart::Transient)
                // Four attempts: three restarts, all within the window.
                .attempts(4),
            )
            .start();
        let report = group.send(Join::new()).await.unwrap();
        let error = report.error().unwrap();
        assert_eq!(
            error.kind(),
            GroupErrorKind::Failed,
            "the attempts ran out, not the intensity"
        );
        assert_eq!(report.children()[0].attempts(), 4);
    });
}

#[test]
fn restarts_spread_wider_than_the_window_never_break_the_limit() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .intensity(2, Duration::from_secs(1))
            .child(failing_every(Duration::from_millis(600)).attempts(20))
            .start();
        let report = group.send(Join::new()).await.unwrap();
        // Never more than two restarts in a second: the child ran out of attempts instead.
        assert_eq!(report.error().unwrap().kind(), GroupErrorKind::Failed);
        assert_eq!(report.children()[0].attempts(), 20);
    });
}

#[test]
fn the_restart_limit_escalates_through_two_nested_groups_as_one_error_tree() {
    run_paused(async {
        let leaf = || {
            GroupSupervisor::<()>::builder()
                .name("leaf")
                .intensity(1, Duration::from_secs(5))
                .child(failing_every(Duration::from_millis(10)))
        };
        let middle = move || {
            GroupSupervisor::<()>::builder()
                .name("middle")
                .child(Child::group("leaf", leaf, |_| ()))
        };
        let root = GroupSupervisor::<()>::builder()
            .name("root")
            .child(Child::group("middle", middle, |_| ()))
            .start();
        let report = root.send(Join::new()).await.unwrap();
        let root_error = report.error().unwrap();
        let middle_error = root_error.first_failure().unwrap().nested().unwrap();
        assert_eq!(middle_error.group_name(), Some("middle"));
        let leaf_error = middle_error.first_failure().unwrap().nested().unwrap();
        assert_eq!(leaf_error.kind(), GroupErrorKind::RestartLimit);
        let text = root_error.to_string();
        for line in [
            "group \"root\"",
            "group \"middle\"",
            "group \"leaf\"",
            "2 restarts of \"flaky\"",
            "connection refused",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        // The report is a tree too.
        let middle = report.children()[0].nested().unwrap();
        let leaf = middle.children()[0].nested().unwrap();
        assert_eq!(leaf.children()[0].attempts(), 2);
    });
}

#[test]
fn a_child_ending_while_its_group_stops_is_not_restarted() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .child(
                Child::future("steady", || async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok::<_, anyhow::Error>(())
                })
                .restart(Restart::Permanent),
            )
            .child_future("breaks", || async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                anyhow::bail!("fatal")
            })
            .start();
        let report = group.send(Join::new()).await.unwrap();
        let steady = report.child_named("steady").unwrap();
        assert_eq!(
            steady.attempts(),
            1,
            "stopped by fail-fast, not started again"
        );
        assert!(steady.outcome().is_cancelled());
    });
}

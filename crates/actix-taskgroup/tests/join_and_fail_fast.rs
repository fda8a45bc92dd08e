//! R1 (join waits for all), R2 (fail-fast), R3 (every failure kept), R4 (spawn order).

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_taskgroup::{FailureKind, GroupErrorKind, Outcome, Policy, TaskGroup};
use common::{DropCounter, after, fail_after, forever, run_paused};
use futures::StreamExt;
use tokio::time::Instant;

#[test]
fn join_waits_for_every_child() {
    run_paused(async {
        let ended = Rc::new(Cell::new(0));
        let group = TaskGroup::new();
        for ms in [30, 10, 20] {
            let ended = ended.clone();
            group
                .spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    ended.set(ended.get() + 1);
                    Ok::<_, anyhow::Error>(ms)
                })
                .unwrap();
        }
        let start = Instant::now();
        let values = group.join().await.unwrap();
        assert_eq!(ended.get(), 3, "join returned before every child ended");
        assert_eq!(start.elapsed(), Duration::from_millis(30));
        assert_eq!(values, [30, 10, 20]);
    });
}

#[test]
fn values_come_back_in_spawn_order_not_completion_order() {
    run_paused(async {
        let group = TaskGroup::new();
        for (index, ms) in [50u64, 40, 30, 20, 10].into_iter().enumerate() {
            group.spawn(after(ms, index)).unwrap();
        }
        assert_eq!(group.join().await.unwrap(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn the_stream_yields_outcomes_in_completion_order() {
    run_paused(async {
        let group = TaskGroup::builder().policy(Policy::CollectAll).build();
        group.spawn_named("slow", after(30, 'a')).unwrap();
        group.spawn_named("broken", fail_after(10, "bad")).unwrap();
        group.spawn_named("quick", after(20, 'c')).unwrap();
        let ended: Vec<(Option<String>, bool)> = group
            .outcomes()
            .map(|child| {
                (
                    child.name().map(str::to_owned),
                    child.outcome().is_completed(),
                )
            })
            .collect()
            .await;
        let expected = [("broken", false), ("quick", true), ("slow", true)];
        let expected: Vec<_> = expected
            .iter()
            .map(|(name, ok)| (Some(name.to_string()), *ok))
            .collect();
        assert_eq!(ended, expected);
    });
}

#[test]
fn the_first_failure_cancels_every_sibling() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<u32>::new();
        group.spawn(forever(dropped.token())).unwrap();
        group.spawn_named("broken", fail_after(10, "boom")).unwrap();
        group.spawn(forever(dropped.token())).unwrap();

        let start = Instant::now();
        let report = group.join_report().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(10),
            "siblings were waited for"
        );
        assert_eq!(
            dropped.dropped(),
            2,
            "every sibling is dropped before join returns"
        );
        let outcomes: Vec<_> = report.children().iter().map(|c| c.outcome()).collect();
        assert!(outcomes[0].is_cancelled());
        assert!(matches!(outcomes[1], Outcome::Failed(_)));
        assert!(outcomes[2].is_cancelled());
        let error = report.error().unwrap();
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        assert_eq!(error.failures().count(), 1);
    });
}

#[test]
fn a_panic_is_a_failure_that_cancels_the_siblings_too() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<()>::new();
        group.spawn(forever(dropped.token())).unwrap();
        group
            .spawn(async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                panic!("index out of bounds");
                #[allow(unreachable_code)]
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        let error = group.join().await.unwrap_err();
        assert_eq!(dropped.dropped(), 1);
        let failure = error.first_failure().unwrap();
        assert_eq!(failure.kind(), FailureKind::Panicked);
        assert_eq!(failure.cause().to_string(), "index out of bounds");
    });
}

#[test]
fn collect_all_lets_every_child_run_and_lists_every_failure_in_order_of_occurrence() {
    run_paused(async {
        let group = TaskGroup::<u32>::builder()
            .policy(Policy::CollectAll)
            .build();
        group.spawn_named("late", fail_after(30, "third")).unwrap();
        group.spawn_named("ok", after(40, 7)).unwrap();
        group.spawn_named("early", fail_after(10, "first")).unwrap();
        group
            .spawn_named("middle", fail_after(20, "second"))
            .unwrap();

        let start = Instant::now();
        let report = group.join_report().await;
        assert_eq!(start.elapsed(), Duration::from_millis(40));
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [7]);
        let error = report.error().unwrap();
        let causes: Vec<String> = error.failures().map(|f| f.cause().to_string()).collect();
        assert_eq!(causes, ["first", "second", "third"]);
        let names: Vec<_> = error.failures().map(|f| f.name().unwrap()).collect();
        assert_eq!(names, ["early", "middle", "late"]);
    });
}

#[test]
fn a_single_failure_is_still_a_group_error() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        let id = group.spawn(fail_after(1, "only")).unwrap();
        let error = group.join().await.unwrap_err();
        assert_eq!(error.failures().count(), 1);
        assert_eq!(error.failure_of(id).unwrap().cause().to_string(), "only");
        // The error prints every cause itself, so it has no `source()` (R3: a cause is
        // printed or returned, never both).
        assert!(std::error::Error::source(&error).is_none());
        assert_eq!(error.to_string().matches("only").count(), 1);
    });
}

/// A child whose destructor panics: dropping it while cancelling is a failure too.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("cleanup failed");
    }
}

#[test]
fn failures_while_cancelling_are_kept_after_the_first() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        group
            .spawn_named("cleanup", async {
                let _guard = PanicsOnDrop;
                std::future::pending::<anyhow::Result<()>>().await
            })
            .unwrap();
        group
            .spawn_named("trigger", fail_after(5, "first"))
            .unwrap();
        let error = group.join().await.unwrap_err();
        let failures: Vec<_> = error
            .failures()
            .map(|f| (f.name().unwrap(), f.kind(), f.cause().to_string()))
            .collect();
        assert_eq!(
            failures,
            [
                ("trigger", FailureKind::Failed, "first".to_owned()),
                (
                    "cleanup",
                    FailureKind::Panicked,
                    "cleanup failed".to_owned()
                ),
            ]
        );
    });
}

#[test]
fn a_child_that_ends_on_its_first_poll_is_recorded() {
    run_paused(async {
        let group = TaskGroup::new();
        group
            .spawn(async { Ok::<_, anyhow::Error>("ready") })
            .unwrap();
        group
            .spawn(std::future::ready(Ok::<_, anyhow::Error>("also")))
            .unwrap();
        assert_eq!(group.join().await.unwrap(), ["ready", "also"]);
    });
}

#[test]
fn children_run_before_anyone_joins() {
    run_paused(async {
        let ran = Rc::new(Cell::new(false));
        let group = TaskGroup::new();
        let flag = ran.clone();
        group
            .spawn(async move {
                flag.set(true);
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(ran.get(), "a child must run without join being polled");
        group.join().await.unwrap();
    });
}

#[test]
fn an_empty_group_joins_at_once_with_no_values() {
    run_paused(async {
        let start = Instant::now();
        let values = TaskGroup::<u8>::new().join().await.unwrap();
        assert!(values.is_empty());
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn children_may_be_not_send() {
    run_paused(async {
        let shared = Rc::new(Cell::new(0));
        let group = TaskGroup::new();
        for n in 1..=4 {
            let shared = shared.clone();
            group
                .spawn(async move {
                    shared.set(shared.get() + n);
                    Ok::<_, anyhow::Error>(Rc::new(n))
                })
                .unwrap();
        }
        let values = group.join().await.unwrap();
        assert_eq!(shared.get(), 10);
        assert_eq!(*values[3], 4);
    });
}

#[actix_rt::test]
async fn a_hundred_thousand_trivial_children_complete() {
    let group = TaskGroup::new();
    for n in 0..100_000u32 {
        group
            .spawn(async move { Ok::<_, anyhow::Error>(n) })
            .unwrap();
    }
    let values = group.join().await.unwrap();
    assert_eq!(values.len(), 100_000);
    assert!(values.iter().copied().eq(0..100_000));
}

#[test]
fn a_stream_begun_late_yields_the_children_that_already_ended_first() {
    run_paused(async {
        let group = TaskGroup::new();
        group.spawn(after(20, "second to end")).unwrap();
        group.spawn(after(10, "first to end")).unwrap();
        group.spawn(after(50, "still running")).unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let values: Vec<&str> = group
            .outcomes()
            .filter_map(|child| async move { child.into_outcome().into_value() })
            .collect()
            .await;
        assert_eq!(values, ["second to end", "first to end", "still running"]);
    });
}

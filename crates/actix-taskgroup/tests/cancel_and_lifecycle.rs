//! R5 (panics are caught), R6 (cancellation belongs to the owner), R7 (spawn lifecycle).

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_taskgroup::{FailureKind, GroupErrorKind, Outcome, SpawnError, TaskGroup};
use common::{DropCounter, after, forever, run_paused};

#[test]
fn panics_with_str_string_and_other_payloads_are_caught_with_their_message() {
    run_paused(async {
        let group = TaskGroup::<()>::builder()
            .policy(actix_taskgroup::Policy::CollectAll)
            .build();
        group
            .spawn_named("str", async {
                panic!("static message");
                #[allow(unreachable_code)]
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        group
            .spawn_named("string", async {
                let n = 42;
                panic!("formatted {n}");
                #[allow(unreachable_code)]
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        group
            .spawn_named("other", async {
                std::panic::panic_any(17_u8);
                #[allow(unreachable_code)]
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        let report = group.join_report().await;
        let messages: Vec<_> = report
            .children()
            .iter()
            .map(|child| match child.outcome() {
                Outcome::Panicked(message) => message.clone(),
                other => panic!("expected a panic, got {other:?}"),
            })
            .collect();
        assert_eq!(
            messages,
            [
                "static message",
                "formatted 42",
                "panic with a non-string payload"
            ]
        );
        assert!(
            report
                .error()
                .unwrap()
                .failures()
                .all(|f| f.kind() == FailureKind::Panicked)
        );
    });
}

#[test]
fn the_system_keeps_running_after_a_child_panics() {
    let system = actix_rt::System::new();
    let first = system.block_on(async {
        let group = TaskGroup::<()>::new();
        group
            .spawn(async {
                panic!("boom");
                #[allow(unreachable_code)]
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        group.join().await
    });
    assert!(first.is_err());
    // The same System and arbiter run a new group afterwards.
    let second = system.block_on(async {
        let group = TaskGroup::new();
        group.spawn(async { Ok::<_, anyhow::Error>(5) }).unwrap();
        group.join().await
    });
    assert_eq!(second.unwrap(), [5]);
}

#[test]
fn cancel_gives_cancelled_never_success() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<u8>::new();
        group.spawn(forever(dropped.token())).unwrap();
        group.spawn(forever(dropped.token())).unwrap();
        group.cancel();
        assert_eq!(dropped.dropped(), 2, "cancel drops the children at once");
        let report = group.join_report().await;
        assert!(report.error().unwrap().is_cancelled());
        assert!(report.children().iter().all(|c| c.outcome().is_cancelled()));
    });
}

#[test]
fn cancel_after_every_child_completed_still_says_cancelled() {
    run_paused(async {
        let group = TaskGroup::new();
        group.spawn(after(1, 1)).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        group.cancel();
        let report = group.join_report().await;
        assert_eq!(report.error().unwrap().kind(), GroupErrorKind::Cancelled);
        // The value of the child that had completed is still in the report.
        assert_eq!(report.values().copied().collect::<Vec<_>>(), [1]);
    });
}

#[test]
fn dropping_the_group_drops_every_child_at_once() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<()>::new();
        for _ in 0..3 {
            group.spawn(forever(dropped.token())).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        drop(group);
        assert_eq!(dropped.dropped(), 3);
    });
}

#[test]
fn dropping_the_join_future_drops_every_child() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<()>::new();
        group.spawn(forever(dropped.token())).unwrap();
        group.spawn(forever(dropped.token())).unwrap();
        let timed_out = tokio::time::timeout(Duration::from_millis(10), group.join()).await;
        assert!(timed_out.is_err());
        assert_eq!(dropped.dropped(), 2);
    });
}

#[test]
fn dropping_the_outcome_stream_drops_every_child() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<()>::new();
        group.spawn(forever(dropped.token())).unwrap();
        let stream = group.outcomes();
        drop(stream);
        assert_eq!(dropped.dropped(), 1);
    });
}

#[test]
fn shutdown_cancels_and_waits_for_every_child() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<()>::new();
        group.spawn(forever(dropped.token())).unwrap();
        group.spawn(forever(dropped.token())).unwrap();
        let report = group.shutdown().await;
        assert_eq!(dropped.dropped(), 2);
        assert!(report.error().unwrap().is_cancelled());
    });
}

#[test]
fn a_child_can_cancel_its_own_group() {
    run_paused(async {
        let dropped = DropCounter::default();
        let group = TaskGroup::<()>::new();
        group.spawn(forever(dropped.token())).unwrap();
        let handle = group.handle();
        group
            .spawn(async move {
                tokio::time::sleep(Duration::from_millis(3)).await;
                handle.cancel();
                // Still running: the cancel takes effect when this poll returns.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        let start = tokio::time::Instant::now();
        let error = group.join().await.unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(start.elapsed(), Duration::from_millis(3));
        assert_eq!(dropped.dropped(), 1);
    });
}

/// A future that records whether it was ever polled, and whether it was dropped.
fn watched(
    polled: &Rc<Cell<bool>>,
    dropped: &DropCounter,
) -> impl Future<Output = anyhow::Result<()>> + use<> {
    let polled = polled.clone();
    let token = dropped.token();
    async move {
        let _token = token;
        polled.set(true);
        Ok(())
    }
}

#[test]
fn spawn_after_the_group_finished_is_refused_and_never_polled() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        group.spawn(after(1, ())).unwrap();
        group.join().await.unwrap();

        let polled = Rc::new(Cell::new(false));
        let dropped = DropCounter::default();
        assert_eq!(
            handle.spawn(watched(&polled, &dropped)),
            Err(SpawnError::Closed)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(!polled.get());
        assert_eq!(dropped.dropped(), 1, "the refused future is dropped");
    });
}

#[test]
fn spawn_after_the_group_was_dropped_is_refused() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        drop(group);
        let polled = Rc::new(Cell::new(false));
        let dropped = DropCounter::default();
        assert_eq!(
            handle.spawn(watched(&polled, &dropped)),
            Err(SpawnError::Closed)
        );
        assert!(!polled.get());
    });
}

/// Spawns into its group when dropped, as a child being cancelled might.
struct SpawnsOnDrop {
    handle: actix_taskgroup::GroupHandle<()>,
    answer: Rc<Cell<Option<Result<actix_taskgroup::ChildId, SpawnError>>>>,
    polled: Rc<Cell<bool>>,
}

impl Drop for SpawnsOnDrop {
    fn drop(&mut self) {
        let polled = self.polled.clone();
        self.answer.set(Some(self.handle.spawn(async move {
            polled.set(true);
            Ok::<_, anyhow::Error>(())
        })));
    }
}

#[test]
fn spawn_while_the_group_is_shutting_down_is_refused_and_never_polled() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        let answer = Rc::new(Cell::new(None));
        let polled = Rc::new(Cell::new(false));
        let on_drop = SpawnsOnDrop {
            handle: group.handle(),
            answer: answer.clone(),
            polled: polled.clone(),
        };
        group
            .spawn(async move {
                let _on_drop = on_drop;
                std::future::pending::<anyhow::Result<()>>().await
            })
            .unwrap();
        group.spawn(common::fail_after(2, "trigger")).unwrap();
        let error = group.join().await.unwrap_err();
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        assert_eq!(answer.take(), Some(Err(SpawnError::ShuttingDown)));
        assert!(!polled.get());
    });
}

#[test]
fn children_spawn_children_while_join_waits() {
    run_paused(async {
        let group = TaskGroup::new();
        let handle = group.handle();
        group
            .spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let grandchild_handle = handle.clone();
                handle.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    grandchild_handle.spawn(after(5, 3))?;
                    Ok::<_, anyhow::Error>(2)
                })?;
                Ok::<_, anyhow::Error>(1)
            })
            .unwrap();
        let start = tokio::time::Instant::now();
        // join is already waiting when the later children are spawned.
        assert_eq!(group.join().await.unwrap(), [1, 2, 3]);
        assert_eq!(start.elapsed(), Duration::from_millis(15));
    });
}

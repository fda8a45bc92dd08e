//! R8: groups nest; failures travel up as a tree, cancellation travels down.

mod common;

use actix_taskgroup::{FailureKind, GroupError, TaskGroup};
use common::{DropCounter, after, fail_after, forever, run_paused};

#[test]
fn an_inner_failure_reaches_the_outer_group_as_one_failure_keeping_the_inner_error() {
    run_paused(async {
        let outer = TaskGroup::<usize>::builder().name("outer").build();
        outer.spawn_named("fine", after(50, 1)).unwrap();
        let inner = TaskGroup::<u8>::builder().name("inner").build();
        inner
            .spawn_named("leaf", fail_after(5, "disk full"))
            .unwrap();
        inner.spawn_named("sibling", after(1, 2)).unwrap();
        outer
            .spawn_named("nested", async move { inner.join().await.map(|v| v.len()) })
            .unwrap();

        let error = outer.join().await.unwrap_err();
        assert_eq!(error.failures().count(), 1, "the tree is not flattened");
        let nested_failure = error.failure_named("nested").unwrap();
        assert_eq!(nested_failure.kind(), FailureKind::Failed);
        let inner_error: &GroupError = nested_failure.nested().unwrap();
        assert_eq!(inner_error.group_name(), Some("inner"));
        let leaf = inner_error.failure_named("leaf").unwrap();
        assert_eq!(leaf.cause().to_string(), "disk full");
        assert_eq!(
            error.to_string(),
            "group \"outer\" failed: 1 child failed\n\
             \x20 - #1 \"nested\" failed: group \"inner\" failed: 1 child failed\n\
             \x20   - #0 \"leaf\" failed: disk full"
        );
    });
}

#[test]
fn cancelling_the_outer_group_cancels_the_inner_groups_children() {
    run_paused(async {
        let dropped = DropCounter::default();
        let outer = TaskGroup::<()>::new();
        let inner = TaskGroup::<()>::new();
        inner.spawn(forever(dropped.token())).unwrap();
        inner.spawn(forever(dropped.token())).unwrap();
        outer.spawn(inner.join().await_unit()).unwrap();
        outer.spawn(fail_after(5, "outer sibling failed")).unwrap();
        let error = outer.join().await.unwrap_err();
        assert_eq!(
            dropped.dropped(),
            2,
            "the inner group's children were dropped"
        );
        assert_eq!(error.failures().count(), 1);
    });
}

#[test]
fn three_levels_deep_the_error_is_a_tree_of_three_levels() {
    run_paused(async {
        let level3 = TaskGroup::<()>::builder().name("level3").build();
        level3
            .spawn_named("leaf", fail_after(1, "root cause"))
            .unwrap();
        let level2 = TaskGroup::<()>::builder().name("level2").build();
        level2
            .spawn_named("g3", level3.join().await_unit())
            .unwrap();
        let level1 = TaskGroup::<()>::builder().name("level1").build();
        level1
            .spawn_named("g2", level2.join().await_unit())
            .unwrap();
        let error = level1.join().await.unwrap_err();
        let leaf = error
            .first_failure()
            .and_then(|f| f.nested())
            .and_then(|e| e.first_failure())
            .and_then(|f| f.nested())
            .and_then(|e| e.first_failure())
            .unwrap();
        assert_eq!(leaf.name(), Some("leaf"));
        assert_eq!(leaf.cause().to_string(), "root cause");
        // `anyhow` users can `?` the error and still find the tree.
        let as_anyhow: anyhow::Error = error.clone().into();
        assert!(as_anyhow.downcast_ref::<GroupError>().is_some());
    });
}

/// Maps a join future's values to `()` so it can be a child of a `TaskGroup<()>`.
trait AwaitUnit {
    fn await_unit(self) -> impl Future<Output = Result<(), GroupError>>;
}

impl<F, T> AwaitUnit for F
where
    F: Future<Output = Result<Vec<T>, GroupError>>,
{
    async fn await_unit(self) -> Result<(), GroupError> {
        self.await.map(drop)
    }
}

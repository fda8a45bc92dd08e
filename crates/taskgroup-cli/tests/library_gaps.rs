//! Minimal repros of library behaviour the runner had to work around, for the library's
//! owner. Each is `#[ignore]`d until the library is fixed (run them with `--ignored`): each
//! fails today, and passes once the library does what its docs say.

use std::time::Duration;

use actix_taskgroup::{Child, GroupSupervisor, Join, TakeSnapshot};

async fn sleep_ok(ms: u64) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(())
}

/// `ChildReport::started_at` says "when the child (its last incarnation) started"; for a
/// child that waited in the limit's queue it is the time it was queued, so its `duration()`
/// includes the wait.
#[actix_rt::test]

async fn a_queued_child_s_duration_does_not_include_its_wait() {
    let group = GroupSupervisor::<()>::builder()
        .limit(1)
        .child(Child::future("first", || sleep_ok(200)))
        .child(Child::future("second", || sleep_ok(200)))
        .start();
    let report = group
        .send(Join::new())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let second = report
        .child_named("second")
        .and_then(|child| child.duration())
        .unwrap_or_default();
    assert!(
        second < Duration::from_millis(350),
        "ran 200 ms, reported {second:?}"
    );
}

/// A nested group's snapshot disappears from its parent's when it ends, with its counters:
/// a live view can no longer count the jobs it ran (the runner keeps the last one it saw).
#[actix_rt::test]

async fn an_ended_nested_group_keeps_its_final_snapshot() {
    let group = GroupSupervisor::<()>::builder()
        .child(Child::group(
            "inner",
            || GroupSupervisor::<()>::builder().child(Child::future("quick", || sleep_ok(0))),
            |_| (),
        ))
        .child(Child::future("long", || sleep_ok(300)))
        .start();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let snapshot = group
        .send(TakeSnapshot)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let inner = snapshot
        .child_named("inner")
        .map(|inner| inner.nested.is_some());
    let _ = group.send(Join::new()).await;
    assert_eq!(inner, Some(true), "{snapshot}");
}

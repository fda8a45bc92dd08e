//! R16: behind the `serde` feature, a snapshot serialises (the job runner's JSON uses it).
#![cfg(feature = "serde")]

mod common;

use std::time::Duration;

use actix_taskgroup::{Child, GroupSupervisor, TakeSnapshot};
use common::{after, run_paused};

#[test]
fn a_snapshot_serialises_with_its_nested_groups() {
    run_paused(async {
        let inner = || {
            GroupSupervisor::<()>::builder()
                .name("inner")
                .child_future("leaf", || after(1000, ()))
        };
        let group = GroupSupervisor::<()>::builder()
            .name("root")
            .child(Child::group("inner", inner, |_| ()))
            .start();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let snapshot = group.send(TakeSnapshot).await.unwrap();
        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(json["name"], "root");
        assert_eq!(json["policy"], "fail-fast");
        assert_eq!(json["children"][0]["kind"], "group");
        assert_eq!(json["children"][0]["state"], "running");
        assert_eq!(json["children"][0]["nested"]["children"][0]["name"], "leaf");
        group.send(actix_taskgroup::Cancel).await.unwrap();
    });
}

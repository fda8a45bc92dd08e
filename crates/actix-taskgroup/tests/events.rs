//! R16: every lifecycle step is a `tracing` event with the group and child, under one span
//! per group, nested groups' spans inside their parent's.

mod common;

use std::time::Duration;

use actix_taskgroup::{Cancel, Child, GroupSupervisor, Join, Restart};
use common::recorder::Recorder;
use common::{after, fail_after, run_paused};
use tracing::Level;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A scripted tree: a quick child, a child that fails once and is restarted, a slow child
/// and a nested group both cut off by the deadline.
fn scripted() -> Recorder {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        run_paused(async {
            let inner = || {
                GroupSupervisor::<()>::builder()
                    .name("inner")
                    .child_future("leaf", || after(10_000, ()))
            };
            let root = GroupSupervisor::<()>::builder()
                .name("root")
                .deadline(ms(100))
                .child_future("quick", || async { Ok::<_, anyhow::Error>(()) })
                .child(
                    Child::future_with("retried", |control| async move {
                        if control.attempt() == 1 {
                            fail_after::<()>(10, "connection refused").await
                        } else {
                            after(20, ()).await
                        }
                    })
                    .restart(Restart::Transient),
                )
                .child_future("slow", || after(1000, ()))
                .child(Child::group("inner", inner, |_| ()))
                .start();
            root.send(Join::new()).await.unwrap();
        })
    });
    recorder
}

#[test]
fn each_child_has_its_lifecycle_in_order() {
    let recorder = scripted();
    assert_eq!(
        recorder.of_child("quick"),
        ["spawned", "started", "stopped"]
    );
    assert_eq!(
        recorder.of_child("retried"),
        [
            "spawned",
            "started",
            "failed",
            "restarting",
            "restarted",
            "stopped"
        ]
    );
    assert_eq!(
        recorder.of_child("slow"),
        ["spawned", "started", "stopping", "stopped"]
    );
    assert_eq!(
        recorder.of_child("inner"),
        ["spawned", "started", "ready", "stopping", "stopped"]
    );
    assert_eq!(
        recorder.of_child("leaf"),
        ["spawned", "started", "stopping", "stopped"]
    );
}

#[test]
fn events_carry_their_group_child_id_reason_outcome_and_level() {
    let events = scripted().events();
    let find = |child: &str, message: &str| {
        events
            .iter()
            .find(|e| e.field("child") == Some(child) && e.message == message)
            .unwrap_or_else(|| panic!("no {message} for {child}"))
            .clone()
    };
    let failed = find("retried", "failed");
    assert_eq!(failed.level, Level::WARN);
    assert_eq!(failed.field("group"), Some("root"));
    assert_eq!(failed.field("id"), Some("1"));
    assert_eq!(failed.field("incarnation"), Some("1"));
    assert_eq!(failed.field("cause"), Some("connection refused"));
    let restarting = find("retried", "restarting");
    assert_eq!(restarting.level, Level::INFO);
    assert_eq!(restarting.field("attempt"), Some("2"));
    assert_eq!(restarting.field("delay_ms"), Some("0"));
    assert_eq!(find("retried", "restarted").field("incarnation"), Some("2"));
    let stopping = find("slow", "stopping");
    assert_eq!(stopping.field("reason"), Some("deadline"));
    let stopped = find("slow", "stopped");
    assert_eq!(stopped.level, Level::DEBUG);
    assert_eq!(stopped.field("outcome"), Some("cancelled"));
    assert_eq!(stopped.field("duration_ms"), Some("100"));
    assert_eq!(
        find("retried", "stopped").field("outcome"),
        Some("completed")
    );
    assert_eq!(find("leaf", "stopping").field("reason"), Some("cancelled"));
    let spawned = find("quick", "spawned");
    assert_eq!(spawned.level, Level::TRACE);
}

#[test]
fn the_group_says_when_it_stops_and_how_it_ended() {
    let events = scripted().events();
    let group_events: Vec<_> = events
        .iter()
        .filter(|e| e.field("group") == Some("root") && e.message.starts_with("group"))
        .collect();
    assert_eq!(group_events.len(), 2, "{group_events:?}");
    assert_eq!(group_events[0].message, "group stopping");
    assert_eq!(group_events[0].field("reason"), Some("deadline"));
    let ended = group_events[1];
    assert_eq!(ended.message, "group ended");
    assert_eq!(ended.level, Level::ERROR, "a group that timed out failed");
    assert_eq!(ended.field("outcome"), Some("timed out"));
    assert_eq!(ended.field("spawned"), Some("4"));
    assert_eq!(ended.field("completed"), Some("2"));
    assert_eq!(ended.field("cancelled"), Some("2"));
    assert_eq!(ended.field("restarted"), Some("1"));
    assert_eq!(ended.field("duration_ms"), Some("100"));
    let inner_ended = events
        .iter()
        .find(|e| e.field("group") == Some("inner") && e.message == "group ended")
        .unwrap();
    assert_eq!(inner_ended.level, Level::INFO, "cancelled is not a failure");
}

#[test]
fn every_event_is_in_its_groups_span_and_nested_spans_are_inside_their_parents() {
    let events = scripted().events();
    for event in &events {
        let group = event.field("group").unwrap();
        assert_eq!(event.span.as_deref(), Some(group), "{event:?}");
    }
    let leaf = events
        .iter()
        .find(|e| e.field("child") == Some("leaf"))
        .unwrap();
    assert_eq!(leaf.span_path, ["root", "inner"]);
}

#[test]
fn a_force_stop_is_a_warning() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        run_paused(async {
            let log = common::worker::Log::default();
            let l = log.clone();
            let group = GroupSupervisor::<()>::builder()
                .grace(ms(50))
                .child_actor("stubborn", move |r| {
                    common::worker::Worker::new("stubborn", common::worker::Script::VetoStop, &l, r)
                })
                .start();
            tokio::time::sleep(ms(1)).await;
            group.send(Cancel).await.unwrap();
            group.send(Join::new()).await.unwrap();
        })
    });
    let forced = recorder
        .events()
        .into_iter()
        .find(|e| e.message == "force-stopped")
        .unwrap();
    assert_eq!(forced.level, Level::WARN);
    assert_eq!(forced.field("child"), Some("stubborn"));
    assert_eq!(forced.field("grace_ms"), Some("50"));
}

//! R3, honest printing: a `GroupError` prints every cause with every layer of its context,
//! and returns none as `source()` (a cause is printed or returned, never both). Printed with
//! `{}`, `{:#}` or `{:?}`, alone or inside an `anyhow::Error`, every message appears exactly
//! once, at any depth of nesting.

mod common;

use std::error::Error as _;

use actix_taskgroup::{GroupError, GroupSupervisor, Join, TaskGroup};
use anyhow::Context as _;
use common::worker::{Log, Script, Worker};
use common::{fail_after, run_paused};

/// The six ways a caller prints the error: the error itself and inside `anyhow`.
fn renderings(error: &GroupError) -> Vec<(&'static str, String)> {
    let wrapped = anyhow::Error::from(error.clone());
    vec![
        ("{}", format!("{error}")),
        ("{:#}", format!("{error:#}")),
        ("{:?}", format!("{error:?}")),
        ("anyhow {}", format!("{wrapped}")),
        ("anyhow {:#}", format!("{wrapped:#}")),
        ("anyhow {:?}", without_backtrace(format!("{wrapped:?}"))),
    ]
}

/// `anyhow`'s `{:?}` ends with a backtrace when `RUST_BACKTRACE` is set: not a message.
fn without_backtrace(mut text: String) -> String {
    if let Some(at) = text.find("\n\nStack backtrace:") {
        text.truncate(at);
    }
    text
}

/// Asserts that each message appears exactly once in every rendering of `error`.
fn assert_each_message_once(error: &GroupError, messages: &[&str]) {
    for (how, text) in renderings(error) {
        for message in messages {
            assert_eq!(
                text.matches(message).count(),
                1,
                "{message:?} should appear once in {how}:\n{text}"
            );
        }
    }
}

/// Asserts that the messages appear in this order in every rendering of `error`.
fn assert_in_order(error: &GroupError, messages: &[&str]) {
    for (how, text) in renderings(error) {
        let positions: Vec<usize> = messages.iter().map(|m| text.find(m).unwrap()).collect();
        assert!(
            positions.windows(2).all(|pair| pair[0] < pair[1]),
            "{messages:?} should appear in this order in {how}:\n{text}"
        );
    }
}

#[test]
fn a_single_failure_prints_every_layer_of_its_cause_once() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        group
            .spawn_named("writer", async {
                Err::<(), _>(anyhow::anyhow!("disk full")).context("writing block 7")
            })
            .unwrap();
        let error = group.join().await.unwrap_err();

        assert!(
            error.source().is_none(),
            "the causes are printed, not sources"
        );
        assert_each_message_once(&error, &["\"writer\"", "writing block 7", "disk full"]);
        assert_in_order(&error, &["writing block 7", "disk full"]);
        assert!(!format!("{:?}", anyhow::Error::from(error)).contains("Caused by"));
    });
}

#[test]
fn every_failure_of_a_group_is_printed_once() {
    run_paused(async {
        let group = TaskGroup::<()>::builder()
            .policy(actix_taskgroup::Policy::CollectAll)
            .build();
        group
            .spawn_named("one", fail_after::<()>(1, "first cause"))
            .unwrap();
        group
            .spawn_named("two", fail_after::<()>(2, "second cause"))
            .unwrap();
        let error = group.join().await.unwrap_err();
        assert!(error.source().is_none());
        assert_each_message_once(
            &error,
            &["\"one\"", "first cause", "\"two\"", "second cause"],
        );
        assert_in_order(&error, &["first cause", "second cause"]);
    });
}

/// An empty fail-fast group named `name`.
fn named_group(name: &'static str) -> TaskGroup<()> {
    TaskGroup::<()>::builder().name(name).build()
}

#[test]
fn three_levels_of_nested_groups_with_context_layers_print_every_message_once() {
    run_paused(async {
        let level3 = named_group("level3");
        level3
            .spawn_named("leaf", async {
                fail_after::<()>(1, "root cause")
                    .await
                    .context("leaf layer")
            })
            .unwrap();
        let level2 = named_group("level2");
        level2
            .spawn_named("g3", async move {
                level3
                    .join()
                    .await
                    .map(drop)
                    .context("ctx-a-3")
                    .context("ctx-b-3")
            })
            .unwrap();
        let level1 = named_group("level1");
        level1
            .spawn_named("g2", async move {
                level2
                    .join()
                    .await
                    .map(drop)
                    .context("ctx-a-2")
                    .context("ctx-b-2")
            })
            .unwrap();
        let error = level1.join().await.unwrap_err();

        assert!(error.source().is_none());
        // The tree is still reachable under the context layers.
        let level2_error = error.first_failure().unwrap().nested().unwrap();
        assert_eq!(level2_error.group_name(), Some("level2"));
        assert!(level2_error.source().is_none());

        let outer_first = [
            "\"level1\"",
            "\"g2\"",
            "ctx-b-2",
            "ctx-a-2",
            "\"level2\"",
            "\"g3\"",
            "ctx-b-3",
            "ctx-a-3",
            "\"level3\"",
            "\"leaf\"",
            "leaf layer",
            "root cause",
        ];
        assert_each_message_once(&error, &outer_first);
        assert_in_order(&error, &outer_first);
        // The inner error printed on its own is the same tree, one level shallower.
        assert_each_message_once(level2_error, &outer_first[4..]);
    });
}

#[test]
fn three_levels_of_nested_supervisors_print_every_message_once() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let inner = GroupSupervisor::<()>::builder()
            .name("inner")
            .child_actor("worker", move |r| {
                Worker::new("worker", Script::FailAfter(5), &l1, r)
            });
        let middle =
            GroupSupervisor::<()>::builder()
                .name("middle")
                .child_group("inner-group", inner, drop);
        let root = GroupSupervisor::<()>::builder()
            .name("root")
            .child_group("middle-group", middle, drop)
            .start();
        let report = root.send(Join::new()).await.unwrap();
        let error = report.error().unwrap();

        assert!(error.source().is_none());
        let messages = [
            "\"root\"",
            "\"middle-group\"",
            "\"middle\"",
            "\"inner-group\"",
            "\"inner\"",
            "\"worker\"",
            "worker failed",
        ];
        assert_each_message_once(error, &messages);
        assert_in_order(error, &messages);
    });
}

#[test]
fn a_supervisor_child_awaiting_a_failed_group_with_context_prints_every_layer_once() {
    run_paused(async {
        let root = GroupSupervisor::<()>::builder()
            .name("root")
            .child_future("fetcher", || async {
                let inner = TaskGroup::<()>::builder().name("fetches").build();
                inner.spawn_named("fetch", fail_after::<()>(1, "connection reset"))?;
                inner
                    .join()
                    .await
                    .map(drop)
                    .context("fetching the index")
                    .context("refreshing")
            })
            .start();
        let report = root.send(Join::new()).await.unwrap();
        let error = report.error().unwrap();
        let messages = [
            "\"root\"",
            "\"fetcher\"",
            "refreshing",
            "fetching the index",
            "\"fetches\"",
            "\"fetch\"",
            "connection reset",
        ];
        assert_each_message_once(error, &messages);
        assert_in_order(error, &messages);
    });
}

#[test]
fn a_group_error_under_anyhow_context_prints_every_message_once() {
    run_paused(async {
        let group = TaskGroup::<()>::builder().name("jobs").build();
        group
            .spawn_named("job", fail_after::<()>(1, "exit status 3"))
            .unwrap();
        let error = group.join().await.unwrap_err();
        let wrapped = anyhow::Error::from(error).context("running the batch");
        for text in [
            format!("{wrapped:#}"),
            without_backtrace(format!("{wrapped:?}")),
        ] {
            for message in ["running the batch", "\"jobs\"", "\"job\"", "exit status 3"] {
                assert_eq!(text.matches(message).count(), 1, "{message:?} in:\n{text}");
            }
        }
    });
}

//! What a caller asks of a report without writing glue: a child by name, who succeeded with
//! what, who failed with what, the winner of a race, the value-free summary, and a readable
//! tree.

mod common;

use std::time::Duration;

use actix_taskgroup::{
    Child, ChildKind, GroupReport, GroupSupervisor, Join, OutcomeKind, Policy, TaskGroup,
};
use anyhow::Context as _;
use common::{after, fail_after, run_paused};

/// A collect-all group: "one" and "three" complete, "two" fails, "four" (best-effort)
/// panics, and a second child named "one" completes later.
async fn collected() -> GroupReport<u32> {
    let group = TaskGroup::<u32>::builder()
        .name("batch")
        .policy(Policy::CollectAll)
        .keep_times()
        .build();
    group.spawn_named("one", after(3, 1)).unwrap();
    group
        .spawn_named("two", fail_after(2, "bad input"))
        .unwrap();
    group.spawn_named("three", after(1, 3)).unwrap();
    group
        .spawn_child(
            Child::future("four", || async {
                tokio::time::sleep(Duration::from_millis(4)).await;
                panic!("four exploded");
                #[allow(unreachable_code)]
                Ok::<u32, anyhow::Error>(4)
            })
            .best_effort(),
        )
        .unwrap();
    group.spawn_named("one", after(5, 11)).unwrap();
    group.join_report().await
}

#[test]
fn child_named_finds_the_first_child_of_that_name() {
    run_paused(async {
        let report = collected().await;
        let one = report.child_named("one").unwrap();
        assert_eq!(one.id(), report.children()[0].id());
        assert_eq!(one.outcome().value(), Some(&1));
        assert_eq!(
            report.child_named("three").unwrap().outcome().value(),
            Some(&3)
        );
        assert!(report.child_named("nobody").is_none());
        assert_eq!(report.child(one.id()).unwrap().name(), Some("one"));
    });
}

#[test]
fn successes_are_the_completed_children_with_their_values_in_spawn_order() {
    run_paused(async {
        let report = collected().await;
        let successes: Vec<(&str, u32)> = report
            .successes()
            .map(|(child, value)| (child.name().unwrap(), *value))
            .collect();
        assert_eq!(successes, [("one", 1), ("three", 3), ("one", 11)]);
    });
}

#[test]
fn failures_are_the_failed_children_with_their_causes_best_effort_included() {
    run_paused(async {
        let report = collected().await;
        let failures: Vec<(&str, OutcomeKind, String)> = report
            .failures()
            .map(|child| {
                let why = match child.outcome().cause() {
                    Some(cause) => cause.to_string(),
                    None => format!("{:?}", child.outcome()),
                };
                (child.name().unwrap(), child.outcome().kind(), why)
            })
            .collect();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert_eq!(failures[0].0, "two");
        assert_eq!(failures[0].1, OutcomeKind::Failed);
        assert_eq!(failures[0].2, "bad input");
        assert_eq!(failures[1].0, "four");
        assert_eq!(failures[1].1, OutcomeKind::Panicked);
        assert!(failures[1].2.contains("four exploded"), "{}", failures[1].2);
        assert!(report.child_named("four").unwrap().is_best_effort());

        // The best-effort failure is in the report, not in the group's error.
        let error = report.error().unwrap();
        let failed: Vec<_> = error.failures().map(|f| f.name().unwrap()).collect();
        assert_eq!(failed, ["two"]);
    });
}

#[test]
fn the_winner_of_a_race_is_in_the_report_and_a_group_without_race_has_none() {
    run_paused(async {
        let race = TaskGroup::<&str>::builder()
            .policy(Policy::FirstSuccess)
            .build();
        race.spawn_named("slow", after(30, "slow")).unwrap();
        race.spawn_named("broken", fail_after(1, "down")).unwrap();
        race.spawn_named("fast", after(10, "fast")).unwrap();
        let report = race.join_report().await;
        assert!(report.is_success());
        let winner = report.winner().expect("a race has a winner");
        assert_eq!(winner.name(), Some("fast"));
        assert_eq!(winner.outcome().value(), Some(&"fast"));
        assert!(report.child_named("slow").unwrap().outcome().is_cancelled());

        assert!(collected().await.winner().is_none());
    });
}

#[test]
fn the_summary_keeps_names_kinds_outcomes_and_times_without_values() {
    run_paused(async {
        let report = collected().await;
        let summary: GroupReport<()> = report.summary();
        assert_eq!(summary.name(), Some("batch"));
        assert_eq!(summary.children().len(), report.children().len());
        for (full, bare) in report.children().iter().zip(summary.children()) {
            assert_eq!(full.name(), bare.name());
            assert_eq!(full.kind(), bare.kind());
            assert_eq!(full.outcome().kind(), bare.outcome().kind());
            assert_eq!(full.started_at(), bare.started_at());
            assert_eq!(full.stopped_at(), bare.stopped_at());
        }
        assert_eq!(
            summary.error().map(|e| e.to_string()),
            report.error().map(|e| e.to_string())
        );
        assert_eq!(summary.to_string(), report.to_string());
    });
}

#[test]
fn the_report_prints_as_a_tree_with_nested_groups_indented_under_their_entry() {
    run_paused(async {
        let inner = GroupSupervisor::<()>::builder()
            .name("inner")
            .child_future("leaf-ok", || after(1, ()))
            .child_future("leaf-bad", || fail_after::<()>(2, "leaf broke"));
        let root = GroupSupervisor::<()>::builder()
            .name("root")
            .child_future("top", || after(1, ()))
            .child_group("nested", inner, drop)
            .start();
        let report = root.send(Join::new()).await.unwrap();
        assert_eq!(
            report.child_named("nested").unwrap().kind(),
            ChildKind::Group
        );
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("group \"root\": failed"), "{text}");
        let line = |needle: &str| {
            *lines
                .iter()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle:?} in:\n{text}"))
        };
        let indent = |l: &str| l.len() - l.trim_start().len();
        assert!(line("\"top\"").contains("future completed"), "{text}");
        assert!(line("\"nested\"").contains("group failed"), "{text}");
        assert!(line("\"leaf-bad\"").contains("leaf broke"), "{text}");
        assert!(
            indent(line("group \"inner\"")) > indent(line("\"nested\"")),
            "{text}"
        );
        assert!(
            indent(line("\"leaf-ok\"")) > indent(line("group \"inner\"")),
            "{text}"
        );
        assert_eq!(text.matches("leaf broke").count(), 1, "{text}");
    });
}

/// A child whose cause holds a `GroupError` (a future that awaited a `TaskGroup`) has that
/// error's tree indented under its own entry, not at the level of its siblings.
#[test]
fn a_group_error_inside_a_childs_cause_is_indented_under_its_entry() {
    run_paused(async {
        let root = GroupSupervisor::<()>::builder()
            .name("root")
            .policy(Policy::CollectAll)
            .child_future("fetcher", || async {
                let inner = TaskGroup::<()>::builder().name("fetches").build();
                inner.spawn_named("fetch", fail_after::<()>(1, "connection reset"))?;
                inner.join().await.map(drop).context("refreshing")
            })
            .child_future("other", || fail_after::<()>(1, "other failed"))
            .start();
        let report = root.send(Join::new()).await.unwrap();
        let text = report.to_string();
        let indent = |needle: &str| {
            let line = text.lines().find(|l| l.contains(needle)).unwrap();
            line.len() - line.trim_start().len()
        };
        assert!(
            indent("\"fetch\" failed") > indent("\"fetcher\""),
            "the inner failure belongs under its entry:\n{text}"
        );
        assert_eq!(indent("\"other\""), indent("\"fetcher\""));
        assert_eq!(text.matches("connection reset").count(), 1, "{text}");
    });
}

//! Property tests over random supervision trees (issue 19): up to 200 nodes, four levels of
//! nesting, every kind of child and behaviour, every policy, strategy and restart type,
//! limits, deadlines, timeouts, best-effort children, and external actions at random virtual
//! times. Each case runs on the paused clock and is checked against the rules (R1–R16), and,
//! where the oracle (`common/oracle.rs`) can tell, against the exact outcome of every child.
//!
//! `PROPTEST_CASES` sets the number of cases (2,000 by default); failing seeds are kept in
//! `proptest-regressions/properties.txt`.

#[path = "common/children.rs"]
mod children;
mod common;
#[path = "common/harness.rs"]
mod harness;
#[path = "common/invariants.rs"]
mod invariants;
#[path = "common/oracle.rs"]
mod oracle;
#[path = "common/tree.rs"]
mod tree;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Once;
use std::time::Duration;

use actix_taskgroup::{FailureKind, GroupErrorKind, GroupReport, Outcome, TaskGroup};
use harness::{Obs, Run, with_obs};
use invariants::{Kind, check_report, check_snapshot, index, kind_of};
use oracle::{ErrK, FailK, OutK, SimGroup};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use tree::{Action, Case, GroupKind};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        max_shrink_iters: 2000,
        rng_seed: seed(),
        ..ProptestConfig::default()
    }
}

/// Deterministic by default (the same cases on every run, CI's included); `PROPTEST_RNG_SEED`
/// chooses another seed.
fn seed() -> proptest::test_runner::RngSeed {
    match ProptestConfig::default().rng_seed {
        proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(19),
        chosen => chosen,
    }
}

/// Records panics instead of printing them: the children's own (marked) ones are expected,
/// any other is a bug, whether or not it escaped.
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            if message.starts_with(harness::PANIC) {
                return;
            }
            let recorded = IN_CASE.try_with(|c| c.get()).unwrap_or(false)
                && harness::OBS
                    .try_with(|o| {
                        o.try_borrow_mut()
                            .map(|mut o| {
                                o.stray_panics
                                    .push(format!("{message} at {:?}", info.location()))
                            })
                            .is_ok()
                    })
                    .unwrap_or(false);
            if !recorded {
                default(info);
            }
        }));
    });
}

thread_local! {
    /// Set while a case runs: the panics of that time are the case's.
    static IN_CASE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How the cases went, printed at the end: how many the oracle judged exactly, and why the
/// others were left to the invariants.
#[derive(Default)]
struct Tally {
    cases: usize,
    nodes: usize,
    exact: usize,
    unmodeled: std::collections::BTreeMap<&'static str, usize>,
}

thread_local! {
    static TALLY: std::cell::RefCell<Tally> = std::cell::RefCell::default();
}

#[test]
fn random_trees_keep_every_rule() {
    let mut config = config();
    config.source_file = Some(file!());
    let started = std::time::Instant::now();
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&tree::case(), |case| check_case(&case));
    TALLY.with(|t| {
        let t = t.borrow();
        eprintln!(
            "properties: {} cases ({} nodes) in {:.1?}; the oracle judged {} exactly; left to the invariants: {:?}",
            t.cases,
            t.nodes,
            started.elapsed(),
            t.exact,
            t.unmodeled
        );
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    quiet_panics();
    TALLY.with(|t| {
        let mut t = t.borrow_mut();
        t.cases += 1;
        t.nodes += tree::size(&case.root);
    });
    with_obs(|o| *o = Obs::default());
    IN_CASE.with(|c| c.set(true));
    let (run, fresh) = common::run_paused(async {
        let run = harness::run(case).await;
        // Let late messages (a `NotifyWhenDone`, a guard's `Cancel`) arrive.
        tokio::time::sleep(Duration::from_millis(1)).await;
        // The System still runs a fresh group (R5: no panic escaped into it).
        let group = TaskGroup::<u32>::new();
        group.spawn(async { Ok::<_, anyhow::Error>(1) }).unwrap();
        (run, group.join().await.ok())
    });
    IN_CASE.with(|c| c.set(false));
    let obs = with_obs(std::mem::take);
    prop_assert_eq!(fresh, Some(vec![1]), "a fresh group after the case");
    prop_assert!(
        obs.stray_panics.is_empty(),
        "stray panics: {:?}",
        obs.stray_panics
    );
    prop_assert!(
        obs.violations.is_empty(),
        "violations: {:?}",
        obs.violations
    );
    prop_assert_eq!(obs.alive_total, 0, "leaves left alive: {:?}", obs.alive);
    for (name, built) in &obs.built {
        let drops = obs.drops.get(name).map_or(0, Vec::len);
        prop_assert_eq!(
            *built,
            drops,
            "{}: built {} times, dropped {}",
            name,
            built,
            drops
        );
    }
    check_answers(case, &run, &obs)?;
    let specs = index(case);
    for snapshot in &run.snapshots {
        check_snapshot(snapshot)?;
    }
    if run.report.is_none() {
        TALLY.with(|t| *t.borrow_mut().unmodeled.entry("no report").or_default() += 1);
    }
    if let Some(report) = &run.report {
        check_report(report, "r", &case.root, &specs, &obs, &|v: &u32| Some(*v))?;
        check_oracle(case, &run, report, &obs)?;
    }
    Ok(())
}

/// R9: every asker that stayed gets exactly one report, all the same, once every leaf is gone.
fn check_answers(case: &Case, run: &Run, obs: &Obs) -> Result<(), TestCaseError> {
    let mut per_asker: HashMap<usize, usize> = HashMap::new();
    for (asker, alive, _, _) in &obs.answers {
        *per_asker.entry(*asker).or_default() += 1;
        prop_assert_eq!(
            *alive,
            0,
            "asker {} answered while leaves lived (R1)",
            asker
        );
    }
    for (asker, n) in &per_asker {
        prop_assert_eq!(*n, 1, "asker {} answered {} times (R9)", asker, n);
    }
    let summaries: Vec<_> = obs.answers.iter().map(|a| &a.3).collect();
    prop_assert!(
        summaries.windows(2).all(|w| w[0] == w[1]),
        "askers got different reports"
    );
    let cut_short = run.report.is_none() && case.root.kind == GroupKind::TaskGroup;
    if case.root.kind == GroupKind::Supervisor {
        for asker in 0..case.askers {
            let dropped = run.dropped_askers.contains(&asker);
            prop_assert_eq!(per_asker.contains_key(&asker), !dropped, "asker {}", asker);
        }
        if case.notify {
            prop_assert_eq!(per_asker.get(&usize::MAX), Some(&1), "NotifyWhenDone");
        }
        let late = case
            .actions
            .iter()
            .filter(|a| a.1 == Action::LateJoin)
            .count();
        prop_assert_eq!(
            per_asker.len(),
            case.askers - run.dropped_askers.len() + late + case.notify as usize
        );
    } else {
        prop_assert_eq!(per_asker.len(), usize::from(!cut_short));
    }
    Ok(())
}

fn out_k<T>(outcome: &Outcome<T>, value: &dyn Fn(&T) -> Option<u32>) -> (Kind, Option<u32>) {
    let v = match outcome {
        Outcome::Completed(v) => value(v),
        _ => None,
    };
    (kind_of(outcome), v)
}

fn sim_k(outcome: OutK) -> (Kind, Option<u32>) {
    match outcome {
        OutK::Completed(v) => (Kind::Completed, Some(v)),
        OutK::Failed => (Kind::Failed, None),
        OutK::Panicked => (Kind::Panicked, None),
        OutK::Cancelled => (Kind::Cancelled, None),
        OutK::TimedOut => (Kind::TimedOut, None),
    }
}

/// Compares the case with the oracle's answer, where it has one.
fn check_oracle(
    case: &Case,
    run: &Run,
    report: &GroupReport<u32>,
    obs: &Obs,
) -> Result<(), TestCaseError> {
    let cancel = case
        .actions
        .iter()
        .filter(|a| matches!(a.1, Action::Cancel | Action::DropGuard | Action::StopOwner))
        .map(|a| a.0)
        .chain([harness::SAFETY_CANCEL_MS])
        .min()
        .map(Duration::from_millis);
    let by_message =
        case.root.kind == GroupKind::Supervisor && case.ownership != tree::Ownership::Plain;
    let sim = match oracle::simulate_with(&case.root, "r", Duration::ZERO, cancel, by_message) {
        Ok(Some(sim)) => sim,
        Ok(None) => unreachable!("the safety cancel ends every root"),
        Err(oracle::Unmodeled(why)) => {
            TALLY.with(|t| *t.borrow_mut().unmodeled.entry(why).or_default() += 1);
            return Ok(());
        }
    };
    let drop_at = case
        .actions
        .iter()
        .filter(|a| a.1 == Action::DropJoin)
        .map(|a| a.0)
        .min();
    if let Some(at) = drop_at
        && Duration::from_millis(at) <= sim.end
    {
        // The join (or one asker) was dropped before or as the group ended.
        TALLY.with(|t| {
            *t.borrow_mut()
                .unmodeled
                .entry("the join dropped first")
                .or_default() += 1
        });
        return Ok(());
    }
    prop_assert_eq!(
        run.ended,
        Some(sim.end),
        "the root's result came at the wrong time"
    );
    let t0 = obs.t0.expect("the run's start");
    compare(report, &sim, "r", t0, &|v: &u32| Some(*v))?;
    if obs.spawns.iter().any(|s| s.2.is_none()) {
        // A spawner dropped before it heard: which of its spawns were refused is unknown.
        return Ok(());
    }
    let mut refused: Vec<_> = obs
        .spawns
        .iter()
        .filter(|s| s.2 == Some(false))
        .map(|s| s.1.clone())
        .collect();
    let mut expected = Vec::new();
    collect_refused(&sim, &mut expected);
    refused.sort();
    expected.sort();
    prop_assert_eq!(refused, expected, "refused spawns (R7)");
    TALLY.with(|t| t.borrow_mut().exact += 1);
    Ok(())
}

fn collect_refused(sim: &SimGroup, out: &mut Vec<String>) {
    out.extend(sim.refused.iter().map(|r| r.0.clone()));
}

fn compare<T: Debug>(
    report: &GroupReport<T>,
    sim: &SimGroup,
    name: &str,
    t0: tokio::time::Instant,
    value: &dyn Fn(&T) -> Option<u32>,
) -> Result<(), TestCaseError> {
    let names: Vec<_> = report
        .children()
        .iter()
        .map(|c| c.name().unwrap_or("?"))
        .collect();
    let sim_names: Vec<_> = sim.children.iter().map(|c| c.name.as_str()).collect();
    prop_assert_eq!(names, sim_names, "{}: children", name);
    for (child, expected) in report.children().iter().zip(&sim.children) {
        let (kind, v) = out_k(child.outcome(), value);
        let (sim_kind, sim_v) = sim_k(expected.outcome);
        prop_assert_eq!(
            kind,
            sim_kind,
            "{}: outcome {:?}, the oracle says {:?}",
            expected.name,
            child.outcome(),
            expected.outcome
        );
        if v.is_some() {
            prop_assert_eq!(v, sim_v, "{}: value", expected.name);
        }
        prop_assert_eq!(
            child.attempts(),
            expected.attempts,
            "{}: attempts",
            expected.name
        );
        if let Some(stopped) = child.stopped_at() {
            prop_assert_eq!(
                Some(stopped - t0),
                expected.end,
                "{}: stopped at",
                expected.name
            );
        }
        match (child.nested(), &expected.nested) {
            (Some(nested), Some(sim_nested)) => {
                compare(nested, sim_nested, &expected.name, t0, &|_: &()| None)?
            }
            (None, None) => {}
            (got, want) => prop_assert!(
                false,
                "{}: nested report {} vs {}",
                expected.name,
                got.is_some(),
                want.is_some()
            ),
        }
    }
    let error = report.error().map(|e| match e.kind() {
        GroupErrorKind::Failed => ErrK::Failed,
        GroupErrorKind::Cancelled => ErrK::Cancelled,
        GroupErrorKind::TimedOut => ErrK::TimedOut,
        GroupErrorKind::RestartLimit => ErrK::RestartLimit,
        other => panic!("unexpected error kind {other:?}"),
    });
    prop_assert_eq!(error, sim.error, "{}: the error's kind", name);
    let mut failures: Vec<(String, FailK)> = report
        .error()
        .map(|e| {
            e.failures()
                .map(|f| {
                    let kind = match f.kind() {
                        FailureKind::Failed => FailK::Failed,
                        FailureKind::Panicked => FailK::Panicked,
                        FailureKind::TimedOut => FailK::TimedOut,
                        _ => FailK::RestartLimit,
                    };
                    (f.name().unwrap_or("?").to_owned(), kind)
                })
                .collect()
        })
        .unwrap_or_default();
    failures.sort();
    prop_assert_eq!(
        failures,
        sim.failures.clone(),
        "{}: the error's failures",
        name
    );
    Ok(())
}

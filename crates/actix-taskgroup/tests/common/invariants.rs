//! The rules every case of the property tests must keep, whatever the oracle knows: the
//! reports' shape, outcomes, attempts and errors, and the snapshots.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;

use actix_taskgroup::{FailureKind, GroupErrorKind, GroupReport, Outcome};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::harness::Obs;
use crate::oracle;
use crate::tree::{ActScript, Body, Case, ChildM, FutScript, GroupKind, GroupM, StrategyM};

pub fn check_snapshot(snapshot: &actix_taskgroup::Snapshot) -> Result<(), TestCaseError> {
    let _ = snapshot.to_string();
    let c = snapshot.counters;
    prop_assert_eq!(c.spawned as usize, snapshot.children.len());
    prop_assert!(c.completed + c.failed + c.cancelled <= c.spawned, "{:?}", c);
    for child in &snapshot.children {
        if let Some(nested) = &child.nested {
            check_snapshot(nested)?;
        }
    }
    Ok(())
}

/// Every child's model by name, spawned ones included.
pub fn index(case: &Case) -> HashMap<String, ChildM> {
    fn walk(group: &GroupM, name: &str, out: &mut HashMap<String, ChildM>) {
        for (k, child) in group.children.iter().enumerate() {
            let child_name = format!("{name}/{k}");
            match &child.body {
                Body::Group { group, .. } => walk(group, &child_name, out),
                Body::Future {
                    script: FutScript::Spawn(_, kids),
                    ..
                } => {
                    for attempt in 1..=64 {
                        for (j, kid) in kids.iter().enumerate() {
                            out.insert(oracle::spawned_name(&child_name, j, attempt), kid.clone());
                        }
                    }
                }
                _ => {}
            }
            out.insert(child_name, child.clone());
        }
    }
    let mut out = HashMap::new();
    walk(&case.root, "r", &mut out);
    out
}

/// Checks that a group's report lists its builder's children, then the children spawned into
/// it that it accepted, in spawn order (R4, R7).
pub fn check_children_order(
    names: &[String],
    group: &GroupM,
    name: &str,
    obs: &Obs,
) -> Result<(), TestCaseError> {
    let builder = group.children.len();
    prop_assert!(names.len() >= builder, "{}: {:?}", name, names);
    for (k, got) in names.iter().take(builder).enumerate() {
        prop_assert_eq!(
            got,
            &format!("{name}/{k}"),
            "{}: the builder's children (R4)",
            name
        );
    }
    let mut rest = names[builder..].iter().peekable();
    for (_, spawned, accepted) in obs.spawns.iter().filter(|s| s.0 == name) {
        match accepted {
            Some(true) => prop_assert_eq!(
                rest.next(),
                Some(spawned),
                "{}: spawned children (R4, R7)",
                name
            ),
            Some(false) => prop_assert!(
                rest.peek() != Some(&spawned),
                "{}: refused, yet listed",
                spawned
            ),
            None => {
                if rest.peek() == Some(&spawned) {
                    rest.next();
                }
            }
        }
    }
    prop_assert!(
        rest.next().is_none(),
        "{}: children nobody spawned: {:?}",
        name,
        names
    );
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Completed,
    Failed,
    Panicked,
    Cancelled,
    TimedOut,
}

pub fn kind_of<T>(outcome: &Outcome<T>) -> Kind {
    match outcome {
        Outcome::Completed(_) => Kind::Completed,
        Outcome::Failed(_) => Kind::Failed,
        Outcome::Panicked(_) => Kind::Panicked,
        Outcome::Cancelled => Kind::Cancelled,
        Outcome::TimedOut => Kind::TimedOut,
        _ => unreachable!("a new outcome"),
    }
}

/// The rules every report must keep, whatever the oracle knows: one entry per child in spawn
/// order, outcomes that match the behaviours, attempts that match the factory calls, and an
/// error that holds every failure and nothing else (R3, R4, R9, R12, R14).
#[allow(clippy::too_many_arguments)]
pub fn check_report<T: Debug>(
    report: &GroupReport<T>,
    name: &str,
    group: &GroupM,
    specs: &HashMap<String, ChildM>,
    obs: &Obs,
    value: &dyn Fn(&T) -> Option<u32>,
) -> Result<(), TestCaseError> {
    let names: Vec<_> = report
        .children()
        .iter()
        .map(|c| c.name().unwrap_or("?").to_owned())
        .collect();
    check_children_order(&names, group, name, obs)?;
    let mut failing = Vec::new();
    for child in report.children() {
        let cname = child.name().unwrap().to_owned();
        let Some(spec) = specs.get(&cname) else {
            return Err(TestCaseError::fail(format!("{cname}: not in the model")));
        };
        let kind = kind_of(child.outcome());
        let calls = obs.calls.get(&cname).map_or(0, Vec::len) as u32;
        let nested_sup =
            matches!(&spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor);
        if child.attempts() == 0 {
            prop_assert_eq!(kind, Kind::Cancelled, "{}: never started (R14)", cname);
            prop_assert_eq!(calls, 0, "{}: queued, yet its factory ran (R14)", cname);
        } else if !nested_sup {
            // Under one-for-all and rest-for-one, a batch may stop an incarnation before its
            // first poll, again and again: each is an attempt whose factory never ran.
            let most = if group.strategy == StrategyM::OneForOne {
                calls + 1
            } else {
                u32::MAX
            };
            prop_assert!(
                calls <= child.attempts() && child.attempts() <= most,
                "{}: {} attempts, {} factory calls",
                cname,
                child.attempts(),
                calls
            );
        }
        if let Some(limit) = spec.attempts {
            prop_assert!(
                child.attempts() <= limit,
                "{}: {} attempts over {}",
                cname,
                child.attempts(),
                limit
            );
        }
        check_outcome(&cname, spec, child.outcome(), value)?;
        if let Some(actor_stopped) = obs.stopped.get(&cname)
            && matches!(
                spec.body,
                Body::Actor {
                    script: ActScript::Veto | ActScript::PanicInStopping,
                    ..
                }
            )
        {
            prop_assert_eq!(
                *actor_stopped,
                0,
                "{}: stopped() after a veto or a panic",
                cname
            );
        }
        if let (Some(d), Some(kind)) = (
            child.duration(),
            natural_duration(spec, child.outcome(), child.attempts()),
        ) {
            prop_assert_eq!(
                d,
                kind,
                "{}: ran {:?}, its script says {:?}",
                cname,
                d,
                kind
            );
        }
        if child.outcome().is_failure() && !child.is_best_effort() {
            failing.push(child.id());
        }
        if let (Body::Group { group: inner, .. }, Some(nested)) = (&spec.body, child.nested()) {
            check_report(nested, &cname, inner, specs, obs, &|_: &()| None)?;
        }
    }
    // R3: the error lists every failure that ended a child for good, and nothing else.
    let winner = report.winner().is_some();
    match report.error() {
        None => prop_assert!(
            failing.is_empty() || winner,
            "{}: failures but no error",
            name
        ),
        Some(error) => {
            prop_assert!(!winner, "{}: a race with a winner failed", name);
            let mut seen = Vec::new();
            let mut last = None;
            for failure in error.failures() {
                let child = report.child(failure.id()).expect("a failure names a child");
                prop_assert!(
                    !seen.contains(&failure.id()),
                    "{}: {} listed twice",
                    name,
                    failure.id()
                );
                seen.push(failure.id());
                let expected = match kind_of(child.outcome()) {
                    Kind::Failed => FailureKind::Failed,
                    Kind::Panicked => FailureKind::Panicked,
                    Kind::TimedOut => FailureKind::TimedOut,
                    _ => FailureKind::RestartLimit,
                };
                if failure.kind() != FailureKind::RestartLimit {
                    prop_assert_eq!(failure.kind(), expected, "{}: {:?}", name, child.name());
                    prop_assert!(
                        !child.is_best_effort(),
                        "{}: a best-effort failure in the error",
                        name
                    );
                } else {
                    prop_assert_eq!(error.kind(), GroupErrorKind::RestartLimit);
                }
                // R3: in order of occurrence.
                if let Some(at) = child.stopped_at() {
                    prop_assert!(
                        last.is_none_or(|l| l <= at),
                        "{}: failures out of order",
                        name
                    );
                    last = Some(at);
                }
            }
            for id in failing {
                prop_assert!(
                    seen.contains(&id),
                    "{}: the failure of {} is missing from the error",
                    name,
                    id
                );
            }
        }
    }
    Ok(())
}

/// The outcomes a child's behaviour allows (whatever its group did to it).
pub fn check_outcome<T: Debug>(
    name: &str,
    spec: &ChildM,
    outcome: &Outcome<T>,
    value: &dyn Fn(&T) -> Option<u32>,
) -> Result<(), TestCaseError> {
    let kind = kind_of(outcome);
    let bomb = matches!(
        spec.body,
        Body::Future {
            panic_on_drop: true,
            ..
        } | Body::Actor {
            panic_on_drop: true,
            ..
        }
    );
    let flaky = spec.flaky > 0;
    let ok = match kind {
        Kind::Cancelled => true,
        Kind::TimedOut => spec.timeout.is_some(),
        Kind::Panicked => {
            bomb || matches!(
                spec.body,
                Body::Future {
                    script: FutScript::Panic(_),
                    ..
                } | Body::Actor {
                    script: ActScript::Panic(_) | ActScript::PanicInStopping,
                    ..
                }
            )
        }
        Kind::Failed => {
            !bomb
                && (flaky
                    || matches!(
                        spec.body,
                        Body::Future {
                            script: FutScript::Fail(_),
                            ..
                        } | Body::Actor {
                            script: ActScript::Fail(_) | ActScript::Report { value: None, .. },
                            ..
                        } | Body::Group { .. }
                    ))
        }
        Kind::Completed => {
            let v = match outcome {
                Outcome::Completed(v) => value(v),
                _ => None,
            };
            let allowed = match &spec.body {
                Body::Future {
                    script: FutScript::Complete(_, x) | FutScript::Yield(_, x),
                    ..
                } => Some(Some(*x)),
                Body::Future {
                    script: FutScript::Spawn(..),
                    ..
                } => Some(Some(0)),
                Body::Actor {
                    script: ActScript::Complete(_, x),
                    ..
                } => Some(Some(*x)),
                Body::Actor {
                    script: ActScript::Report { value: Some(x), .. },
                    ..
                } => Some(Some(*x)),
                Body::Group { .. } => Some(None),
                _ => None,
            };
            !bomb
                && match allowed {
                    None => false,
                    Some(None) => true,
                    Some(Some(x)) => v.is_none_or(|v| v == x),
                }
        }
    };
    prop_assert!(
        ok,
        "{}: {:?} does not follow from {:?}",
        name,
        outcome,
        spec
    );
    Ok(())
}

/// How long an incarnation that ended on its own ran, from its script.
pub fn natural_duration<T>(spec: &ChildM, outcome: &Outcome<T>, attempts: u32) -> Option<Duration> {
    let ms = Duration::from_millis;
    if attempts <= spec.flaky {
        return matches!(outcome, Outcome::Failed(_)).then(|| ms(spec.flaky_at));
    }
    match (&spec.body, outcome) {
        (
            Body::Future {
                script: FutScript::Complete(d, _),
                ..
            },
            Outcome::Completed(_),
        ) => Some(ms(*d)),
        (
            Body::Future {
                script: FutScript::Fail(d),
                ..
            },
            Outcome::Failed(_),
        ) => Some(ms(*d)),
        (
            Body::Future {
                script: FutScript::Spawn(d, _),
                ..
            },
            Outcome::Completed(_),
        ) => Some(ms(*d)),
        (
            Body::Future {
                script: FutScript::Yield(..),
                ..
            },
            Outcome::Completed(_),
        ) => Some(Duration::ZERO),
        (
            Body::Actor {
                script: ActScript::Complete(d, _),
                ..
            },
            Outcome::Completed(_),
        ) => Some(ms(*d)),
        (
            Body::Actor {
                script: ActScript::Fail(d),
                ..
            },
            Outcome::Failed(_),
        ) => Some(ms(*d)),
        _ => None,
    }
}

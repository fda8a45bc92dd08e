//! The oracle of the property tests: what the rules (DESIGN §3, §6, docs/design-notes.md) say
//! a generated tree must end with, computed by a small discrete-event simulation of each group
//! on virtual time, written from the rules and not from the engine.
//!
//! It gives up (`Err(Unmodeled)`) where an answer would need the engine's own scheduling:
//! two events of one group at the same instant whose order matters, a restart strategy that
//! takes bystanders, a backoff with jitter. The property tests then check invariants only.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use super::tree::{ChildM, GroupKind, GroupM};

#[path = "oracle_group.rs"]
mod group;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutK {
    Completed(u32),
    Failed,
    Panicked,
    Cancelled,
    TimedOut,
}

impl OutK {
    pub fn is_failure(self) -> bool {
        matches!(self, OutK::Failed | OutK::Panicked | OutK::TimedOut)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrK {
    Failed,
    Cancelled,
    TimedOut,
    RestartLimit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailK {
    Failed,
    Panicked,
    TimedOut,
    RestartLimit,
}

#[derive(Debug, Clone)]
pub struct SimChild {
    pub name: String,
    pub outcome: OutK,
    pub attempts: u32,
    /// When its last incarnation stopped; `None` if it never started.
    pub end: Option<Duration>,
    /// A nested supervisor's own result (its last incarnation).
    pub nested: Option<SimGroup>,
    pub best_effort: bool,
}

#[derive(Debug, Clone)]
pub struct SimGroup {
    pub end: Duration,
    pub error: Option<ErrK>,
    /// The error's entries, sorted (the order of occurrence is checked as an invariant).
    pub failures: Vec<(String, FailK)>,
    pub children: Vec<SimChild>,
    /// Spawned children that were refused, by name and time, in this group and every group
    /// nested in it.
    pub refused: Vec<(String, Duration)>,
}

impl SimGroup {
    /// The value a nested group hands its parent: the sum of its significant values.
    pub fn sum(&self) -> u32 {
        self.children
            .iter()
            .filter_map(|c| match c.outcome {
                OutK::Completed(v) if !c.best_effort => Some(v),
                _ => None,
            })
            .sum()
    }
}

/// The oracle has no answer for this tree.
#[derive(Debug)]
pub struct Unmodeled(pub &'static str);

type Sim<T> = Result<T, Unmodeled>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The name of the `k`-th child a spawner spawned in its `attempt`-th incarnation.
pub fn spawned_name(spawner: &str, k: usize, attempt: u32) -> String {
    format!("{spawner}.s{k}a{attempt}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Stopping,
}

/// One running incarnation.
struct Inc {
    start: Duration,
    attempt: u32,
    /// When and how it ends if nobody stops it (and whether it spawns then).
    natural: Option<(Duration, OutK)>,
    /// Asked to stop: when it will have stopped, and how, unless it ends naturally first.
    stop_end: Option<(Duration, OutK)>,
    stop_asked: bool,
    timed_out: bool,
    /// A spawner by message has spawned; it ends in a step of its own.
    spawned: bool,
    /// A nested supervisor's result for this incarnation (re-simulated when it is stopped).
    nested: Option<SimGroup>,
}

enum St {
    Queued,
    Running(Inc),
    Backoff(Duration),
    Done,
}

struct C {
    name: String,
    spec: ChildM,
    st: St,
    attempts: u32,
    holds_slot: bool,
    streak: u32,
    last_start: Option<Duration>,
    result: Option<SimChild>,
    /// The last incarnation's nested result (kept through a backoff).
    last_nested: Option<SimGroup>,
}

struct G<'a> {
    by_message: bool,
    spec: &'a GroupM,
    start: Duration,
    now: Duration,
    phase: Phase,
    cause: Option<Option<ErrK>>,
    children: Vec<C>,
    queue: VecDeque<usize>,
    running: usize,
    restarts: VecDeque<Duration>,
    failures: Vec<(String, FailK)>,
    winner: bool,
    grace_end: Option<Duration>,
    refused: Vec<(String, Duration)>,
}

/// Simulates `group` started at `start`; `cancel_at` is when its owner cancels it. `None`:
/// the group never ends unless it is cancelled.
pub fn simulate(
    group: &GroupM,
    name: &str,
    start: Duration,
    cancel_at: Option<Duration>,
) -> Sim<Option<SimGroup>> {
    simulate_with(group, name, start, cancel_at, false)
}

/// As [`simulate`]; `by_message`: the group's spawners spawn by message (`SpawnChild`), so
/// each spawner ends after its spawns were answered, a step of its own in the same instant.
pub fn simulate_with(
    group: &GroupM,
    name: &str,
    start: Duration,
    cancel_at: Option<Duration>,
    by_message: bool,
) -> Sim<Option<SimGroup>> {
    let mut g = G {
        by_message,
        spec: group,
        start,
        now: start,
        phase: Phase::Open,
        cause: None,
        children: Vec::new(),
        queue: VecDeque::new(),
        running: 0,
        restarts: VecDeque::new(),
        failures: Vec::new(),
        winner: false,
        grace_end: None,
        refused: Vec::new(),
    };
    for (k, child) in group.children.iter().enumerate() {
        g.admit(format!("{name}/{k}"), child.clone())?;
    }
    let deadline = group.deadline.map(|d| start + ms(d));
    loop {
        if g.children.iter().all(|c| matches!(c.st, St::Done)) {
            break;
        }
        let open = g.phase == Phase::Open;
        // Every event that may come next: (time, harmless, what).
        let mut events: Vec<(Duration, bool, Ev)> = Vec::new();
        if open {
            if let Some(at) = deadline {
                events.push((at, false, Ev::Deadline));
            }
            if let Some(at) = cancel_at {
                events.push((at.max(start), false, Ev::Cancel));
            }
        }
        for (i, c) in g.children.iter().enumerate() {
            match &c.st {
                St::Running(inc) => {
                    let natural = inc.natural;
                    let stop = inc.stop_end;
                    match (natural, stop) {
                        (Some(n), Some(s)) if n.0 == s.0 => {
                            return Err(Unmodeled("natural end at the force"));
                        }
                        (Some(n), Some(s)) if s.0 < n.0 => {
                            events.push((s.0, !open, Ev::StopEnd(i)))
                        }
                        (Some(n), _) => {
                            let harmless = !open || g.harmless(i, n.1);
                            events.push((n.0, harmless, Ev::Natural(i)))
                        }
                        (None, Some(s)) => events.push((s.0, !open, Ev::StopEnd(i))),
                        (None, None) => {}
                    }
                    if open
                        && !inc.stop_asked
                        && let Some(t) = c.spec.timeout
                    {
                        events.push((inc.start + ms(t), false, Ev::Timeout(i)));
                    }
                }
                St::Backoff(at) if open => events.push((*at, false, Ev::Restart(i))),
                _ => {}
            }
        }
        let Some(&(at, _, _)) = events.iter().min_by_key(|e| e.0) else {
            return Ok(None);
        };
        let tied: Vec<_> = events.iter().filter(|e| e.0 == at).collect();
        if tied.len() > 1 && !tied.iter().all(|e| e.1) {
            return Err(Unmodeled("a tie"));
        }
        let ev = tied[0].2;
        g.now = at;
        match ev {
            Ev::Deadline => g.stop(Some(ErrK::TimedOut))?,
            Ev::Cancel => g.stop(Some(ErrK::Cancelled))?,
            Ev::Natural(i) => g.natural_end(i)?,
            Ev::StopEnd(i) => {
                let St::Running(inc) = &g.children[i].st else {
                    unreachable!()
                };
                let (_, outcome) = inc.stop_end.expect("a stop end");
                g.incarnation_ended(i, outcome)?;
            }
            Ev::Timeout(i) => g.ask_stop(i, true)?,
            Ev::Restart(i) => g.start_incarnation(i)?,
        }
    }
    let end = g
        .children
        .iter()
        .filter_map(|c| c.result.as_ref().and_then(|r| r.end))
        .max()
        .unwrap_or(start)
        .max(g.now);
    let error = match g.cause {
        Some(Some(ErrK::TimedOut)) if !g.failures.is_empty() => Some(ErrK::Failed),
        Some(Some(kind)) => Some(kind),
        _ if g.winner => None,
        _ if !g.failures.is_empty() => Some(ErrK::Failed),
        _ => None,
    };
    let mut failures = if error.is_some() {
        g.failures
    } else {
        Vec::new()
    };
    failures.sort();
    Ok(Some(SimGroup {
        end,
        error,
        failures,
        children: g
            .children
            .into_iter()
            .map(|c| c.result.expect("ended"))
            .collect(),
        refused: g.refused,
    }))
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Deadline,
    Cancel,
    Natural(usize),
    StopEnd(usize),
    Timeout(usize),
    Restart(usize),
}

/// How a child's nested group ended, as the child's outcome.
fn nested_outcome(kind: GroupKind, nested: &SimGroup) -> OutK {
    match nested.error {
        None => OutK::Completed(nested.sum()),
        Some(ErrK::Cancelled) if nested.failures.is_empty() && kind == GroupKind::Supervisor => {
            OutK::Cancelled
        }
        Some(_) => OutK::Failed,
    }
}

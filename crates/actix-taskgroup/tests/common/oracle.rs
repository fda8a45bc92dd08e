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

use super::tree::{ActScript, Body, ChildM, FutScript, GroupKind, GroupM, OnStop, PolicyM};
use super::tree::{RestartM, StrategyM};

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

impl G<'_> {
    fn admit(&mut self, name: String, spec: ChildM) -> Sim<()> {
        let gated = self.spec.limit.is_some();
        let i = self.children.len();
        self.children.push(C {
            name,
            spec,
            st: St::Queued,
            attempts: 0,
            holds_slot: false,
            streak: 0,
            last_start: None,
            result: None,
            last_nested: None,
        });
        let free = self.spec.limit.is_none_or(|n| self.running < n);
        if gated && (!self.queue.is_empty() || !free) {
            self.queue.push_back(i);
        } else {
            if gated {
                self.running += 1;
                self.children[i].holds_slot = true;
            }
            self.start_incarnation(i)?;
        }
        Ok(())
    }

    /// Whether an event's order against others at the same instant cannot matter.
    fn harmless(&self, i: usize, outcome: OutK) -> bool {
        let c = &self.children[i];
        let spawns = matches!(
            c.spec.body,
            Body::Future {
                script: FutScript::Spawn(..),
                ..
            }
        );
        matches!(outcome, OutK::Completed(_))
            && self.spec.policy != PolicyM::FirstSuccess
            && c.spec.restart != RestartM::Permanent
            && !spawns
    }

    fn start_incarnation(&mut self, i: usize) -> Sim<()> {
        let now = self.now;
        let c = &mut self.children[i];
        c.attempts += 1;
        c.last_start = Some(now);
        let attempt = c.attempts;
        let flaky = attempt <= c.spec.flaky;
        let bomb = matches!(
            c.spec.body,
            Body::Future {
                panic_on_drop: true,
                ..
            } | Body::Actor {
                panic_on_drop: true,
                ..
            }
        );
        let at = |d: u64| now + ms(d);
        let mut nested = None;
        let natural = if flaky {
            Some((at(c.spec.flaky_at), OutK::Failed))
        } else {
            match &c.spec.body {
                Body::Future { script, .. } => match script {
                    FutScript::Complete(d, v) => Some((at(*d), OutK::Completed(*v))),
                    FutScript::Fail(d) => Some((at(*d), OutK::Failed)),
                    FutScript::Panic(d) => Some((at(*d), OutK::Panicked)),
                    FutScript::Hang => None,
                    FutScript::Yield(_, v) => Some((now, OutK::Completed(*v))),
                    FutScript::Spawn(d, _) => Some((at(*d), OutK::Completed(0))),
                },
                Body::Actor { script, .. } => match *script {
                    ActScript::Complete(d, v) => Some((at(d), OutK::Completed(v))),
                    ActScript::Fail(d) => Some((at(d), OutK::Failed)),
                    ActScript::Panic(d) => Some((at(d), OutK::Panicked)),
                    ActScript::Hang | ActScript::Veto | ActScript::PanicInStopping => None,
                    ActScript::Report { at: r, then, value } => {
                        Some((at(r + then), value.map_or(OutK::Failed, OutK::Completed)))
                    }
                },
                Body::Group { group, .. } => {
                    // Simulated lazily below (it may be unmodeled).
                    nested = Some(group.clone());
                    None
                }
            }
        };
        let natural = natural.map(|(t, o)| (t, if bomb { OutK::Panicked } else { o }));
        c.st = St::Running(Inc {
            start: now,
            attempt,
            natural,
            stop_end: None,
            stop_asked: false,
            timed_out: false,
            spawned: false,
            nested: None,
        });
        if let Some(group) = nested {
            let name = c.name.clone();
            if let Some(sim) = simulate(&group, &name, now, None)? {
                let St::Running(inc) = &mut self.children[i].st else {
                    unreachable!()
                };
                inc.natural = Some((sim.end, nested_outcome(group.kind, &sim)));
                inc.nested = Some(sim);
            }
        }
        Ok(())
    }

    /// The running incarnation of `i` ends on its own at `now`.
    fn natural_end(&mut self, i: usize) -> Sim<()> {
        let St::Running(inc) = &self.children[i].st else {
            unreachable!()
        };
        let (_, mut outcome) = inc.natural.expect("a natural end");
        let (asked, attempt, spawned) = (inc.stop_asked, inc.attempt, inc.spawned);
        let spec = &self.children[i].spec;
        if let Body::Future {
            script: FutScript::Spawn(_, kids),
            ..
        } = &spec.body
            && attempt > spec.flaky
            && !spawned
        {
            let kids = kids.clone();
            let spawner = self.children[i].name.clone();
            for (k, kid) in kids.into_iter().enumerate() {
                let name = spawned_name(&spawner, k, attempt);
                if self.phase == Phase::Open {
                    self.admit(name, kid)?;
                } else {
                    self.refused.push((name, self.now));
                }
            }
            if self.by_message {
                let now = self.now;
                let St::Running(inc) = &mut self.children[i].st else {
                    unreachable!()
                };
                inc.spawned = true;
                inc.natural = Some((now, outcome));
                return Ok(());
            }
        }
        if asked && matches!(outcome, OutK::Completed(_)) {
            // A graceful future that returns `Ok` after its stop request was cancelled.
            outcome = OutK::Cancelled;
        }
        self.incarnation_ended(i, outcome)
    }

    /// Asks the running incarnation of `i` to stop: the whole group's stop, or its own
    /// timeout (`solo`).
    fn ask_stop(&mut self, i: usize, solo: bool) -> Sim<()> {
        let now = self.now;
        let grace = ms(self.spec.grace);
        let c = &mut self.children[i];
        let St::Running(inc) = &mut c.st else {
            unreachable!()
        };
        inc.stop_asked = true;
        inc.timed_out |= solo;
        let flaky = inc.attempt <= c.spec.flaky;
        if let Some((at, natural)) = inc.natural
            && at == now
        {
            // It would end in this very instant. An actor ends so in `started()`, which runs
            // even when the stop comes first (R2: a child accepted is started, then stopped);
            // for a future it depends on the poll order.
            if matches!(c.spec.body, Body::Actor { .. }) && inc.start == now {
                return self.incarnation_ended(i, natural);
            }
            return Err(Unmodeled("a tie"));
        }
        let (at, outcome) = match &c.spec.body {
            Body::Future {
                graceful,
                panic_on_drop,
                ..
            } => {
                if *panic_on_drop && inc.start == now && graceful.is_none() {
                    // Stopped in the instant it started: whether its factory (and so its
                    // panicking destructor) ran depends on the engine's poll order.
                    return Err(Unmodeled("a destructor that may not exist yet"));
                }
                let o = if *panic_on_drop {
                    OutK::Panicked
                } else {
                    OutK::Cancelled
                };
                match graceful {
                    None | Some(OnStop::Quick) => (now, o),
                    Some(OnStop::Ignore) => (now + grace, o),
                }
            }
            Body::Actor {
                script,
                panic_on_drop,
                ..
            } => {
                let bomb = if *panic_on_drop {
                    OutK::Panicked
                } else {
                    OutK::Cancelled
                };
                match *script {
                    _ if flaky => (now, bomb),
                    ActScript::Veto => (now + grace, bomb),
                    ActScript::PanicInStopping => (now, OutK::Panicked),
                    ActScript::Report { at, value, .. } => {
                        let reported = inc.start + ms(at);
                        if reported == now {
                            return Err(Unmodeled("a report at the stop"));
                        }
                        let o = if reported < now {
                            value.map_or(OutK::Failed, OutK::Completed)
                        } else {
                            OutK::Cancelled
                        };
                        (now, if *panic_on_drop { OutK::Panicked } else { o })
                    }
                    _ => (now, bomb),
                }
            }
            Body::Group { group, .. } if group.kind == GroupKind::Supervisor => {
                let Some(sim) = simulate(group, &c.name, inc.start, Some(now))? else {
                    unreachable!("a cancelled group ends")
                };
                let outcome = nested_outcome(group.kind, &sim);
                let end = sim.end;
                inc.nested = Some(sim);
                inc.natural = None;
                (end, outcome)
            }
            // A future that joins a `TaskGroup`: dropped, its group with it. What its group
            // did before (refused spawns) is what a cancel at the same instant would show.
            Body::Group { group, .. } => {
                let Some(mut sim) = simulate(group, &c.name, inc.start, Some(now))? else {
                    unreachable!("a cancelled group ends")
                };
                sim.refused.retain(|r| r.1 < now);
                inc.nested = Some(sim);
                (now, OutK::Cancelled)
            }
        };
        let nested_sup = matches!(&c.spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor);
        if at == now && !nested_sup {
            return self.incarnation_ended(i, outcome);
        }
        inc.stop_end = Some((at, outcome));
        Ok(())
    }

    fn stop(&mut self, cause: Option<ErrK>) -> Sim<()> {
        if self.phase != Phase::Open {
            return Ok(());
        }
        self.phase = Phase::Stopping;
        self.cause = Some(cause);
        self.grace_end = Some(self.now + ms(self.spec.grace));
        for i in (0..self.children.len()).rev() {
            match &self.children[i].st {
                St::Queued | St::Backoff(_) => {
                    let outcome = OutK::Cancelled;
                    self.finalize(i, outcome, false)?;
                }
                St::Running(inc) if !inc.stop_asked => self.ask_stop(i, false)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// An incarnation of `i` ended at `now` with `outcome` (before the timeout's override).
    fn incarnation_ended(&mut self, i: usize, mut outcome: OutK) -> Sim<()> {
        let c = &mut self.children[i];
        let St::Running(inc) = &c.st else {
            unreachable!()
        };
        if inc.timed_out && outcome != OutK::Panicked {
            outcome = OutK::TimedOut;
        }
        let nested = inc.nested.clone();
        if let Some(nested) = &nested {
            self.refused.extend(nested.refused.iter().cloned());
        }
        let nested_sup = matches!(&c.spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor);
        if nested_sup {
            c.last_nested = nested.clone();
        }
        c.st = St::Done;
        c.result = Some(SimChild {
            name: c.name.clone(),
            outcome,
            attempts: c.attempts,
            end: Some(self.now),
            nested: nested.filter(|_| {
                matches!(&c.spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor)
            }),
            best_effort: c.spec.best_effort,
        });
        if self.phase == Phase::Open && self.wants_restart(i, outcome) {
            return self.restart(i, outcome);
        }
        self.finalize(i, outcome, false)
    }

    fn wants_restart(&self, i: usize, outcome: OutK) -> bool {
        let spec = &self.children[i].spec;
        if spec.is_plain() {
            return false;
        }
        let restart = match spec.restart {
            RestartM::Temporary if spec.attempts.is_some_and(|n| n > 1) => RestartM::Transient,
            other => other,
        };
        let by_type = match restart {
            RestartM::Permanent => true,
            RestartM::Transient => outcome.is_failure(),
            RestartM::Temporary => false,
        };
        by_type && spec.attempts.is_none_or(|n| self.children[i].attempts < n)
    }

    fn restart(&mut self, i: usize, outcome: OutK) -> Sim<()> {
        let now = self.now;
        let window = ms(self.spec.window);
        while let Some(&oldest) = self.restarts.front() {
            if now - oldest > window {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        let keep = self.spec.max_restarts as usize + 1;
        while self.restarts.len() > keep {
            self.restarts.pop_front();
        }
        if self.restarts.len() as u32 > self.spec.max_restarts {
            return self.finalize(i, outcome, true);
        }
        if self.spec.strategy != StrategyM::OneForOne {
            let others = self.children.iter().enumerate().any(|(j, c)| {
                let eligible = match self.spec.strategy {
                    StrategyM::RestForOne => j > i,
                    _ => j != i,
                };
                eligible && matches!(c.st, St::Running(_) | St::Backoff(_))
            });
            if others {
                return Err(Unmodeled("a restart strategy with bystanders"));
            }
        }
        let delay = match self.spec.backoff {
            None => Duration::ZERO,
            Some(b) if b.jitter > 0.0 => return Err(Unmodeled("jitter")),
            Some(b) => {
                let c = &mut self.children[i];
                if c.last_start.is_some_and(|s| now - s >= ms(b.reset_after)) {
                    c.streak = 0;
                }
                c.streak += 1;
                let exponent = c.streak.saturating_sub(1).min(1024) as i32;
                let grown = ms(b.base).as_secs_f64() * b.factor.powi(exponent);
                let max = ms(b.max);
                let capped = if grown.is_finite() {
                    grown.min(max.as_secs_f64())
                } else {
                    max.as_secs_f64()
                };
                Duration::try_from_secs_f64(capped).unwrap_or(max)
            }
        };
        self.children[i].result = None;
        if delay.is_zero() {
            self.start_incarnation(i)?;
        } else {
            self.children[i].st = St::Backoff(now + delay);
        }
        Ok(())
    }

    /// `i` has ended for good.
    fn finalize(&mut self, i: usize, outcome: OutK, hit_limit: bool) -> Sim<()> {
        let now = self.now;
        let c = &mut self.children[i];
        let started = c.attempts > 0;
        let end = match &c.st {
            St::Queued => None,
            _ => Some(now),
        };
        c.result = None;
        let nested = c.last_nested.clone();
        c.result = Some(SimChild {
            name: c.name.clone(),
            outcome,
            attempts: c.attempts,
            end: if started { end } else { None },
            nested,
            best_effort: c.spec.best_effort,
        });
        c.st = St::Done;
        let significant = !c.spec.best_effort;
        let name = c.name.clone();
        let freed = std::mem::take(&mut c.holds_slot);
        if freed {
            self.running -= 1;
        }
        let mut failed = false;
        if hit_limit {
            self.failures.push((name, FailK::RestartLimit));
            failed = true;
        } else if outcome.is_failure() && significant {
            let kind = match outcome {
                OutK::Failed => FailK::Failed,
                OutK::Panicked => FailK::Panicked,
                _ => FailK::TimedOut,
            };
            self.failures.push((name, kind));
            failed = true;
        }
        if self.phase != Phase::Open {
            return Ok(());
        }
        if hit_limit {
            return self.stop(Some(ErrK::RestartLimit));
        }
        if failed && self.spec.policy == PolicyM::FailFast {
            return self.stop(Some(ErrK::Failed));
        }
        if matches!(outcome, OutK::Completed(_))
            && significant
            && self.spec.policy == PolicyM::FirstSuccess
            && !self.winner
        {
            self.winner = true;
            return self.stop(None);
        }
        if freed {
            while self.spec.limit.is_some_and(|n| self.running < n) {
                let Some(next) = self.queue.pop_front() else {
                    break;
                };
                if matches!(self.children[next].st, St::Queued) {
                    self.running += 1;
                    self.children[next].holds_slot = true;
                    self.start_incarnation(next)?;
                }
            }
        }
        Ok(())
    }
}

//! Builds a generated tree (`tree.rs`) out of the library's real groups, futures and actors,
//! runs it on the paused clock with its external actions, and records what happened: live
//! counters (from `Drop`), factory calls, `stopped()` calls, spawn results, every report each
//! asker received, and every rule broken on the way (`Obs::violations`).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Cancel, GroupDone, GroupHandle, GroupReport, GroupSupervisor, Join, NotifyWhenDone, Snapshot,
    SupervisorGuard, TakeSnapshot,
};
use tokio::time::Instant;

use super::children::{Via, add_by_handle, supervisor_builder, task_group};
use super::tree::{Action, Case, GroupKind, Ownership};

/// The prefix of every panic a generated child raises on purpose.
pub const PANIC: &str = "tp:";
/// When the harness cancels the root whatever else happens, so that every case ends.
pub const SAFETY_CANCEL_MS: u64 = 50_000_000;

#[derive(Default)]
pub struct Obs {
    pub t0: Option<Instant>,
    pub alive: HashMap<String, i64>,
    pub alive_total: i64,
    /// Leaves alive per group, and the most ever seen.
    pub group_alive: HashMap<String, i64>,
    pub group_max: HashMap<String, i64>,
    /// When each child's factory ran, per incarnation, since its group (re)started.
    pub calls: HashMap<String, Vec<Duration>>,
    /// How many times each leaf was built, in all.
    pub built: HashMap<String, usize>,
    /// When each leaf incarnation was dropped.
    pub drops: HashMap<String, Vec<Duration>>,
    pub stopped: HashMap<String, u32>,
    /// Spawned children in the order they were asked for: (group, name, accepted), `None`
    /// if the spawner never heard.
    pub spawns: Vec<(String, String, Option<bool>)>,
    pub violations: Vec<String>,
    /// Panics that no child raised on purpose.
    pub stray_panics: Vec<String>,
    /// Each asker's reports: (asker, live leaves when it arrived, arrival time, summary).
    pub answers: Vec<(usize, i64, Duration, String)>,
}

thread_local! {
    pub static OBS: RefCell<Obs> = RefCell::default();
    pub static ROOT: RefCell<Option<Addr<GroupSupervisor<u32>>>> = const { RefCell::new(None) };
    pub static ROOT_HANDLE: RefCell<Option<GroupHandle<u32>>> = const { RefCell::new(None) };
}

pub fn with_obs<R>(f: impl FnOnce(&mut Obs) -> R) -> R {
    OBS.with(|obs| f(&mut obs.borrow_mut()))
}

pub fn now() -> Duration {
    with_obs(|o| o.t0.map_or(Duration::ZERO, |t0| t0.elapsed()))
}

/// A nested group (re)starts: its children's factory calls count afresh.
pub fn group_started(name: &str) {
    let prefix = format!("{name}/");
    with_obs(|o| o.calls.retain(|n, _| !n.starts_with(&prefix)));
}

/// Leaves alive under the group `prefix` (its name).
pub fn alive_under(prefix: &str) -> i64 {
    let prefix = format!("{prefix}/");
    with_obs(|o| {
        o.alive
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(_, c)| *c)
            .sum()
    })
}

/// Counts a leaf incarnation alive from its first poll to its drop.
pub struct Live {
    name: String,
    group: String,
}

impl Live {
    pub fn enter(name: &str, group: &str) -> Live {
        let t = now();
        with_obs(|o| {
            let alive = o.alive.entry(name.to_owned()).or_default();
            if *alive > 0 {
                o.violations.push(format!(
                    "{name}: a new incarnation while the old one lives (R12)"
                ));
            }
            *alive += 1;
            o.alive_total += 1;
            let in_group = o.group_alive.entry(group.to_owned()).or_default();
            *in_group += 1;
            let max = o.group_max.entry(group.to_owned()).or_default();
            *max = (*max).max(*in_group);
            o.calls.entry(name.to_owned()).or_default().push(t);
            *o.built.entry(name.to_owned()).or_default() += 1;
        });
        Live {
            name: name.to_owned(),
            group: group.to_owned(),
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let t = now();
        with_obs(|o| {
            *o.alive.entry(self.name.clone()).or_default() -= 1;
            o.alive_total -= 1;
            *o.group_alive.entry(self.group.clone()).or_default() -= 1;
            o.drops.entry(self.name.clone()).or_default().push(t);
        });
    }
}

/// Panics when dropped (a child whose destructor panics).
pub struct Bomb(pub String);

impl Drop for Bomb {
    fn drop(&mut self) {
        // Dropped while the child's own panic unwinds, a second panic would abort the process
        // (Rust's rule, not the library's).
        if !std::thread::panicking() {
            panic!("{PANIC} {} panicked in Drop", self.0);
        }
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A one-line summary of a report (outcomes, attempts, error), to compare askers' copies.
pub fn summary<T: std::fmt::Debug>(report: &GroupReport<T>) -> String {
    let mut out = String::new();
    for child in report.children() {
        out += &format!(
            "{:?}:{:?}:{};",
            child.name(),
            child.outcome(),
            child.attempts()
        );
    }
    if let Some(error) = report.error() {
        out += &format!("error {:?} {}", error.kind(), error.failures().len());
    }
    out
}

struct Owner {
    _guard: SupervisorGuard<u32>,
}

impl Actor for Owner {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct StopOwner;

impl Handler<StopOwner> for Owner {
    type Result = ();
    fn handle(&mut self, _: StopOwner, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

struct Collector;

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<GroupDone<u32>> for Collector {
    type Result = ();
    fn handle(&mut self, GroupDone(report): GroupDone<u32>, _: &mut Context<Self>) {
        record_answer(usize::MAX, &report);
    }
}

fn record_answer<T: std::fmt::Debug>(asker: usize, report: &GroupReport<T>) {
    let (alive, t) = (with_obs(|o| o.alive_total), now());
    let line = summary(report);
    with_obs(|o| o.answers.push((asker, alive, t, line)));
}

/// What a run gives the checks.
pub struct Run {
    pub report: Option<GroupReport<u32>>,
    /// When the root's result came (virtual time since the start).
    pub ended: Option<Duration>,
    /// Askers that were dropped before their answer.
    pub dropped_askers: Vec<usize>,
    pub snapshots: Vec<Snapshot>,
}

/// Runs the case's root to its end (inside `run_paused`).
pub async fn run(case: &Case) -> Run {
    let t0 = Instant::now();
    with_obs(|o| o.t0 = Some(t0));
    let mut actions = case.actions.clone();
    actions.push((SAFETY_CANCEL_MS, Action::Cancel));
    match case.root.kind {
        GroupKind::TaskGroup => run_task_group(case, t0, &actions).await,
        GroupKind::Supervisor => run_supervisor(case, t0, &actions).await,
    }
}

async fn run_task_group(case: &Case, t0: Instant, actions: &[(u64, Action)]) -> Run {
    let tg = task_group(&case.root, "r");
    let handle = tg.handle();
    for (k, child) in case.root.children.iter().enumerate() {
        let _ = add_by_handle(&handle, child, &format!("r/{k}"), "r");
    }
    let snapshots = std::rc::Rc::new(RefCell::new(Vec::new()));
    let mut tasks = Vec::new();
    let mut drop_at = None;
    for &(at, action) in actions {
        match action {
            Action::DropJoin => drop_at = Some(drop_at.map_or(at, |d: u64| d.min(at))),
            Action::Cancel | Action::Snapshot => {
                let (handle, snapshots) = (handle.clone(), snapshots.clone());
                tasks.push(actix_rt::spawn(async move {
                    tokio::time::sleep_until(t0 + ms(at)).await;
                    if action == Action::Cancel {
                        handle.cancel();
                    } else if let Some(s) = handle.snapshot() {
                        snapshots.borrow_mut().push(s);
                    }
                }));
            }
            _ => {}
        }
    }
    let join = tg.join_report();
    let report = match drop_at {
        None => Some(join.await),
        Some(at) => {
            let sleep = tokio::time::sleep_until(t0 + ms(at));
            match futures::future::select(Box::pin(join), Box::pin(sleep)).await {
                futures::future::Either::Left((report, _)) => Some(report),
                futures::future::Either::Right((_, join)) => {
                    drop(join);
                    // R6: dropping the join future drops every child there and then.
                    let alive = with_obs(|o| o.alive_total);
                    if alive != 0 {
                        with_obs(|o| {
                            o.violations.push(format!(
                                "{alive} leaves alive after the join future was dropped (R6)"
                            ))
                        });
                    }
                    None
                }
            }
        }
    };
    let ended = report.as_ref().map(|r| {
        record_answer(0, r);
        t0.elapsed()
    });
    for task in tasks {
        let _ = task.await;
    }
    Run {
        report,
        ended,
        dropped_askers: Vec::new(),
        snapshots: snapshots.take(),
    }
}

async fn run_supervisor(case: &Case, t0: Instant, actions: &[(u64, Action)]) -> Run {
    let (addr, guard, owner) = match case.ownership {
        Ownership::Plain => {
            // The spawners look the handle up when they run: it exists once the supervisor
            // is built, after its builder's children were given.
            let sup = supervisor_builder(&case.root, "r", Some(Via::RootHandle)).build();
            ROOT_HANDLE.with(|r| *r.borrow_mut() = Some(sup.handle()));
            (sup.start(), None, None)
        }
        Ownership::Guard | Ownership::Owner => {
            let guard = supervisor_builder(&case.root, "r", Some(Via::RootAddr)).start_guarded();
            let addr = guard.address().clone();
            if case.ownership == Ownership::Owner {
                let owner = Owner { _guard: guard }.start();
                (addr, None, Some(owner))
            } else {
                (addr, Some(guard), None)
            }
        }
    };
    ROOT.with(|r| *r.borrow_mut() = Some(addr.clone()));
    let guard = std::rc::Rc::new(RefCell::new(guard));
    if case.notify {
        let collector = Collector.start();
        addr.do_send(NotifyWhenDone(collector.recipient()));
    }
    let snapshots = std::rc::Rc::new(RefCell::new(Vec::new()));
    let dropped = std::rc::Rc::new(RefCell::new(Vec::new()));
    let mut askers = Vec::new();
    let drop_at = actions
        .iter()
        .filter(|a| a.1 == Action::DropJoin)
        .map(|a| a.0)
        .min();
    for asker in 0..case.askers {
        let (addr, dropped) = (addr.clone(), dropped.clone());
        let drop_at = if asker == 0 { drop_at } else { None };
        askers.push(actix_rt::spawn(async move {
            let join = addr.send(Join::<u32>::new());
            let answer = match drop_at {
                None => Some(join.await),
                Some(at) => {
                    let sleep = tokio::time::sleep_until(t0 + ms(at));
                    match futures::future::select(Box::pin(join), Box::pin(sleep)).await {
                        futures::future::Either::Left((answer, _)) => Some(answer),
                        futures::future::Either::Right(_) => None,
                    }
                }
            };
            match answer {
                Some(Ok(report)) => {
                    record_answer(asker, &report);
                    Some((report, t0.elapsed()))
                }
                Some(Err(_)) => {
                    with_obs(|o| o.violations.push(format!("asker {asker}: mailbox error")));
                    None
                }
                None => {
                    dropped.borrow_mut().push(asker);
                    None
                }
            }
        }));
    }
    let mut tasks = Vec::new();
    for (n, &(at, action)) in actions.iter().enumerate() {
        let (addr, guard, owner, snapshots) = (
            addr.clone(),
            guard.clone(),
            owner.clone(),
            snapshots.clone(),
        );
        let asker = case.askers + n;
        tasks.push(actix_rt::spawn(async move {
            tokio::time::sleep_until(t0 + ms(at)).await;
            match action {
                Action::Cancel => addr.do_send(Cancel),
                Action::DropGuard => drop(guard.borrow_mut().take()),
                Action::StopOwner => {
                    if let Some(owner) = owner {
                        owner.do_send(StopOwner);
                    }
                }
                Action::Snapshot => {
                    if let Ok(s) = addr.send(TakeSnapshot).await {
                        snapshots.borrow_mut().push(s);
                    }
                }
                Action::LateJoin => match addr.send(Join::<u32>::new()).await {
                    Ok(report) => record_answer(asker, &report),
                    Err(_) => with_obs(|o| {
                        o.violations
                            .push(format!("late asker {asker}: mailbox error"))
                    }),
                },
                Action::DropJoin => {}
            }
        }));
    }
    let mut report = None;
    let mut ended = None;
    for asker in askers {
        if let Ok(Some((r, t))) = asker.await
            && report.is_none()
        {
            report = Some(r);
            ended = Some(t);
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    // Wait for the end whoever asked (the safety cancel has been sent by now), so that a
    // `NotifyWhenDone` is due before the checks.
    let _ = addr.send(Join::<u32>::new()).await;
    drop(guard);
    ROOT.with(|r| r.borrow_mut().take());
    ROOT_HANDLE.with(|r| r.borrow_mut().take());
    Run {
        report,
        ended,
        dropped_askers: dropped.take(),
        snapshots: snapshots.take(),
    }
}

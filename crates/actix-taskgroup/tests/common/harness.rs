//! Builds a generated tree (`tree.rs`) out of the library's real groups, futures and actors,
//! runs it on the paused clock with its external actions, and records what happened: live
//! counters (from `Drop`), factory calls, `stopped()` calls, spawn results, every report each
//! asker received, and every rule broken on the way (`Obs::violations`).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Backoff, Cancel, Child, ChildControl, GroupDone, GroupHandle, GroupReport, GroupSupervisor,
    GroupSupervisorBuilder, Join, NotifyWhenDone, Policy, Reporter, Restart, Snapshot, SpawnActor,
    SpawnChild, SpawnFuture, Strategy, SupervisorGuard, TakeSnapshot, TaskGroup,
};
use tokio::time::Instant;

use super::oracle::spawned_name;
use super::tree::{
    ActScript, Action, Body, Case, ChildM, FutScript, GroupKind, GroupM, OnStop, Ownership,
    PolicyM, RestartM, StrategyM,
};

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
    static ROOT: RefCell<Option<Addr<GroupSupervisor<u32>>>> = const { RefCell::new(None) };
    static ROOT_HANDLE: RefCell<Option<GroupHandle<u32>>> = const { RefCell::new(None) };
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

/// Wakes itself once before `Pending`: a yield.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Where a spawner spawns: its group's handle, or the root supervisor by message.
#[derive(Clone)]
pub enum Via {
    Handle(GroupHandle<u32>),
    /// The root supervisor's handle, kept once it is built.
    RootHandle,
    /// `SpawnChild` (and friends) messages to the root supervisor.
    RootAddr,
}

/// The actor of an actor child.
struct Leaf {
    name: String,
    script: ActScript,
    attempt: u32,
    flaky: u32,
    flaky_at: u64,
    reporter: Reporter<u32>,
    _live: Live,
    _bomb: Option<Bomb>,
}

impl Leaf {
    fn new(spec: &ChildM, name: &str, group: &str, reporter: Reporter<u32>) -> Leaf {
        let Body::Actor {
            script,
            panic_on_drop,
            ..
        } = spec.body
        else {
            unreachable!()
        };
        Leaf {
            name: name.to_owned(),
            script,
            attempt: reporter.attempt(),
            flaky: spec.flaky,
            flaky_at: spec.flaky_at,
            reporter,
            _live: Live::enter(name, group),
            _bomb: panic_on_drop.then(|| Bomb(name.to_owned())),
        }
    }
}

impl Actor for Leaf {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.attempt <= self.flaky {
            ctx.run_later(ms(self.flaky_at), |leaf, ctx| {
                leaf.reporter
                    .fail_and_stop(ctx, anyhow::anyhow!("{} flaky", leaf.name))
            });
            return;
        }
        match self.script {
            ActScript::Complete(0, v) => self.reporter.complete_and_stop(ctx, v),
            ActScript::Complete(d, v) => {
                ctx.run_later(ms(d), move |leaf, ctx| {
                    leaf.reporter.complete_and_stop(ctx, v)
                });
            }
            ActScript::Fail(0) => {
                let error = anyhow::anyhow!("{} failed", self.name);
                self.reporter.fail_and_stop(ctx, error)
            }
            ActScript::Fail(d) => {
                ctx.run_later(ms(d), |leaf, ctx| {
                    leaf.reporter
                        .fail_and_stop(ctx, anyhow::anyhow!("{} failed", leaf.name))
                });
            }
            ActScript::Panic(0) => panic!("{PANIC} {} panicked in started", self.name),
            ActScript::Panic(d) => {
                ctx.run_later(ms(d), |leaf, _| panic!("{PANIC} {} panicked", leaf.name));
            }
            ActScript::Report { at, then, value } => {
                ctx.run_later(ms(at), move |leaf, ctx| {
                    match value {
                        Some(v) => leaf.reporter.complete(v),
                        None => leaf
                            .reporter
                            .fail(anyhow::anyhow!("{} reported", leaf.name)),
                    }
                    ctx.run_later(ms(then), |_, ctx| ctx.stop());
                });
            }
            ActScript::Hang | ActScript::Veto | ActScript::PanicInStopping => {}
        }
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        match self.script {
            ActScript::Veto => Running::Continue,
            ActScript::PanicInStopping => panic!("{PANIC} {} panicked in stopping", self.name),
            _ => Running::Stop,
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        with_obs(|o| *o.stopped.entry(self.name.clone()).or_default() += 1);
    }
}

/// One incarnation of a future child.
#[allow(clippy::too_many_arguments)]
async fn run_future(
    spec: ChildM,
    name: String,
    group: String,
    attempt: u32,
    control: Option<ChildControl>,
    via: Option<Via>,
) -> anyhow::Result<u32> {
    let Body::Future {
        script,
        graceful,
        panic_on_drop,
        ..
    } = spec.body.clone()
    else {
        unreachable!()
    };
    // Declared first, dropped last: the counter is down before the destructor panics.
    let _bomb = panic_on_drop.then(|| Bomb(name.clone()));
    let _live = Live::enter(&name, &group);
    let work = async {
        if attempt <= spec.flaky {
            tokio::time::sleep(ms(spec.flaky_at)).await;
            anyhow::bail!("{name} flaky");
        }
        match script {
            FutScript::Complete(d, v) => {
                tokio::time::sleep(ms(d)).await;
                Ok(v)
            }
            FutScript::Fail(d) => {
                tokio::time::sleep(ms(d)).await;
                anyhow::bail!("{name} failed")
            }
            FutScript::Panic(d) => {
                tokio::time::sleep(ms(d)).await;
                panic!("{PANIC} {name} panicked")
            }
            FutScript::Hang => std::future::pending().await,
            FutScript::Yield(n, v) => {
                for _ in 0..n {
                    YieldNow(false).await;
                }
                Ok(v)
            }
            FutScript::Spawn(d, kids) => {
                tokio::time::sleep(ms(d)).await;
                let via = via.clone().expect("a spawner has a way to spawn");
                for (k, kid) in kids.into_iter().enumerate() {
                    let kid_name = spawned_name(&name, k, attempt);
                    spawn_via(&via, kid, &kid_name, &group).await;
                }
                Ok(0)
            }
        }
    };
    match (graceful, control) {
        (Some(OnStop::Quick), Some(control)) => {
            let stop = control.stop_requested();
            match futures::future::select(Box::pin(work), Box::pin(stop)).await {
                futures::future::Either::Left((result, _)) => result,
                futures::future::Either::Right(_) => Ok(0),
            }
        }
        _ => work.await,
    }
}

/// Spawns `kid` and records whether it was accepted (`None`: the spawner was dropped before
/// it heard).
async fn spawn_via(via: &Via, kid: ChildM, name: &str, group: &str) {
    let record = |accepted: Option<bool>, name: &str, group: &str| {
        with_obs(|o| o.spawns.push((group.to_owned(), name.to_owned(), accepted)))
    };
    match via {
        Via::Handle(handle) => {
            let accepted = add_by_handle(handle, &kid, name, group).is_ok();
            record(Some(accepted), name, group);
        }
        Via::RootHandle => {
            let handle = ROOT_HANDLE
                .with(|r| r.borrow().clone())
                .expect("the root's handle");
            let accepted = add_by_handle(&handle, &kid, name, group).is_ok();
            record(Some(accepted), name, group);
        }
        Via::RootAddr => {
            let addr = ROOT
                .with(|r| r.borrow().clone())
                .expect("the root's address");
            let (name, group) = (name.to_owned(), group.to_owned());
            // Answered later: until then, whether it was accepted is not known here.
            let at = with_obs(|o| {
                o.spawns.push((group.clone(), name.clone(), None));
                o.spawns.len() - 1
            });
            let sent = match kid.body {
                Body::Future { plain: true, .. } => {
                    let (spec, n, g) = (kid.clone(), name.clone(), group.clone());
                    addr.send(SpawnFuture::named(name, move || {
                        run_future(spec, n, g, 1, None, None)
                    }))
                    .await
                    .map(|r| r.is_ok())
                }
                Body::Actor { plain: true, .. } => {
                    let (spec, n, g) = (kid.clone(), name.clone(), group.clone());
                    addr.send(SpawnActor::named(name, move |r| {
                        Leaf::new(&spec, &n, &g, r)
                    }))
                    .await
                    .map(|r| r.is_ok())
                }
                _ => {
                    let (n, g) = (name.clone(), group.clone());
                    addr.send(SpawnChild::new(move || {
                        // Made only once the group accepted it (R7).
                        with_obs(|o| o.spawns[at].2 = Some(true));
                        child_spec(&kid, &n, &g, None)
                    }))
                    .await
                    .map(|r| r.is_ok())
                }
            };
            with_obs(|o| o.spawns[at].2 = Some(sent.unwrap_or(false)));
        }
    }
}

/// A child as a `Child` spec with its options.
pub fn child_spec(spec: &ChildM, name: &str, group: &str, via: Option<Via>) -> Child<u32> {
    let (s, n, g) = (spec.clone(), name.to_owned(), group.to_owned());
    let child = match &spec.body {
        Body::Future {
            graceful: Some(_), ..
        } => Child::future_with(n.clone(), move |control| {
            let attempt = control.attempt();
            run_future(
                s.clone(),
                n.clone(),
                g.clone(),
                attempt,
                Some(control),
                via.clone(),
            )
        }),
        Body::Future { .. } => Child::future(n.clone(), move || {
            let attempt = with_obs(|o| o.calls.get(&n).map_or(0, Vec::len)) as u32 + 1;
            run_future(s.clone(), n.clone(), g.clone(), attempt, None, via.clone())
        }),
        Body::Actor { .. } => Child::actor(n.clone(), move |r| Leaf::new(&s, &n, &g, r)),
        Body::Group { group: inner, .. } if inner.kind == GroupKind::Supervisor => {
            let inner = (**inner).clone();
            let (n2, n3) = (n.clone(), n.clone());
            Child::group(
                n.clone(),
                move || {
                    if alive_under(&n2) != 0 {
                        with_obs(|o| {
                            o.violations
                                .push(format!("{n2}: restarted while its children live"))
                        });
                    }
                    group_started(&n2);
                    supervisor_builder(&inner, &n2, None)
                },
                move |values: Vec<u32>| nested_value(&n3, values),
            )
        }
        Body::Group { group: inner, .. } => {
            let inner = (**inner).clone();
            Child::future(n.clone(), move || {
                nested_task_group(inner.clone(), n.clone(), g.clone())
            })
        }
    };
    let mut child = child.restart(match spec.restart {
        RestartM::Temporary => Restart::Temporary,
        RestartM::Transient => Restart::Transient,
        RestartM::Permanent => Restart::Permanent,
    });
    if let Some(n) = spec.attempts {
        child = child.attempts(n);
    }
    if let Some(t) = spec.timeout {
        child = child.timeout(ms(t));
    }
    if spec.best_effort {
        child = child.best_effort();
    }
    child
}

/// A nested supervisor's value for its parent: checks that its children are gone (R1).
fn nested_value(name: &str, values: Vec<u32>) -> u32 {
    if alive_under(name) != 0 {
        with_obs(|o| {
            o.violations
                .push(format!("{name}: finished while its children live (R1)"))
        });
    }
    values.iter().sum()
}

/// A future child that builds a `TaskGroup`, joins it and returns the sum of its values.
async fn nested_task_group(group: GroupM, name: String, parent: String) -> anyhow::Result<u32> {
    let _live = Live::enter(&name, &parent);
    group_started(&name);
    let tg = task_group(&group, &name);
    let handle = tg.handle();
    for (k, child) in group.children.iter().enumerate() {
        let _ = add_by_handle(&handle, child, &format!("{name}/{k}"), &name);
    }
    let report = tg.join_report().await;
    if alive_under(&name) != 0 {
        with_obs(|o| {
            o.violations
                .push(format!("{name}: joined while its children live (R1)"))
        });
    }
    Ok(report.into_result()?.iter().sum())
}

/// Adds a child to a running group through its handle, the way its model says.
pub fn add_by_handle(
    handle: &GroupHandle<u32>,
    spec: &ChildM,
    name: &str,
    group: &str,
) -> Result<(), actix_taskgroup::SpawnError> {
    let via = Some(Via::Handle(handle.clone()));
    match &spec.body {
        Body::Future { plain: true, .. } => {
            let attempt = 1;
            handle
                .spawn_named(
                    name.to_owned(),
                    run_future(
                        spec.clone(),
                        name.to_owned(),
                        group.to_owned(),
                        attempt,
                        None,
                        via,
                    ),
                )
                .map(drop)
        }
        Body::Actor { plain: true, .. } => {
            let (s, n, g) = (spec.clone(), name.to_owned(), group.to_owned());
            handle
                .spawn_actor(name.to_owned(), move |r| Leaf::new(&s, &n, &g, r))
                .map(drop)
        }
        Body::Group {
            group: inner,
            plain: true,
        } => {
            let n = name.to_owned();
            handle
                .spawn_group(
                    name.to_owned(),
                    supervisor_builder(inner, name, None),
                    move |v| nested_value(&n, v),
                )
                .map(drop)
        }
        _ => handle
            .spawn_child(child_spec(spec, name, group, via))
            .map(drop),
    }
}

fn policy(p: PolicyM) -> Policy {
    match p {
        PolicyM::FailFast => Policy::FailFast,
        PolicyM::CollectAll => Policy::CollectAll,
        PolicyM::FirstSuccess => Policy::FirstSuccess,
    }
}

fn strategy(s: StrategyM) -> Strategy {
    match s {
        StrategyM::OneForOne => Strategy::OneForOne,
        StrategyM::OneForAll => Strategy::OneForAll,
        StrategyM::RestForOne => Strategy::RestForOne,
    }
}

macro_rules! configure {
    ($builder:expr, $group:expr, $name:expr) => {{
        let g: &GroupM = $group;
        let mut b = $builder
            .name($name.to_owned())
            .policy(policy(g.policy))
            .strategy(strategy(g.strategy))
            .intensity(g.max_restarts, ms(g.window))
            .grace(ms(g.grace));
        if let Some(bo) = g.backoff {
            b = b.backoff(
                Backoff::exponential(ms(bo.base))
                    .factor(bo.factor)
                    .max(ms(bo.max))
                    .jitter(bo.jitter)
                    .reset_after(ms(bo.reset_after)),
            );
        }
        if let Some(n) = g.limit {
            b = b.limit(n);
        }
        if let Some(d) = g.deadline {
            b = b.deadline(ms(d));
        }
        b
    }};
}

pub fn task_group(group: &GroupM, name: &str) -> TaskGroup<u32> {
    configure!(TaskGroup::<u32>::builder(), group, name)
        .keep_times()
        .build()
}

/// A supervisor's builder with its children; spawners in it spawn through `via`.
pub fn supervisor_builder(
    group: &GroupM,
    name: &str,
    via: Option<Via>,
) -> GroupSupervisorBuilder<u32> {
    let mut b = configure!(GroupSupervisor::<u32>::builder(), group, name);
    for (k, child) in group.children.iter().enumerate() {
        let child_name = format!("{name}/{k}");
        b = match &child.body {
            Body::Future { plain: true, .. } => {
                let (s, n, g, v) = (
                    child.clone(),
                    child_name.clone(),
                    name.to_owned(),
                    via.clone(),
                );
                b.child_future(child_name, move || run_future(s, n, g, 1, None, v))
            }
            Body::Actor { plain: true, .. } => {
                let (s, n, g) = (child.clone(), child_name.clone(), name.to_owned());
                b.child_actor(child_name, move |r| Leaf::new(&s, &n, &g, r))
            }
            Body::Group {
                group: inner,
                plain: true,
            } => {
                let n = child_name.clone();
                let inner_builder = supervisor_builder(inner, &child_name, None);
                b.child_group(child_name, inner_builder, move |v| nested_value(&n, v))
            }
            _ => b.child(child_spec(child, &child_name, name, via.clone())),
        };
    }
    b
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

//! The children of the generated trees, built from their models (`tree.rs`) out of the
//! library's real futures, actors and nested groups, and the groups that hold them.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Backoff, Child, ChildControl, GroupHandle, GroupSupervisor, GroupSupervisorBuilder, Policy,
    Reporter, Restart, SpawnActor, SpawnChild, SpawnFuture, Strategy, TaskGroup,
};

use super::harness::{Bomb, Live, PANIC, ROOT, ROOT_HANDLE, alive_under, group_started, with_obs};
use super::oracle::spawned_name;
use super::tree::{
    ActScript, Body, ChildM, FutScript, GroupKind, GroupM, OnStop, PolicyM, RestartM, StrategyM,
};
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

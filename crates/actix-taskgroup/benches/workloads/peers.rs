//! The workloads of the peer comparison (issue 18): each with the baselines a competent user
//! would write instead.

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;

use actix::prelude::*;
use actix_taskgroup::{Cancel, GroupSupervisor, Join, TaskGroup};
use futures::StreamExt;
use futures::channel::oneshot;
use futures::stream::FuturesUnordered;
use tokio::task::JoinSet;

/// `JoinSet` with `spawn_local` in the actix System, every result taken.
pub async fn joinset_spawn_join(n: usize) -> usize {
    let mut set = JoinSet::new();
    for i in 0..n {
        set.spawn_local(async move { i });
    }
    let mut done = 0;
    while let Some(result) = set.join_next().await {
        done += usize::from(result.is_ok());
    }
    done
}

/// A boxed child future, as a `FuturesUnordered` of mixed children holds them.
type Child = std::pin::Pin<Box<dyn Future<Output = Result<usize, anyhow::Error>>>>;

/// A child that never ends.
async fn pending() -> usize {
    std::future::pending::<()>().await;
    0
}

// Fail-fast teardown: `n` pending children and one that fails; the caller has the error and
// every pending child has been dropped when the round ends. Each returns `n`.

pub async fn group_teardown(n: usize) -> usize {
    let group = TaskGroup::<usize>::new();
    for _ in 0..n {
        let _ = group.spawn(async { Ok::<_, anyhow::Error>(pending().await) });
    }
    let _ = group.spawn(async { Err::<usize, _>(anyhow::anyhow!("failed")) });
    match group.join().await {
        Err(error) => n * error.failures().len(),
        Ok(_) => 0,
    }
}

pub async fn futures_unordered_teardown(n: usize) -> usize {
    let mut children: FuturesUnordered<Child> = FuturesUnordered::new();
    for _ in 0..n {
        children.push(Box::pin(async { Ok(pending().await) }));
    }
    children.push(Box::pin(async { Err(anyhow::anyhow!("failed")) }));
    let mut failed = 0;
    while let Some(result) = children.next().await {
        if result.is_err() {
            failed = 1;
            break;
        }
    }
    drop(children);
    n * failed
}

pub async fn joinset_teardown(n: usize) -> usize {
    let mut set = JoinSet::new();
    for _ in 0..n {
        set.spawn_local(async { Ok::<_, anyhow::Error>(pending().await) });
    }
    set.spawn_local(async { Err::<usize, _>(anyhow::anyhow!("failed")) });
    let mut failed = 0;
    while let Some(result) = set.join_next().await {
        if matches!(result, Ok(Err(_))) {
            failed = 1;
            break;
        }
    }
    set.shutdown().await;
    n * failed
}

pub async fn abort_handles_teardown(n: usize) -> usize {
    let handles: Vec<_> = (0..n)
        .map(|_| actix_rt::spawn(async { Ok::<_, anyhow::Error>(pending().await) }))
        .collect();
    let failing = actix_rt::spawn(async { Err::<usize, _>(anyhow::anyhow!("failed")) });
    let failed = usize::from(matches!(failing.await, Ok(Err(_))));
    for handle in &handles {
        handle.abort();
    }
    for handle in handles {
        let _ = handle.await;
    }
    n * failed
}

// Staggered wake-ups: every child waits on its own oneshot; a ticker sends them one at a
// time, letting the woken child run before the next.

fn senders(n: usize) -> (Vec<oneshot::Sender<usize>>, Vec<oneshot::Receiver<usize>>) {
    (0..n).map(|_| oneshot::channel()).unzip()
}

fn ticker(senders: Vec<oneshot::Sender<usize>>) {
    actix_rt::spawn(async move {
        for (i, sender) in senders.into_iter().enumerate() {
            let _ = sender.send(i);
            tokio::task::yield_now().await;
        }
    });
}

pub async fn group_wakeups(n: usize) -> usize {
    let (senders, receivers) = senders(n);
    let group = TaskGroup::<usize>::new();
    for receiver in receivers {
        let _ = group.spawn(async move { receiver.await.map_err(anyhow::Error::from) });
    }
    ticker(senders);
    group.join().await.map_or(0, |values| values.len())
}

pub async fn futures_unordered_wakeups(n: usize) -> usize {
    let (senders, receivers) = senders(n);
    let children: FuturesUnordered<_> = receivers.into_iter().collect();
    ticker(senders);
    children
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await
}

pub async fn raw_wakeups(n: usize) -> usize {
    let (senders, receivers) = senders(n);
    let handles: Vec<_> = receivers.into_iter().map(actix_rt::spawn).collect();
    ticker(senders);
    futures::future::join_all(handles)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(Ok(_))))
        .count()
}

// Actor teardown: `n` idle actors, then all stopped; the round ends when every one has.

/// An actor that runs until told to stop, then tells its counter.
pub struct Idle(Option<Rc<Countdown>>);

impl Actor for Idle {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(countdown) = &self.0 {
            countdown.one();
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

impl Handler<Stop> for Idle {
    type Result = ();
    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

pub struct Countdown {
    left: Cell<usize>,
    done: Cell<Option<oneshot::Sender<()>>>,
}

impl Countdown {
    fn new(n: usize) -> (Rc<Self>, oneshot::Receiver<()>) {
        let (done, wait) = oneshot::channel();
        (
            Rc::new(Countdown {
                left: Cell::new(n),
                done: Cell::new(Some(done)),
            }),
            wait,
        )
    }

    fn one(&self) {
        self.left.set(self.left.get() - 1);
        if self.left.get() == 0
            && let Some(done) = self.done.take()
        {
            let _ = done.send(());
        }
    }
}

pub async fn raw_actor_teardown(n: usize) -> usize {
    let (countdown, all_stopped) = Countdown::new(n);
    let addresses: Vec<Addr<Idle>> = (0..n)
        .map(|_| Idle(Some(Rc::clone(&countdown))).start())
        .collect();
    tokio::task::yield_now().await;
    for address in &addresses {
        address.do_send(Stop);
    }
    drop(addresses);
    let _ = all_stopped.await;
    n
}

pub async fn group_actor_teardown(n: usize) -> usize {
    let mut builder = GroupSupervisor::<()>::builder();
    for _ in 0..n {
        builder = builder.child_actor("idle", |_| Idle(None));
    }
    let group = builder.start();
    tokio::task::yield_now().await;
    group.do_send(Cancel);
    match group.send(Join::new()).await {
        Ok(report) => report.children().len(),
        Err(_) => 0,
    }
}

// Memory per pending child: RSS grown per child, `n` children waiting at once.

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Bytes of resident memory per pending raw task.
pub async fn raw_memory(n: usize) -> f64 {
    let before = resident_bytes();
    let handles: Vec<_> = (0..n).map(|_| actix_rt::spawn(pending())).collect();
    tokio::task::yield_now().await;
    let grown = resident_bytes().saturating_sub(before);
    for handle in &handles {
        handle.abort();
    }
    for handle in handles {
        let _ = handle.await;
    }
    grown as f64 / n as f64
}

/// Bytes of resident memory per pending group child.
pub async fn group_memory(n: usize) -> f64 {
    let before = resident_bytes();
    let group = TaskGroup::<usize>::new();
    for _ in 0..n {
        let _ = group.spawn(async { Ok::<_, Infallible>(pending().await) });
    }
    tokio::task::yield_now().await;
    let grown = resident_bytes().saturating_sub(before);
    drop(group);
    grown as f64 / n as f64
}

// Nested groups: `groups` groups of `children` trivial children each.

pub async fn nested_groups(groups: usize, children: usize) -> usize {
    let outer = TaskGroup::<usize>::new();
    for _ in 0..groups {
        let _ = outer.spawn(async move {
            let inner = TaskGroup::new();
            for i in 0..children {
                let _ = inner.spawn(async move { Ok::<_, Infallible>(i) });
            }
            inner.join().await.map(|values| values.len())
        });
    }
    outer
        .join()
        .await
        .map_or(0, |sizes| sizes.into_iter().sum())
}

pub async fn raw_nested(groups: usize, children: usize) -> usize {
    let outer: Vec<_> = (0..groups)
        .map(|_| {
            actix_rt::spawn(async move {
                let inner: Vec<_> = (0..children)
                    .map(|i| actix_rt::spawn(async move { i }))
                    .collect();
                futures::future::join_all(inner)
                    .await
                    .into_iter()
                    .filter(Result::is_ok)
                    .count()
            })
        })
        .collect();
    futures::future::join_all(outer)
        .await
        .into_iter()
        .map(|r| r.unwrap_or(0))
        .sum()
}

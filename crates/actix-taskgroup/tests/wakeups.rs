//! The driver's side of R10/R11: children woken from other threads are polled again, a
//! child that keeps waking itself cannot starve the arbiter's other tasks, and while a
//! `TaskGroup`'s owner joins (and polls the children itself) the driver task still keeps
//! the timers, and takes the children back if the join is dropped.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_taskgroup::{Backoff, Child, TaskGroup};
use common::{DropCounter, forever, run_paused};

#[actix_rt::test]
async fn children_woken_from_other_threads_complete() {
    let group = TaskGroup::new();
    let mut senders = Vec::new();
    for n in 0..64u32 {
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        senders.push((n, tx));
        group
            .spawn(async move { rx.await.map_err(anyhow::Error::from) })
            .unwrap();
    }
    // Every child has been polled and is waiting; the values come from another thread.
    actix_rt::task::yield_now().await;
    let sender = std::thread::spawn(move || {
        for (n, tx) in senders.into_iter().rev() {
            tx.send(n * 3).unwrap();
        }
    });
    let values = group.join().await.unwrap();
    sender.join().unwrap();
    assert_eq!(values, (0..64).map(|n| n * 3).collect::<Vec<_>>());
}

/// Wakes its own task from inside its poll, once, then completes: the most eager way for a
/// child to ask to be polled again.
#[derive(Default)]
struct WakeSelfNow(bool);

impl Future for WakeSelfNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_child_that_keeps_waking_itself_does_not_starve_the_arbiter() {
    // The group runs on a System of its own thread; if it starved that thread, the answer
    // would never come and this thread's bounded wait fails the test instead of hanging it.
    let (answer, answered) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let spins = Rc::new(Cell::new(0u64));
            let group = TaskGroup::<()>::new();
            let counter = Rc::clone(&spins);
            let spawned = group.spawn(async move {
                loop {
                    counter.set(counter.get() + 1);
                    WakeSelfNow::default().await;
                }
                #[allow(unreachable_code)]
                Ok::<_, anyhow::Error>(())
            });
            assert!(spawned.is_ok());
            // Another task on the same arbiter still gets its turn.
            let other = actix_rt::spawn(async { 7 }).await.unwrap_or(0);
            let _ = answer.send((other, spins.get()));
            group.cancel();
        });
    });
    let (other, spins) = answered
        .recv_timeout(Duration::from_secs(30))
        .expect("the arbiter was starved");
    assert_eq!(other, 7);
    assert!(spins > 0, "the child ran");
}

/// R12 (backoff) while the owner joins: the restart timer is added after the join began
/// polling the children, and the driver task still arms it.
#[test]
fn a_child_is_restarted_after_its_backoff_while_the_owner_joins() {
    run_paused(async {
        let start = tokio::time::Instant::now();
        let group = TaskGroup::<u32>::builder()
            .backoff(Backoff::constant(Duration::from_millis(5)))
            .build();
        group
            .spawn_child(
                Child::future("leaf", || async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    anyhow::bail!("leaf failed")
                })
                .attempts(2),
            )
            .unwrap();
        let report = tokio::time::timeout(Duration::from_secs(60), group.join_report())
            .await
            .expect("the group ends once its child's attempts are spent");
        assert_eq!(report.children()[0].attempts(), 2);
        assert_eq!(start.elapsed(), Duration::from_millis(7));
    });
}

/// R6 with a join that was polling the children: dropping it drops every child, and
/// nothing keeps the group alive afterwards.
#[test]
fn a_dropped_join_drops_every_child_and_frees_the_group() {
    run_paused(async {
        let drops = DropCounter::default();
        let group = TaskGroup::<()>::new();
        for _ in 0..3 {
            group.spawn(forever(drops.token())).unwrap();
        }
        let handle = group.handle();
        let joined = tokio::time::timeout(Duration::from_millis(10), group.join()).await;
        assert!(joined.is_err(), "the children run forever");
        assert_eq!(drops.dropped(), 3);
        actix_rt::task::yield_now().await;
        assert!(handle.snapshot().is_none(), "the group is gone");
    });
}

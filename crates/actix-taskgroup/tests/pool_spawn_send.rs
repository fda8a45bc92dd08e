//! Issue 20: one-shot children made by `Send` closures (`spawn_send`) on a pool keep every
//! rule across threads, though nothing of them stays at home. Real threads, real time:
//! every wait is on a counter or a reply, with a generous watchdog.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use actix_rt::Arbiter;
use actix_taskgroup::{ArbiterPool, FailureKind, GroupErrorKind, Placement, TaskGroup};
use common::run_real;

/// Counts the children alive now (each holds one), and the most at once.
#[derive(Default)]
struct Alive {
    now: AtomicUsize,
    most: AtomicUsize,
}

struct Held(Arc<Alive>);

impl Held {
    fn new(alive: &Arc<Alive>) -> Self {
        let now = alive.now.fetch_add(1, Ordering::SeqCst) + 1;
        alive.most.fetch_max(now, Ordering::SeqCst);
        Held(Arc::clone(alive))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

fn spread<T>(pool: &ArbiterPool) -> TaskGroup<T> {
    TaskGroup::builder()
        .spread_over(pool, Placement::RoundRobin)
        .build()
}

/// Spawns `n` children that hold a count and wait forever.
fn spawn_pending(group: &TaskGroup<u64>, alive: &Arc<Alive>, n: usize) {
    for _ in 0..n {
        let alive = Arc::clone(alive);
        group
            .spawn_send(move || async move {
                let _held = Held::new(&alive);
                std::future::pending::<()>().await;
                Ok::<u64, anyhow::Error>(0)
            })
            .unwrap();
    }
}

/// A group on a new pool of two with `n` pending children, once every one has started.
async fn pending_on_a_pool(n: usize) -> (ArbiterPool, TaskGroup<u64>, Arc<Alive>) {
    let pool = ArbiterPool::new(2);
    let group = spread::<u64>(&pool);
    let alive = Arc::new(Alive::default());
    spawn_pending(&group, &alive, n);
    until_alive(&alive, n).await;
    (pool, group, alive)
}

async fn until_alive(alive: &Alive, n: usize) {
    while alive.now.load(Ordering::SeqCst) != n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[test]
fn spawn_send_children_run_on_every_arbiter_and_their_values_come_in_spawn_order() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let group = spread::<u64>(&pool);
        let threads = Arc::new(Mutex::new(HashSet::<ThreadId>::new()));
        for n in 0..200u64 {
            let threads = Arc::clone(&threads);
            group
                .spawn_send(move || {
                    // The future itself need not be `Send`.
                    let local = std::rc::Rc::new(n);
                    async move {
                        threads.lock().unwrap().insert(std::thread::current().id());
                        Ok::<_, anyhow::Error>(*local * 2)
                    }
                })
                .unwrap();
        }
        let values = group.join().await.unwrap();
        assert_eq!(values, (0..200).map(|n| n * 2).collect::<Vec<_>>());
        let threads = threads.lock().unwrap();
        assert_eq!(threads.len(), 2, "both arbiters ran children");
        assert!(!threads.contains(&std::thread::current().id()));
    });
}

#[test]
fn a_failure_stops_the_pending_siblings_on_every_arbiter_before_the_reply() {
    run_real(async {
        let (_pool, group, alive) = pending_on_a_pool(50).await;
        group
            .spawn_send(|| async { Err::<u64, _>(anyhow::anyhow!("broken")) })
            .unwrap();
        let error = group.join().await.unwrap_err();
        assert_eq!(
            alive.now.load(Ordering::SeqCst),
            0,
            "all dropped before the reply"
        );
        assert_eq!(error.kind(), GroupErrorKind::Failed);
        assert_eq!(error.failures().count(), 1);
    });
}

#[test]
fn a_panic_over_there_is_a_failure_at_home() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let group = spread::<u64>(&pool);
        group
            .spawn_send(|| async { panic!("boom") as Result<u64, anyhow::Error> })
            .unwrap();
        let error = group.join().await.unwrap_err();
        let failure = error.first_failure().unwrap();
        assert_eq!(failure.kind(), FailureKind::Panicked);
    });
}

#[test]
fn a_cancel_drops_every_child_over_there_before_the_reply() {
    run_real(async {
        let (_pool, group, alive) = pending_on_a_pool(20).await;
        group.cancel();
        let error = group.join().await.unwrap_err();
        assert_eq!(error.kind(), GroupErrorKind::Cancelled);
        assert_eq!(alive.now.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_dropped_group_leaves_no_child_running_over_there() {
    run_real(async {
        // Every child started there, and none has ended.
        let (_pool, group, alive) = pending_on_a_pool(20).await;
        drop(group);
        until_alive(&alive, 0).await;
    });
}

#[test]
fn under_a_limit_spawn_send_children_wait_for_a_start_slot_across_the_pool() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let group = TaskGroup::<u64>::builder()
            .spread_over(&pool, Placement::LeastLoaded)
            .limit(3)
            .build();
        let alive = Arc::new(Alive::default());
        for n in 0..30u64 {
            let alive = Arc::clone(&alive);
            group
                .spawn_send(move || async move {
                    let _held = Held::new(&alive);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Ok::<_, anyhow::Error>(n)
                })
                .unwrap();
        }
        let values = group.join().await.unwrap();
        assert_eq!(values, (0..30).collect::<Vec<_>>());
        let most = alive.most.load(Ordering::SeqCst);
        assert!(most <= 3, "at most 3 at once across the pool, saw {most}");
    });
}

#[test]
fn a_child_sent_to_a_stopped_arbiter_fails_with_a_clear_error() {
    run_real(async {
        let arbiter = Arbiter::new();
        let handle = arbiter.handle();
        arbiter.stop();
        arbiter.join().unwrap();
        let pool = ArbiterPool::from_handles(vec![handle]);
        let group = spread::<u64>(&pool);
        group
            .spawn_send(|| async { Ok::<u64, anyhow::Error>(1) })
            .unwrap();
        let error = group.join().await.unwrap_err();
        let cause = error.first_failure().unwrap().cause().to_string();
        assert!(cause.contains("has stopped"), "{cause}");
    });
}

#[test]
fn without_a_pool_spawn_send_runs_at_home() {
    run_real(async {
        let group = TaskGroup::<ThreadId>::new();
        group
            .spawn_send(|| async { Ok::<_, anyhow::Error>(std::thread::current().id()) })
            .unwrap();
        assert_eq!(group.join().await.unwrap(), [std::thread::current().id()]);
    });
}

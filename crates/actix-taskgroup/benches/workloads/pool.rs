//! Issue 20's workloads: a group spread over an `ArbiterPool` against the same group on one
//! arbiter, and against `Arbiter::spawn` with the results gathered by hand.

use std::time::{Duration, Instant};

use actix_rt::{Arbiter, ArbiterHandle};
use actix_taskgroup::{ArbiterPool, Child, Placement, TaskGroup};
use futures::channel::oneshot;

/// Work that keeps a core busy for about `budget`, calibrated once: a loop of integer mixing
/// the optimiser cannot remove.
#[derive(Clone, Copy)]
pub struct Work {
    rounds: u64,
}

impl Work {
    pub fn calibrate(budget: Duration) -> Self {
        let probe = 200_000;
        let start = Instant::now();
        std::hint::black_box(spin(probe));
        let per_round = start.elapsed().as_secs_f64() / probe as f64;
        Work {
            rounds: (budget.as_secs_f64() / per_round).max(1.0) as u64,
        }
    }

    pub fn run(self) -> u64 {
        spin(self.rounds)
    }
}

fn spin(rounds: u64) -> u64 {
    let mut x = std::hint::black_box(0x9e37_79b9_7f4a_7c15u64);
    for i in 0..rounds {
        x = (x ^ (x >> 31))
            .wrapping_mul(0xbf58_476d_1ce4_e5b9)
            .wrapping_add(i);
    }
    x
}

fn builder(pool: Option<&ArbiterPool>) -> actix_taskgroup::TaskGroupBuilder<u64> {
    let builder = TaskGroup::<u64>::builder();
    match pool {
        Some(pool) => builder.spread_over(pool, Placement::RoundRobin),
        None => builder,
    }
}

/// `n` children of CPU-bound work, on the pool's arbiters or (without a pool) on the
/// group's own.
pub async fn cpu_bound(pool: Option<&ArbiterPool>, n: usize, work: Work) -> usize {
    let group = builder(pool).build();
    for _ in 0..n {
        let _ = group.spawn_child(Child::send_future("work", move || async move {
            Ok::<_, anyhow::Error>(work.run())
        }));
    }
    group.join().await.map_or(0, |values| values.len())
}

/// `n` trivial `Send` children, each spawned with `spawn_send`.
pub async fn trivial(pool: Option<&ArbiterPool>, n: usize) -> usize {
    let group = builder(pool).build();
    for i in 0..n as u64 {
        let _ = group.spawn_send(move || async move { Ok::<_, anyhow::Error>(i) });
    }
    group.join().await.map_or(0, |values| values.len())
}

/// The same children described by a `Child` each (named, and restartable if asked).
pub async fn trivial_described(pool: Option<&ArbiterPool>, n: usize) -> usize {
    let group = builder(pool).build();
    for i in 0..n as u64 {
        let _ = group.spawn_child(Child::send_future("trivial", move || async move {
            Ok::<_, anyhow::Error>(i)
        }));
    }
    group.join().await.map_or(0, |values| values.len())
}

/// The same trivial children by hand: `Arbiter::spawn` round robin over `arbiters`, each
/// sending its result back on a oneshot, gathered in spawn order.
pub async fn raw_arbiter_spawn(arbiters: &[ArbiterHandle], n: usize) -> usize {
    let receivers: Vec<_> = (0..n as u64)
        .map(|i| {
            let (tx, rx) = oneshot::channel();
            arbiters[i as usize % arbiters.len()].spawn(async move {
                let _ = tx.send(i);
            });
            rx
        })
        .collect();
    futures::future::join_all(receivers)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count()
}

/// Fail-fast teardown: `n` children that wait forever and one that fails; returns `n` once
/// the error is in hand (every child on every arbiter has stopped by then, R1).
pub async fn teardown(pool: Option<&ArbiterPool>, n: usize) -> usize {
    let group = builder(pool).build();
    for _ in 0..n {
        let _ = group.spawn_child(Child::send_future("pending", || async {
            std::future::pending::<()>().await;
            Ok::<_, anyhow::Error>(0)
        }));
    }
    let _ = group.spawn_child(Child::send_future("failing", || async {
        Err::<u64, _>(anyhow::anyhow!("failed"))
    }));
    match group.join().await {
        Err(_) => n,
        Ok(_) => 0,
    }
}

/// `count` arbiters of their own, for the raw baseline.
pub fn arbiters(count: usize) -> Vec<Arbiter> {
    (0..count).map(|_| Arbiter::new()).collect()
}

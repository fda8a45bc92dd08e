//! Issue 20: a group spread over a pool of arbiters keeps every rule across threads. Real
//! threads, real time: every wait is on a counter or a reply, with a generous watchdog.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    ArbiterPool, Cancel, Child, ChildState, FailureKind, GroupSupervisor, Join, Outcome, Placement,
    Reporter, Restart, TakeSnapshot, TaskGroup,
};
use common::run_real;

/// What the pool's children did, from every thread.
#[derive(Default)]
struct Ledger {
    log: Mutex<Vec<String>>,
    threads: Mutex<Vec<(String, ThreadId)>>,
    alive: AtomicUsize,
    most: AtomicUsize,
}

impl Ledger {
    fn note(&self, event: String) {
        self.log.lock().unwrap().push(event);
    }
    fn count(&self, suffix: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.ends_with(suffix))
            .count()
    }
    fn enter(&self) {
        let now = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An actor that records its thread, runs until stopped, or fails after `fail_after`.
struct Worker {
    name: String,
    ledger: Arc<Ledger>,
    reporter: Reporter<()>,
    fail_after: Option<Duration>,
    veto: bool,
}

impl Actor for Worker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.ledger.enter();
        self.ledger
            .threads
            .lock()
            .unwrap()
            .push((self.name.clone(), std::thread::current().id()));
        self.ledger.note(format!("{} started", self.name));
        if let Some(after) = self.fail_after {
            ctx.run_later(after, |worker, ctx| {
                let error = anyhow::anyhow!("{} failed", worker.name);
                worker.reporter.fail_and_stop(ctx, error);
            });
        }
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        if self.veto {
            Running::Continue
        } else {
            Running::Stop
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.ledger.note(format!("{} stopped", self.name));
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.ledger.leave();
    }
}

fn worker(name: &'static str, ledger: &Arc<Ledger>, fail_after: Option<Duration>) -> Child<()> {
    let ledger = Arc::clone(ledger);
    Child::send_actor(name, move |reporter| Worker {
        name: format!("{name}{}", reporter.attempt()),
        ledger: Arc::clone(&ledger),
        reporter,
        fail_after,
        veto: false,
    })
}

async fn until(ledger: &Ledger, suffix: &str, n: usize) {
    while ledger.count(suffix) < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[test]
fn a_failure_on_one_arbiter_stops_the_children_on_the_others_and_the_reply_comes_after_every_stop()
{
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let mut builder =
            GroupSupervisor::<()>::builder().spread_over(&pool, Placement::RoundRobin);
        for name in ["a", "b", "c"] {
            builder = builder.child(worker(name, &ledger, None));
        }
        // The fourth child lands on the second arbiter (round-robin) and fails.
        builder = builder.child(worker("d", &ledger, Some(Duration::from_millis(100))));
        let group = builder.start();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(
            ledger.count("stopped"),
            4,
            "every stopped() ran before the reply"
        );
        assert_eq!(
            ledger.alive.load(Ordering::SeqCst),
            0,
            "every child dropped before the reply"
        );
        let error = report.error().unwrap();
        assert_eq!(error.first_failure().unwrap().name(), Some("d"));
        assert_eq!(error.failures().count(), 1);
        for name in ["a", "b", "c"] {
            assert!(report.child_named(name).unwrap().outcome().is_cancelled());
        }
        let threads: HashSet<ThreadId> = ledger
            .threads
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(threads.len(), 2, "spread over both arbiters");
        assert!(
            !threads.contains(&std::thread::current().id()),
            "none on the home arbiter"
        );
    });
}

#[test]
fn a_panic_on_an_arbiter_is_caught_there_and_is_a_failure_at_home() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let group = TaskGroup::<u8>::builder()
            .spread_over(&pool, Placement::RoundRobin)
            .build();
        group
            .spawn_child(Child::send_future("steady", || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, anyhow::Error>(1)
            }))
            .unwrap();
        group
            .spawn_child(Child::send_future("bad", || async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if true {
                    panic!("out of range");
                }
                Ok::<_, anyhow::Error>(2)
            }))
            .unwrap();
        let report = group.join_report().await;
        let failure = report.error().unwrap().first_failure().unwrap();
        assert_eq!(
            (failure.name(), failure.kind()),
            (Some("bad"), FailureKind::Panicked)
        );
        assert_eq!(failure.cause().to_string(), "out of range");
        assert!(
            report
                .child_named("steady")
                .unwrap()
                .outcome()
                .is_cancelled()
        );
    });
}

#[test]
fn a_child_restarts_on_its_own_arbiter() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let l = Arc::clone(&ledger);
        let group = GroupSupervisor::<()>::builder()
            .spread_over(&pool, Placement::RoundRobin)
            .child(worker("idle", &ledger, None))
            .child(
                Child::send_actor("flaky", move |reporter| {
                    let fail_after = (reporter.attempt() < 3).then_some(Duration::from_millis(10));
                    Worker {
                        name: format!("flaky{}", reporter.attempt()),
                        ledger: Arc::clone(&l),
                        reporter,
                        fail_after,
                        veto: false,
                    }
                })
                .restart(Restart::Transient),
            )
            .start();
        until(&ledger, "flaky3 started", 1).await;
        let threads = ledger.threads.lock().unwrap().clone();
        let flaky: HashSet<ThreadId> = threads
            .iter()
            .filter(|(n, _)| n.starts_with("flaky"))
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(
            flaky.len(),
            1,
            "every incarnation on the same arbiter: {threads:?}"
        );
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(report.child_named("flaky").unwrap().attempts(), 3);
        assert_eq!(ledger.alive.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn the_concurrency_limit_counts_across_the_pool() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let group = TaskGroup::<usize>::builder()
            .spread_over(&pool, Placement::LeastLoaded)
            .limit(3)
            .build();
        for i in 0..24 {
            let ledger = Arc::clone(&ledger);
            group
                .spawn_child(Child::send_future("job", move || {
                    let ledger = Arc::clone(&ledger);
                    async move {
                        ledger.enter();
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        ledger.leave();
                        Ok::<_, anyhow::Error>(i)
                    }
                }))
                .unwrap();
        }
        let values = group.join().await.unwrap();
        assert_eq!(values, (0..24).collect::<Vec<_>>(), "values in spawn order");
        assert!(ledger.most.load(Ordering::SeqCst) <= 3);
        assert_eq!(ledger.most.load(Ordering::SeqCst), 3, "the limit was used");
    });
}

#[test]
fn a_cancel_from_a_third_thread_reaches_every_arbiter() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let mut builder =
            GroupSupervisor::<()>::builder().spread_over(&pool, Placement::RoundRobin);
        for name in ["a", "b", "c", "d"] {
            builder = builder.child(worker(name, &ledger, None));
        }
        let group = builder.start();
        until(&ledger, "started", 4).await;
        let remote = group.clone();
        std::thread::spawn(move || remote.do_send(Cancel))
            .join()
            .unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert!(report.error().unwrap().is_cancelled());
        assert_eq!(ledger.count("stopped"), 4);
        assert_eq!(ledger.alive.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn dropping_the_guard_stops_every_arbiters_children() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let guard = GroupSupervisor::<()>::builder()
            .spread_over(&pool, Placement::RoundRobin)
            .child(worker("a", &ledger, None))
            .child(worker("b", &ledger, None))
            .start_guarded();
        let address = guard.address().clone();
        until(&ledger, "started", 2).await;
        drop(guard);
        let report = address.send(Join::new()).await.unwrap();
        assert!(report.error().unwrap().is_cancelled());
        assert_eq!(ledger.count("stopped"), 2);
        assert_eq!(ledger.alive.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_remote_child_that_vetoes_its_stop_is_forced_after_the_grace_period_and_then_the_reply_comes() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let l = Arc::clone(&ledger);
        let group = GroupSupervisor::<()>::builder()
            .spread_over(&pool, Placement::RoundRobin)
            .grace(Duration::from_millis(200))
            .child(Child::send_actor("stubborn", move |reporter| Worker {
                name: "stubborn".into(),
                ledger: Arc::clone(&l),
                reporter,
                fail_after: None,
                veto: true,
            }))
            .child(worker("polite", &ledger, None))
            .start();
        until(&ledger, "started", 2).await;
        let started = std::time::Instant::now();
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
        assert_eq!(
            ledger.alive.load(Ordering::SeqCst),
            0,
            "the stubborn one was dropped first"
        );
        assert_eq!(ledger.count("stubborn stopped"), 0);
        assert!(
            report
                .child_named("stubborn")
                .unwrap()
                .outcome()
                .is_cancelled()
        );
    });
}

#[test]
fn readiness_and_the_snapshot_cover_the_whole_pool() {
    run_real(async {
        let pool = ArbiterPool::new(2);
        let ledger = Arc::new(Ledger::default());
        let mut builder =
            GroupSupervisor::<()>::builder().spread_over(&pool, Placement::RoundRobin);
        for name in ["a", "b", "c"] {
            builder = builder.child(worker(name, &ledger, None));
        }
        builder = builder.child(
            Child::send_future_with("late", |control| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                control.ready();
                control.stop_requested().await;
                Ok::<_, anyhow::Error>(())
            })
            .signals_ready(),
        );
        let group = builder.start();
        let started = std::time::Instant::now();
        group
            .send(actix_taskgroup::WaitReady)
            .await
            .unwrap()
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "waited for the late one"
        );
        assert_eq!(ledger.count("started"), 3);
        let snapshot = group.send(TakeSnapshot).await.unwrap();
        assert!(
            snapshot
                .children
                .iter()
                .all(|c| c.state == ChildState::Running),
            "{snapshot}"
        );
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert!(matches!(
            report.child_named("late").unwrap().outcome(),
            Outcome::Cancelled
        ));
    });
}

#[test]
fn without_a_pool_send_children_run_at_home() {
    run_real(async {
        let home = std::thread::current().id();
        let group = TaskGroup::<bool>::new();
        group
            .spawn_child(Child::send_future("here", move || async move {
                Ok::<_, anyhow::Error>(std::thread::current().id() == home)
            }))
            .unwrap();
        assert_eq!(group.join().await.unwrap(), [true]);
    });
}

#[test]
fn a_supervisor_can_be_started_on_a_given_arbiter() {
    run_real(async {
        let arbiter = actix_rt::Arbiter::new();
        let home = std::thread::current().id();
        let group = GroupSupervisor::start_in(&arbiter.handle(), move || {
            GroupSupervisor::<bool>::builder().child_future("where", move || async move {
                Ok::<_, anyhow::Error>(std::thread::current().id() != home)
            })
        });
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(report.into_result().unwrap(), [true]);
        arbiter.stop();
    });
}

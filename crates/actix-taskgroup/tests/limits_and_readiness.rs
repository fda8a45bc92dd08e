//! R14 (concurrency limits: FIFO, at most N alive, queued children never started) and R15
//! (readiness: by signal, by `started()`, a start timeout naming the late child, a sequential
//! start).

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Backoff, Child, ChildAddr, ChildState, GroupErrorKind, GroupSupervisor, ReadyError, Restart,
    TaskGroup, WaitReady,
};
use common::worker::{Log, Script, Worker};
use common::{after, fail_after, run_paused};
use tokio::time::Instant;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts how many children are alive at once, and the most ever seen.
#[derive(Default)]
struct Gauge {
    alive: Cell<usize>,
    most: Cell<usize>,
    started: std::cell::RefCell<Vec<usize>>,
}

impl Gauge {
    fn enter(&self, who: usize) {
        self.alive.set(self.alive.get() + 1);
        self.most.set(self.most.get().max(self.alive.get()));
        self.started.borrow_mut().push(who);
    }
    fn leave(&self) {
        self.alive.set(self.alive.get() - 1);
    }
}

#[test]
fn at_most_n_run_and_the_rest_start_in_fifo_order() {
    run_paused(async {
        let gauge = Rc::new(Gauge::default());
        let group = TaskGroup::<usize>::builder().limit(3).build();
        for who in 0..10 {
            let gauge = Rc::clone(&gauge);
            // Each takes a different time, so that slots free out of order.
            let work = ms(10 + (who as u64 * 7) % 30);
            group
                .spawn(async move {
                    gauge.enter(who);
                    tokio::time::sleep(work).await;
                    gauge.leave();
                    Ok::<_, anyhow::Error>(who)
                })
                .unwrap();
        }
        assert_eq!(group.join().await.unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(gauge.most.get(), 3);
        assert_eq!(*gauge.started.borrow(), (0..10).collect::<Vec<_>>(), "FIFO");
    });
}

#[test]
fn under_fail_fast_queued_children_never_start_and_their_factory_is_never_called() {
    run_paused(async {
        let called = Rc::new(Cell::new(0));
        let group = TaskGroup::<()>::builder().limit(2).build();
        group.spawn_named("breaks", fail_after(10, "boom")).unwrap();
        group.spawn_named("slow", after(1000, ())).unwrap();
        for _ in 0..5 {
            let called = Rc::clone(&called);
            group
                .spawn_child(Child::future("queued", move || {
                    called.set(called.get() + 1);
                    after(1, ())
                }))
                .unwrap();
        }
        let snapshot = group.snapshot();
        assert_eq!(snapshot.children[2].state, ChildState::Queued);
        let report = group.join_report().await;
        assert_eq!(called.get(), 0, "factories of queued children never ran");
        for child in &report.children()[2..] {
            assert!(child.outcome().is_cancelled());
            assert_eq!(child.attempts(), 0);
            assert_eq!(child.started_at(), None);
        }
    });
}

#[test]
fn a_restarting_child_keeps_its_slot() {
    run_paused(async {
        let gauge = Rc::new(Gauge::default());
        let group = TaskGroup::<u8>::builder()
            .limit(1)
            .backoff(actix_taskgroup::Backoff::constant(ms(100)))
            .build();
        let tries = Rc::new(Cell::new(0));
        let (g, t) = (Rc::clone(&gauge), Rc::clone(&tries));
        group
            .spawn_child(
                Child::future("flaky", move || {
                    let (gauge, tries) = (Rc::clone(&g), Rc::clone(&t));
                    async move {
                        gauge.enter(0);
                        tries.set(tries.get() + 1);
                        gauge.leave();
                        anyhow::ensure!(tries.get() == 3, "again");
                        Ok(1)
                    }
                })
                .restart(Restart::Transient),
            )
            .unwrap();
        let g = Rc::clone(&gauge);
        group
            .spawn(async move {
                g.enter(1);
                g.leave();
                Ok::<_, anyhow::Error>(2)
            })
            .unwrap();
        let start = Instant::now();
        assert_eq!(group.join().await.unwrap(), [1, 2]);
        // The second child waited for the first's restarts to be done.
        assert_eq!(*gauge.started.borrow(), [0, 0, 0, 1]);
        assert_eq!(start.elapsed(), ms(200));
    });
}

struct Mailbox(Rc<Cell<u32>>);

impl Actor for Mailbox {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Note;

impl Handler<Note> for Mailbox {
    type Result = ();
    fn handle(&mut self, _: Note, _: &mut Context<Self>) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn an_actor_in_a_full_group_has_its_address_at_once_and_its_messages_wait() {
    run_paused(async {
        let built = Rc::new(Cell::new(false));
        let notes = Rc::new(Cell::new(0));
        let (b, n) = (Rc::clone(&built), Rc::clone(&notes));
        let supervisor = GroupSupervisor::<()>::builder()
            .limit(1)
            .child_future("busy", || after(100, ()))
            .build();
        let handle = supervisor.handle();
        let group = supervisor.start();
        tokio::task::yield_now().await;
        let address = handle
            .spawn_actor("queued", move |_| {
                b.set(true);
                Mailbox(Rc::clone(&n))
            })
            .unwrap();
        address.do_send(Note);
        address.do_send(Note);
        tokio::time::sleep(ms(50)).await;
        assert!(!built.get(), "its factory waits for a slot");
        assert!(
            group
                .send(ChildAddr::<Mailbox>::named("queued"))
                .await
                .unwrap()
                .is_some()
        );
        tokio::time::sleep(ms(100)).await;
        assert!(built.get());
        assert_eq!(notes.get(), 2, "the messages waited in its mailbox");
        group.send(actix_taskgroup::Cancel).await.unwrap();
    });
}

#[test]
fn readiness_waits_for_every_signal_and_a_start_timeout_names_the_late_child() {
    run_paused(async {
        let group = TaskGroup::<()>::builder().ready_timeout(ms(100)).build();
        group
            .spawn_child(
                Child::future_with("prompt", |control| async move {
                    tokio::time::sleep(ms(20)).await;
                    control.ready();
                    std::future::pending::<()>().await;
                    Ok::<_, anyhow::Error>(())
                })
                .signals_ready(),
            )
            .unwrap();
        group
            .spawn_child(
                Child::future_with("late", |control| async move {
                    tokio::time::sleep(ms(500)).await;
                    control.ready();
                    Ok::<_, anyhow::Error>(())
                })
                .signals_ready(),
            )
            .unwrap();
        let start = Instant::now();
        let ready = group.wait_ready().await;
        assert_eq!(start.elapsed(), ms(100));
        match ready {
            Err(ReadyError::TimedOut { children }) => {
                assert_eq!(children.len(), 1);
                assert_eq!(children[0].1.as_deref(), Some("late"));
            }
            other => panic!("expected a start timeout, got {other:?}"),
        }
        let report = group.join_report().await;
        let error = report.error().unwrap();
        assert_eq!(error.kind(), GroupErrorKind::StartTimedOut);
        assert_eq!(error.first_failure().unwrap().name(), Some("late"));
        assert_eq!(error.failures().count(), 1);
        assert!(report.child_named("late").unwrap().outcome().is_failure());
    });
}

#[test]
fn a_child_failing_before_it_is_ready_fails_the_wait_naming_it() {
    run_paused(async {
        let group = TaskGroup::<()>::builder()
            .policy(actix_taskgroup::Policy::CollectAll)
            .build();
        group
            .spawn_child(
                Child::future_with("db", |_control| async move {
                    tokio::time::sleep(ms(10)).await;
                    anyhow::bail!("cannot bind")
                })
                .signals_ready(),
            )
            .unwrap();
        match group.wait_ready().await {
            Err(ReadyError::Failed { children }) => {
                assert_eq!(children[0].1.as_deref(), Some("db"))
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    });
}

#[test]
fn an_actor_is_ready_once_started_returns_and_a_supervisor_answers_wait_ready() {
    run_paused(async {
        let log = Log::default();
        let l = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("a", move |r| Worker::new("a", Script::Idle, &l, r))
            .start();
        assert_eq!(group.send(WaitReady).await.unwrap(), Ok(()));
        assert_eq!(log.borrow()[0], "a started");
        group.send(actix_taskgroup::Cancel).await.unwrap();
    });
}

#[test]
fn a_restarted_child_is_not_ready_again_until_it_signals() {
    run_paused(async {
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        group
            .spawn_child(
                Child::future_with("svc", |control| async move {
                    if control.attempt() == 1 {
                        control.ready();
                        tokio::time::sleep(ms(10)).await;
                        anyhow::bail!("crash");
                    }
                    tokio::time::sleep(ms(100)).await;
                    control.ready();
                    std::future::pending::<()>().await;
                    Ok(())
                })
                .signals_ready()
                .restart(Restart::Transient),
            )
            .unwrap();
        group.wait_ready().await.unwrap();
        tokio::time::sleep(ms(20)).await;
        let snapshot = group.snapshot();
        assert_eq!(
            snapshot.children[0].state,
            ChildState::Starting,
            "{snapshot}"
        );
        let start = Instant::now();
        group.wait_ready().await.unwrap();
        assert_eq!(start.elapsed(), ms(90));
        handle.cancel();
    });
}

#[test]
fn a_sequential_start_waits_for_each_child_to_be_ready() {
    run_paused(async {
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let group = TaskGroup::<()>::builder().start_sequentially().build();
        for (name, ready_after) in [("db", 50), ("cache", 30), ("api", 10)] {
            let order = Rc::clone(&order);
            group
                .spawn_child(
                    Child::future_with(name, move |control| {
                        let order = Rc::clone(&order);
                        async move {
                            order.borrow_mut().push(format!(
                                "{name} starts at {:?}",
                                tokio::time::Instant::now()
                            ));
                            tokio::time::sleep(ms(ready_after)).await;
                            control.ready();
                            std::future::pending::<()>().await;
                            Ok::<_, anyhow::Error>(())
                        }
                    })
                    .signals_ready(),
                )
                .unwrap();
        }
        let start = Instant::now();
        group.wait_ready().await.unwrap();
        assert_eq!(start.elapsed(), ms(90), "50 + 30 + 10: one after the other");
        assert_eq!(order.borrow().len(), 3);
        group.cancel();
    });
}

#[test]
fn a_hundred_thousand_queued_children_run_through_a_limit() {
    run_paused(async {
        let group = TaskGroup::<u32>::builder().limit(64).build();
        for i in 0..100_000u32 {
            group
                .spawn(async move {
                    tokio::task::yield_now().await;
                    Ok::<_, anyhow::Error>(i)
                })
                .unwrap();
        }
        let values = group.join().await.unwrap();
        assert_eq!(values.len(), 100_000);
        assert!(values.iter().enumerate().all(|(i, v)| i as u32 == *v));
    });
}

#[test]
fn a_queued_childs_times_begin_when_it_leaves_the_queue() {
    run_paused(async {
        let group = GroupSupervisor::<()>::builder()
            .limit(1)
            .child(Child::future("first", || after(200, ())))
            .child(Child::future("second", || after(200, ())))
            .start();
        let report = group.send(actix_taskgroup::Join::new()).await.unwrap();
        let (first, second) = (&report.children()[0], &report.children()[1]);
        assert_eq!(second.duration(), Some(ms(200)), "its wait is not its run");
        assert_eq!(second.started_at(), first.stopped_at());
    });
}

#[test]
fn a_child_that_fails_before_ready_at_every_restart_is_named_once() {
    run_paused(async {
        let log = Log::default();
        let l = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .intensity(1_000, Duration::from_secs(60))
            .backoff(Backoff::exponential(Duration::from_millis(1)).max(Duration::from_millis(1)))
            .child(
                Child::actor("flaky", move |r| {
                    Worker::new("flaky", Script::FailInStarted, &l, r)
                })
                .restart(Restart::Permanent),
            )
            .start();
        // Let it fail and be restarted many times (once a millisecond) before anyone asks.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            log.borrow()
                .iter()
                .filter(|e| *e == "flaky started")
                .count()
                > 100,
            "restarted many times"
        );
        match group.send(WaitReady).await.unwrap() {
            Err(ReadyError::Failed { children }) => {
                let names: Vec<_> = children.iter().map(|(_, n)| n.as_deref()).collect();
                assert_eq!(names, [Some("flaky")]);
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        group.send(actix_taskgroup::Cancel).await.unwrap();
    });
}

#[test]
fn a_wait_asked_after_the_group_has_ended_still_names_the_child_that_failed_before_ready() {
    run_paused(async {
        let log = Log::default();
        let l = log.clone();
        let group = GroupSupervisor::<()>::builder()
            .child_actor("db", move |r| {
                Worker::new("db", Script::FailInStarted, &l, r)
            })
            .start();
        let report = group.send(actix_taskgroup::Join::new()).await.unwrap();
        assert!(report.error().is_some(), "the group failed and ended");
        // The names went to the report when the group ended; the wait still names the child.
        match group.send(WaitReady).await.unwrap() {
            Err(ReadyError::Failed { children }) => {
                let names: Vec<_> = children.iter().map(|(_, n)| n.as_deref()).collect();
                assert_eq!(names, [Some("db")]);
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    });
}

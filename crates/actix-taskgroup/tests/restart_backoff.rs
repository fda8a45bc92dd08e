//! R12: backoff before restarts (growth, cap, jitter bounds, reset after a quiet period, a
//! stop during the delay), and reaching a restarted actor.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Backoff, Cancel, Child, ChildAddr, ChildRef, ChildRefError, ChildState, GroupSupervisor, Join,
    Restart, TakeSnapshot,
};
use common::run_paused;
use tokio::time::Instant;

/// A permanent child that records when each incarnation starts and fails at once, or after
/// `runs_for` for the incarnations listed in `long_runs`.
fn recorder(
    starts: Rc<RefCell<Vec<Instant>>>,
    long_runs: &'static [usize],
    runs_for: Duration,
) -> Child<()> {
    Child::future("flaky", move || {
        let starts = Rc::clone(&starts);
        async move {
            let n = {
                let mut starts = starts.borrow_mut();
                starts.push(Instant::now());
                starts.len()
            };
            if long_runs.contains(&n) {
                tokio::time::sleep(runs_for).await;
            }
            anyhow::bail!("down")
        }
    })
    .restart(Restart::Permanent)
}

fn gaps(starts: &[Instant]) -> Vec<Duration> {
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn without_jitter_delays_double_from_the_base_up_to_the_cap() {
    run_paused(async {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let group = GroupSupervisor::<()>::builder()
            .intensity(100, Duration::from_secs(60))
            .backoff(Backoff::exponential(ms(100)).max(ms(500)))
            .child(recorder(Rc::clone(&starts), &[], Duration::ZERO).attempts(6))
            .start();
        group.send(Join::new()).await.unwrap();
        assert_eq!(
            gaps(&starts.borrow()),
            [ms(100), ms(200), ms(400), ms(500), ms(500)]
        );
    });
}

#[test]
fn jittered_delays_stay_within_their_bounds() {
    run_paused(async {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let group = GroupSupervisor::<()>::builder()
            .intensity(1000, Duration::from_secs(60))
            .backoff(Backoff::constant(ms(1000)).jitter(0.5))
            .child(recorder(Rc::clone(&starts), &[], Duration::ZERO).attempts(40))
            .start();
        group.send(Join::new()).await.unwrap();
        let gaps = gaps(&starts.borrow());
        assert_eq!(gaps.len(), 39);
        assert!(
            gaps.iter().all(|gap| *gap > ms(500) && *gap <= ms(1000)),
            "{gaps:?}"
        );
        let distinct: std::collections::HashSet<_> = gaps.iter().collect();
        assert!(distinct.len() > 30, "jitter spreads the delays: {gaps:?}");
    });
}

#[test]
fn the_delays_start_again_from_the_base_after_a_quiet_period() {
    run_paused(async {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let group = GroupSupervisor::<()>::builder()
            .intensity(100, Duration::from_secs(1))
            .backoff(Backoff::exponential(ms(100)).reset_after(Duration::from_secs(10)))
            // The third incarnation runs quietly for 10 s before it fails.
            .child(recorder(Rc::clone(&starts), &[3], Duration::from_secs(10)).attempts(5))
            .start();
        group.send(Join::new()).await.unwrap();
        assert_eq!(
            gaps(&starts.borrow()),
            [ms(100), ms(200), Duration::from_secs(10) + ms(100), ms(200)]
        );
    });
}

#[test]
fn a_stop_during_the_backoff_cancels_the_pending_restart_at_once() {
    run_paused(async {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let group = GroupSupervisor::<()>::builder()
            .backoff(Backoff::constant(Duration::from_secs(3600)))
            .child(recorder(Rc::clone(&starts), &[], Duration::ZERO))
            .start();
        tokio::time::sleep(ms(10)).await;
        let snapshot = group.send(TakeSnapshot).await.unwrap();
        assert!(
            matches!(snapshot.children[0].state, ChildState::Restarting { in_: Some(left) } if left > Duration::from_secs(3500)),
            "{snapshot}"
        );
        let stopped = Instant::now();
        group.send(Cancel).await.unwrap();
        let report = group.send(Join::new()).await.unwrap();
        assert_eq!(stopped.elapsed(), Duration::ZERO, "no wait for the delay");
        assert_eq!(starts.borrow().len(), 1, "never started again");
        let child = &report.children()[0];
        assert!(child.outcome().is_cancelled());
        assert_eq!(child.attempts(), 1);
        assert_eq!(
            child.recent_failures().len(),
            1,
            "the failure that led to the restart is kept"
        );
    });
}

/// An actor that answers with its incarnation and fails on request.
struct Numbered {
    attempt: u32,
    reporter: actix_taskgroup::Reporter<()>,
}

impl Actor for Numbered {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u32")]
struct Which;

impl Handler<Which> for Numbered {
    type Result = u32;
    fn handle(&mut self, _: Which, _: &mut Context<Self>) -> u32 {
        self.attempt
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Crash;

impl Handler<Crash> for Numbered {
    type Result = ();
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) {
        self.reporter.fail_and_stop(ctx, anyhow::anyhow!("crashed"));
    }
}

fn numbered_group(backoff: Duration) -> Addr<GroupSupervisor<()>> {
    GroupSupervisor::<()>::builder()
        .backoff(Backoff::constant(backoff))
        .child(
            Child::actor("db", |reporter| Numbered {
                attempt: reporter.attempt(),
                reporter,
            })
            .restart(Restart::Permanent),
        )
        .start()
}

#[test]
fn a_lookup_by_name_returns_the_current_incarnation() {
    run_paused(async {
        let group = numbered_group(ms(50));
        let first: Addr<Numbered> = group.send(ChildAddr::named("db")).await.unwrap().unwrap();
        assert_eq!(first.send(Which).await.unwrap(), 1);
        first.send(Crash).await.unwrap();
        tokio::time::sleep(ms(100)).await;
        let second: Addr<Numbered> = group.send(ChildAddr::named("db")).await.unwrap().unwrap();
        assert_eq!(second.send(Which).await.unwrap(), 2);
        assert!(
            first.send(Which).await.is_err(),
            "the old incarnation is gone"
        );
        group.send(Cancel).await.unwrap();
    });
}

#[test]
fn a_child_ref_follows_restarts_and_says_when_no_incarnation_runs() {
    run_paused(async {
        let group = numbered_group(ms(50));
        let db: ChildRef<Numbered> = ChildRef::named(&group, "db");
        assert_eq!(db.send(Which).await.unwrap(), 1);
        db.send(Crash).await.unwrap();
        // During the backoff, no incarnation runs: the message is not delivered.
        tokio::time::sleep(ms(10)).await;
        assert_eq!(db.send(Which).await, Err(ChildRefError::NotRunning));
        tokio::time::sleep(ms(100)).await;
        assert_eq!(db.send(Which).await.unwrap(), 2, "the new incarnation");
        group.send(Cancel).await.unwrap();
        group.send(Join::new()).await.unwrap();
        assert_eq!(
            db.send(Which).await,
            Err(ChildRefError::NotRunning),
            "ended for good"
        );
    });
}

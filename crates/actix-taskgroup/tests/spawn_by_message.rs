//! R7 and R8 by message: any actor, on any arbiter, can add a nested group to a running
//! supervisor with `SpawnGroup`; the nested group runs on the supervisor's arbiter, and its
//! failure reaches the parent as one failure that keeps the inner tree.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::prelude::*;
use actix_taskgroup::{
    Cancel, ChildKind, EndCondition, FailureKind, GroupSupervisor, Join, OutcomeKind, SpawnError,
    SpawnGroup,
};
use common::worker::{Log, Script, Worker};
use common::{after, fail_after, run_paused, run_real};
use futures::channel::oneshot;

type Answer = oneshot::Sender<(Result<(), SpawnError>, std::thread::ThreadId)>;

/// An actor that, once started, asks `supervisor` to run the nested group `make` builds,
/// and tells the test whether it was taken, and from which thread it asked.
struct Spawner<M: Message> {
    supervisor: Addr<GroupSupervisor<u32>>,
    make: Option<M>,
    answer: Option<Answer>,
}

impl Actor for Spawner<SpawnGroup<u8, u32>> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let message = self.make.take().unwrap();
        let answer = self.answer.take().unwrap();
        let request = self.supervisor.send(message);
        ctx.spawn(actix::fut::wrap_future(async move {
            let taken = request.await.unwrap().map(drop);
            let _ = answer.send((taken, std::thread::current().id()));
        }));
    }
}

/// Starts a `Spawner` on a new arbiter (another thread) and waits for its answer.
async fn spawn_from_another_arbiter(
    supervisor: &Addr<GroupSupervisor<u32>>,
    message: SpawnGroup<u8, u32>,
) -> (Result<(), SpawnError>, Arbiter) {
    let arbiter = Arbiter::new();
    let (answer, answered) = oneshot::channel();
    let supervisor = supervisor.clone();
    Spawner::start_in_arbiter(&arbiter.handle(), move |_| Spawner {
        supervisor,
        make: Some(message),
        answer: Some(answer),
    });
    let (taken, thread) = answered.await.unwrap();
    assert_ne!(
        thread,
        std::thread::current().id(),
        "asked from another thread"
    );
    (taken, arbiter)
}

#[test]
fn a_nested_group_spawned_by_message_from_another_arbiter_runs_and_maps_its_values() {
    run_real(async {
        let root = GroupSupervisor::<u32>::builder()
            .name("root")
            .end(EndCondition::Never)
            .start();
        let message = SpawnGroup::named(
            "shards",
            || {
                GroupSupervisor::<u8>::builder()
                    .name("shards")
                    .child_future("a", || async { Ok::<_, anyhow::Error>(1u8) })
                    .child_future("b", || async { Ok::<_, anyhow::Error>(2u8) })
            },
            |values: Vec<u8>| values.iter().map(|&v| u32::from(v)).sum(),
        );
        let (taken, arbiter) = spawn_from_another_arbiter(&root, message).await;
        taken.expect("the running supervisor takes the group");
        root.send(actix_taskgroup::Close).await.unwrap();

        let report = root.send(Join::new()).await.unwrap();
        let entry = report.child_named("shards").unwrap();
        assert_eq!(entry.kind(), ChildKind::Group);
        assert_eq!(entry.nested().unwrap().children().len(), 2);
        assert_eq!(report.into_result().unwrap(), [3]);
        arbiter.stop();
    });
}

#[test]
fn a_failing_nested_group_spawned_by_message_from_another_arbiter_is_one_failure_keeping_its_tree()
{
    run_real(async {
        let root = GroupSupervisor::<u32>::builder()
            .name("root")
            .child_future("steady", std::future::pending::<anyhow::Result<u32>>)
            .start();
        let message = SpawnGroup::named(
            "batch",
            || {
                GroupSupervisor::<u8>::builder()
                    .name("batch")
                    .child_future("ok", || async { Ok::<_, anyhow::Error>(1u8) })
                    .child_future("broken", || async {
                        Err::<u8, _>(anyhow::anyhow!("bad record"))
                    })
            },
            |_| 0,
        );
        let (taken, arbiter) = spawn_from_another_arbiter(&root, message).await;
        taken.expect("the running supervisor takes the group");

        let report = root.send(Join::new()).await.unwrap();
        let error = report.error().expect("the inner failure fails the root");
        assert_eq!(error.failures().count(), 1, "one failure, not flattened");
        let failure = error.first_failure().unwrap();
        assert_eq!(failure.name(), Some("batch"));
        assert_eq!(failure.kind(), FailureKind::Failed);
        let inner = failure.nested().expect("the inner GroupError is kept");
        assert_eq!(inner.group_name(), Some("batch"));
        let leaf = inner.first_failure().unwrap();
        assert_eq!(leaf.name(), Some("broken"));
        assert_eq!(leaf.cause().to_string(), "bad record");

        let inner_report = report.child_named("batch").unwrap().nested().unwrap();
        let outcome = |name| inner_report.child_named(name).unwrap().outcome().kind();
        assert_eq!(outcome("broken"), OutcomeKind::Failed);
        assert!(matches!(outcome("ok"), OutcomeKind::Completed));
        let steady = report.child_named("steady").unwrap();
        assert_eq!(
            steady.outcome().kind(),
            OutcomeKind::Cancelled,
            "fail-fast reached it"
        );
        arbiter.stop();
    });
}

#[test]
fn a_nested_group_spawned_by_message_is_stopped_with_its_parent() {
    run_paused(async {
        let root = GroupSupervisor::<u32>::builder()
            .end(EndCondition::Never)
            .start();
        root.send(SpawnGroup::named(
            "slow",
            || {
                GroupSupervisor::<u8>::builder()
                    .child_future("late", || after(3_600_000, 1u8))
                    .child_future("broken", || fail_after::<u8>(10, "late failure"))
            },
            |_| 0,
        ))
        .await
        .unwrap()
        .unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        root.send(Cancel).await.unwrap();
        let report = root.send(Join::new()).await.unwrap();
        assert!(report.error().unwrap().is_cancelled());
        let inner = report.child_named("slow").unwrap().nested().unwrap();
        assert!(inner.error().unwrap().is_cancelled());
        assert!(inner.children().iter().all(|c| c.outcome().is_cancelled()));
    });
}

/// R7: a refused `SpawnGroup`'s builder is never called, after the end as while stopping.
#[test]
fn a_refused_spawn_group_never_calls_its_builder() {
    run_paused(async {
        let root = GroupSupervisor::<u32>::builder().start();
        root.send(Join::new()).await.unwrap();
        let called = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&called);
        let refused = root
            .send(SpawnGroup::named(
                "too-late",
                move || {
                    flag.store(true, Ordering::SeqCst);
                    GroupSupervisor::<u8>::builder()
                },
                |_| 0,
            ))
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err(), SpawnError::Closed);
        assert!(
            !called.load(Ordering::SeqCst),
            "a refused factory is never called"
        );
    });
}

#[test]
fn a_spawn_group_while_stopping_never_calls_its_builder() {
    run_paused(async {
        let log = Log::default();
        let l1 = log.clone();
        let root = GroupSupervisor::<u32>::builder()
            .child_actor("stubborn", move |r| {
                Worker::new("stubborn", Script::VetoStop, &l1, r)
            })
            .start();
        tokio::time::sleep(Duration::from_millis(1)).await;
        root.send(Cancel).await.unwrap();
        let called = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&called);
        let refused = root
            .send(SpawnGroup::named(
                "too-late",
                move || {
                    flag.store(true, Ordering::SeqCst);
                    GroupSupervisor::<u8>::builder()
                },
                |_| 0,
            ))
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err(), SpawnError::ShuttingDown);
        assert!(
            !called.load(Ordering::SeqCst),
            "a refused factory is never called"
        );
    });
}

//! Steering a running supervisor: `Cancel`, `Close`, `WaitReady`, `TakeSnapshot`.

use std::future::poll_fn;
use std::rc::Rc;

use actix::{Context, Handler, Message, ResponseFuture};

use crate::engine::scope::StopReason;
use crate::engine::spec::SnapshotSource;
use crate::error::{GroupErrorKind, ReadyError};
use crate::snapshot::Snapshot;
use crate::supervisor::GroupSupervisor;

/// Cancels the group (R6): every child is asked to stop, then forced after the grace period.
/// Whoever waits gets a report whose error is of kind `Cancelled` (unless the group had
/// already finished).
#[derive(Debug, Clone, Copy, Default, Message)]
#[rtype(result = "()")]
pub struct Cancel;

impl<T: 'static> Handler<Cancel> for GroupSupervisor<T> {
    type Result = ();

    fn handle(&mut self, _: Cancel, _: &mut Context<Self>) {
        self.scope()
            .stop(Some(GroupErrorKind::Cancelled), StopReason::Cancelled);
    }
}

/// Switches a group built with [`EndCondition::Never`](crate::EndCondition::Never) to
/// "when done": a batch filled by message ends once its children are done and someone
/// waits.
///
/// ```
/// use actix_taskgroup::{Close, EndCondition, GroupSupervisor, Join, SpawnFuture};
///
/// # actix_rt::System::new().block_on(async {
/// let batch = GroupSupervisor::<u8>::builder().end(EndCondition::Never).start();
/// // A watcher may wait before any job has arrived: the group stays open.
/// let watcher = batch.send(Join::new());
/// batch.send(SpawnFuture::named("job", || async { Ok::<_, anyhow::Error>(1) })).await.unwrap().unwrap();
/// batch.send(Close).await.unwrap();
/// assert_eq!(watcher.await.unwrap().into_result().unwrap(), [1]);
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default, Message)]
#[rtype(result = "()")]
pub struct Close;

impl<T: 'static> Handler<Close> for GroupSupervisor<T> {
    type Result = ();

    fn handle(&mut self, _: Close, _: &mut Context<Self>) {
        self.scope().close();
    }
}

/// Waits until every started child is ready (R15); the reply says which child failed first
/// or was not ready within the group's start timeout.
#[derive(Debug, Clone, Copy, Default, Message)]
#[rtype(result = "Result<(), ReadyError>")]
pub struct WaitReady;

impl<T: 'static> Handler<WaitReady> for GroupSupervisor<T> {
    type Result = ResponseFuture<Result<(), ReadyError>>;

    fn handle(&mut self, _: WaitReady, _: &mut Context<Self>) -> Self::Result {
        let scope = Rc::clone(self.scope());
        let key = scope.ready_key();
        Box::pin(poll_fn(move |cx| scope.poll_ready(key, cx)))
    }
}

/// Asks for a live [`Snapshot`] of the group and its nested groups (R16).
#[derive(Debug, Clone, Copy, Default, Message)]
#[rtype(result = "Snapshot")]
pub struct TakeSnapshot;

impl<T: 'static> Handler<TakeSnapshot> for GroupSupervisor<T> {
    type Result = actix::MessageResult<TakeSnapshot>;

    fn handle(&mut self, _: TakeSnapshot, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(self.scope().snapshot())
    }
}

//! A group's shard on one pool arbiter: a scope of its own that builds the children it is
//! sent and drives them, telling each child's proxy at home how it went.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;

use crate::child::ChildKind;
use crate::engine::child::{ChildBody, ChildTask, StopAsk};
use crate::engine::config::ScopeConfig;
use crate::engine::scope::Scope;
use crate::outcome::Outcome;
use crate::policy::{EndCondition, Policy};
use crate::pool::binding::Launch;
use crate::pool::slot::{Order, RemoteSlot};

/// The shard's task: starts each child it is sent, and ends once its group is gone (the
/// channel closed) and every child it started has ended.
pub(crate) async fn shard<T: Send + 'static>(mut commands: UnboundedReceiver<Launch<T>>) {
    // The shard decides nothing: its group at home applies the policy, the restarts and the
    // grace period, and asks each child to stop or to be dropped through its slot.
    let mut config = ScopeConfig::new(Duration::from_secs(3600 * 24 * 365), false);
    config.policy = Policy::CollectAll;
    config.end = EndCondition::Never;
    let scope = Scope::<()>::new(config);
    scope.open_joins();
    while let Some(Launch { slot, make, known }) = commands.next().await {
        let body = make(&slot, known);
        let remote = Remote {
            task: ChildTask::new(body),
            slot,
            asked: false,
        };
        if scope
            .spawn_body(None, ChildKind::Future, None, |_| Box::pin(remote))
            .is_err()
        {
            break;
        }
    }
    scope.close();
    scope.begin_join(false);
    let key = scope.waiter_key();
    poll_fn(|cx| scope.poll_finished(key, cx)).await;
}

/// A child's remote half: the child itself, polled with the shard's waker, and its line
/// home.
struct Remote<T> {
    task: ChildTask<T>,
    slot: Arc<RemoteSlot<T>>,
    asked: bool,
}

impl<T> Remote<T> {
    fn end(&mut self, outcome: Outcome<T>) -> Poll<Outcome<()>> {
        self.slot.finish(outcome);
        Poll::Ready(Outcome::Completed(()))
    }
}

impl<T> ChildBody<()> for Remote<T> {
    fn poll_end(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<()>> {
        let this = self.get_mut();
        this.slot.register_remote(cx.waker());
        match this.slot.order() {
            Order::Force => {
                let outcome = this.task.cancel().unwrap_or(Outcome::Cancelled);
                return this.end(outcome);
            }
            Order::Stop if !this.asked => {
                this.asked = true;
                if let Some(outcome) = this.task.ask_only() {
                    return this.end(outcome);
                }
            }
            _ => {}
        }
        match this.task.poll_in(cx) {
            Poll::Ready(outcome) => this.end(outcome),
            Poll::Pending => Poll::Pending,
        }
    }

    fn ask_to_stop(self: Pin<&mut Self>) -> StopAsk {
        // The shard itself is stopping (its arbiter is going): stop the child as its group
        // would.
        let this = self.get_mut();
        if !this.asked {
            this.asked = true;
            if let Some(outcome) = this.task.ask_only() {
                this.slot.finish(outcome);
                return StopAsk::DropNow;
            }
        }
        StopAsk::Stopping
    }
}

impl<T> Drop for Remote<T> {
    fn drop(&mut self) {
        // Dropped without having ended (its arbiter shut down): home must not wait for it.
        if !self.slot.has_ended() {
            let outcome = self.task.cancel().unwrap_or(Outcome::Cancelled);
            self.slot.finish(outcome);
        }
    }
}

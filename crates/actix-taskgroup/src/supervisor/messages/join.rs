//! Waiting for a supervisor's end: `Join` and `NotifyWhenDone`.

use std::fmt;
use std::marker::PhantomData;

use actix::{Context, Handler, Message, Recipient, ResponseFuture};

use crate::error::{GroupError, GroupErrorKind};
use crate::report::GroupReport;
use crate::supervisor::GroupSupervisor;

/// Waits for the group: the reply is its report, sent once every child has stopped (R1,
/// R9), complete whether the group succeeded or failed: every child's outcome and times,
/// every completed value, and the error if there is one
/// ([`GroupReport::into_result`] gives `Result<Vec<T>, GroupError>`). Every asker gets the
/// answer; one that asks after the end gets it at once; one that went away is skipped.
///
/// Every asker gets a report of its own that shares the supervisor's entries: reading it
/// copies nothing, and taking it apart ([`GroupReport::into_result`],
/// [`GroupReport::into_children`]) copies the values while the supervisor still holds them.
/// The reply must cross threads, so it needs `T: Send + Sync` (it is shared), and `T: Clone`
/// because several askers may wait. A supervisor whose values are neither can be waited for through its
/// [`GroupHandle::join`](crate::GroupHandle::join) on the same arbiter.
///
/// ```
/// use actix_taskgroup::{GroupSupervisor, Join};
///
/// # actix_rt::System::new().block_on(async {
/// let group = GroupSupervisor::<&str>::builder()
///     .child_future("greet", || async { Ok::<_, anyhow::Error>("hello") })
///     .start();
/// let report = group.send(Join::new()).await.unwrap();
/// assert_eq!(report.into_result().unwrap(), ["hello"]);
/// # });
/// ```
pub struct Join<T = ()>(PhantomData<fn() -> T>);

impl<T> Join<T> {
    /// The message.
    pub fn new() -> Self {
        Join(PhantomData)
    }
}

impl<T> Default for Join<T> {
    fn default() -> Self {
        Join::new()
    }
}

impl<T> fmt::Debug for Join<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Join")
    }
}

impl<T: Send + 'static> Message for Join<T> {
    type Result = GroupReport<T>;
}

impl<T: Clone + Send + Sync + 'static> Handler<Join<T>> for GroupSupervisor<T> {
    type Result = ResponseFuture<GroupReport<T>>;

    fn handle(&mut self, _: Join<T>, _: &mut Context<Self>) -> Self::Result {
        if let Some(report) = self.result() {
            let report = GroupReport::clone(report);
            return Box::pin(async move { report });
        }
        let (reply, answer) = futures::channel::oneshot::channel();
        self.share_report_with(T::clone);
        // R9: an asker that went away is skipped quietly.
        self.on_finish(Box::new(move |report: &GroupReport<T>| {
            let _ = reply.send(report.clone());
        }));
        let group = self.scope().config().name.clone();
        Box::pin(async move {
            // Unanswered only if the supervisor was dropped before it could build its report
            // (the System shutting down mid-way): the group was cancelled.
            answer.await.unwrap_or_else(|_| {
                GroupReport::new(
                    Vec::new(),
                    Some(GroupError::new(
                        group,
                        GroupErrorKind::Cancelled,
                        Vec::new(),
                    )),
                )
            })
        })
    }
}

/// The message a [`NotifyWhenDone`] recipient receives: the group's report.
#[derive(Debug)]
pub struct GroupDone<T: 'static>(pub GroupReport<T>);

impl<T: Send + 'static> Message for GroupDone<T> {
    type Result = ();
}

/// Registers a recipient to be sent the group's report ([`GroupDone`]) once every child has
/// stopped. Registering starts the wait for the group's end, as [`Join`] does.
pub struct NotifyWhenDone<T: Send + Sync + 'static>(pub Recipient<GroupDone<T>>);

impl<T: Send + Sync + 'static> Message for NotifyWhenDone<T> {
    type Result = ();
}

impl<T: Clone + Send + Sync + 'static> Handler<NotifyWhenDone<T>> for GroupSupervisor<T> {
    type Result = ();

    fn handle(&mut self, NotifyWhenDone(recipient): NotifyWhenDone<T>, _: &mut Context<Self>) {
        self.share_report_with(T::clone);
        // R9: a recipient that went away is skipped quietly.
        self.on_finish(Box::new(move |report: &GroupReport<T>| {
            recipient.do_send(GroupDone(report.clone()));
        }));
    }
}

impl<T: Send + Sync + 'static> fmt::Debug for NotifyWhenDone<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NotifyWhenDone")
    }
}

//! Ties a supervisor to its owner (R6).

use std::fmt;

use actix::Addr;

use crate::supervisor::GroupSupervisor;
use crate::supervisor::messages::lifecycle::Cancel;

/// Keeps a [`GroupSupervisor`] tied to its owner: dropping the guard cancels the group (R6),
/// which stops every child gracefully, then by force after the grace period.
///
/// An actor that starts a group keeps the guard in its own state; when the actor stops and
/// its state is dropped, its group goes with it: no child outlives its parent. The guard does
/// not keep the parent alive (unlike a future spawned into the parent's context).
///
/// ```
/// use actix::prelude::*;
/// use actix_taskgroup::{GroupSupervisor, SupervisorGuard};
///
/// struct Parent {
///     workers: Option<SupervisorGuard<()>>,
/// }
///
/// impl Actor for Parent {
///     type Context = Context<Self>;
///
///     fn started(&mut self, _: &mut Context<Self>) {
///         let workers = GroupSupervisor::builder()
///             .child_future("poll", || async {
///                 actix_rt::time::sleep(std::time::Duration::from_secs(60)).await;
///                 Ok::<_, anyhow::Error>(())
///             })
///             .start_guarded();
///         self.workers = Some(workers);
///     }
/// }
///
/// # actix_rt::System::new().block_on(async {
/// let parent = Parent { workers: None }.start();
/// drop(parent); // the parent stops, its guard is dropped, its group is cancelled
/// # });
/// ```
pub struct SupervisorGuard<T: 'static> {
    address: Addr<GroupSupervisor<T>>,
}

impl<T: 'static> SupervisorGuard<T> {
    pub(crate) fn new(address: Addr<GroupSupervisor<T>>) -> Self {
        SupervisorGuard { address }
    }

    /// The supervisor's address: send it [`Join`](crate::Join), spawn messages, or
    /// [`Cancel`](crate::Cancel).
    pub fn address(&self) -> &Addr<GroupSupervisor<T>> {
        &self.address
    }
}

impl<T: 'static> Drop for SupervisorGuard<T> {
    fn drop(&mut self) {
        // `do_send` ignores the mailbox's capacity: the cancel is never lost to a full
        // mailbox. A supervisor that has already stopped needs no cancel.
        self.address.do_send(Cancel);
    }
}

impl<T: 'static> fmt::Debug for SupervisorGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorGuard").finish_non_exhaustive()
    }
}

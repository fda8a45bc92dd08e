//! The stream of children's outcomes in completion order.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use crate::report::ChildReport;
use crate::task_group::TaskGroup;

/// The stream returned by [`TaskGroup::outcomes`]: each child's report as the child ends, in
/// completion order; it ends once every child has ended.
///
/// # Cancel safety
///
/// The stream owns the group: dropping it cancels every child still running (R6).
pub struct Outcomes<T: 'static> {
    group: TaskGroup<T>,
    /// This stream's place among the group's waiters.
    key: u64,
}

impl<T: 'static> Outcomes<T> {
    pub(crate) fn new(group: TaskGroup<T>) -> Self {
        let key = group.scope().waiter_key();
        Outcomes { group, key }
    }
}

impl<T: 'static> Stream for Outcomes<T> {
    type Item = ChildReport<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.group.scope().poll_next_ended(self.key, cx)
    }
}

impl<T: 'static> fmt::Debug for Outcomes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcomes")
            .field("group", &self.group)
            .finish()
    }
}

//! Every child's outcome, for callers who want all of them.

use std::borrow::Cow;

use tokio::time::Instant;

use crate::{ChildId, GroupError, Outcome};

/// One child's entry in a report: its id, name and outcome.
///
/// A [`GroupReport`] lists them in spawn order; [`TaskGroup::outcomes`](crate::TaskGroup::outcomes)
/// yields them in completion order.
#[derive(Debug)]
pub struct ChildReport<T> {
    id: ChildId,
    name: Option<Cow<'static, str>>,
    outcome: Outcome<T>,
    started_at: Option<Instant>,
    stopped_at: Option<Instant>,
}

impl<T> ChildReport<T> {
    pub(crate) fn new(id: ChildId, name: Option<Cow<'static, str>>, outcome: Outcome<T>) -> Self {
        ChildReport {
            id,
            name,
            outcome,
            started_at: None,
            stopped_at: None,
        }
    }

    pub(crate) fn with_times(mut self, started: Instant, stopped: Option<Instant>) -> Self {
        self.started_at = Some(started);
        self.stopped_at = stopped;
        self
    }

    /// When the child was spawned, if its group keeps times (a supervisor does; a
    /// [`TaskGroup`](crate::TaskGroup) does not). Times have the resolution of one turn of
    /// the arbiter's event loop: children started or stopped in the same turn share a time.
    pub fn started_at(&self) -> Option<Instant> {
        self.started_at
    }

    /// When the child was seen to stop, if its group keeps times.
    pub fn stopped_at(&self) -> Option<Instant> {
        self.stopped_at
    }

    /// The child's id in its group.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// The child's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// How the child ended.
    pub fn outcome(&self) -> &Outcome<T> {
        &self.outcome
    }

    /// How the child ended, taken out of the report.
    pub fn into_outcome(self) -> Outcome<T> {
        self.outcome
    }
}

impl<T: Clone> Clone for ChildReport<T> {
    fn clone(&self) -> Self {
        ChildReport {
            id: self.id,
            name: self.name.clone(),
            outcome: self.outcome.clone(),
            started_at: self.started_at,
            stopped_at: self.stopped_at,
        }
    }
}

/// The end of a group: every child's outcome in spawn order (R4), and the group's error if it
/// failed or was cancelled.
///
/// ```
/// use actix_taskgroup::{Outcome, Policy, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::builder().policy(Policy::CollectAll).build();
/// group.spawn(async { Ok::<_, anyhow::Error>(1) }).unwrap();
/// group.spawn(async { Err::<i32, _>(anyhow::anyhow!("bad input")) }).unwrap();
/// group.spawn(async { Ok::<_, anyhow::Error>(3) }).unwrap();
///
/// let report = group.join_report().await;
/// let completed: Vec<i32> = report.values().copied().collect();
/// assert_eq!(completed, [1, 3]);
/// assert_eq!(report.error().unwrap().failures().count(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct GroupReport<T> {
    children: Vec<ChildReport<T>>,
    error: Option<GroupError>,
}

impl<T> GroupReport<T> {
    pub(crate) fn new(children: Vec<ChildReport<T>>, error: Option<GroupError>) -> Self {
        GroupReport { children, error }
    }

    /// Every child, in spawn order.
    pub fn children(&self) -> &[ChildReport<T>] {
        &self.children
    }

    /// Every child, in spawn order, taken out of the report.
    pub fn into_children(self) -> Vec<ChildReport<T>> {
        self.children
    }

    /// The group's error, if it failed or was cancelled.
    pub fn error(&self) -> Option<&GroupError> {
        self.error.as_ref()
    }

    /// Whether the group ended without an error.
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }

    /// The values of the children that completed, in spawn order (partial results included).
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.children
            .iter()
            .filter_map(|child| child.outcome.value())
    }

    /// The values of every child in spawn order if the group succeeded, its error otherwise.
    /// This is what [`TaskGroup::join`](crate::TaskGroup::join) returns.
    pub fn into_result(self) -> Result<Vec<T>, GroupError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self
                .children
                .into_iter()
                .filter_map(|child| child.outcome.into_value())
                .collect()),
        }
    }
}

impl<T: Clone> Clone for GroupReport<T> {
    fn clone(&self) -> Self {
        GroupReport {
            children: self.children.clone(),
            error: self.error.clone(),
        }
    }
}

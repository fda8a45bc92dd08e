//! The end of a group: every child's outcome, for callers who want all of them (R9).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::child::{ChildId, ChildKind};
use crate::error::{FailureKind, GroupError};
use crate::outcome::Outcome;

mod children;

use children::Children;

/// One child's entry in a report: who it was, how it ended, when, after how many attempts.
///
/// A [`GroupReport`] lists them in spawn order; [`TaskGroup::outcomes`](crate::TaskGroup::outcomes)
/// yields them in completion order. A nested group's entry keeps the inner group's own
/// report ([`nested`](ChildReport::nested)): a report is a tree.
#[derive(Debug)]
pub struct ChildReport<T> {
    pub(crate) id: ChildId,
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) kind: ChildKind,
    pub(crate) outcome: Outcome<T>,
    pub(crate) started_at: Option<Instant>,
    pub(crate) stopped_at: Option<Instant>,
    pub(crate) attempts: u32,
    pub(crate) best_effort: bool,
    pub(crate) service: bool,
    /// What only some children have, shared: a plain child's entry stays small and cheap
    /// to clone (each asker of a supervisor gets its own copy of the report).
    pub(crate) history: Option<Arc<History>>,
}

/// A child's past failures and a nested group's own report.
#[derive(Debug)]
pub(crate) struct History {
    pub(crate) recent_failures: Vec<(FailureKind, Arc<anyhow::Error>)>,
    pub(crate) nested: Option<Arc<GroupReport<()>>>,
    /// The nested group's last snapshot, for its parent's snapshot once the parent has
    /// finished too (R16).
    pub(crate) nested_view: Option<Box<crate::snapshot::Snapshot>>,
}

impl<T> ChildReport<T> {
    pub(crate) fn new(id: ChildId, name: Option<Cow<'static, str>>, outcome: Outcome<T>) -> Self {
        ChildReport {
            id,
            name,
            kind: ChildKind::Future,
            outcome,
            started_at: None,
            stopped_at: None,
            attempts: 1,
            best_effort: false,
            service: false,
            history: None,
        }
    }

    /// The child's id in its group.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// The child's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What the child was: a future, an actor or a nested group.
    pub fn kind(&self) -> ChildKind {
        self.kind
    }

    /// How the child ended (its last incarnation, if it was restarted).
    pub fn outcome(&self) -> &Outcome<T> {
        &self.outcome
    }

    /// How the child ended, taken out of the report.
    pub fn into_outcome(self) -> Outcome<T> {
        self.outcome
    }

    /// How many times the child was started: 1 for a child that ran once, more after
    /// restarts (R12), 0 for a child that never left its group's queue (R14).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the child was best-effort: its failure triggered nothing (§3).
    pub fn is_best_effort(&self) -> bool {
        self.best_effort
    }

    /// Whether the child was a service, stopped once the group's main children were done.
    pub fn is_service(&self) -> bool {
        self.service
    }

    /// The failures of the child's last attempts, oldest first (at most a few are kept: a
    /// permanent child may restart a million times). The last one is also its outcome when
    /// its last attempt failed.
    pub fn recent_failures(&self) -> impl ExactSizeIterator<Item = (FailureKind, &anyhow::Error)> {
        let failures = self.history.as_ref().map(|h| h.recent_failures.as_slice());
        failures
            .unwrap_or_default()
            .iter()
            .map(|(kind, cause)| (*kind, cause.as_ref()))
    }

    /// A nested group's own report (R8): its children, their outcomes and times. Its values
    /// were mapped into this child's value; the inner report keeps their outcomes only.
    pub fn nested(&self) -> Option<&GroupReport<()>> {
        self.history.as_ref()?.nested.as_deref()
    }

    /// When the child (its last incarnation) started, if its group keeps times (a supervisor
    /// does; a [`TaskGroup`](crate::TaskGroup) does when built with
    /// [`keep_times`](crate::TaskGroupBuilder::keep_times)). Times have the resolution of
    /// one turn of the arbiter's event loop.
    pub fn started_at(&self) -> Option<Instant> {
        self.started_at
    }

    /// When the child was seen to stop, if its group keeps times.
    pub fn stopped_at(&self) -> Option<Instant> {
        self.stopped_at
    }

    /// How long the child (its last incarnation) ran, if its group keeps times.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.stopped_at?.saturating_duration_since(self.started_at?))
    }

    /// The entry without its value, for the value-free tree of a nested group.
    pub(crate) fn summary(&self) -> ChildReport<()> {
        ChildReport {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
            outcome: self.outcome.as_unit(),
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            attempts: self.attempts,
            best_effort: self.best_effort,
            service: self.service,
            history: self.history.clone(),
        }
    }
}

impl<T: Clone> Clone for ChildReport<T> {
    fn clone(&self) -> Self {
        self.clone_with(T::clone)
    }
}

impl<T> ChildReport<T> {
    /// A copy, with `clone_value` copying the value.
    pub(crate) fn clone_with(&self, clone_value: fn(&T) -> T) -> Self {
        ChildReport {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
            outcome: self.outcome.clone_with(clone_value),
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            attempts: self.attempts,
            best_effort: self.best_effort,
            service: self.service,
            history: self.history.clone(),
        }
    }
}

/// The end of a group: every child's outcome in spawn order (R4), the values that
/// completed, and the group's error if it failed, timed out or was cancelled. A failed
/// group's report is as complete as a successful one's (R9).
///
/// ```
/// use actix_taskgroup::{Policy, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::builder().policy(Policy::CollectAll).build();
/// group.spawn_named("one", async { Ok::<_, anyhow::Error>(1) }).unwrap();
/// group.spawn_named("two", async { Err::<i32, _>(anyhow::anyhow!("bad input")) }).unwrap();
/// group.spawn_named("three", async { Ok::<_, anyhow::Error>(3) }).unwrap();
///
/// let report = group.join_report().await;
/// assert!(!report.is_success());
/// // Who succeeded with what, who failed with what:
/// let succeeded: Vec<(&str, i32)> = report
///     .successes()
///     .map(|(child, value)| (child.name().unwrap(), *value))
///     .collect();
/// assert_eq!(succeeded, [("one", 1), ("three", 3)]);
/// let failed: Vec<&str> = report.failures().map(|child| child.name().unwrap()).collect();
/// assert_eq!(failed, ["two"]);
/// assert!(report.child_named("two").unwrap().outcome().is_failure());
/// # });
/// ```
#[derive(Debug)]
pub struct GroupReport<T> {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) children: Children<T>,
    pub(crate) error: Option<GroupError>,
    pub(crate) winner: Option<ChildId>,
    pub(crate) started_at: Option<Instant>,
    pub(crate) finished_at: Option<Instant>,
}

impl<T> GroupReport<T> {
    pub(crate) fn new(children: Vec<ChildReport<T>>, error: Option<GroupError>) -> Self {
        GroupReport {
            name: None,
            children: Children::owned(children),
            error,
            winner: None,
            started_at: None,
            finished_at: None,
        }
    }

    /// The group's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Every child, in spawn order.
    pub fn children(&self) -> &[ChildReport<T>] {
        &self.children
    }

    /// Every child, in spawn order, taken out of the report (copied out of it if the
    /// supervisor that made it still holds it).
    pub fn into_children(self) -> Vec<ChildReport<T>> {
        self.children.into_vec()
    }

    /// Makes clones of the report share its entries from now on (a supervisor's report,
    /// which each asker gets a copy of).
    pub(crate) fn share_children(&mut self, clone_value: fn(&T) -> T) {
        self.children.share(clone_value);
    }

    /// The child with this id.
    pub fn child(&self, id: ChildId) -> Option<&ChildReport<T>> {
        self.children.get(id.index())
    }

    /// The first child with this name (names need not be unique).
    pub fn child_named(&self, name: &str) -> Option<&ChildReport<T>> {
        self.children
            .iter()
            .find(|child| child.name() == Some(name))
    }

    /// The children that completed, with their values, in spawn order.
    pub fn successes(&self) -> impl Iterator<Item = (&ChildReport<T>, &T)> {
        self.children
            .iter()
            .filter_map(|child| Some((child, child.outcome.value()?)))
    }

    /// The children whose outcome is a failure (an error, a panic, a timeout), in spawn
    /// order, best-effort children included.
    pub fn failures(&self) -> impl Iterator<Item = &ChildReport<T>> {
        self.children
            .iter()
            .filter(|child| child.outcome.is_failure())
    }

    /// The group's error, if it failed, timed out or was cancelled.
    pub fn error(&self) -> Option<&GroupError> {
        self.error.as_ref()
    }

    /// Whether the group ended without an error.
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }

    /// The winner of a race ([`Policy::FirstSuccess`](crate::Policy::FirstSuccess)).
    pub fn winner(&self) -> Option<&ChildReport<T>> {
        self.child(self.winner?)
    }

    /// When the group started and finished, if it keeps times.
    pub fn started_at(&self) -> Option<Instant> {
        self.started_at
    }

    /// When the group finished, if it keeps times.
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at
    }

    /// The values of every child that completed, in spawn order: partial results of a failed
    /// group included, best-effort children's too.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.children
            .iter()
            .filter_map(|child| child.outcome.value())
    }

    /// The values of the significant children (not best-effort) in spawn order if the group
    /// succeeded, its error otherwise. This is what [`TaskGroup::join`](crate::TaskGroup::join)
    /// returns.
    pub fn into_result(self) -> Result<Vec<T>, GroupError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.children.into_values(|child| !child.best_effort)),
        }
    }

    /// The report without its values: the tree of names, kinds, outcomes and times.
    pub fn summary(&self) -> GroupReport<()> {
        GroupReport {
            name: self.name.clone(),
            children: Children::owned(self.children.iter().map(ChildReport::summary).collect()),
            error: self.error.clone(),
            winner: self.winner,
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }

    fn write_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "group {name:?}")?,
            None => f.write_str("group")?,
        }
        match &self.error {
            None => f.write_str(": completed")?,
            Some(error) => write!(f, ": {}", error.kind().as_str())?,
        }
        for child in self.children.iter() {
            write!(f, "\n{:indent$}{} ", "", child.id, indent = 2 * (depth + 1))?;
            if let Some(name) = &child.name {
                write!(f, "{name:?} ")?;
            }
            write!(f, "{} {}", child.kind, child.outcome.kind())?;
            if child.attempts != 1 {
                write!(f, ", {} attempts", child.attempts)?;
            }
            if let Some(duration) = child.duration() {
                write!(f, ", {duration:.1?}")?;
            }
            if let Some(cause) = child.outcome.cause() {
                if child.nested().is_none() {
                    f.write_str(": ")?;
                    crate::error::write_cause(f, cause.as_ref(), depth)?;
                }
            } else if let Outcome::Panicked(message) = &child.outcome {
                write!(f, ": {message}")?;
            }
            if let Some(nested) = child.nested() {
                write!(f, "\n{:indent$}", "", indent = 2 * (depth + 2))?;
                nested.write_tree(f, depth + 2)?;
            }
        }
        Ok(())
    }
}

/// A readable tree: the group's end, then each child with its kind, outcome, attempts and
/// time, nested groups indented under their entry.
impl<T> fmt::Display for GroupReport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

impl<T: Clone> Clone for GroupReport<T> {
    fn clone(&self) -> Self {
        GroupReport {
            name: self.name.clone(),
            children: self.children.clone(),
            error: self.error.clone(),
            winner: self.winner,
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }
}

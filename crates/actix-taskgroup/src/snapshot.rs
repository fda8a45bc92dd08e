//! A live picture of a group and its nested groups (R16): what runs, what waits, what is
//! restarting, what has stopped and how; OTP's `which_children`, as a tree.

use std::fmt;
use std::time::Duration;

use crate::child::{ChildId, ChildKind};
use crate::outcome::OutcomeKind;
use crate::policy::{Policy, Strategy};

/// A group's counts of its children's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Counters {
    /// Children accepted.
    pub spawned: u64,
    /// Children that ended completed.
    pub completed: u64,
    /// Children that ended failed (an error, a panic, a timeout), best-effort ones included.
    pub failed: u64,
    /// Restarts made (R12).
    pub restarted: u64,
    /// Children that ended cancelled.
    pub cancelled: u64,
}

/// Where a child is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ChildState {
    /// Waiting for a start slot (R14); it has never run.
    Queued,
    /// Running, not ready yet (R15).
    Starting,
    /// Running and ready.
    Running,
    /// Asked to stop, not stopped yet.
    Stopping,
    /// Waiting to be started again (R12), for `in_` more (`None`: until its strategy's other
    /// children have stopped).
    Restarting {
        /// How long until the restart, when it is timed.
        in_: Option<Duration>,
    },
    /// Ended, with this outcome.
    Stopped(OutcomeKind),
}

impl fmt::Display for ChildState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildState::Queued => f.write_str("queued"),
            ChildState::Starting => f.write_str("starting"),
            ChildState::Running => f.write_str("running"),
            ChildState::Stopping => f.write_str("stopping"),
            ChildState::Restarting { in_: Some(delay) } => write!(f, "restarting in {delay:.1?}"),
            ChildState::Restarting { in_: None } => f.write_str("restarting"),
            ChildState::Stopped(outcome) => write!(f, "stopped ({outcome})"),
        }
    }
}

/// One child in a [`Snapshot`].
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ChildSnapshot {
    /// The child's id.
    pub id: ChildId,
    /// The child's name, if it has one.
    pub name: Option<String>,
    /// A future, an actor or a nested group.
    pub kind: ChildKind,
    /// Where it is in its life.
    pub state: ChildState,
    /// How many times it has been started (0 while queued).
    pub attempts: u32,
    /// How long its current (or last) incarnation has run, where the group keeps times.
    pub age: Option<Duration>,
    /// A nested group's own snapshot.
    pub nested: Option<Box<Snapshot>>,
}

/// Where a group is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum GroupState {
    /// Taking children.
    Running,
    /// Stopping its children.
    Stopping,
    /// Every child has stopped.
    Finished,
}

/// A live picture of a group (R16): its settings, its counters and every child, nested
/// groups included, taken in O(children) without blocking the arbiter. `Display` prints an
/// indented tree.
///
/// ```
/// use actix_taskgroup::{ChildState, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::<()>::builder().name("crawl").build();
/// group.spawn_named("slow", async {
///     actix_rt::time::sleep(std::time::Duration::from_secs(60)).await;
///     Ok::<_, anyhow::Error>(())
/// }).unwrap();
/// actix_rt::task::yield_now().await;
/// let snapshot = group.snapshot();
/// assert_eq!(snapshot.children[0].state, ChildState::Running);
/// assert!(snapshot.to_string().contains("#0 \"slow\" future running"));
/// # });
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Snapshot {
    /// The group's name, if it has one.
    pub name: Option<String>,
    /// Where the group is in its life.
    pub state: GroupState,
    /// Its policy.
    pub policy: Policy,
    /// Its restart strategy.
    pub strategy: Strategy,
    /// Its counters.
    pub counters: Counters,
    /// How long until its deadline, if it has one and it has not passed.
    pub deadline_in: Option<Duration>,
    /// How long it has run, where it keeps times.
    pub age: Option<Duration>,
    /// Every child, in spawn order.
    pub children: Vec<ChildSnapshot>,
}

impl Snapshot {
    /// The first child with this name.
    pub fn child_named(&self, name: &str) -> Option<&ChildSnapshot> {
        self.children
            .iter()
            .find(|child| child.name.as_deref() == Some(name))
    }

    fn write_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "group {name:?}")?,
            None => f.write_str("group")?,
        }
        let state = match self.state {
            GroupState::Running => "running",
            GroupState::Stopping => "stopping",
            GroupState::Finished => "finished",
        };
        let c = &self.counters;
        write!(
            f,
            " {state} ({:?}, {:?}; {} spawned, {} completed, {} failed, {} restarted, {} cancelled",
            self.policy, self.strategy, c.spawned, c.completed, c.failed, c.restarted, c.cancelled
        )?;
        if let Some(left) = self.deadline_in {
            write!(f, "; deadline in {left:.1?}")?;
        }
        f.write_str(")")?;
        for child in &self.children {
            write!(f, "\n{:indent$}{}", "", child.id, indent = 2 * (depth + 1))?;
            if let Some(name) = &child.name {
                write!(f, " {name:?}")?;
            }
            write!(f, " {} {}", child.kind, child.state)?;
            if child.attempts > 1 {
                write!(f, ", attempt {}", child.attempts)?;
            }
            if let Some(age) = child.age {
                write!(f, ", {age:.1?}")?;
            }
            if let Some(nested) = &child.nested {
                write!(f, "\n{:indent$}", "", indent = 2 * (depth + 2))?;
                nested.write_tree(f, depth + 2)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

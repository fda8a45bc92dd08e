//! Who a child is: its id in its group and its kind.

use std::fmt;

/// The identity of a child within its group: its position in spawn order, starting at 0. A
/// restarted child keeps its id (and its name); only its incarnation changes.
///
/// ```
/// use actix_taskgroup::TaskGroup;
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::new();
/// let first = group.spawn(async { Ok::<_, anyhow::Error>(1) }).unwrap();
/// let second = group.spawn(async { Ok::<_, anyhow::Error>(2) }).unwrap();
/// assert_eq!((first.index(), second.index()), (0, 1));
/// assert_eq!(second.to_string(), "#1");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ChildId(usize);

impl ChildId {
    pub(crate) fn new(index: usize) -> Self {
        ChildId(index)
    }

    /// The child's position in spawn order.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a child is: a future, an actor, or a nested group.
///
/// ```
/// use actix_taskgroup::{ChildKind, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::new();
/// group.spawn(async { Ok::<_, anyhow::Error>(()) }).unwrap();
/// let report = group.join_report().await;
/// assert_eq!(report.children()[0].kind(), ChildKind::Future);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum ChildKind {
    /// A future polled by the group.
    #[default]
    Future,
    /// An actor whose context the group drives.
    Actor,
    /// A nested group (R8).
    Group,
}

impl fmt::Display for ChildKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChildKind::Future => "future",
            ChildKind::Actor => "actor",
            ChildKind::Group => "group",
        })
    }
}

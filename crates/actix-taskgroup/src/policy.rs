//! What a group does when its children fail, restart or end: the words every layer speaks.

/// How a group reacts to a child's failure, and when it has its answer.
///
/// The policy is chosen once, when the group is built:
///
/// ```
/// use actix_taskgroup::{Policy, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::<()>::builder().policy(Policy::CollectAll).build();
/// assert_eq!(group.policy(), Policy::CollectAll);
/// # });
/// ```
///
/// A failure absorbed by a restart is not a failure of the group (R12): the policy sees a
/// child's failure only once that child will not be started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Policy {
    /// The first failure (an error, a panic or a timeout) cancels every sibling (R2). The
    /// group's error lists that failure and any that happened while the siblings stopped.
    #[default]
    FailFast,
    /// No sibling is cancelled on failure: every child runs to its end and the group's error
    /// lists every failure, in the order they happened.
    CollectAll,
    /// A race: the first child to complete wins and every other is cancelled; the group
    /// succeeds with the winner's value ([`TaskGroup::race`](crate::TaskGroup::race)). A
    /// failure cancels nothing; if every child fails, the error lists every failure.
    FirstSuccess,
}

/// Which children a restart takes with it (OTP's restart strategies, R12).
///
/// ```
/// use actix_taskgroup::{GroupSupervisor, Strategy};
///
/// let builder = GroupSupervisor::<()>::builder().strategy(Strategy::RestForOne);
/// # drop(builder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Strategy {
    /// Only the child that ended is started again.
    #[default]
    OneForOne,
    /// Every other child is stopped (newest first, gracefully, then by force after the grace
    /// period), then all are started again in start order.
    OneForAll,
    /// The child that ended and every child started after it are stopped (newest first),
    /// then started again in start order.
    RestForOne,
}

/// Whether a child is started again when it ends (OTP's restart types, R12).
///
/// Restarts are opt-in: a child is [`Temporary`](Restart::Temporary) unless it says
/// otherwise, so a group that nobody configured behaves as a task group, ending when its
/// children are done. (OTP defaults to `permanent`, because its supervisors serve forever.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Restart {
    /// Never started again: its first outcome is its last.
    #[default]
    Temporary,
    /// Started again only after a failure: an error, a panic or a per-child timeout.
    Transient,
    /// Always started again, after a normal exit too; a group of permanent children ends only
    /// when it is stopped.
    Permanent,
}

/// When a group ends by itself (OTP's `auto_shutdown`).
///
/// ```
/// use actix_taskgroup::{EndCondition, GroupSupervisor};
///
/// // A batch filled by message: it waits for `Close` before it can end.
/// let builder = GroupSupervisor::<()>::builder().end(EndCondition::Never);
/// # drop(builder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum EndCondition {
    /// The group ends once someone waits for it and no child is left (R7).
    #[default]
    WhenDone,
    /// The group serves until it is stopped: waiting for it never ends it. A
    /// [`Close`](crate::Close) message (or [`GroupHandle::close`](crate::GroupHandle::close))
    /// switches it to `WhenDone`.
    Never,
    /// Children marked as services run beside the others; once someone waits and every child
    /// that is not a service has ended, the services are stopped (gracefully, their outcome
    /// `Cancelled`, not a failure) and the group ends.
    WhenMainDone,
}

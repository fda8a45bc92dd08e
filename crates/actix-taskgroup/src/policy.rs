//! What a group does when one of its children fails.

/// How a group reacts to a child's failure.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// The first failure (an error or a panic) cancels every sibling (R2). The group's error
    /// lists that failure and any that happened while the siblings were being cancelled.
    #[default]
    FailFast,
    /// No sibling is cancelled on failure: every child runs to its end and the group's error
    /// lists every failure, in the order they happened.
    CollectAll,
}

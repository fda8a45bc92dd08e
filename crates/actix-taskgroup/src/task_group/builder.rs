//! Options for a `TaskGroup`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use std::time::Duration;

use crate::scope::{Scope, ScopeConfig};
use crate::{Policy, TaskGroup};

/// Builds a [`TaskGroup`] with a name or a [`Policy`].
///
/// ```
/// use actix_taskgroup::{Policy, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::builder().name("shards").policy(Policy::CollectAll).build();
/// group.spawn(async { Ok::<_, anyhow::Error>("done") }).unwrap();
/// assert_eq!(group.join().await.unwrap(), ["done"]);
/// # });
/// ```
pub struct TaskGroupBuilder<T> {
    name: Option<Cow<'static, str>>,
    policy: Policy,
    values: PhantomData<fn() -> T>,
}

impl<T: 'static> TaskGroupBuilder<T> {
    pub(crate) fn new() -> Self {
        TaskGroupBuilder {
            name: None,
            policy: Policy::default(),
            values: PhantomData,
        }
    }

    /// Names the group; the name appears in its error.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Chooses what the group does when a child fails (default: [`Policy::FailFast`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Builds the group. Nothing runs until the first child is spawned.
    pub fn build(self) -> TaskGroup<T> {
        TaskGroup::from_scope(Scope::new(ScopeConfig {
            name: self.name,
            policy: self.policy,
            // A `TaskGroup`'s children are futures, dropped at once when asked to stop.
            grace: Duration::ZERO,
            timed: false,
        }))
    }
}

impl<T> fmt::Debug for TaskGroupBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupBuilder")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish()
    }
}

//! Options for a `TaskGroup`.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::engine::config::ScopeConfig;
use crate::engine::scope::Scope;
use crate::group_options::group_options;
use crate::task_group::TaskGroup;

/// Builds a [`TaskGroup`]: its name, policy, restarts, deadline, limit, readiness.
///
/// ```
/// use actix_taskgroup::{Policy, TaskGroup};
/// use std::time::Duration;
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::builder()
///     .name("shards")
///     .policy(Policy::CollectAll)
///     .limit(4)
///     .deadline(Duration::from_secs(30))
///     .build();
/// group.spawn(async { Ok::<_, anyhow::Error>("done") }).unwrap();
/// assert_eq!(group.join().await.unwrap(), ["done"]);
/// # });
/// ```
pub struct TaskGroupBuilder<T> {
    config: Box<ScopeConfig>,
    values: PhantomData<fn() -> T>,
}

impl<T: 'static> TaskGroupBuilder<T> {
    pub(crate) fn new() -> Self {
        TaskGroupBuilder {
            // A future child is dropped at once when asked to stop; the grace period is for
            // children that stop on their own (actors, futures that watch their stop signal).
            config: Box::new(ScopeConfig::new(Duration::from_secs(5), false)),
            values: PhantomData,
        }
    }

    group_options!();

    /// Keeps each child's start and stop times, for the report and the snapshot's ages. A
    /// plain `TaskGroup` does without: it costs a clock read per turn and 16 bytes a child.
    pub fn keep_times(mut self) -> Self {
        self.config.timed = true;
        self
    }

    /// Builds the group; its deadline, if it has one, runs from now. Nothing runs until the
    /// first child is spawned.
    pub fn build(self) -> TaskGroup<T> {
        let scope = Scope::new(*self.config);
        scope.begin();
        scope.open_joins();
        TaskGroup::from_scope(scope)
    }
}

impl<T> fmt::Debug for TaskGroupBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupBuilder")
            .field("config", &self.config)
            .finish()
    }
}

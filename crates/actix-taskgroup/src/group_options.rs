//! The settings both kinds of group share, written once for both builders.

/// Adds the shared group settings to a builder that keeps a `ScopeConfig` in `self.config`.
macro_rules! group_options {
    () => {
        /// Names the group; the name appears in its error, its report, its snapshots and
        /// its events.
        pub fn name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
            self.config.name = Some(name.into());
            self
        }

        /// Chooses what the group does when a child fails (default:
        /// [`Policy::FailFast`](crate::Policy::FailFast)).
        pub fn policy(mut self, policy: crate::policy::Policy) -> Self {
            self.config.policy = policy;
            self
        }

        /// Which children a restart takes with it (R12; default
        /// [`Strategy::OneForOne`](crate::Strategy::OneForOne)).
        pub fn strategy(mut self, strategy: crate::policy::Strategy) -> Self {
            self.config.strategy = strategy;
            self
        }

        /// More than `max_restarts` restarts within `window` fails the group with a
        /// restart-limit error (R12; default: 3 in 5 s, Elixir's). A restart counts while
        /// its age is at most `window`.
        pub fn intensity(mut self, max_restarts: u32, window: std::time::Duration) -> Self {
            self.config.intensity = crate::engine::restart::Intensity {
                max_restarts,
                window,
            };
            self
        }

        /// Waits before each restart (default: restarts at once).
        pub fn backoff(mut self, backoff: crate::engine::restart::Backoff) -> Self {
            self.config.backoff = Some(backoff);
            self
        }

        /// How long a child asked to stop may take before it is dropped. One deadline is
        /// shared by every child of the group, never one per child.
        pub fn grace(mut self, grace: std::time::Duration) -> Self {
            self.config.grace = grace;
            self
        }

        /// When this long has passed since the group was built (a `TaskGroup`) or started (a
        /// supervisor), whatever still runs is cancelled and the group's error is of kind
        /// timed-out; the report keeps the values that completed (R13). Restarts and queued
        /// children are bounded by it too.
        pub fn deadline(mut self, after: std::time::Duration) -> Self {
            self.config.deadline = Some(crate::engine::config::Deadline::After(after));
            self
        }

        /// The group's deadline as an instant (R13).
        pub fn deadline_at(mut self, at: tokio::time::Instant) -> Self {
            self.config.deadline = Some(crate::engine::config::Deadline::At(at));
            self
        }

        /// At most `limit` children run at once (R14); the rest wait in FIFO order, their
        /// factories not called until they start. A limit of 0 is taken as 1.
        pub fn limit(mut self, limit: usize) -> Self {
            self.config.limit = std::num::NonZeroUsize::new(limit.max(1));
            self
        }

        /// Children start one at a time, in spawn order, each once every child before it is
        /// ready (OTP's start order, R15).
        pub fn start_sequentially(mut self) -> Self {
            self.config.sequential = true;
            self
        }

        /// A started child not ready within `timeout` fails the group with an error of kind
        /// start-timed-out naming it (R15).
        pub fn ready_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.config.ready_timeout = Some(timeout);
            self
        }

        /// Runs the group's children made by `Send` factories
        /// ([`Child::send_future`](crate::Child::send_future),
        /// [`Child::send_actor`](crate::Child::send_actor)) on the arbiters of `pool`, placed
        /// as `placement` says; the group itself stays on its own arbiter, and every rule
        /// holds across the pool.
        pub fn spread_over(
            mut self,
            pool: &crate::pool::ArbiterPool,
            placement: crate::pool::Placement,
        ) -> Self {
            self.config.spread = Some(crate::pool::Spread {
                pool: pool.clone(),
                placement,
            });
            self
        }

        /// When the group ends by itself (default:
        /// [`EndCondition::WhenDone`](crate::EndCondition::WhenDone)).
        pub fn end(mut self, end: crate::policy::EndCondition) -> Self {
            self.config.end = end;
            self
        }
    };
}

pub(crate) use group_options;

//! A group's settings, fixed when it is built.

use std::num::NonZeroUsize;
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::restart::{Backoff, Intensity};
use crate::engine::scope::Name;
use crate::policy::{EndCondition, Policy, Strategy};

/// When a group's deadline passes (R13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// This long after the group is built (a `TaskGroup`) or started (a supervisor).
    After(Duration),
    At(Instant),
}

impl Deadline {
    pub(crate) fn resolve(self, start: Instant) -> Instant {
        match self {
            Deadline::After(duration) => start.checked_add(duration).unwrap_or(far_future()),
            Deadline::At(at) => at,
        }
    }
}

/// An instant no timer will reach (about thirty years ahead, as tokio does).
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

#[derive(Debug, Clone)]
pub(crate) struct ScopeConfig {
    pub(crate) name: Option<Name>,
    pub(crate) policy: Policy,
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) backoff: Option<Backoff>,
    /// How long a child asked to stop may take before it is dropped.
    pub(crate) grace: Duration,
    pub(crate) deadline: Option<Deadline>,
    /// At most this many children run at once (R14).
    pub(crate) limit: Option<NonZeroUsize>,
    /// Children start one at a time: each once the one before it is ready (OTP's order).
    pub(crate) sequential: bool,
    /// How long a started child may take to be ready before the group fails (R15).
    pub(crate) ready_timeout: Option<Duration>,
    pub(crate) end: EndCondition,
    /// Whether to note when each child started and stopped (the supervisor's reports and
    /// snapshots carry the times; a plain `TaskGroup` does without).
    pub(crate) timed: bool,
    /// The pool the group spreads its `Send` children over, if any (issue 20).
    pub(crate) spread: Option<crate::pool::Spread>,
    /// The group's report is shared by everyone who waits (a supervisor's askers and
    /// handles); a `TaskGroup`'s result is taken by its owner alone.
    pub(crate) shared_result: bool,
}

impl ScopeConfig {
    pub(crate) fn new(grace: Duration, timed: bool) -> Self {
        ScopeConfig {
            name: None,
            policy: Policy::default(),
            strategy: Strategy::default(),
            intensity: Intensity::default(),
            backoff: None,
            grace,
            deadline: None,
            limit: None,
            sequential: false,
            ready_timeout: None,
            end: EndCondition::default(),
            timed,
            spread: None,
            shared_result: false,
        }
    }

    /// Whether starting a child must go through the queue (R14, sequential start).
    pub(crate) fn gated(&self) -> bool {
        self.limit.is_some() || self.sequential
    }
}

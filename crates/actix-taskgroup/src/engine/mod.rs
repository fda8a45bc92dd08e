//! The engine: one group's state and the driver that runs it. Both fronts, `TaskGroup` and
//! `GroupSupervisor`, are thin layers over it; it knows no actor API, only the
//! [`ChildBody`](child::ChildBody) trait that futures, actor contexts and nested groups
//! implement.

pub(crate) mod admission;
pub(crate) mod child;
pub(crate) mod config;
pub(crate) mod driver;
pub(crate) mod ending;
pub(crate) mod events;
pub(crate) mod panic;
pub(crate) mod queue;
pub(crate) mod readiness;
pub(crate) mod ready_queue;
pub(crate) mod reports;
pub(crate) mod restart;
pub(crate) mod restarting;
pub(crate) mod results;
pub(crate) mod scope;
pub(crate) mod slots;
pub(crate) mod snapshot;
pub(crate) mod spec;
pub(crate) mod stop;
pub(crate) mod timers;
pub(crate) mod waiters;

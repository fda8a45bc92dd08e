//! Structured concurrency for actix: a group owns the futures spawned in it, waits for all of
//! them, cancels the rest when one fails, and reports every failure together.
//!
//! This is Python 3.11's `asyncio.TaskGroup` (a descendant of Trio's nurseries) the Rust way,
//! on actix's single-threaded arbiters: children may be `!Send`, and nothing blocks the
//! arbiter thread.
//!
//! ```
//! use actix_taskgroup::{FailureKind, TaskGroup};
//! use std::time::Duration;
//!
//! #[actix_rt::main]
//! async fn main() {
//!     let group = TaskGroup::<u32>::new();
//!     group.spawn_named("slow", async {
//!         actix_rt::time::sleep(Duration::from_secs(3600)).await;
//!         Ok::<_, anyhow::Error>(1)
//!     }).unwrap();
//!     group.spawn_named("broken", async { anyhow::bail!("disk full") }).unwrap();
//!
//!     // "broken" fails at once, so "slow" is cancelled: join returns without waiting an hour.
//!     let error = group.join().await.unwrap_err();
//!     let failure = error.first_failure().unwrap();
//!     assert_eq!((failure.name(), failure.kind()), (Some("broken"), FailureKind::Failed));
//! }
//! ```
//!
//! # Supervising actors
//!
//! A [`GroupSupervisor`] is an actix actor that owns a group whose children can be actors as
//! well as futures, and nested groups: it drives each child actor's context itself, so it sees
//! every stop and catches every panic; it stops siblings gracefully, then by force after a
//! grace period; and it answers [`Join`] once every child has really stopped, with one
//! combined result. An actor child reports through the [`Reporter`] its factory is given.
//!
//! ```
//! use actix::prelude::*;
//! use actix_taskgroup::{GroupSupervisor, Join, Reporter};
//!
//! struct Loader(Reporter<u32>);
//!
//! impl Actor for Loader {
//!     type Context = Context<Self>;
//!     fn started(&mut self, ctx: &mut Context<Self>) {
//!         self.0.complete_and_stop(ctx, 42);
//!     }
//! }
//!
//! #[actix_rt::main]
//! async fn main() {
//!     let group = GroupSupervisor::<u32>::builder()
//!         .child_actor("loader", Loader)
//!         .child_future("count", || async { Ok::<_, anyhow::Error>(7) })
//!         .start_guarded(); // dropping the guard cancels the group
//!     let report = group.address().send(Join::new()).await.unwrap();
//!     assert_eq!(report.into_result().unwrap(), [42, 7]);
//! }
//! ```
//!
//! # The rules
//!
//! Every child ends in exactly one [`Outcome`]. The group keeps these promises, each checked
//! by the tests named after it (`docs/guide.md` explains each with an example):
//!
//! * **R1 Join waits for all.** The result is ready only after every child has stopped:
//!   futures dropped or finished, actors past `stopped()` and dropped.
//! * **R2 Fail-fast by default.** The first failure stops every sibling: futures are dropped,
//!   actors asked to stop and forced after the grace period; newest first, `Drop` included.
//! * **R3 Every failure is kept.** One [`GroupError`] lists every failure in order of
//!   occurrence, with each child's id, name, kind and cause, printed as a tree in which every
//!   message appears once.
//! * **R4 Results in spawn order.** [`TaskGroup::join`] returns values in spawn order;
//!   [`TaskGroup::outcomes`] streams outcomes in completion order.
//! * **R5 Panics are caught.** A panicking child is [`Outcome::Panicked`]; the panic never
//!   unwinds into the group, the caller or the actix `System`.
//! * **R6 Cancellation belongs to its owner.** Cancelling or dropping the group, its join
//!   future or its owner's [`SupervisorGuard`] stops every child; the result says `Cancelled`.
//! * **R7 Spawn lifecycle.** Children can be spawned while the group runs, by handle or by
//!   message; a stopping or finished group refuses them with a [`SpawnError`] and never
//!   builds them.
//! * **R8 Nesting.** A group is a child of a group: an inner failure is one failure of the
//!   outer group that keeps the inner error tree; cancellation flows down the tree.
//! * **R9 One reply, exactly.** Each asker gets one complete [`GroupReport`], whether the
//!   group succeeded or failed.
//! * **R10 Single-threaded actix first.** Children may be `!Send`; nothing blocks the arbiter;
//!   a child that yields lets its siblings run first.
//! * **R11 No quadratic paths.** One driver task per group polls every child; each child
//!   event costs O(1).
//! * **R12 Restarts.** [`Child`] specs made by factories restart as [`Restart`] says, under a
//!   [`Strategy`], an intensity limit and an optional [`Backoff`].
//! * **R13 Time.** A group deadline keeps partial results; a per-child timeout is a failure
//!   of kind timed-out.
//! * **R14 Limits.** At most N children run; the rest wait in FIFO order, unbuilt.
//! * **R15 Readiness.** A group can wait until its started children are ready, with a start
//!   timeout.
//! * **R16 Observability.** Every lifecycle step is a `tracing` event under the group's span;
//!   a [`Snapshot`] shows the live tree.
//!
//! # Where the guarantee ends
//!
//! A group owns the futures and actors spawned in it, and only those. Work a child hands to
//! `actix_rt::spawn`, `tokio::spawn` or an actor's context runs detached: the group neither
//! waits for it nor cancels it. Spawn such work into the group through a [`GroupHandle`]
//! instead.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod child;
mod child_spec;
mod control;
mod engine;
mod error;
mod future_child;
mod group_options;
mod handle;
mod outcome;
mod policy;
mod pool;
mod report;
mod snapshot;
mod supervisor;
mod task_group;

pub use child::{ChildId, ChildKind};
pub use child_spec::Child;
pub use control::ChildControl;
pub use engine::restart::Backoff;
pub use error::{
    ChildFailure, FailureKind, GroupError, GroupErrorKind, ReadyError, RestartLimitError,
    SpawnError,
};
pub use handle::GroupHandle;
pub use outcome::{Outcome, OutcomeKind};
pub use policy::{EndCondition, Policy, Restart, Strategy};
pub use pool::{ArbiterPool, Placement};
pub use report::{ChildReport, GroupReport};
pub use snapshot::{ChildSnapshot, ChildState, Counters, GroupState, Snapshot};
pub use supervisor::GroupSupervisor;
pub use supervisor::builder::GroupSupervisorBuilder;
pub use supervisor::child_ref::{ChildRef, ChildRefError};
pub use supervisor::guard::SupervisorGuard;
pub use supervisor::messages::join::{GroupDone, Join, NotifyWhenDone};
pub use supervisor::messages::lifecycle::{Cancel, Close, TakeSnapshot, WaitReady};
pub use supervisor::messages::lookup::ChildAddr;
pub use supervisor::messages::spawn::{SpawnActor, SpawnChild, SpawnFuture, SpawnGroup};
pub use supervisor::reporter::Reporter;
pub use task_group::TaskGroup;
pub use task_group::builder::TaskGroupBuilder;
pub use task_group::outcomes::Outcomes;

/// The README's example, compiled and run as a doc test so that it cannot go stale.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The guide's examples (`docs/guide.md`), compiled and run as doc tests.
#[doc = include_str!("../../../docs/guide.md")]
#[cfg(doctest)]
pub struct GuideDoctests;

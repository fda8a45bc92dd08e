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
//!     assert_eq!(report.values().copied().collect::<Vec<_>>(), [42, 7]);
//! }
//! ```
//!
//! # The rules
//!
//! Every child ends in exactly one [`Outcome`]. The group keeps these promises, each checked
//! by the tests named after it:
//!
//! * **R1 Join waits for all.** The group's result is ready only after every child has ended:
//!   completed, failed, or been dropped.
//! * **R2 Fail-fast by default.** The first failure (an error or a panic) cancels every
//!   sibling, by dropping it. [`Policy::CollectAll`] lets every child run to its end instead.
//! * **R3 Every failure is kept.** The error is one [`GroupError`] listing every failure in the
//!   order it happened, including failures while the siblings were being cancelled (a
//!   destructor that panics). A single failure is wrapped too, so callers match one type.
//! * **R4 Results in spawn order.** [`TaskGroup::join`] returns values in spawn order;
//!   [`TaskGroup::outcomes`] streams outcomes in completion order.
//! * **R5 Panics are caught.** A panicking child is [`Outcome::Panicked`] with the panic's
//!   message; the panic never unwinds into the group, the caller or the actix `System`.
//! * **R6 Cancellation belongs to the owner.** [`TaskGroup::cancel`], dropping the group, or
//!   dropping its join future cancels every child at once; the result says `Cancelled`.
//! * **R7 Spawn lifecycle.** A child can spawn siblings through a [`GroupHandle`] while
//!   the group runs. A stopping or finished group refuses new children with a [`SpawnError`]
//!   and drops them unpolled. An empty group joins at once.
//! * **R8 Nesting.** A group's join future is a child like any other: an inner failure reaches
//!   the outer group as one failure that keeps the inner [`GroupError`], printed as a tree.
//! * **R9 One result.** A group's result is taken once, by the join that consumes it.
//! * **R10 Single-threaded actix first.** A group runs on its arbiter; children may be
//!   `!Send`.
//! * **R11 No quadratic paths.** One driver task per group polls every child; each spawn and
//!   each end costs O(1), whatever the group's size.
//!
//! The same rules hold for a supervisor's actor children; `docs/guide.md` explains how an
//! actor child ends, which of its hooks run on a graceful and on a forced stop, and how a
//! supervisor is tied to its owner.
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

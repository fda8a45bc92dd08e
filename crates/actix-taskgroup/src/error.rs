//! The group's combined error (R3) and the error of a refused spawn (R7).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::ChildId;

/// Why a group ended with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupErrorKind {
    /// One or more significant children failed (an error, a panic or a timeout).
    Failed,
    /// The group was cancelled by its owner (R6): `cancel()`, `shutdown()`, or the group (or
    /// its join future) dropped. Failures that happened while stopping are still listed.
    Cancelled,
    /// The group ran past its deadline.
    TimedOut,
}

/// How a single child failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The child returned an error.
    Failed,
    /// The child panicked (R5).
    Panicked,
    /// The child ran past its own time limit.
    TimedOut,
}

/// One child's failure, as kept in a [`GroupError`]: which child, how it failed and why.
#[derive(Debug, Clone)]
pub struct ChildFailure {
    id: ChildId,
    name: Option<Cow<'static, str>>,
    kind: FailureKind,
    cause: Arc<anyhow::Error>,
}

impl ChildFailure {
    pub(crate) fn new(
        id: ChildId,
        name: Option<Cow<'static, str>>,
        kind: FailureKind,
        cause: Arc<anyhow::Error>,
    ) -> Self {
        ChildFailure {
            id,
            name,
            kind,
            cause,
        }
    }

    /// The failed child's id in its group.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// The failed child's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// How the child failed.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// Why the child failed. For a panic this is the panic's message.
    pub fn cause(&self) -> &anyhow::Error {
        &self.cause
    }

    /// The cause, shared.
    pub fn shared_cause(&self) -> &Arc<anyhow::Error> {
        &self.cause
    }

    /// The inner group's error, when the failed child is itself a group (R8).
    pub fn nested(&self) -> Option<&GroupError> {
        self.cause.downcast_ref::<GroupError>()
    }
}

/// Every failure of a group, in the order they happened (R3).
///
/// Even a single failure comes wrapped in a `GroupError`, so callers match one type. It is
/// cheap to clone and `Send + Sync`: causes are shared, never copied. It implements
/// [`std::error::Error`] (its [`source`](std::error::Error::source) is the first failure's
/// cause), so `anyhow` users can use `?` on it, and it prints as a readable tree in which the
/// failures of nested groups are indented under the child that held them (R8).
///
/// ```
/// use actix_taskgroup::{FailureKind, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::<()>::new();
/// group.spawn_named("fetch", async { anyhow::bail!("connection refused") }).unwrap();
///
/// let error = group.join().await.unwrap_err();
/// assert_eq!(error.failures().count(), 1);
/// let failure = error.failure_named("fetch").unwrap();
/// assert_eq!(failure.kind(), FailureKind::Failed);
/// assert_eq!(
///     error.to_string(),
///     "task group failed: 1 child failed\n  - #0 \"fetch\" failed: connection refused"
/// );
/// # });
/// ```
#[derive(Clone)]
pub struct GroupError {
    inner: Arc<ErrorInner>,
}

#[derive(Debug)]
struct ErrorInner {
    group: Option<Cow<'static, str>>,
    kind: GroupErrorKind,
    failures: Vec<ChildFailure>,
}

impl GroupError {
    pub(crate) fn new(
        group: Option<Cow<'static, str>>,
        kind: GroupErrorKind,
        failures: Vec<ChildFailure>,
    ) -> Self {
        GroupError {
            inner: Arc::new(ErrorInner {
                group,
                kind,
                failures,
            }),
        }
    }

    /// Why the group ended with an error.
    pub fn kind(&self) -> GroupErrorKind {
        self.inner.kind
    }

    /// The name of the group, if it was given one.
    pub fn group_name(&self) -> Option<&str> {
        self.inner.group.as_deref()
    }

    /// Whether the group was cancelled by its owner (R6).
    pub fn is_cancelled(&self) -> bool {
        self.inner.kind == GroupErrorKind::Cancelled
    }

    /// Whether the group ran past its deadline.
    pub fn is_timed_out(&self) -> bool {
        self.inner.kind == GroupErrorKind::TimedOut
    }

    /// Every failure, in the order they happened, including failures that happened while the
    /// siblings were being cancelled.
    pub fn failures(&self) -> impl ExactSizeIterator<Item = &ChildFailure> {
        self.inner.failures.iter()
    }

    /// The first failure, the one that (under fail-fast) stopped the group.
    pub fn first_failure(&self) -> Option<&ChildFailure> {
        self.inner.failures.first()
    }

    /// The failure of the child with this id, if it failed.
    pub fn failure_of(&self, id: ChildId) -> Option<&ChildFailure> {
        self.inner.failures.iter().find(|failure| failure.id == id)
    }

    /// The first failure of a child with this name, if one failed.
    pub fn failure_named(&self, name: &str) -> Option<&ChildFailure> {
        self.inner
            .failures
            .iter()
            .find(|failure| failure.name() == Some(name))
    }

    fn write_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        match &self.inner.group {
            Some(name) => write!(f, "group {name:?}")?,
            None => f.write_str("task group")?,
        }
        let failed = self.inner.failures.len();
        let children = if failed == 1 { "child" } else { "children" };
        match self.inner.kind {
            GroupErrorKind::Failed => write!(f, " failed: {failed} {children} failed")?,
            GroupErrorKind::Cancelled => f.write_str(" was cancelled")?,
            GroupErrorKind::TimedOut => f.write_str(" timed out")?,
        }
        if self.inner.kind != GroupErrorKind::Failed && failed > 0 {
            write!(f, "; {failed} {children} failed")?;
        }
        for failure in &self.inner.failures {
            write!(
                f,
                "\n{:indent$}- {}",
                "",
                failure.id,
                indent = 2 * (depth + 1)
            )?;
            if let Some(name) = &failure.name {
                write!(f, " {name:?}")?;
            }
            match failure.kind {
                FailureKind::Failed => f.write_str(" failed: ")?,
                FailureKind::Panicked => f.write_str(" panicked: ")?,
                FailureKind::TimedOut => f.write_str(" timed out: ")?,
            }
            match failure.nested() {
                Some(inner) => {
                    // A nested group's error may come wrapped in context (`.context("…")`):
                    // keep that message in front of the inner tree.
                    let top: &(dyn std::error::Error + 'static) = failure.cause.as_ref().as_ref();
                    if !top.is::<GroupError>() {
                        write!(f, "{}: ", failure.cause)?;
                    }
                    inner.write_tree(f, depth + 1)?;
                }
                None => write!(f, "{:#}", failure.cause)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

impl fmt::Debug for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("group", &self.inner.group)
            .field("kind", &self.inner.kind)
            .field("failures", &self.inner.failures)
            .finish()
    }
}

impl std::error::Error for GroupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let cause: &(dyn std::error::Error + Send + Sync + 'static) =
            self.first_failure()?.cause.as_ref().as_ref();
        Some(cause)
    }
}

/// Why a group refused a new child (R7). The refused future is dropped without being polled.
///
/// ```
/// use actix_taskgroup::{SpawnError, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::<()>::new();
/// let handle = group.handle();
/// group.join().await.unwrap();
/// assert_eq!(handle.spawn(async { Ok::<_, anyhow::Error>(()) }), Err(SpawnError::Closed));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The group is stopping its children (a failure under fail-fast, or a cancel) and takes
    /// no new ones.
    #[error("the task group is shutting down and takes no new children")]
    ShuttingDown,
    /// The group has finished (or been dropped) and takes no new children.
    #[error("the task group has finished and takes no new children")]
    Closed,
    /// The factory that was to build an actor child panicked: the child was accepted and its
    /// outcome is `Panicked`, but there is no address to return.
    #[error("the child's factory panicked; the panic is the child's outcome")]
    FactoryPanicked,
}

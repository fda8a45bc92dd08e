//! The group's combined error (R3) and the error of a refused spawn (R7).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::child::ChildId;

/// Why a group ended with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupErrorKind {
    /// One or more significant children failed (an error, a panic or a timeout).
    Failed,
    /// The group was cancelled by its owner (R6): `cancel()`, `shutdown()`, or the group (or
    /// its join future) dropped. Failures that happened while stopping are still listed.
    Cancelled,
    /// The group ran past its deadline (R13). The report keeps the values that completed
    /// before it.
    TimedOut,
    /// A child restarted more often than the group's intensity allows (R12). The failure of
    /// kind [`FailureKind::RestartLimit`] names the child, the count and the window, and
    /// carries the failure that broke the limit.
    RestartLimit,
    /// A child was not ready within the group's start timeout (R15); each late child is
    /// listed as a failure of kind [`FailureKind::TimedOut`].
    StartTimedOut,
}

impl GroupErrorKind {
    /// The kind as words: `failed`, `cancelled`, `timed out`, `restart limit`,
    /// `start timed out`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupErrorKind::Failed => "failed",
            GroupErrorKind::Cancelled => "cancelled",
            GroupErrorKind::TimedOut => "timed out",
            GroupErrorKind::RestartLimit => "restart limit",
            GroupErrorKind::StartTimedOut => "start timed out",
        }
    }
}

/// How a single child failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The child returned an error.
    Failed,
    /// The child panicked (R5).
    Panicked,
    /// The child ran past its own time limit (or was not ready within the start timeout).
    TimedOut,
    /// The child restarted more often than its group allows: the cause is a
    /// [`RestartLimitError`].
    RestartLimit,
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

    /// The inner group's error, when the failed child is itself a group (R8), under however
    /// many layers of context.
    pub fn nested(&self) -> Option<&GroupError> {
        self.cause
            .chain()
            .find_map(|layer| layer.downcast_ref::<GroupError>())
    }
}

/// Every failure of a group, in the order they happened (R3).
///
/// Even a single failure comes wrapped in a `GroupError`, so callers match one type. It is
/// cheap to clone and `Send + Sync`: causes are shared, never copied. It implements
/// [`std::error::Error`], so `anyhow` users can use `?` on it, and it prints as a readable
/// tree in which the failures of nested groups are indented under the child that held them
/// (R8), each cause with every layer of its context.
///
/// Its `Display` prints every failure's cause, so it has no
/// [`source`](std::error::Error::source) (the Rust convention: a cause is printed or
/// returned, never both): printed with `{}`, `{:#}` or `{:?}`, alone or inside an
/// `anyhow::Error`, every message appears exactly once. Reach the causes through
/// [`failures`](GroupError::failures).
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
            GroupErrorKind::Failed if failed == 0 => f.write_str(" failed: no child completed")?,
            GroupErrorKind::Failed => write!(f, " failed: {failed} {children} failed")?,
            GroupErrorKind::Cancelled => f.write_str(" was cancelled")?,
            GroupErrorKind::TimedOut => f.write_str(" timed out")?,
            GroupErrorKind::RestartLimit => f.write_str(" reached its restart limit")?,
            GroupErrorKind::StartTimedOut => f.write_str(" did not start in time")?,
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
                FailureKind::RestartLimit => f.write_str(" restarted too often: ")?,
            }
            write_cause(f, failure.cause.as_ref().as_ref(), depth)?;
        }
        Ok(())
    }
}

/// Writes every layer of a cause, `outer: inner: …`, down to a nested group's error, which
/// is written as an indented tree of its own, one level below `depth`.
pub(crate) fn write_cause(
    f: &mut fmt::Formatter<'_>,
    cause: &(dyn std::error::Error + 'static),
    depth: usize,
) -> fmt::Result {
    let mut layer = Some(cause);
    let mut first = true;
    while let Some(error) = layer {
        if !first {
            f.write_str(": ")?;
        }
        first = false;
        if let Some(inner) = error.downcast_ref::<GroupError>() {
            return inner.write_tree(f, depth + 1);
        }
        write!(f, "{error}")?;
        layer = error.source();
    }
    Ok(())
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

/// The same tree as `Display`: like `anyhow::Error`, a `GroupError` is meant to be read.
impl fmt::Debug for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

impl std::error::Error for GroupError {}

/// The error a child's restart-limit failure carries (R12): which child, how many restarts
/// within which window, and (as its [`source`](std::error::Error::source)) the failure that
/// broke the limit.
#[derive(Debug, Clone)]
pub struct RestartLimitError {
    child: Option<Cow<'static, str>>,
    restarts: u32,
    window: Duration,
    cause: Option<Arc<anyhow::Error>>,
}

impl RestartLimitError {
    pub(crate) fn new(
        child: Option<Cow<'static, str>>,
        restarts: u32,
        window: Duration,
        cause: Option<Arc<anyhow::Error>>,
    ) -> Self {
        RestartLimitError {
            child,
            restarts,
            window,
            cause,
        }
    }

    /// The name of the child that restarted too often.
    pub fn child(&self) -> Option<&str> {
        self.child.as_deref()
    }

    /// How many restarts fell within the window, the one refused included.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The group's intensity window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The failure that broke the limit (`None` if the child last ended normally: a
    /// permanent child restarts after every end).
    pub fn cause(&self) -> Option<&anyhow::Error> {
        self.cause.as_deref()
    }
}

impl fmt::Display for RestartLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} restarts", self.restarts)?;
        if let Some(child) = &self.child {
            write!(f, " of {child:?}")?;
        }
        write!(f, " within {:?}", self.window)?;
        if self.cause.is_none() {
            f.write_str(" (it last ended normally)")?;
        }
        Ok(())
    }
}

impl std::error::Error for RestartLimitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let cause: &(dyn std::error::Error + Send + Sync + 'static) =
            self.cause.as_deref()?.as_ref();
        Some(cause)
    }
}

/// Why a group did not become ready (R15).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadyError {
    /// These children failed before they were ready.
    #[error("{} failed before being ready", list(children))]
    Failed {
        /// Each child's id and name.
        children: Vec<(ChildId, Option<String>)>,
    },
    /// These children were not ready within the start timeout; the group has failed.
    #[error("{} not ready in time", list(children))]
    TimedOut {
        /// Each child's id and name.
        children: Vec<(ChildId, Option<String>)>,
    },
    /// The group stopped before it was ready.
    #[error("the group stopped before it was ready")]
    Stopped,
}

fn list(children: &[(ChildId, Option<String>)]) -> String {
    let names: Vec<String> = children
        .iter()
        .map(|(id, name)| match name {
            Some(name) => format!("{id} {name:?}"),
            None => id.to_string(),
        })
        .collect();
    let noun = if children.len() == 1 {
        "child"
    } else {
        "children"
    };
    format!("{noun} {}", names.join(", "))
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
    /// The group is stopping its children (a failure under fail-fast, a cancel, its deadline,
    /// a race won) and takes no new ones.
    #[error(
        "the group is stopping (a child failed under fail-fast, it was cancelled, or its \
         deadline passed) and takes no new children"
    )]
    ShuttingDown,
    /// The group has ended (or been dropped) and takes no new children.
    #[error(
        "the group has ended (its children were done while someone waited, or it was \
         stopped) and takes no new children; build it with `EndCondition::Never` to keep it \
         open until `Close`"
    )]
    Closed,
    /// The group's first child was spawned outside an actix `System`: the group runs its
    /// children on an arbiter, and there is none on this thread.
    #[error(
        "spawned outside an actix System: run the group inside `actix_rt::System` (for \
         example `#[actix_rt::main]`) or on an `Arbiter`"
    )]
    NoRuntime,
}

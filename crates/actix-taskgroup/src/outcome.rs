//! How one child ended.

use std::fmt;
use std::sync::Arc;

use crate::error::FailureKind;

/// How one child of a group ended: every child ends in exactly one outcome.
///
/// The cause of a failure is kept behind an [`Arc`] so that the same cause can sit in the
/// report and in the shareable [`GroupError`](crate::GroupError) without being copied.
///
/// ```
/// use actix_taskgroup::{Outcome, TaskGroup};
///
/// # actix_rt::System::new().block_on(async {
/// let group = TaskGroup::new();
/// group.spawn(async { Ok::<_, anyhow::Error>(7) }).unwrap();
/// group.spawn(async { Err::<i32, _>(anyhow::anyhow!("disk full")) }).unwrap();
///
/// let report = group.join_report().await;
/// assert!(matches!(report.children()[0].outcome(), Outcome::Completed(7)));
/// match report.children()[1].outcome() {
///     Outcome::Failed(cause) => assert_eq!(cause.to_string(), "disk full"),
///     other => panic!("unexpected outcome {other:?}"),
/// }
/// # });
/// ```
#[non_exhaustive]
pub enum Outcome<T> {
    /// The child finished with a value.
    Completed(T),
    /// The child finished with an error.
    Failed(Arc<anyhow::Error>),
    /// The child panicked; this is the panic's message (R5).
    Panicked(String),
    /// The child was stopped by its group, or by request, before it completed (R2, R6).
    Cancelled,
    /// The child ran past a time limit that applied to it.
    TimedOut,
}

impl<T> Outcome<T> {
    pub(crate) fn from_result(result: anyhow::Result<T>) -> Self {
        match result {
            Ok(value) => Outcome::Completed(value),
            Err(error) => Outcome::Failed(Arc::new(error)),
        }
    }

    /// Which of the outcomes this is, without its value.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Completed(_) => OutcomeKind::Completed,
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::Panicked(_) => OutcomeKind::Panicked,
            Outcome::Cancelled => OutcomeKind::Cancelled,
            Outcome::TimedOut => OutcomeKind::TimedOut,
        }
    }

    /// The error of a failed child (`Failed`), if it is one.
    pub fn cause(&self) -> Option<&anyhow::Error> {
        match self {
            Outcome::Failed(cause) => Some(cause),
            _ => None,
        }
    }

    /// The failure's kind and cause, for a failure (a panic's cause is its message).
    pub(crate) fn failure(&self) -> Option<(FailureKind, Arc<anyhow::Error>)> {
        match self {
            Outcome::Failed(cause) => Some((FailureKind::Failed, Arc::clone(cause))),
            Outcome::Panicked(message) => Some((
                FailureKind::Panicked,
                Arc::new(anyhow::Error::msg(message.clone())),
            )),
            Outcome::TimedOut => Some((
                FailureKind::TimedOut,
                Arc::new(anyhow::Error::msg("timed out")),
            )),
            _ => None,
        }
    }

    /// As [`failure`](Outcome::failure), taking the cause instead of sharing it (no
    /// reference count to raise and lower again for an outcome that is dropped after).
    pub(crate) fn into_failure(self) -> Option<(FailureKind, Arc<anyhow::Error>)> {
        match self {
            Outcome::Failed(cause) => Some((FailureKind::Failed, cause)),
            other => other.failure(),
        }
    }

    /// The same outcome without its value.
    pub(crate) fn as_unit(&self) -> Outcome<()> {
        match self {
            Outcome::Completed(_) => Outcome::Completed(()),
            Outcome::Failed(cause) => Outcome::Failed(Arc::clone(cause)),
            Outcome::Panicked(message) => Outcome::Panicked(message.clone()),
            Outcome::Cancelled => Outcome::Cancelled,
            Outcome::TimedOut => Outcome::TimedOut,
        }
    }

    /// Whether the child completed with a value.
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed(_))
    }

    /// Whether the outcome is a failure: an error, a panic or a timeout. A cancellation is not
    /// a failure of the child.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Outcome::Failed(_) | Outcome::Panicked(_) | Outcome::TimedOut
        )
    }

    /// Whether the child was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Outcome::Cancelled)
    }

    /// The value, if the child completed.
    pub fn value(&self) -> Option<&T> {
        match self {
            Outcome::Completed(value) => Some(value),
            _ => None,
        }
    }

    /// The value, if the child completed.
    pub fn into_value(self) -> Option<T> {
        match self {
            Outcome::Completed(value) => Some(value),
            _ => None,
        }
    }

    /// The outcome with its value mapped by `f`; other outcomes are kept as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Completed(value) => Outcome::Completed(f(value)),
            Outcome::Failed(cause) => Outcome::Failed(cause),
            Outcome::Panicked(message) => Outcome::Panicked(message),
            Outcome::Cancelled => Outcome::Cancelled,
            Outcome::TimedOut => Outcome::TimedOut,
        }
    }
}

impl<T: Clone> Clone for Outcome<T> {
    fn clone(&self) -> Self {
        self.clone_with(T::clone)
    }
}

impl<T> Outcome<T> {
    /// A copy, with `clone_value` copying the value.
    pub(crate) fn clone_with(&self, clone_value: fn(&T) -> T) -> Self {
        match self {
            Outcome::Completed(value) => Outcome::Completed(clone_value(value)),
            Outcome::Failed(cause) => Outcome::Failed(Arc::clone(cause)),
            Outcome::Panicked(message) => Outcome::Panicked(message.clone()),
            Outcome::Cancelled => Outcome::Cancelled,
            Outcome::TimedOut => Outcome::TimedOut,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Outcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed(value) => f.debug_tuple("Completed").field(value).finish(),
            Outcome::Failed(cause) => f
                .debug_tuple("Failed")
                .field(&format_args!("{cause:#}"))
                .finish(),
            Outcome::Panicked(message) => f.debug_tuple("Panicked").field(message).finish(),
            Outcome::Cancelled => f.write_str("Cancelled"),
            Outcome::TimedOut => f.write_str("TimedOut"),
        }
    }
}

/// Which outcome a child had, without its value: for snapshots, logs and reports.
///
/// ```
/// use actix_taskgroup::{Outcome, OutcomeKind};
///
/// let outcome: Outcome<u8> = Outcome::TimedOut;
/// assert_eq!(outcome.kind(), OutcomeKind::TimedOut);
/// assert_eq!(outcome.kind().as_str(), "timed_out");
/// assert_eq!(outcome.kind().to_string(), "timed out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum OutcomeKind {
    /// [`Outcome::Completed`].
    Completed,
    /// [`Outcome::Failed`].
    Failed,
    /// [`Outcome::Panicked`].
    Panicked,
    /// [`Outcome::Cancelled`].
    Cancelled,
    /// [`Outcome::TimedOut`].
    TimedOut,
}

impl OutcomeKind {
    /// The outcome as one machine-readable word: `completed`, `failed`, `panicked`,
    /// `cancelled` or `timed_out`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Completed => "completed",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Panicked => "panicked",
            OutcomeKind::Cancelled => "cancelled",
            OutcomeKind::TimedOut => "timed_out",
        }
    }

    /// Whether this is a failure: an error, a panic or a timeout.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            OutcomeKind::Failed | OutcomeKind::Panicked | OutcomeKind::TimedOut
        )
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutcomeKind::TimedOut => "timed out",
            other => other.as_str(),
        })
    }
}

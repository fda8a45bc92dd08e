//! How one child ended.

use std::fmt;
use std::sync::Arc;

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
        match self {
            Outcome::Completed(value) => Outcome::Completed(value.clone()),
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

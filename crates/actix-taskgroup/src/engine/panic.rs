//! Turning a caught panic into the message kept in `Outcome::Panicked` (R5).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message of a panic payload: the `&str` or `String` that `panic!` was given, or a note
/// saying the payload was of another type (`std::panic::panic_any`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Drops `value`, catching a panic raised by its `Drop` (R5: a child's panic never unwinds
/// into the group, even when it happens while the child is being cancelled).
///
/// Returns the panic's message if dropping panicked.
pub(crate) fn drop_catching_panic<V>(value: V) -> Option<String> {
    catch_unwind(AssertUnwindSafe(move || drop(value)))
        .err()
        .map(|payload| {
            let message = panic_message(&*payload);
            // The payload's own destructor could panic too; it must not escape either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            message
        })
}

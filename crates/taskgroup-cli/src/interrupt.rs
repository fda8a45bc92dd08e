//! The runner receiving SIGINT or SIGTERM (DESIGN §7): cancel everything, wait for the jobs
//! to stop (their grace period), print the report, exit 130 or 143.
//!
//! The handlers are installed before any job starts, so that a signal never finds the
//! default action (which would end the runner with its jobs still running). Jobs run in
//! process groups of their own, so a Ctrl-C on the terminal reaches the runner only, and the
//! runner stops the jobs the way the group's policy stops them.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use tokio::signal::unix::{SignalKind, signal};

/// Which signal stopped the run, once one has.
#[derive(Debug, Clone, Default)]
pub struct Interrupted {
    signal: Rc<Cell<Option<i32>>>,
}

impl Interrupted {
    /// The signal number received first, if any.
    pub fn signal(&self) -> Option<i32> {
        self.signal.get()
    }

    /// The exit status for the signal received: 128 + its number (130 for SIGINT, 143 for
    /// SIGTERM).
    pub fn exit_code(&self) -> Option<u8> {
        self.signal()
            .and_then(|number| u8::try_from(128 + number).ok())
    }
}

/// Listens for SIGINT and SIGTERM on the current runtime; on the first, records it and calls
/// `on_signal` (which cancels the run). Later signals are recorded by nobody: the run is
/// already stopping, within its grace periods.
///
/// # Errors
///
/// The handlers cannot be installed.
pub fn listen(on_signal: impl Fn() + 'static) -> io::Result<Interrupted> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let interrupted = Interrupted::default();
    let seen = interrupted.clone();
    actix_rt::spawn(async move {
        loop {
            let number = tokio::select! {
                Some(()) = interrupt.recv() => nix::libc::SIGINT,
                Some(()) = terminate.recv() => nix::libc::SIGTERM,
                else => return,
            };
            if seen.signal.get().is_none() {
                seen.signal.set(Some(number));
                on_signal();
            }
        }
    });
    Ok(interrupted)
}

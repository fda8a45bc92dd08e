//! One job as a real process, the way DESIGN §7 says.
//!
//! - [`spawn`] starts a [`ProcessSpec`] in a process group of its own, with `/dev/null` as
//!   stdin and its stdout and stderr piped to the runner.
//! - [`RunningJob`] signals the whole group ([`terminate`](RunningJob::terminate): SIGTERM,
//!   [`kill`](RunningJob::kill): SIGKILL), waits for the exit with a cancel-safe
//!   [`wait`](RunningJob::wait) that also reads the output, and kills the group when dropped
//!   unreaped, so that dropping the future that owns it orphans nothing.
//! - [`run_until_stopped`] is the job's life under a group: run until the exit, or until told
//!   to stop, then SIGTERM and wait (the group's grace timer drops it after that: SIGKILL).
//! - Output ([`OutputOptions`]): a bounded [`OutputTail`], an optional log file per attempt,
//!   and a per-line hook, all fed from inside the job's own future, no thread per job.
//!
//! Everything runs on the current thread of a Tokio runtime with IO and time enabled, such as
//! an actix `System`:
//!
//! ```
//! use taskgroup_cli::process::{OutputOptions, OutputTail, ProcessSpec, spawn};
//!
//! actix_rt::System::new().block_on(async {
//!     let tail = OutputTail::new(64 * 1024);
//!     let spec = ProcessSpec::shell("echo hello; exit 3");
//!     let mut job = spawn(&spec, OutputOptions::new().tail(tail.clone()))?;
//!     let exit = job.wait().await?;
//!     assert_eq!(exit.code, Some(3));
//!     assert_eq!(tail.text(), "hello\n");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod exit;
mod output;
mod running;
mod spec;
mod stream;

pub use exit::ExitInfo;
pub use output::{
    DEFAULT_TAIL_BYTES, LineFilter, LineHook, LineVerdict, MAX_LINE_BYTES, OutputOptions,
    OutputTail, TailLine,
};
pub use running::{OUTPUT_LINGER, RunningJob, run_until_stopped, spawn};
pub use spec::{ENV_ATTEMPT, ENV_JOB_NAME, ProcessSpec, SHELL};
pub use stream::Stream;

//! A started job: its process group, its exit and its output, read inside its own future.

use std::future::Future;
use std::io;
use std::process::Stdio;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use super::exit::ExitInfo;
use super::output::{OutputOptions, OutputSink};
use super::spec::ProcessSpec;
use super::stream::Stream;

/// After the main process exits, its output is read for at most this long more. Whatever was
/// left in its process group is killed at the exit, which closes the pipes at once; only a
/// process that escaped the group (`setsid`) can keep them open, and the job must not wait for
/// it (the final sweep kills it).
pub const OUTPUT_LINGER: Duration = Duration::from_millis(100);

/// Size of each stream's read buffer.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// Starts `spec` as a job: in a new process group of its own (`setpgid(0, 0)`, the group id is
/// the pid), stdin `/dev/null`, stdout and stderr piped to `output`, the spec's working
/// directory and environment applied on top of the runner's.
///
/// Must be called inside a Tokio runtime with IO enabled (an actix `System` is one).
///
/// # Errors
///
/// A command that cannot be started (not found, not executable, a missing working directory)
/// is an [`io::Error`] of the OS's kind whose message names the program and the OS error, e.g.
/// ``cannot start `nosuch`: No such file or directory (os error 2)``. So is a log file that
/// cannot be created (then nothing was started).
pub fn spawn(spec: &ProcessSpec, output: OutputOptions) -> io::Result<RunningJob> {
    let sink = OutputSink::open(output)?;
    let mut command = tokio::process::Command::new(spec.program());
    command
        .args(spec.args())
        .envs(spec.envs().iter().map(|(key, value)| (key, value)))
        .stdin(if spec.holds_stdin() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // The job's own Drop kills the whole group; Tokio's kill_on_drop would kill only the
        // main process.
        .kill_on_drop(false);
    if let Some(cwd) = spec.working_dir() {
        command.current_dir(cwd);
    }
    let mut child = command.spawn().map_err(|error| start_error(spec, &error))?;
    let Some(pid) = child.id() else {
        return Err(io::Error::other("the started process has no pid"));
    };
    let pid = Pid::from_raw(i32::try_from(pid).map_err(io::Error::other)?);
    Ok(RunningJob {
        _held_stdin: child.stdin.take(),
        stdout: child.stdout.take(),
        stderr: child.stderr.take(),
        child,
        pid,
        exit: None,
        child_exits: None,
        output_deadline: None,
        sink,
        stdout_buffer: vec![0; READ_BUFFER_BYTES].into_boxed_slice(),
        stderr_buffer: vec![0; READ_BUFFER_BYTES].into_boxed_slice(),
    })
}

fn start_error(spec: &ProcessSpec, error: &io::Error) -> io::Error {
    let program = spec.program().to_string_lossy();
    let message = match spec.working_dir() {
        // The OS says "not found" both for the program and for the directory: say which.
        Some(cwd) if error.kind() == io::ErrorKind::NotFound && !cwd.is_dir() => format!(
            "cannot start `{program}`: working directory {}: {error}",
            cwd.display()
        ),
        _ => format!("cannot start `{program}`: {error}"),
    };
    io::Error::new(error.kind(), message)
}

/// A job's process, started by [`spawn`]: the leader of its own process group.
///
/// Signals go to the whole group, so a job's children are stopped with it. The process is
/// reaped by [`wait`](RunningJob::wait), and only there; until then its pid cannot be reused,
/// which is what makes signalling the group by its id safe. After it has been reaped, signals
/// are no longer sent (the id could name someone else's group by then).
///
/// # Drop
///
/// Dropping a job that has not been reaped sends SIGKILL to its whole process group, then lets
/// Tokio reap the process in the background. So dropping the future that owns a job (the
/// library's forced stop once the grace period is over) never leaves its processes running.
/// Descendants that left the group (`setsid`) are the [reaper](crate::reaper)'s.
///
/// A `RunningJob` is `!Send` (its output hook and tail are single-threaded): it lives on the
/// arbiter that started it, like the runner's other children (DESIGN R10).
pub struct RunningJob {
    child: Child,
    pid: Pid,
    exit: Option<ExitInfo>,
    /// Held open, never written ([`ProcessSpec::hold_stdin`]); `None` for `/dev/null`.
    _held_stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    /// SIGCHLD notifications, registered on the first wait.
    child_exits: Option<tokio::signal::unix::Signal>,
    /// Set when the main process has exited: output is read until then at the latest.
    output_deadline: Option<Instant>,
    sink: OutputSink,
    stdout_buffer: Box<[u8]>,
    stderr_buffer: Box<[u8]>,
}

impl RunningJob {
    /// The main process's pid, which is also its process group's id.
    pub fn pid(&self) -> u32 {
        self.pid.as_raw().unsigned_abs()
    }

    /// Whether the main process has exited and been reaped.
    pub fn has_exited(&self) -> bool {
        self.exit.is_some()
    }

    /// Sends SIGTERM to the job's whole process group: the polite stop. Does nothing once the
    /// job has been reaped.
    ///
    /// # Errors
    ///
    /// The OS error if the signal could not be sent (no process of the group could be
    /// signalled).
    pub fn terminate(&self) -> io::Result<()> {
        self.signal_group(Signal::SIGTERM)
    }

    /// Sends SIGKILL to the job's whole process group. Does nothing once the job has been
    /// reaped.
    ///
    /// # Errors
    ///
    /// As for [`terminate`](RunningJob::terminate).
    pub fn kill(&self) -> io::Result<()> {
        self.signal_group(Signal::SIGKILL)
    }

    fn signal_group(&self, signal: Signal) -> io::Result<()> {
        if self.exit.is_some() {
            return Ok(());
        }
        match killpg(self.pid, signal) {
            // ESRCH cannot happen while the leader is unreaped; nothing to do if it does.
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(errno) => Err(io::Error::from(errno)),
        }
    }

    /// Waits for the job to end and returns how its main process ended, reading its output
    /// meanwhile (output is read only while this is polled: a job nobody waits for blocks once
    /// its pipes are full).
    ///
    /// When the main process exits, whatever it left in its process group is killed with
    /// SIGKILL before the main process is reaped: a job is its process group. Output is then
    /// read to its end, for at most [`OUTPUT_LINGER`] more. Once this has returned, it returns
    /// the same [`ExitInfo`] again at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: every piece of state is in the job, so a dropped `wait()` loses nothing
    /// and the next call goes on where it stopped.
    ///
    /// # Errors
    ///
    /// An [`io::Error`] when waiting itself fails (SIGCHLD cannot be listened for, or the
    /// process was reaped by someone else); the job's own failure is its [`ExitInfo`].
    pub async fn wait(&mut self) -> io::Result<ExitInfo> {
        loop {
            if self.exit.is_none() {
                self.reap_if_exited()?;
            }
            if let Some(exit) = self.exit
                && self.stdout.is_none()
                && self.stderr.is_none()
            {
                self.sink.finish();
                return Ok(exit);
            }
            if self.exit.is_none() && self.child_exits.is_none() {
                self.child_exits = Some(signal(SignalKind::child())?);
                // Look again: the process may have exited before we listened.
                continue;
            }
            let running = self.exit.is_none();
            let output_deadline = self.output_deadline;
            tokio::select! {
                () = next_child_exit(&mut self.child_exits), if running => {}
                read = read_some(&mut self.stdout, &mut self.stdout_buffer) => {
                    self.on_read(Stream::Stdout, read);
                }
                read = read_some(&mut self.stderr, &mut self.stderr_buffer) => {
                    self.on_read(Stream::Stderr, read);
                }
                () = sleep_until(output_deadline) => {
                    // Someone outside the group holds the pipes open: stop reading.
                    self.stdout = None;
                    self.stderr = None;
                }
            }
        }
    }

    /// The first error writing the log file, if there was one (logging stopped there; the
    /// job went on).
    pub fn log_error(&self) -> Option<&io::Error> {
        self.sink.log_error()
    }

    /// Reaps the main process if it has exited, after killing what is left of its group.
    fn reap_if_exited(&mut self) -> io::Result<()> {
        // WNOWAIT: look without reaping, so the pid (the group's id) stays ours meanwhile.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.pid), flags) {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => return Ok(()),
            Ok(_) => {
                // The main process is a zombie: its group's id cannot be reused yet, so the
                // signal reaches exactly what the job left behind.
                // An empty group is fine: it only means nothing was left.
                let _ = killpg(self.pid, Signal::SIGKILL);
            }
            Err(errno) => return Err(io::Error::from(errno)),
        }
        if let Some(status) = self.child.try_wait()? {
            self.exit = Some(ExitInfo::from(status));
            self.output_deadline = Some(Instant::now() + OUTPUT_LINGER);
            self.child_exits = None;
        }
        Ok(())
    }

    fn on_read(&mut self, stream: Stream, read: io::Result<usize>) {
        match read {
            Ok(0) | Err(_) => {
                // End of output (a read error on a pipe means the same: nothing more comes).
                match stream {
                    Stream::Stdout => self.stdout = None,
                    Stream::Stderr => self.stderr = None,
                }
                self.sink.end_of(stream);
            }
            Ok(length) => {
                let buffer = match stream {
                    Stream::Stdout => &self.stdout_buffer,
                    Stream::Stderr => &self.stderr_buffer,
                };
                self.sink.record(stream, &buffer[..length]);
            }
        }
    }
}

impl Drop for RunningJob {
    fn drop(&mut self) {
        // Not reaped: the group's id is still ours to signal. Tokio reaps the process once it
        // is dead (the dropped `Child` goes to its orphan queue).
        if self.exit.is_none() {
            // Nothing more can be done about a failure here; the final sweep is the backstop.
            let _ = self.kill();
        }
    }
}

impl std::fmt::Debug for RunningJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningJob")
            .field("pid", &self.pid)
            .field("exit", &self.exit)
            .finish_non_exhaustive()
    }
}

/// Runs `job` until it exits; if `stop` resolves first, sends SIGTERM to its process group and
/// goes on waiting for the exit (DESIGN §7: SIGTERM, then SIGKILL after the grace period).
///
/// The grace period is the caller's: drop this future when it is over, and the job's `Drop`
/// sends SIGKILL to the group.
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use std::time::Duration;
/// use taskgroup_cli::process::{OutputOptions, ProcessSpec, run_until_stopped, spawn};
///
/// let mut job = spawn(&ProcessSpec::shell("sleep 10"), OutputOptions::new())?;
/// let stop = tokio::time::sleep(Duration::from_millis(100));
/// let exit = run_until_stopped(&mut job, stop).await?;
/// assert_eq!(exit.signal_name(), Some("SIGTERM"));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// As for [`RunningJob::wait`].
pub async fn run_until_stopped(
    job: &mut RunningJob,
    stop: impl Future<Output = ()>,
) -> io::Result<ExitInfo> {
    {
        let exit = job.wait();
        tokio::pin!(stop);
        tokio::select! {
            biased;
            exit = exit => return exit,
            () = &mut stop => {}
        }
    }
    // If SIGTERM cannot be sent, waiting still ends: the caller's grace period runs out and
    // dropping the job sends SIGKILL.
    let _ = job.terminate();
    job.wait().await
}

/// Reads from a stream that may already be closed (then never resolves). Cancel-safe, as
/// `AsyncReadExt::read` is.
async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut Option<R>,
    buffer: &mut [u8],
) -> io::Result<usize> {
    match reader {
        Some(reader) => reader.read(buffer).await,
        None => std::future::pending().await,
    }
}

/// The next SIGCHLD (any child's: the caller looks whether it was its own).
async fn next_child_exit(child_exits: &mut Option<tokio::signal::unix::Signal>) {
    match child_exits {
        Some(child_exits) => {
            // `None` means the signal driver is gone (the runtime is shutting down); looking
            // again at the process is still correct.
            if child_exits.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

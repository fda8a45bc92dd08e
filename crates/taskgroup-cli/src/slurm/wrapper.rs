//! The wrapper inside every Slurm step: `taskgroup slurm-step MARKER -- PROGRAM [ARGS…]`,
//! the step's task, which runs the job's command and tells the runner what srun cannot.
//!
//! Why a wrapper (facts measured on Slurm 22.05, `docs/slurm-facts.md`):
//!
//! - **The step id.** It writes `MARKER step $SLURM_JOB_ID.$SLURM_STEP_ID` on stderr before
//!   the command starts, so the runner can stop the step through Slurm (`scancel J.S`).
//! - **The exit.** srun exits with 128 + n both for a task killed by signal n and for one that
//!   exited 128 + n. The wrapper waits for the command itself and writes `MARKER exit N` or
//!   `MARKER signal N`, then exits with the command's code or 128 + n. A step that ends
//!   without this line did not end well, whatever srun says:
//!   with proctrack `linuxproc`/`pgid`, srun can return 0 after "Timed out waiting for job
//!   step to complete".
//! - **Stopping the whole job, once.** How Slurm signals a step depends on its proctrack
//!   plugin ([`Proctrack`], measured): with `cgroup`, `scancel --signal=TERM J.S` reaches the
//!   task only (a child of the task never saw the TERM), so the command runs in a process
//!   group of its own and the wrapper passes every signal on to that group; with `linuxproc`
//!   Slurm signals the whole process tree itself, and the wrapper passes nothing on; with
//!   `pgid` Slurm signals the task's process group, so the command stays in it. Either way
//!   the whole job sees one TERM, as locally. The runner reads `ProctrackType` once and says
//!   which (`--proctrack`).
//! - **Nothing outlives the runner.** The runner holds srun's stdin open and never writes to
//!   it; srun forwards it to the wrapper. End-of-file means that the runner is gone (killed
//!   by SIGKILL, say, with no chance to cancel its steps): the wrapper kills the job, and the
//!   step ends. The job itself gets `/dev/null`, as locally.
//! - **Nothing escapes.** When the command exits, what is left of its process group is killed
//!   (as locally), and the wrapper, a child subreaper, kills and reaps every descendant that
//!   left the group (`setsid`, double forks) before it writes its status. With
//!   proctrack/cgroup Slurm would kill them at the step's end anyway; with `linuxproc` or
//!   `pgid` this is what keeps them from holding the step's pipes open.
//!
//! The wrapper catches the signals it passes on (tokio's handlers): it does not block them,
//! since a blocked mask is inherited by the command (the standard library does not reset
//! it), while caught signals return to their defaults at `exec`. It never dies of the
//! command's signal: it exits with 128 + n after its `signal n` line. A task that dies of a
//! signal makes srun "Force Terminate" the step, which can drop output still on its way, the
//! status line included (measured); an exit does not.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::protocol::{Marker, WrapperLine};
use crate::process::ExitInfo;
use crate::reaper;

/// The signals passed on to the command's process group: those Slurm sends (`scancel
/// --signal`, time limits, srun forwarding USR1/USR2) and those a person might.
const FORWARDED: [Signal; 8] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGTERM,
    Signal::SIGCONT,
];

/// The exit status when the command cannot be started (the shells' "command not found").
const EXIT_CANNOT_START: u8 = 127;

/// How Slurm tracks (and signals) a step's processes: its `ProctrackType`, which decides how
/// the wrapper runs the job (measured on Slurm 22.05, `docs/slurm.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Proctrack {
    /// `proctrack/cgroup`: `scancel --signal` reaches the task only, a kill every process of
    /// the step. The job runs in a process group of its own and the wrapper passes signals
    /// on to it. Also what an unknown plugin is taken for.
    Cgroup,
    /// `proctrack/linuxproc`: Slurm signals the task's whole process tree. The wrapper passes
    /// nothing on (the job would see every signal twice); the job keeps its own group.
    Linuxproc,
    /// `proctrack/pgid`: Slurm signals the task's process group only. The job stays in the
    /// wrapper's group, where Slurm's signals (TERM and the kill) reach it; nothing is
    /// passed on.
    Pgid,
}

impl Proctrack {
    /// From the `ProctrackType` value (`None`: unknown).
    pub fn of_plugin(plugin: Option<&str>) -> Proctrack {
        match plugin {
            Some("proctrack/linuxproc") => Proctrack::Linuxproc,
            Some("proctrack/pgid") => Proctrack::Pgid,
            _ => Proctrack::Cgroup,
        }
    }

    /// The name on the wrapper's command line.
    pub fn name(self) -> &'static str {
        match self {
            Proctrack::Cgroup => "cgroup",
            Proctrack::Linuxproc => "linuxproc",
            Proctrack::Pgid => "pgid",
        }
    }

    /// Whether Slurm's signals reach the task only, so that the wrapper must pass them on.
    fn forwards(self) -> bool {
        self == Proctrack::Cgroup
    }

    /// Whether the job gets a process group of its own.
    fn own_group(self) -> bool {
        self != Proctrack::Pgid
    }
}

/// How the runner asks the wrapper to behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapperOptions {
    /// How Slurm tracks the step's processes.
    pub proctrack: Proctrack,
    /// stdin is the runner's pipe (srun forwards it): end-of-file means the runner is gone,
    /// and the command is killed.
    pub watch_stdin: bool,
}

/// Runs `command` inside the step and returns the wrapper's exit status: the command's exit
/// code, or 128 + the signal that killed it.
pub fn run(nonce: &str, command: &[OsString], options: WrapperOptions) -> u8 {
    let marker = Marker::from_nonce(nonce);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build();
    let result = runtime
        .map_err(|error| format!("cannot start the wrapper's runtime: {error}"))
        .and_then(|runtime| runtime.block_on(supervise(&marker, command, options)));
    match result {
        Ok(exit) => {
            say(&marker, &WrapperLine::of_exit(exit));
            match (exit.code, exit.signal) {
                // Exit codes are 0…255 on Unix: the low byte is the code.
                (Some(code), _) => (code & 0xff) as u8,
                (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
                (None, None) => EXIT_CANNOT_START,
            }
        }
        Err(message) => {
            say(&marker, &WrapperLine::StartError(message));
            EXIT_CANNOT_START
        }
    }
}

/// Catches the signals, says the step id, runs the command, passes the signals on, and
/// sweeps what the command left.
async fn supervise(
    marker: &Marker,
    command: &[OsString],
    options: WrapperOptions,
) -> Result<ExitInfo, String> {
    // Before the step id is out: nothing can be sent to the step through Slurm before that.
    let (sender, mut signals) = mpsc::unbounded_channel();
    for forwarded in FORWARDED {
        let mut stream = signal(SignalKind::from_raw(forwarded as i32))
            .map_err(|error| format!("cannot catch {forwarded}: {error}"))?;
        let sender = sender.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if sender.send(forwarded).is_err() {
                    return;
                }
            }
        });
    }
    let mut child_exits =
        signal(SignalKind::child()).map_err(|error| format!("cannot catch SIGCHLD: {error}"))?;
    let id = |name: &str| std::env::var(name).ok()?.parse::<u64>().ok();
    if let (Some(job), Some(step)) = (id("SLURM_JOB_ID"), id("SLURM_STEP_ID")) {
        say(marker, &WrapperLine::Step { job, step });
    }
    // Without it, escaped descendants are still killed by Slurm under proctrack/cgroup.
    let _ = reaper::become_subreaper();
    let Some((program, args)) = command.split_first() else {
        return Err("no command".into());
    };
    let mut command = Command::new(program);
    // The job's stdin is /dev/null, as locally; the wrapper's is the runner's pipe.
    command.args(args).stdin(std::process::Stdio::null());
    let own_group = options.proctrack.own_group();
    if own_group {
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start `{}`: {error}", program.to_string_lossy()))?;
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut runner_gone = if options.watch_stdin {
        watch_stdin()
    } else {
        mpsc::unbounded_channel().1
    };
    let status = loop {
        match exited(&mut child, pid, own_group) {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(error) => return Err(format!("cannot wait for the command: {error}")),
        }
        tokio::select! {
            _ = child_exits.recv() => {}
            Some(forwarded) = signals.recv() => {
                if options.proctrack.forwards() {
                    let _ = killpg(pid, forwarded);
                }
            }
            Some(()) = runner_gone.recv() => {
                // Nobody is left to stop the job or to read its status: end it now, as the
                // forced stop would (srun then ends the step).
                let _ = if own_group {
                    killpg(pid, Signal::SIGKILL)
                } else {
                    nix::sys::signal::kill(pid, Signal::SIGKILL)
                };
            }
        }
    };
    // Whatever left the command's group and is still alive.
    let _ = reaper::sweep();
    Ok(ExitInfo::from(status))
}

/// Reads stdin to its end on a thread of its own (a plain thread: the runtime must not wait
/// for it when the wrapper exits); the receiver gets `()` at end-of-file or an error.
fn watch_stdin() -> mpsc::UnboundedReceiver<()> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut sink = [0u8; 512];
        let mut stdin = std::io::stdin().lock();
        // Nothing is ever written; whatever comes is read and dropped.
        while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(length) if length > 0) {}
        let _ = sender.send(());
    });
    receiver
}

/// The command's status if it has exited: then what is left of its process group, when it has
/// one, is killed first (its id is still reserved by the unreaped leader), as locally. In the
/// wrapper's group (pgid), the sweep and Slurm's end of the step do that.
fn exited(
    child: &mut std::process::Child,
    pid: Pid,
    own_group: bool,
) -> std::io::Result<Option<ExitStatus>> {
    // WNOWAIT: look without reaping, so the pid (the group's id) stays ours meanwhile.
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => Ok(None),
        Ok(_) => {
            if own_group {
                let _ = killpg(pid, Signal::SIGKILL);
            }
            child.wait().map(Some)
        }
        Err(errno) => Err(errno.into()),
    }
}

/// Writes one status line on stderr, in one write (srun forwards whole lines).
fn say(marker: &Marker, what: &WrapperLine) {
    let line = format!("{}\n", marker.line(what));
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(line.as_bytes());
    let _ = stderr.flush();
}

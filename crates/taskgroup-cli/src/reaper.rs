//! The runner as a child subreaper, and the sweep that leaves no descendant behind
//! (DESIGN §7).
//!
//! A job's process group catches what the job starts, but not a process that leaves the group:
//! one that calls `setsid()`, or a daemon that double-forks and then does. When a process's
//! parent dies, Linux re-parents it to the nearest ancestor marked *child subreaper*, instead
//! of to init. So with [`become_subreaper`] called at start, every process a job ever started
//! that is still alive, however far it ran from its group, ends up a direct child of the
//! runner, and [`sweep`] at the end of the run kills and reaps every direct child until none
//! is left.
//!
//! **This is a Linux guarantee** (`PR_SET_CHILD_SUBREAPER`, Linux 3.4, and `/proc`). Elsewhere
//! the runner can promise only what process groups give. One escape remains on Linux too: a
//! process that re-parents under another subreaper (a nested `taskgroup`, systemd user
//! services) is that subreaper's to sweep, which is the point of nesting them.
//!
//! ```no_run
//! use taskgroup_cli::reaper;
//!
//! reaper::become_subreaper()?;
//! // … run every job, wait for (or drop) every one …
//! let swept = reaper::sweep()?;
//! eprintln!("swept {} stray processes", swept.killed.len());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs;
use std::io;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpgrp, getpid};

/// A sweep that keeps finding children after this many rounds is facing a process that forks
/// faster than it can be killed; it gives up rather than loop forever.
const MAX_SWEEP_ROUNDS: usize = 1_000;

/// Marks the runner as a child subreaper: orphaned descendants are re-parented to it.
/// Call it once, at start, before any job runs.
///
/// # Errors
///
/// The OS error of `prctl(PR_SET_CHILD_SUBREAPER)` (on Linux it does not fail).
pub fn become_subreaper() -> io::Result<()> {
    prctl::set_child_subreaper(true).map_err(io::Error::from)
}

/// Whether the runner is a child subreaper.
///
/// # Errors
///
/// The OS error of `prctl(PR_GET_CHILD_SUBREAPER)`.
pub fn is_subreaper() -> io::Result<bool> {
    prctl::get_child_subreaper().map_err(io::Error::from)
}

/// What a [`sweep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// The pids of the children that were killed and reaped, in the order they were found.
    pub killed: Vec<u32>,
}

/// A process as `/proc/PID/stat` describes it: enough to decide whether to kill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessEntry {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid.
    pub parent: u32,
    /// Its process group's id.
    pub group: u32,
    /// Its session's id.
    pub session: u32,
    /// Its state letter (`R`, `S`, `D`, `Z` for a zombie, …).
    pub state: char,
}

/// Kills and reaps every child of the runner, repeatedly, until it has none: each round finds
/// the direct children in `/proc`, sends SIGKILL to each one and to its process group (unless
/// that is the runner's own), then reaps exactly those pids with `waitpid(pid)` (never
/// `waitpid(-1)`, which could take a child from its owner). Grandchildren re-parented by the
/// deaths of their parents are found in the next round.
///
/// Call it when every job has ended, been waited for or been dropped: it kills *every* child,
/// a job that is still running included, and children still owned by a live
/// [`RunningJob`](crate::process::RunningJob) would be reaped from under it. Children of
/// dropped jobs that Tokio has not reaped yet are reaped here (Tokio then forgets them).
///
/// Blocking: it returns when the children are gone, which takes microseconds per process
/// (one stuck in uninterruptible sleep, state `D`, delays it until it wakes). Call it at the
/// end of the run, not on a busy arbiter.
///
/// # Errors
///
/// `/proc` cannot be read, or children kept appearing for 1,000 rounds (a process forking
/// faster than it can be killed).
pub fn sweep() -> io::Result<SweepReport> {
    let runner = getpid();
    let runner_group = getpgrp();
    let mut report = SweepReport::default();
    for _ in 0..MAX_SWEEP_ROUNDS {
        let children = children_of(runner.as_raw().unsigned_abs())?;
        if children.is_empty() {
            return Ok(report);
        }
        for child in &children {
            let pid = raw_pid(child.pid);
            // Errors mean it is already dead (a zombie can still be sent to: no error).
            let _ = kill(pid, Signal::SIGKILL);
            let group = raw_pid(child.group);
            // Its group holds what it started; the group's id is held by this child (alive or
            // zombie, unreaped), so it names that group and no other.
            if group != runner_group && child.group > 1 {
                let _ = killpg(group, Signal::SIGKILL);
            }
        }
        for child in &children {
            reap(raw_pid(child.pid))?;
            report.killed.push(child.pid);
        }
    }
    Err(io::Error::other(format!(
        "children kept appearing after {MAX_SWEEP_ROUNDS} rounds of sweeping"
    )))
}

/// How often, at most, [`reap_orphans_while_running`] looks for orphans to reap.
pub const ORPHAN_REAP_INTERVAL: Duration = Duration::from_millis(100);

/// Reaps every child of the runner that has died and that nobody else will reap: the zombies
/// of orphans re-parented to the runner (a subreaper) from somewhere in a job's tree. Returns
/// their pids. Never blocks.
///
/// A process the runner started itself is never reaped here, so that its owner still sees
/// its exit: a job's process leads its own group in the runner's session (its
/// [`RunningJob`](crate::process::RunningJob) or Tokio reaps it), a helper command stays in the
/// runner's own group. An orphan is in neither: it is in a job's group without leading it, or
/// it left the runner's session (`setsid`).
///
/// # Errors
///
/// `/proc` cannot be read, or the runner's session cannot be known.
pub fn reap_orphans() -> io::Result<Vec<u32>> {
    let runner = getpid();
    let runner_group = getpgrp().as_raw().unsigned_abs();
    let runner_session = nix::unistd::getsid(None)?.as_raw().unsigned_abs();
    let mut reaped = Vec::new();
    for child in children_of(runner.as_raw().unsigned_abs())? {
        let started_here = child.group == runner_group
            || (child.group == child.pid && child.session == runner_session);
        if child.state != 'Z' || started_here {
            continue;
        }
        // Ours alone to reap (our child, and no owner waits for it): a zombie, so at once.
        if let Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) =
            waitpid(raw_pid(child.pid), Some(WaitPidFlag::WNOHANG))
        {
            reaped.push(child.pid);
        }
    }
    Ok(reaped)
}

/// Reaps orphans as they die, for as long as it is polled (spawn it on the runner's arbiter
/// for the length of the run): on each SIGCHLD, at most once per [`ORPHAN_REAP_INTERVAL`].
/// Without it, every orphan that dies during a run keeps its zombie, a process-table entry,
/// until the final [`sweep`]; a long `exec` of jobs that leave helpers behind would fill the
/// table.
pub async fn reap_orphans_while_running() {
    let Ok(mut child_exits) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child())
    else {
        return;
    };
    while child_exits.recv().await.is_some() {
        let _ = reap_orphans();
        // SIGCHLDs that arrive meanwhile are kept as one: the next look is after this pause.
        tokio::time::sleep(ORPHAN_REAP_INTERVAL).await;
    }
}

/// Reaps `pid` once it has died. A pid that is no longer our child (reaped meanwhile by its
/// owner) is fine.
fn reap(pid: Pid) -> io::Result<()> {
    loop {
        match waitpid(pid, None) {
            Ok(_) | Err(Errno::ECHILD) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(io::Error::from(errno)),
        }
    }
}

fn raw_pid(pid: u32) -> Pid {
    Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX))
}

/// Every process whose parent is `parent`, from `/proc/*/stat`. Processes that end while the
/// table is read are skipped (their entries vanish between listing and reading).
///
/// # Errors
///
/// `/proc` cannot be listed.
pub fn children_of(parent: u32) -> io::Result<Vec<ProcessEntry>> {
    let mut children = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        if let Some(process) = process_entry(pid)
            && process.parent == parent
        {
            children.push(process);
        }
    }
    Ok(children)
}

/// Reads `/proc/PID/stat`; `None` when the process is gone or the line cannot be read.
pub fn process_entry(pid: u32) -> Option<ProcessEntry> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// Parses `pid (comm) state ppid pgrp …`. The command name may hold spaces and parentheses,
/// so the fields are read after the *last* `)`.
fn parse_stat(stat: &str) -> Option<ProcessEntry> {
    let (head, tail) = stat.rsplit_once(')')?;
    let pid = head.split_once(" (")?.0.trim().parse().ok()?;
    let mut fields = tail.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(ProcessEntry {
        pid,
        parent,
        group,
        session,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_hostile_command_names() {
        let entry = parse_stat("4242 (evil) S 1 2) R 17 4242 4242 0 -1 4194560 …\n");
        assert_eq!(
            entry,
            Some(ProcessEntry {
                pid: 4242,
                parent: 17,
                group: 4242,
                session: 4242,
                state: 'R'
            })
        );
        assert_eq!(
            parse_stat("12 (a b) Z 3 12 12"),
            parse_stat("12 (a b) Z 3 12 12")
        );
        assert_eq!(
            parse_stat("12 (x) Z 3 9 9").map(|entry| entry.state),
            Some('Z')
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("12 (x) S"), None);
        assert_eq!(parse_stat("12 (x) S 3 12"), None);
    }

    #[test]
    fn the_runner_itself_is_in_the_process_table() {
        let me = getpid().as_raw().unsigned_abs();
        let entry = process_entry(me);
        assert_eq!(entry.map(|entry| entry.pid), Some(me));
        assert_eq!(
            entry.map(|entry| entry.parent),
            Some(nix::unistd::getppid().as_raw().unsigned_abs())
        );
    }
}

//! Helpers for tests that run real processes: find the pids a job wrote down, and tell whether
//! a process is gone — by pid and start time, never by name.

// Each test binary uses its own subset of these.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

/// Generous bound for anything that should take milliseconds: these tests run on a busy
/// 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(2);

/// A process as it was when first seen: a pid plus its start time, so that a reused pid is
/// not mistaken for the same process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub pid: u32,
    start_time: u64,
}

/// `/proc/PID/stat`: (state, parent, start time), or `None` when there is no such process.
fn stat(pid: u32) -> Option<(char, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, fields) = text.rsplit_once(')')?;
    let fields: Vec<&str> = fields.split_whitespace().collect();
    // After the command name: state is field 3 of stat(5), ppid 4, starttime 22.
    let state = fields.first()?.chars().next()?;
    let parent = fields.get(1)?.parse().ok()?;
    let start_time = fields.get(19)?.parse().ok()?;
    Some((state, parent, start_time))
}

/// The identity of the live process `pid`.
pub fn identify(pid: u32) -> Identity {
    match stat(pid) {
        Some((_, _, start_time)) => Identity { pid, start_time },
        None => panic!("process {pid} does not exist"),
    }
}

/// Whether the process still runs: it exists, is the same process, and is not a zombie.
pub fn is_alive(process: Identity) -> bool {
    matches!(stat(process.pid), Some((state, _, start)) if start == process.start_time && state != 'Z')
}

/// Whether the process is gone entirely: not even a zombie is left (it was reaped).
pub fn is_reaped(process: Identity) -> bool {
    !matches!(stat(process.pid), Some((_, _, start)) if start == process.start_time)
}

/// The parent pid of a live process.
pub fn parent_of(process: Identity) -> Option<u32> {
    match stat(process.pid) {
        Some((_, parent, start)) if start == process.start_time => Some(parent),
        _ => None,
    }
}

/// Polls `condition` until it holds or [`PATIENCE`] runs out; returns whether it held.
pub fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (asynchronously, so the job's own future can run meanwhile) until `file` holds
/// `count` pids, one per line, and returns their identities.
pub async fn pids_written(file: &Path, count: usize) -> Vec<Identity> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let pids: Vec<u32> = text
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        if pids.len() >= count && text.ends_with('\n') {
            return pids.into_iter().map(identify).collect();
        }
        assert!(
            Instant::now() < deadline,
            "only {pids:?} written to {}",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Kills a process the test left behind on purpose, if it is still the same process.
pub fn kill_if_alive(process: Identity) {
    if is_alive(process) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(process.pid).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

pub mod binary;
pub mod slurm;

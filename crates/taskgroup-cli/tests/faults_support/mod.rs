//! What the fault matrix (`tests/faults_*.rs`) shares: runs of the real `taskgroup` binary
//! whose every process is marked, and the checks every row ends with.
//!
//! - **No process is left behind.** The test process makes itself a child subreaper
//!   ([`adopt_orphans`]): anything a run leaves (alive, or a zombie nobody reaped) is
//!   re-parented to the test instead of to init, which would hide a zombie by reaping it.
//!   Every run gets a token in its environment (`FAULT_TOKEN`), which the runner passes to its
//!   jobs and they to their descendants; after the run, [`leaks`] reads `/proc`: a live
//!   process with the token, or a zombie child of the test that is not in the test's own
//!   process group (runners are; job processes never are), is a leak. The pids the jobs wrote
//!   down are checked one by one as well ([`Proc::is_gone`]), by pid and start time, never by
//!   name.
//! - **The report file is complete or absent.** [`report_complete_or_absent`] parses it and
//!   finds every job of the run in it, or finds no file, and never a temporary file beside it.

// Each test binary uses its own subset of these.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The environment variable that marks every process of one run.
pub const TOKEN_VAR: &str = "FAULT_TOKEN";

/// Bound for anything that should take milliseconds, on a busy 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(3);

/// Bound on one run of the runner: a hang fails the test instead of blocking it.
pub const RUN_BOUND: Duration = Duration::from_secs(10);

/// The binary under test.
pub fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("taskgroup")
}

/// Makes the test process a child subreaper, once: what a run leaves behind becomes the
/// test's child, visible and unreaped, instead of init's.
pub fn adopt_orphans() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        nix::sys::prctl::set_child_subreaper(true)
            .unwrap_or_else(|error| panic!("PR_SET_CHILD_SUBREAPER: {error}"));
    });
}

/// A process as first seen: pid and start time, so that a reused pid is not mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: u32,
    start_time: u64,
}

/// One line of `/proc/PID/stat`, the fields these tests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// `R`, `S`, `Z`, …
    pub state: char,
    /// Parent pid.
    pub parent: u32,
    /// Process group id.
    pub group: u32,
    /// Start time, in clock ticks after boot.
    pub start_time: u64,
}

/// `/proc/PID/stat`, or `None` when there is no such process.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, fields) = text.rsplit_once(')')?;
    let fields: Vec<&str> = fields.split_whitespace().collect();
    // After the command name: state is field 3 of proc_pid_stat(5), ppid 4, pgrp 5,
    // starttime 22.
    Some(Stat {
        state: fields.first()?.chars().next()?,
        parent: fields.get(1)?.parse().ok()?,
        group: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

impl Proc {
    /// The process `pid` as it is now; `None` if there is none (it was reaped already).
    pub fn find(pid: u32) -> Option<Proc> {
        stat(pid).map(|stat| Proc {
            pid,
            start_time: stat.start_time,
        })
    }

    /// Its stat line, if it is still the same process.
    pub fn stat(&self) -> Option<Stat> {
        stat(self.pid).filter(|stat| stat.start_time == self.start_time)
    }

    /// Gone entirely: not running, and not a zombie either (it was reaped).
    pub fn is_gone(&self) -> bool {
        self.stat().is_none()
    }

    /// A zombie: dead, not reaped yet.
    pub fn is_zombie(&self) -> bool {
        self.stat().is_some_and(|stat| stat.state == 'Z')
    }
}

/// Polls `condition` until it holds or `bound` runs out; returns whether it held.
pub fn eventually(bound: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The pids in `file`, one per line (complete lines only).
pub fn pids_in(file: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

/// Waits until `file` holds at least `count` pids and returns the processes that still exist
/// (a short-lived one may be reaped already: then it is gone, which is what is checked).
pub fn wait_for_pids(file: &Path, count: usize) -> Vec<Proc> {
    let mut pids = Vec::new();
    let found = eventually(PATIENCE, || {
        pids = pids_in(file);
        pids.len() >= count
    });
    assert!(
        found,
        "only {} of {count} pids written to {}",
        pids.len(),
        file.display()
    );
    pids.into_iter().filter_map(Proc::find).collect()
}

/// A scratch directory and the token of one run.
pub struct Scratch {
    dir: tempfile::TempDir,
    token: String,
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch::new()
    }
}

impl Scratch {
    /// A new directory, a new token, and the test process a subreaper.
    pub fn new() -> Scratch {
        adopt_orphans();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let token = format!(
            "fault-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        Scratch { dir, token }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The file jobs append their pids to (`{pids}` in job files).
    pub fn pids(&self) -> PathBuf {
        self.path("pids")
    }

    /// This run's token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `source` with `{pids}` and `{dir}` filled in.
    pub fn fill(&self, source: &str) -> String {
        source
            .replace("{pids}", &self.pids().display().to_string())
            .replace("{dir}", &self.dir().display().to_string())
    }

    /// Writes the job file `source` (filled in) as `jobs.toml`; returns its path.
    pub fn job_file(&self, source: &str) -> PathBuf {
        let path = self.path("jobs.toml");
        std::fs::write(&path, self.fill(source)).unwrap_or_else(|error| panic!("{error}"));
        path
    }

    /// The runner with `args`, marked with the token; stdin `/dev/null`, output piped.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .env(TOKEN_VAR, &self.token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the runner with `args` to its end.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Finished {
        Running::start(self.command(args)).finish(RUN_BOUND)
    }

    /// Fails if anything of this run is still in the process table, or if any of
    /// `recorded` (pids its jobs wrote down) is.
    pub fn assert_no_leaks(&self, recorded: &[Proc]) {
        let left = leaks(&self.token);
        assert!(left.is_empty(), "left behind: {left:#?}");
        let not_gone: Vec<(u32, Option<Stat>)> = recorded
            .iter()
            .filter(|process| !process.is_gone())
            .map(|process| (process.pid, process.stat()))
            .collect();
        assert!(
            not_gone.is_empty(),
            "still in the process table: {not_gone:?}"
        );
    }
}

impl Drop for Scratch {
    /// A test that failed half-way may leave its run going: end every process of it (by its
    /// token), so that one failure does not leave processes for the next tests to trip on.
    fn drop(&mut self) {
        let marker = format!("{TOKEN_VAR}={}", self.token);
        for _ in 0..3 {
            let marked = marked_pids(&marker);
            if marked.is_empty() {
                break;
            }
            for pid in marked {
                let pid = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
                let _ = kill(pid, Signal::SIGKILL);
                // Re-parented to the test (a subreaper): reap it, if it is ours.
                let _ = nix::sys::wait::waitpid(pid, None);
            }
        }
    }
}

/// The live processes whose environment holds `marker` (`NAME=value`).
fn marked_pids(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let marked = std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
            environ
                .split(|&byte| byte == 0)
                .any(|variable| variable == marker.as_bytes())
        });
        if marked {
            pids.push(pid);
        }
    }
    pids
}

/// A runner that was started, its output drained by two threads (so that a run printing
/// megabytes never blocks on a full pipe) and its peak memory sampled.
pub struct Running {
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// The runner's exit status.
    pub status: ExitStatus,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
    /// Its peak resident memory (`VmHWM`), in KiB, as last sampled before it exited.
    pub peak_kib: u64,
}

impl Finished {
    /// The exit code (`None` when a signal ended the runner).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// For assertion messages.
    pub fn both(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        let stdout: String = tail_chars(&self.stdout, 4000);
        let stderr: String = tail_chars(&self.stderr, 4000);
        format!(
            "code {:?}, signal {:?}\n--- stdout (end)\n{stdout}\n--- stderr (end)\n{stderr}",
            self.status.code(),
            self.status.signal()
        )
    }
}

fn tail_chars(text: &str, count: usize) -> String {
    let skip = text.chars().count().saturating_sub(count);
    text.chars().skip(skip).collect()
}

fn drain(stream: Option<impl Read + Send + 'static>) -> Option<JoinHandle<Vec<u8>>> {
    stream.map(|mut stream| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            bytes
        })
    })
}

impl Drop for Running {
    /// A test that fails before [`Running::finish`] does not leave its runner running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    /// Spawns `command`.
    pub fn start(mut command: Command) -> Running {
        let mut child = command.spawn().unwrap_or_else(|error| panic!("{error}"));
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        Running {
            child,
            stdout,
            stderr,
        }
    }

    /// The runner's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the runner (only to it, as `kill` from another terminal would).
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.pid()).unwrap_or(i32::MAX));
        kill(pid, signal).unwrap_or_else(|error| panic!("kill {signal}: {error}"));
    }

    /// The runner's stdin, when it was piped.
    pub fn stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.child.stdin.take()
    }

    /// Waits for the end, at most `bound` (then kills the runner and fails).
    pub fn finish(mut self, bound: Duration) -> Finished {
        let deadline = Instant::now() + bound;
        let mut peak_kib = 0;
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .unwrap_or_else(|error| panic!("{error}"))
            {
                break status;
            }
            if let Some(kib) = peak_memory_kib(self.child.id()) {
                peak_kib = peak_kib.max(kib);
            }
            if Instant::now() > deadline {
                let state = hung_state(self.child.id());
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self
                    .stderr
                    .take()
                    .and_then(|handle| handle.join().ok())
                    .unwrap_or_default();
                panic!(
                    "the runner did not end within {bound:?}:\n{state}--- stderr\n{}",
                    String::from_utf8_lossy(&stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let text = |handle: Option<JoinHandle<Vec<u8>>>| {
            let bytes = handle.and_then(|handle| handle.join().ok());
            String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
        };
        Finished {
            status,
            stdout: text(self.stdout.take()),
            stderr: text(self.stderr.take()),
            peak_kib,
        }
    }
}

/// What a hung runner is doing: each thread's state and wait channel, and its children.
fn hung_state(pid: u32) -> String {
    let mut out = String::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let tid = task.file_name().to_string_lossy().into_owned();
        let read = |file: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/{file}")).unwrap_or_default()
        };
        let stat = read("stat");
        let state = stat.rsplit_once(')').map_or("", |(_, rest)| rest.trim());
        let state: String = state.chars().take(3).collect();
        out.push_str(&format!(
            "thread {tid} {} {state} wchan {}\n",
            read("comm").trim(),
            read("wchan")
        ));
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(child_stat) = stat(child)
            && child_stat.parent == pid
        {
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline"))
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .unwrap_or_default();
            out.push_str(&format!("child {child} {child_stat:?} {cmdline}\n"));
        }
    }
    out
}

/// `VmHWM` of `pid`, in KiB.
fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every process of the run marked `token` that is still in the process table: live ones that
/// carry the token, and zombies re-parented to the test (a subreaper) from outside its own
/// process group, which only job processes can be. Each described as `pid state ppid pgrp
/// cmdline`.
pub fn leaks(token: &str) -> Vec<String> {
    let me = std::process::id();
    let my_group = nix::unistd::getpgrp().as_raw().unsigned_abs();
    let marker = format!("{TOKEN_VAR}={token}");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        panic!("cannot read /proc");
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(stat) = stat(pid) else { continue };
        let marked = std::fs::read(format!("/proc/{pid}/environ"))
            .map(|environ| {
                environ
                    .split(|&byte| byte == 0)
                    .any(|variable| variable == marker.as_bytes())
            })
            .unwrap_or(false);
        let stray_zombie = stat.state == 'Z' && stat.parent == me && stat.group != my_group;
        if marked || stray_zombie {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .unwrap_or_default();
            found.push(format!(
                "{pid} {} ppid {} pgrp {} {cmdline}",
                stat.state, stat.parent, stat.group
            ));
        }
    }
    found
}

/// The job outcomes a report may hold.
pub const OUTCOMES: [&str; 5] = ["completed", "failed", "panicked", "cancelled", "timed_out"];

/// Every job of a report node, as `path → node` (`group/job`, the root's name left out).
pub fn jobs_of(node: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    fn walk(node: &serde_json::Value, prefix: &str, out: &mut Vec<(String, serde_json::Value)>) {
        for child in node["children"].as_array().into_iter().flatten() {
            let name = child["name"].as_str().unwrap_or_default();
            let path = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}/{name}")
            };
            match child["type"].as_str() {
                Some("job") => out.push((path, child.clone())),
                Some("group") => walk(child, &path, out),
                other => panic!("a node of type {other:?}: {child}"),
            }
        }
    }
    let mut out = Vec::new();
    walk(node, "", &mut out);
    out
}

/// The job named `path` (`group/job`) in a report.
pub fn job(root: &serde_json::Value, path: &str) -> serde_json::Value {
    jobs_of(root)
        .into_iter()
        .find(|(name, _)| name == path)
        .map(|(_, node)| node)
        .unwrap_or_else(|| panic!("no job {path} in {root:#}"))
}

/// The report at `path` is this run's whole report, naming exactly the jobs `expected` with a
/// valid outcome and every field, or there is no file; either way no temporary file is left
/// beside it. Returns the report if there is one.
pub fn report_complete_or_absent(path: &Path, expected: &[&str]) -> Option<serde_json::Value> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or_default()
        .to_owned();
    let temporaries: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|file| file.starts_with(&format!(".{name}")) && file.ends_with(".tmp"))
        .collect();
    assert!(
        temporaries.is_empty(),
        "left beside the report: {temporaries:?}"
    );
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => panic!("{}: {error}", path.display()),
    };
    let root: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("a half-written report ({error}):\n{text}"));
    assert!(text.ends_with("}\n"), "the report does not end: {text}");
    let jobs = jobs_of(&root);
    let names: BTreeSet<&str> = jobs.iter().map(|(name, _)| name.as_str()).collect();
    let wanted: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(names, wanted, "the report's jobs:\n{root:#}");
    for (name, node) in &jobs {
        let outcome = node["outcome"].as_str().unwrap_or_default();
        assert!(OUTCOMES.contains(&outcome), "{name}: {node}");
        for field in [
            "exit_code",
            "signal",
            "attempts",
            "duration_ms",
            "command",
            "pid",
        ] {
            assert!(node.get(field).is_some(), "{name} has no {field}: {node}");
        }
        let attempts = node["attempts"].as_u64();
        assert!(attempts.is_some(), "{name}: {node}");
        if attempts == Some(0) {
            assert_eq!(outcome, "cancelled", "{name} never started: {node}");
            assert!(node["pid"].is_null(), "{name}: {node}");
        }
    }
    assert!(OUTCOMES.contains(&root["outcome"].as_str().unwrap_or_default()));
    Some(root)
}

/// The report at `path`, which must exist and be complete.
pub fn complete_report(path: &Path, expected: &[&str]) -> serde_json::Value {
    report_complete_or_absent(path, expected)
        .unwrap_or_else(|| panic!("no report at {}", path.display()))
}

/// A small seeded generator (SplitMix64): a failing run prints its seed, and the same seed
/// gives the same run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// From a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// True with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }
}

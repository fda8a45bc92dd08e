//! The real single-node Slurm the Slurm backend's tests run against (`scripts/slurm-up.sh`),
//! no mock: whether it is there, one test at a time, and what `squeue` lists.
//!
//! Without a usable Slurm the tests skip with a message saying how to get one; with
//! `TASKGROUP_REQUIRE_SLURM=1` (which `.ci/run` sets, after starting Slurm) they fail instead.

use std::fs::File;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

/// Set to `1` to make a missing Slurm a failure, not a skip.
pub const REQUIRE: &str = "TASKGROUP_REQUIRE_SLURM";

/// The node has 2 CPUs: tests that each fill it must not run at once, in this process
/// (threads) or in another (other test binaries, other people's test runs on this machine).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The lock file every Slurm test of every process takes.
const LOCK_FILE: &str = "/tmp/taskgroup-slurm-tests.lock";

/// Whether Slurm is usable, asked once per test binary.
static USABLE: OnceLock<Result<(), String>> = OnceLock::new();

/// Held while a test uses Slurm.
pub struct SlurmGuard {
    _file: Flock<File>,
    _lock: MutexGuard<'static, ()>,
}

/// A guard if Slurm is usable; `None` (after saying so) if it is not and the test should
/// skip. Panics if it is not and [`REQUIRE`] is set.
pub fn require(test: &str) -> Option<SlurmGuard> {
    let lock = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match USABLE.get_or_init(usable) {
        Ok(()) => {
            let file = File::options()
                .create(true)
                .append(true)
                .open(LOCK_FILE)
                .unwrap_or_else(|error| panic!("{LOCK_FILE}: {error}"));
            let file = Flock::lock(file, FlockArg::LockExclusive)
                .unwrap_or_else(|(_, errno)| panic!("{LOCK_FILE}: {errno}"));
            Some(SlurmGuard {
                _file: file,
                _lock: lock,
            })
        }
        Err(why) if std::env::var(REQUIRE).as_deref() == Ok("1") => {
            panic!("{test}: Slurm is required ({REQUIRE}=1) but {why}")
        }
        Err(why) => {
            // Straight to stderr, not `eprintln!`: the test harness captures that, and a
            // skip must be seen.
            let message = format!(
                "SKIPPED {test}: {why}; start a single-node Slurm with `sudo scripts/slurm-up.sh` \
                 (set {REQUIRE}=1 to make this a failure)\n"
            );
            let _ = std::io::stderr().write_all(message.as_bytes());
            None
        }
    }
}

/// Whether `sinfo` answers and shows a node that can run jobs.
fn usable() -> Result<(), String> {
    for command in ["srun", "scancel", "squeue", "sinfo", "salloc"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {command}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            return Err(format!("`{command}` is not in PATH"));
        }
    }
    let output = Command::new("timeout")
        .args(["5", "sinfo", "--noheader", "--format=%T"])
        .output()
        .map_err(|error| format!("sinfo cannot run: {error}"))?;
    let states = String::from_utf8_lossy(&output.stdout).into_owned();
    let healthy = ["idle", "mixed", "allocated", "completing"];
    if output.status.success() && states.lines().any(|state| healthy.contains(&state.trim())) {
        Ok(())
    } else {
        Err(format!(
            "sinfo shows no usable node ({}: {}{})",
            output.status,
            states.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The cluster's `ProctrackType`, e.g. `proctrack/cgroup`.
pub fn proctrack() -> String {
    let output = Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .unwrap_or_else(|error| panic!("scontrol: {error}"));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "ProctrackType").then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// A root group name no other test or run uses: the prefix of every Slurm name of the run.
pub fn unique(name: &str) -> String {
    format!("t{}-{name}", std::process::id())
}

/// The jobs and steps `squeue` lists whose name starts with `prefix`, as `ID NAME`.
pub fn listed(prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for steps in [false, true] {
        let mut command = Command::new("squeue");
        command.args(["--noheader", "--format=%i %j"]);
        if steps {
            command.arg("--steps");
        }
        let output = command
            .output()
            .unwrap_or_else(|error| panic!("squeue: {error}"));
        assert!(output.status.success(), "squeue: {}", output.status);
        found.extend(
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter(|line| {
                    line.split_whitespace()
                        .nth(1)
                        .is_some_and(|name| name.starts_with(prefix))
                })
                .map(str::to_owned),
        );
    }
    found
}

/// Waits until `squeue` lists a job or step of `prefix` in state `state` (`PENDING`,
/// `RUNNING`), bounded.
pub fn wait_listed_in_state(prefix: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let output = Command::new("squeue")
            .args(["--noheader", "--format=%j %T"])
            .output()
            .unwrap_or_else(|error| panic!("squeue: {error}"));
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if text.lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next().is_some_and(|name| name.starts_with(prefix)) && words.next() == Some(state)
        }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {state} job of {prefix} in squeue:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `salloc … taskgroup`: the runner runs inside an allocation of `cpus` CPUs (`SLURM_JOB_ID`
/// set), and its jobs are steps of it. Bounded: a hang fails the test.
pub fn in_allocation(cpus: u32) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new("salloc");
    command
        .args(salloc_args(cpus))
        .timeout(Duration::from_secs(20));
    command
}

/// `salloc`'s arguments for [`in_allocation`], the runner's binary last.
pub fn salloc_args(cpus: u32) -> Vec<std::ffi::OsString> {
    vec![
        "--quiet".into(),
        format!("--ntasks={cpus}").into(),
        format!("--job-name={}", unique("alloc")).into(),
        super::binary::binary().into_os_string(),
    ]
}

/// A runner started by a test: if the test fails before it has ended, it is interrupted (and
/// then killed), so that its steps do not hold the node for the tests after it.
pub struct Runner(pub Child);

impl Drop for Runner {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(self.0.id()).unwrap_or(i32::MAX));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

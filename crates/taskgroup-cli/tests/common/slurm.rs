//! The real single-node Slurm the Slurm backend's tests run against (`scripts/slurm-up.sh`),
//! no mock: whether it is there, one test at a time, and what `squeue` lists.
//!
//! Without a usable Slurm the tests skip with a message saying how to get one; with
//! `TASKGROUP_REQUIRE_SLURM=1` (which `.ci/run` sets, after starting Slurm) they fail instead.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Set to `1` to make a missing Slurm a failure, not a skip.
pub const REQUIRE: &str = "TASKGROUP_REQUIRE_SLURM";

/// The node has 2 CPUs: tests that each fill it must not run at once.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether Slurm is usable, asked once per test binary.
static USABLE: OnceLock<Result<(), String>> = OnceLock::new();

/// Held while a test uses Slurm.
pub struct SlurmGuard {
    _lock: MutexGuard<'static, ()>,
}

/// A guard if Slurm is usable; `None` (after saying so) if it is not and the test should
/// skip. Panics if it is not and [`REQUIRE`] is set.
pub fn require(test: &str) -> Option<SlurmGuard> {
    let lock = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match USABLE.get_or_init(usable) {
        Ok(()) => Some(SlurmGuard { _lock: lock }),
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

/// `salloc` for the command: the runner then runs inside an allocation of `cpus` CPUs
/// (`SLURM_JOB_ID` set), and its jobs are steps of it.
pub fn in_allocation(cpus: u32) -> Vec<String> {
    vec![
        "salloc".into(),
        "--quiet".into(),
        format!("--ntasks={cpus}"),
        format!("--job-name={}", unique("alloc")),
    ]
}

//! Stopping Slurm steps (issue 21) against the real single-node Slurm: fail-fast stops a
//! sibling with TERM through Slurm and kills it after the grace; a per-job timeout; SIGINT to
//! the runner cancels every step, a queued job included, and leaves nothing in `squeue` and
//! no process behind.
//!
//! Skipped with a message when no Slurm is usable; a failure with TASKGROUP_REQUIRE_SLURM=1.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::binary::{binary, both, child, report, survivors, wait_bounded, wait_for_pids};
use common::slurm::{
    Runner, listed, proctrack, require, salloc_args, unique, wait_listed_in_state,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Shell code that waits until `file` has `count` lines.
fn wait_lines(file: &Path, count: usize) -> String {
    format!(
        "while [ \"$(wc -l < {file} 2>/dev/null || echo 0)\" -lt {count} ]; do sleep 0.01; done",
        file = file.display()
    )
}

/// How a run went: its exit status, the time from when its jobs had all started to its
/// exit, its report, its output, and the processes its jobs wrote down.
struct Ran {
    status: Option<i32>,
    elapsed: Duration,
    report: serde_json::Value,
    output: String,
    processes: Vec<common::Identity>,
}

/// Runs `taskgroup run` on `source`, optionally under `salloc`, until it ends; its jobs have
/// started once `started` holds `count` pids.
fn run_file(source: &str, dir: &Path, allocation: bool, started: (&Path, usize)) -> Ran {
    let file = dir.join("jobs.toml");
    let json = dir.join("report.json");
    std::fs::write(&file, source).unwrap_or_else(|error| panic!("{error}"));
    let mut command = if allocation {
        let mut command = Command::new("salloc");
        command.args(salloc_args(2));
        command
    } else {
        Command::new(binary())
    };
    let mut runner = Runner(
        command
            .args(["run", "--quiet", "--json"])
            .arg(&json)
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{error}")),
    );
    let processes = wait_for_pids(started.0, started.1);
    let from = Instant::now();
    let (status, stdout, stderr) = wait_bounded(&mut runner.0, Duration::from_secs(10));
    Ran {
        status: status.code(),
        elapsed: from.elapsed(),
        report: report(&json),
        output: format!("{stdout}{stderr}"),
        processes,
    }
}

#[test]
fn fail_fast_stops_a_sibling_with_term_then_kills_it_after_the_grace() {
    let Some(_slurm) = require("fail_fast_stops_a_sibling_with_term_then_kills_it_after_the_grace")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let (pids, term) = (dir.path().join("pids"), dir.path().join("term"));
    let root = unique("failfast");
    // The stubborn job sees the TERM (its trap writes it down) and goes on: the grace ends it.
    let source = format!(
        "name = '{root}'\nbackend = 'slurm'\ngrace = '300ms'\n\
         [[job]]\nname = 'stubborn'\n\
         command = \"trap 'echo TERM >> {term}' TERM; echo $$ >> {pids}; while :; do sleep 0.05; done\"\n\
         [[job]]\nname = 'fails'\ncommand = '{wait}; exit 3'\n",
        term = term.display(),
        pids = pids.display(),
        wait = wait_lines(&pids, 1),
    );
    let Ran {
        status,
        elapsed,
        report,
        output,
        processes,
    } = run_file(&source, dir.path(), false, (&pids, 1));
    assert_eq!(status, Some(1), "{output}");
    let stubborn = child(&report, "stubborn");
    assert_eq!(stubborn["outcome"], "cancelled", "{report:#}");
    assert_eq!(stubborn["signal"], "SIGKILL", "{report:#}");
    assert_eq!(child(&report, "fails")["exit_code"], 3);
    assert_eq!(
        std::fs::read_to_string(&term).unwrap_or_default(),
        "TERM\n",
        "the TERM reached the job through Slurm, once"
    );
    // 300 ms of grace, then scancel: well within two seconds of the failure. With
    // proctrack/pgid Slurm itself takes 3 s to end a cancelled step (measured with a bare
    // srun too).
    let bound = match proctrack().as_str() {
        "proctrack/pgid" => Duration::from_secs(5),
        _ => Duration::from_secs(2),
    };
    assert!(elapsed < bound, "{elapsed:?}");
    assert!(
        survivors(&processes).is_empty(),
        "still alive: {processes:?}"
    );
    assert!(
        listed(&root).is_empty(),
        "left in Slurm: {:?}",
        listed(&root)
    );
}

#[test]
fn fail_fast_in_an_allocation_stops_a_sibling_gracefully() {
    let Some(_slurm) = require("fail_fast_in_an_allocation_stops_a_sibling_gracefully") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let (pids, term) = (dir.path().join("pids"), dir.path().join("term"));
    let root = unique("polite");
    let source = format!(
        "name = '{root}'\nbackend = 'slurm'\ngrace = '5s'\n\
         [[job]]\nname = 'polite'\n\
         command = \"trap 'echo TERM >> {term}; exit 0' TERM; echo $$ >> {pids}; while :; do sleep 0.05; done\"\n\
         [[job]]\nname = 'fails'\ncommand = '{wait}; exit 3'\n",
        term = term.display(),
        pids = pids.display(),
        wait = wait_lines(&pids, 1),
    );
    let Ran {
        status,
        elapsed,
        report,
        output,
        ..
    } = run_file(&source, dir.path(), true, (&pids, 1));
    assert_eq!(status, Some(1), "{output}");
    let polite = child(&report, "polite");
    // It ended by itself on the TERM, long before its 5 s of grace were over.
    assert_eq!(polite["outcome"], "cancelled", "{report:#}");
    assert_eq!(polite["exit_code"], 0, "{report:#}");
    assert_eq!(std::fs::read_to_string(&term).unwrap_or_default(), "TERM\n");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    // Both were steps of the runner's allocation.
    let fails = child(&report, "fails");
    assert_eq!(polite["slurm_job_id"], fails["slurm_job_id"], "{report:#}");
    assert!(
        listed(&root).is_empty(),
        "left in Slurm: {:?}",
        listed(&root)
    );
}

#[test]
fn a_per_job_timeout_stops_the_step_with_term() -> std::io::Result<()> {
    let Some(_slurm) = require("a_per_job_timeout_stops_the_step_with_term") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let term = dir.path().join("term");
    let json = dir.path().join("report.json");
    let line = format!(
        "trap 'echo TERM > {}; exit 143' TERM; while :; do sleep 0.05; done",
        term.display()
    );
    let started = Instant::now();
    let output = common::binary::taskgroup()
        .args([
            "exec",
            "--backend",
            "slurm",
            "--timeout",
            "600ms",
            "--grace",
            "2s",
        ])
        .args(["--quiet", "--json"])
        .arg(&json)
        .write_stdin(line + "\n")
        .output()?;
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let root = report(&json);
    let job = child(&root, "1");
    assert_eq!(job["outcome"], "timed_out", "{job:#}");
    assert_eq!(
        job["exit_code"], 143,
        "its own exit after the TERM: {job:#}"
    );
    assert_eq!(std::fs::read_to_string(&term)?, "TERM\n");
    assert!(
        job["duration_ms"].as_u64().is_some_and(|ms| ms >= 600),
        "{job:#}"
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    Ok(())
}

#[test]
fn sigint_to_the_runner_cancels_every_step_and_leaves_nothing() {
    let Some(_slurm) = require("sigint_to_the_runner_cancels_every_step_and_leaves_nothing") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let pids = dir.path().join("pids");
    let json = dir.path().join("report.json");
    let file = dir.path().join("jobs.toml");
    let root = unique("sigint");
    // Two jobs fill the node's 2 CPUs, each with a process that left its session; the third
    // waits in Slurm's queue.
    let job = |name: &str| {
        format!(
            "[[job]]\nname = '{name}'\n\
             command = \"setsid sh -c 'echo $$ >> {pids}; exec sleep 300' & echo $$ >> {pids}; exec sleep 300\"\n",
            pids = pids.display()
        )
    };
    std::fs::write(
        &file,
        format!(
            "name = '{root}'\nbackend = 'slurm'\ngrace = '300ms'\ncpus_per_task = 1\n{}{}{}",
            job("a"),
            job("b"),
            job("c")
        ),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let mut runner = Runner(
        Command::new(binary())
            .args(["run", "--quiet", "--json"])
            .arg(&json)
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{error}")),
    );
    // Two of the three run (two pids each), the third waits in Slurm's queue: which one is
    // Slurm's choice.
    let processes = wait_for_pids(&pids, 4);
    wait_listed_in_state(&format!("{root}/"), "PENDING");
    let pid = Pid::from_raw(i32::try_from(runner.0.id()).unwrap_or(i32::MAX));
    kill(pid, Signal::SIGINT).unwrap_or_else(|error| panic!("{error}"));
    let (status, stdout, stderr) = wait_bounded(&mut runner.0, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{stdout}{stderr}");
    // Nothing of the run is queued or running in Slurm, the moment the runner has exited.
    assert!(
        listed(&root).is_empty(),
        "left in Slurm: {:?}",
        listed(&root)
    );
    let left = survivors(&processes);
    let gone = common::eventually(|| survivors(&processes).is_empty());
    assert!(gone, "still alive: {left:?}");
    let report = report(&json);
    let (mut ran, mut queued) = (0, 0);
    for name in ["a", "b", "c"] {
        let job = child(&report, name);
        assert_eq!(job["outcome"], "cancelled", "{report:#}");
        if job["slurm_step_id"].is_null() {
            // Withdrawn from the queue: srun had named its job, no step ever ran.
            assert!(job["slurm_job_id"].is_u64(), "{job:#}");
            queued += 1;
        } else {
            assert_eq!(job["signal"], "SIGTERM", "{report:#}");
            ran += 1;
        }
    }
    assert_eq!((ran, queued), (2, 1), "{report:#}");
}

#[test]
fn a_runner_killed_by_sigkill_leaves_no_step_running() {
    let Some(_slurm) = require("a_runner_killed_by_sigkill_leaves_no_step_running") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let pids = dir.path().join("pids");
    let file = dir.path().join("jobs.toml");
    let root = unique("sigkill");
    std::fs::write(
        &file,
        format!(
            "name = '{root}'\nbackend = 'slurm'\n\
             [[job]]\nname = 'long'\ncommand = 'echo $$ >> {}; exec sleep 300'\n",
            pids.display()
        ),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let mut runner = Runner(
        Command::new(binary())
            .args(["run", "--quiet"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{error}")),
    );
    let processes = wait_for_pids(&pids, 1);
    // No chance to cancel anything: only its pipe to srun closes, which the step's wrapper
    // sees.
    runner.0.kill().unwrap_or_else(|error| panic!("{error}"));
    let _ = runner.0.wait();
    assert!(
        common::eventually(|| listed(&root).is_empty()),
        "left in Slurm: {:?}",
        listed(&root)
    );
    assert!(
        common::eventually(|| survivors(&processes).is_empty()),
        "still alive: {processes:?}"
    );
}

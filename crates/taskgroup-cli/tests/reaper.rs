//! The runner as a child subreaper: descendants that double-forked or called `setsid()` are
//! re-parented to it, and the sweep kills and reaps them all, checked by pid.
//!
//! The subreaper flag belongs to the whole test process and a sweep kills every child of it,
//! so the tests of this binary take turns (one lock) and nothing else here starts processes.

mod common;

use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::{Identity, PATIENCE, eventually, is_alive, is_reaped, parent_of, pids_written};
use taskgroup_cli::process::{OutputOptions, ProcessSpec, RunningJob, run_until_stopped, spawn};
use taskgroup_cli::reaper;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Takes this binary's turn and makes the test process a subreaper.
fn subreaper_turn() -> MutexGuard<'static, ()> {
    let turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    reaper::become_subreaper().unwrap_or_else(|error| panic!("{error}"));
    turn
}

/// Shell code that waits until the last background process (`$!`) has called `setsid()`.
const UNTIL_ESCAPED: &str =
    r#"while [ "$(cut -d' ' -f6 /proc/$!/stat)" != "$!" ]; do sleep 0.01; done"#;

fn shell(script: &str) -> RunningJob {
    spawn(&ProcessSpec::shell(script), OutputOptions::new())
        .unwrap_or_else(|error| panic!("{script}: {error}"))
}

fn my_pid() -> u32 {
    std::process::id()
}

fn sweep() -> reaper::SweepReport {
    reaper::sweep().unwrap_or_else(|error| panic!("sweep: {error}"))
}

fn assert_all_reaped(processes: &[Identity]) {
    for process in processes {
        assert!(
            is_reaped(*process),
            "{process:?} is still in the process table"
        );
    }
}

fn pid_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("pids")
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    actix_rt::System::new().block_on(future)
}

#[test]
fn the_runner_can_become_a_subreaper() -> io::Result<()> {
    let _turn = subreaper_turn();
    assert!(reaper::is_subreaper()?);
    Ok(())
}

#[test]
fn a_sweep_with_no_children_does_nothing() {
    let _turn = subreaper_turn();
    sweep();
    assert_eq!(sweep(), reaper::SweepReport::default());
}

#[test]
fn a_double_forked_grandchild_is_re_parented_to_the_runner_and_swept() -> io::Result<()> {
    let _turn = subreaper_turn();
    let dir = tempfile::tempdir()?;
    let pids = pid_file(&dir);
    run(async {
        let script = format!(
            "(sleep 100 & echo $! > {}) ; exec sleep 100",
            pids.display()
        );
        let mut job = shell(&script);
        let grandchild = pids_written(&pids, 1).await[0];
        // Its parent, the subshell, has exited: the subreaper (this process) adopted it.
        assert!(eventually(|| parent_of(grandchild) == Some(my_pid())));
        job.kill()?;
        assert_eq!(job.wait().await?.signal_name(), Some("SIGKILL"));
        let report = sweep();
        assert!(report.killed.contains(&grandchild.pid) || is_reaped(grandchild));
        assert!(job.has_exited(), "the leader is reaped by the wait");
        assert_all_reaped(&[grandchild]);
        Ok(())
    })
}

#[test]
fn a_setsid_escapee_survives_the_job_and_is_swept() -> io::Result<()> {
    let _turn = subreaper_turn();
    let dir = tempfile::tempdir()?;
    let pids = pid_file(&dir);
    run(async {
        let script = format!(
            "setsid sleep 100 & {UNTIL_ESCAPED}; echo $! > {}; exec sleep 100",
            pids.display()
        );
        let mut job = shell(&script);
        let escaped = pids_written(&pids, 1).await[0];
        job.terminate()?;
        assert_eq!(job.wait().await?.signal_name(), Some("SIGTERM"));
        // Outside the job's group, the stop did not reach it; its parent died, so it is ours.
        assert!(is_alive(escaped), "setsid did not escape the group");
        assert!(eventually(|| parent_of(escaped) == Some(my_pid())));
        let report = sweep();
        assert!(report.killed.contains(&escaped.pid), "{report:?}");
        assert_all_reaped(&[escaped]);
        Ok(())
    })
}

#[test]
fn a_forced_stop_of_a_job_that_ignores_sigterm_leaves_nothing_after_the_sweep() -> io::Result<()> {
    let _turn = subreaper_turn();
    let dir = tempfile::tempdir()?;
    let pids = pid_file(&dir);
    run(async {
        let script = format!(
            "trap '' TERM; echo $$ > {pids}; (sleep 100 & echo $! >> {pids}); \
             setsid sleep 100 & {UNTIL_ESCAPED}; echo $! >> {pids}; wait",
            pids = pids.display()
        );
        let job = shell(&script);
        let processes = pids_written(&pids, 3).await;
        let owned = async move {
            let mut job = job;
            run_until_stopped(&mut job, std::future::ready(())).await
        };
        let grace = Duration::from_millis(200);
        assert!(
            tokio::time::timeout(grace, owned).await.is_err(),
            "SIGTERM was not ignored"
        );
        // The drop sent SIGKILL to the group; the escapee is the sweep's.
        assert!(eventually(
            || !is_alive(processes[0]) && !is_alive(processes[1])
        ));
        assert!(is_alive(processes[2]));
        sweep();
        assert_all_reaped(&processes);
        Ok(())
    })
}

#[test]
fn descendants_that_escape_twice_are_swept_in_later_rounds() -> io::Result<()> {
    let _turn = subreaper_turn();
    let dir = tempfile::tempdir()?;
    let pids = pid_file(&dir);
    run(async {
        // The job starts A in a new session; A starts B in yet another one. Killing A and its
        // group does not reach B, which is then re-parented to the runner: a second round.
        let inner = format!(
            "setsid sleep 100 & {UNTIL_ESCAPED}; echo $! >> {pids}; echo $$ >> {pids}; exec sleep 100",
            pids = pids.display()
        );
        let script = format!(
            "setsid sh -c '{}' & exec sleep 100",
            inner.replace('\'', r"'\''")
        );
        let mut job = shell(&script);
        let processes = pids_written(&pids, 2).await;
        job.kill()?;
        job.wait().await?;
        assert!(processes.iter().all(|process| is_alive(*process)));
        let report = sweep();
        assert!(report.killed.len() >= 2, "{report:?}");
        assert_all_reaped(&processes);
        Ok(())
    })
}

#[test]
fn dropped_jobs_are_reaped_by_the_sweep_too() -> io::Result<()> {
    let _turn = subreaper_turn();
    let dir = tempfile::tempdir()?;
    let pids = pid_file(&dir);
    run(async {
        let job = shell(&format!("echo $$ > {}; exec sleep 100", pids.display()));
        let leader = pids_written(&pids, 1).await[0];
        drop(job);
        sweep();
        assert_all_reaped(&[leader]);
        Ok(())
    })
}

#[test]
fn every_sweep_finishes_quickly() -> io::Result<()> {
    let _turn = subreaper_turn();
    let dir = tempfile::tempdir()?;
    let pids = pid_file(&dir);
    run(async {
        // Twenty escaped processes at once.
        let script = format!(
            "for i in $(seq 20); do setsid sleep 100 & {UNTIL_ESCAPED}; echo $! >> {}; done; exec sleep 100",
            pids.display()
        );
        let mut job = shell(&script);
        let processes = pids_written(&pids, 20).await;
        job.kill()?;
        job.wait().await?;
        let started = std::time::Instant::now();
        sweep();
        assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
        assert_all_reaped(&processes);
        Ok(())
    })
}

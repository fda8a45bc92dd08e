//! No process a job started outlives the run (DESIGN §7): not when a sibling fails, not when
//! the runner gets SIGINT or SIGTERM. Every job writes the pids of what it starts to a file;
//! the test checks each one by pid (and start time), never by name.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::binary::{
    binary, both, child, report, survivors, taskgroup, wait_bounded, wait_for_pids,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Shell code for the job that fails: it waits until `go` exists, then exits 1. The test
/// creates `go` only once it has seen every pid the other jobs wrote: a job that failed as
/// soon as the pids were written raced the test, and the runner could kill a sibling before
/// the test had looked at it.
fn fail_on(go: &std::path::Path) -> String {
    format!(
        "while [ ! -e {go} ]; do sleep 0.01; done; exit 1",
        go = go.display()
    )
}

/// Runs `lines` with `exec -j 8 --grace 200ms`, fail-fast; returns the run's time from the
/// failure (from when the test let the failing job fail) to its end, and the report.
fn fail_fast(lines: &[String], pids_expected: usize) -> (Duration, serde_json::Value, Vec<u32>) {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let pids = dir.path().join("pids");
    let json = dir.path().join("report.json");
    let mut input: Vec<String> = lines
        .iter()
        .map(|line| line.replace("PIDS", &pids.display().to_string()))
        .collect();
    let go = dir.path().join("go");
    input.push(fail_on(&go));
    let mut runner = Command::new(binary())
        .args(["exec", "-j", "8", "--grace", "200ms", "--quiet", "--json"])
        .arg(&json)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{error}"));
    if let Some(mut stdin) = runner.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all((input.join("\n") + "\n").as_bytes());
    }
    let processes = wait_for_pids(&pids, pids_expected);
    std::fs::write(&go, "").unwrap_or_else(|error| panic!("{error}"));
    let failed_at = Instant::now();
    let (status, stdout, stderr) = wait_bounded(&mut runner, Duration::from_secs(5));
    let elapsed = failed_at.elapsed();
    assert_eq!(status.code(), Some(1), "{stdout}{stderr}");
    (elapsed, report(&json), survivors(&processes))
}

#[test]
fn fail_fast_kills_a_sibling_that_ignores_sigterm() {
    let stubborn = "trap '' TERM; echo $$ >> PIDS; while :; do sleep 0.05; done".to_owned();
    let (elapsed, root, left) = fail_fast(&[stubborn], 1);
    assert!(left.is_empty(), "still alive: {left:?}");
    // Grace is 200 ms: the run ends well within a second of the failure.
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
    let stubborn = child(&root, "1");
    assert_eq!(stubborn["outcome"], "cancelled");
    assert_eq!(stubborn["signal"], "SIGKILL");
    assert_eq!(child(&root, "2")["outcome"], "failed");
}

#[test]
fn fail_fast_kills_grandchildren_that_double_forked() {
    // The grandchild's parent exits at once: it is re-parented, and still in the job's group.
    let forker = "sh -c 'sleep 30 & echo $! >> PIDS'; echo $$ >> PIDS; sleep 30".to_owned();
    let (elapsed, _, left) = fail_fast(&[forker], 2);
    assert!(left.is_empty(), "still alive: {left:?}");
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
}

#[test]
fn fail_fast_sweeps_a_descendant_that_called_setsid() {
    // A new session leaves the job's process group: only the subreaper's sweep finds it.
    let escaper = "setsid sh -c 'echo $$ >> PIDS; exec sleep 30' & sleep 30".to_owned();
    let (elapsed, _, left) = fail_fast(&[escaper], 1);
    assert!(left.is_empty(), "still alive: {left:?}");
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
}

/// Starts a run whose jobs write pids (two ordinary sleeps, one `setsid` escapee, one that
/// ignores SIGTERM), sends `signal` to the runner once all are written, and checks that
/// nothing is left and the exit status is 128 + the signal.
fn interrupted_by(signal: Signal, expected_code: i32) {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let pids = dir.path().join("pids");
    let json = dir.path().join("report.json");
    let file = dir.path().join("jobs.toml");
    let p = pids.display();
    std::fs::write(
        &file,
        format!(
            "grace = '200ms'\n\
             [[job]]\nname = 'sleeper'\ncommand = 'echo $$ >> {p}; exec sleep 30'\n\
             [[group]]\nname = 'inner'\n\
             [[group.job]]\nname = 'escaper'\ncommand = \"setsid sh -c 'echo $$ >> {p}; exec sleep 30' & wait\"\n\
             [[group.job]]\nname = 'stubborn'\ncommand = \"trap '' TERM; echo $$ >> {p}; while :; do sleep 0.05; done\"\n"
        ),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let mut runner = Command::new(binary())
        .args(["run", "--quiet", "--json"])
        .arg(&json)
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{error}"));
    let processes = wait_for_pids(&pids, 3);
    let pid = Pid::from_raw(i32::try_from(runner.id()).unwrap_or(i32::MAX));
    kill(pid, signal).unwrap_or_else(|error| panic!("{error}"));
    let (status, stdout, stderr) = wait_bounded(&mut runner, Duration::from_secs(5));
    assert_eq!(status.code(), Some(expected_code), "{stdout}{stderr}");
    let left = survivors(&processes);
    assert!(left.is_empty(), "still alive: {left:?}");
    // The report is printed and written, every job cancelled.
    assert!(stdout.contains("cancelled"), "{stdout}");
    let root = report(&json);
    assert_eq!(root["outcome"], "cancelled");
    assert_eq!(child(&root, "sleeper")["outcome"], "cancelled");
    let inner = child(&root, "inner");
    assert_eq!(child(inner, "stubborn")["signal"], "SIGKILL");
}

#[test]
fn sigint_cancels_everything_reports_and_exits_130() {
    interrupted_by(Signal::SIGINT, 130);
}

#[test]
fn sigterm_cancels_everything_reports_and_exits_143() {
    interrupted_by(Signal::SIGTERM, 143);
}

#[test]
fn a_successful_run_leaves_no_stray_process_either() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    // The job ends once its escapee has written its pid (a file, not a sleep, orders them).
    let line = format!(
        "setsid sh -c 'echo $$ >> {p}; exec sleep 30' & while [ ! -s {p} ]; do sleep 0.01; done\n",
        p = pids.display()
    );
    let output = taskgroup()
        .args(["exec", "--quiet"])
        .write_stdin(line)
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    // The escapee wrote its pid before the runner ended; the runner has swept it since.
    let text = std::fs::read_to_string(&pids)?;
    let pid: u32 = text
        .trim()
        .parse()
        .unwrap_or_else(|error| panic!("{text:?}: {error}"));
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next());
    assert!(
        matches!(state, None | Some('Z')),
        "{pid} still runs: {state:?}"
    );
    Ok(())
}

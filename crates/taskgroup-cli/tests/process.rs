//! One job as a real process: exit codes, signals, SIGTERM then SIGKILL, the process group,
//! output capture under load, and start errors. Processes are checked by pid, never by name.
//!
//! This binary never makes itself a subreaper (that is `tests/reaper.rs`), so its tests can
//! run in parallel.

mod common;

use std::cell::RefCell;
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{PATIENCE, eventually, identify, is_alive, kill_if_alive, pids_written};
use taskgroup_cli::process::{
    ExitInfo, OUTPUT_LINGER, OutputOptions, OutputTail, ProcessSpec, RunningJob, Stream,
    run_until_stopped, spawn,
};

/// Shell code that waits until the last background process (`$!`) has called `setsid()`.
const UNTIL_ESCAPED: &str =
    r#"while [ "$(cut -d' ' -f6 /proc/$!/stat)" != "$!" ]; do sleep 0.01; done"#;

fn shell(script: &str) -> RunningJob {
    spawn(&ProcessSpec::shell(script), OutputOptions::new())
        .unwrap_or_else(|error| panic!("{script}: {error}"))
}

fn shell_with_tail(script: &str) -> (RunningJob, OutputTail) {
    let tail = OutputTail::new(64 * 1024);
    let job = spawn(
        &ProcessSpec::shell(script),
        OutputOptions::new().tail(tail.clone()),
    )
    .unwrap_or_else(|error| panic!("{script}: {error}"));
    (job, tail)
}

/// `wait()`, bounded so that a hang fails the test instead of stalling it.
async fn wait_bounded(job: &mut RunningJob) -> ExitInfo {
    match tokio::time::timeout(PATIENCE, job.wait()).await {
        Ok(Ok(exit)) => exit,
        Ok(Err(error)) => panic!("wait failed: {error}"),
        Err(_) => panic!("the job did not end within {PATIENCE:?}"),
    }
}

#[actix_rt::test]
async fn exit_codes_are_reported() {
    for code in [0, 1, 7, 255] {
        let mut job = shell(&format!("exit {code}"));
        let exit = wait_bounded(&mut job).await;
        assert_eq!(
            exit,
            ExitInfo {
                code: Some(code),
                signal: None
            }
        );
        assert_eq!(exit.success(), code == 0);
    }
}

#[actix_rt::test]
async fn a_job_killed_by_a_signal_reports_the_signal() {
    let mut job = shell("kill -KILL $$");
    let exit = wait_bounded(&mut job).await;
    assert_eq!((exit.code, exit.signal_name()), (None, Some("SIGKILL")));
}

#[actix_rt::test]
async fn waiting_again_returns_the_same_exit_at_once() {
    let mut job = shell("exit 3");
    let first = wait_bounded(&mut job).await;
    assert!(job.has_exited());
    assert_eq!(wait_bounded(&mut job).await, first);
    // Signals after the reaping are not sent (the group id may be someone else's by now).
    assert!(job.terminate().is_ok() && job.kill().is_ok());
}

#[actix_rt::test]
async fn the_job_leads_its_own_process_group_with_dev_null_as_stdin() {
    let (mut job, tail) = shell_with_tail("cat; cut -d' ' -f5 /proc/$$/stat");
    let pid = job.pid();
    let exit = wait_bounded(&mut job).await;
    assert!(exit.success(), "{exit}: {}", tail.text());
    // `cat` read /dev/null and ended at once; the group id printed is the job's own pid.
    assert_eq!(tail.text().trim(), pid.to_string());
}

#[actix_rt::test]
async fn environment_and_working_directory_are_applied() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let spec = ProcessSpec::shell("echo \"$GREETING\"; pwd")
        .env("GREETING", "hello")
        .cwd(dir.path());
    let tail = OutputTail::new(1024);
    let mut job = spawn(&spec, OutputOptions::new().tail(tail.clone()))?;
    wait_bounded(&mut job).await;
    let expected = format!("hello\n{}\n", dir.path().canonicalize()?.display());
    assert_eq!(tail.text(), expected);
    Ok(())
}

#[actix_rt::test]
async fn stopping_sends_sigterm_to_the_group() {
    let started = Instant::now();
    let mut job = shell("sleep 100");
    let stop = tokio::time::sleep(Duration::from_millis(50));
    let exit = run_until_stopped(&mut job, stop).await;
    let exit = exit.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(exit.signal_name(), Some("SIGTERM"));
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
}

#[actix_rt::test]
async fn a_job_that_ends_before_the_stop_is_not_signalled() {
    let mut job = shell("exit 5");
    let exit = run_until_stopped(&mut job, std::future::pending()).await;
    assert_eq!(exit.ok().and_then(|exit| exit.code), Some(5));
}

#[actix_rt::test]
async fn kill_sends_sigkill() {
    let mut job = shell("sleep 100");
    job.kill().unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(wait_bounded(&mut job).await.signal_name(), Some("SIGKILL"));
}

#[actix_rt::test]
async fn a_job_that_ignores_sigterm_is_killed_when_its_future_is_dropped() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    let script = format!(
        "trap '' TERM; echo $$ > {pids}; sleep 100 & echo $! >> {pids}; wait",
        pids = pids.display()
    );
    let job = shell(&script);
    let processes = pids_written(&pids, 2).await;
    // The library's forced stop: the grace period ends and the future owning the job is
    // dropped, SIGTERM having been ignored meanwhile.
    let grace = Duration::from_millis(200);
    let owned = async move {
        let mut job = job;
        run_until_stopped(&mut job, std::future::ready(())).await
    };
    let started = Instant::now();
    assert!(
        tokio::time::timeout(grace, owned).await.is_err(),
        "SIGTERM was not ignored"
    );
    assert!(started.elapsed() >= grace);
    for process in processes {
        assert!(
            eventually(|| !is_alive(process)),
            "{process:?} survived the drop"
        );
    }
    Ok(())
}

#[actix_rt::test]
async fn dropping_a_job_never_waited_for_kills_its_group() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    let job = shell(&format!("sleep 100 & echo $! > {}; wait", pids.display()));
    let leader = identify(job.pid());
    let processes = pids_written(&pids, 1).await;
    drop(job);
    for process in processes.into_iter().chain([leader]) {
        assert!(
            eventually(|| !is_alive(process)),
            "{process:?} survived the drop"
        );
    }
    Ok(())
}

#[actix_rt::test]
async fn a_double_forked_grandchild_in_the_group_is_stopped_with_it() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    let script = format!("(sleep 100 & echo $! > {}) ; sleep 100", pids.display());
    let mut job = shell(&script);
    let grandchild = pids_written(&pids, 1).await[0];
    assert_ne!(
        common::parent_of(grandchild),
        Some(job.pid()),
        "not re-parented yet"
    );
    job.terminate()?;
    assert_eq!(wait_bounded(&mut job).await.signal_name(), Some("SIGTERM"));
    assert!(
        eventually(|| !is_alive(grandchild)),
        "the grandchild survived"
    );
    Ok(())
}

#[actix_rt::test]
async fn what_a_job_leaves_in_its_group_is_killed_when_it_exits() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    let started = Instant::now();
    let mut job = shell(&format!("sleep 100 & echo $! > {}; exit 0", pids.display()));
    let leftover = pids_written(&pids, 1).await[0];
    assert!(wait_bounded(&mut job).await.success());
    // The leftover held the pipes open: killing it at the exit is what ended the wait early.
    assert!(started.elapsed() < PATIENCE);
    assert!(
        eventually(|| !is_alive(leftover)),
        "the leftover survived the exit"
    );
    Ok(())
}

#[actix_rt::test]
async fn a_process_that_escaped_the_group_cannot_hold_the_job_open() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    // The job ends only once its child has really left the group (its session id is its pid).
    let script = format!(
        "setsid sleep 100 & {UNTIL_ESCAPED}; echo $! > {}; exit 0",
        pids.display()
    );
    let mut job = shell(&script);
    let escaped = pids_written(&pids, 1).await[0];
    let started = Instant::now();
    assert!(wait_bounded(&mut job).await.success());
    // It holds stdout and stderr open, and outside the group it cannot be killed by the job:
    // the wait gives up on the pipes after the linger (the runner's sweep kills it).
    assert!(
        started.elapsed() >= OUTPUT_LINGER / 2,
        "{:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < PATIENCE);
    assert!(is_alive(escaped), "setsid did not escape the group");
    kill_if_alive(escaped);
    Ok(())
}

#[actix_rt::test]
async fn megabytes_of_output_on_both_streams_neither_block_nor_grow_the_tail() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("job.1.log");
    let tail = OutputTail::new(64 * 1024);
    let lines = Rc::new(RefCell::new([0usize; 2]));
    let counter = Rc::clone(&lines);
    let options = OutputOptions::new()
        .tail(tail.clone())
        .log_file(&log)
        .on_line(move |stream, _| counter.borrow_mut()[stream as usize] += 1);
    // 10 MB in all: 5 MB of 16-byte lines on each stream, written concurrently.
    let script =
        "yes 0123456789abcde | head -c 5242880 & yes 0123456789ABCDE | head -c 5242880 >&2; wait";
    let started = Instant::now();
    let mut job = spawn(&ProcessSpec::shell(script), options)?;
    let exit = wait_bounded(&mut job).await;
    assert!(exit.success(), "{exit}");
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    assert_eq!(std::fs::metadata(&log)?.len(), 10 * 1024 * 1024);
    assert_eq!(*lines.borrow(), [5242880 / 16; 2]);
    let kept: usize = tail.lines().iter().map(|line| line.text.len()).sum();
    assert!(kept <= 64 * 1024 && kept > 60 * 1024, "{kept} bytes kept");
    assert_eq!(
        tail.omitted_lines() as usize + tail.lines().len(),
        2 * 5242880 / 16
    );
    assert!(job.log_error().is_none());
    Ok(())
}

#[actix_rt::test]
async fn a_job_that_closes_stdout_early_is_still_read_and_waited_for() {
    let (mut job, tail) =
        shell_with_tail("echo first; exec >&-; sleep 0.1; echo later >&2; exit 4");
    assert_eq!(wait_bounded(&mut job).await.code, Some(4));
    let lines: Vec<(Stream, String)> = tail
        .lines()
        .into_iter()
        .map(|line| (line.stream, line.text))
        .collect();
    assert_eq!(
        lines,
        [
            (Stream::Stdout, "first".to_owned()),
            (Stream::Stderr, "later".to_owned())
        ]
    );
}

#[actix_rt::test]
async fn the_line_hook_sees_every_line_in_order_per_stream() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let record = Rc::clone(&seen);
    let options = OutputOptions::new().on_line(move |stream, line| {
        record.borrow_mut().push(format!("{stream}:{line}"));
    });
    let script = "echo one; echo two >&2; echo three; printf 'no newline'";
    let mut job = spawn(&ProcessSpec::shell(script), options).unwrap_or_else(|e| panic!("{e}"));
    wait_bounded(&mut job).await;
    let seen = seen.borrow();
    let stdout: Vec<&String> = seen
        .iter()
        .filter(|line| line.starts_with("stdout:"))
        .collect();
    assert_eq!(stdout, ["stdout:one", "stdout:three", "stdout:no newline"]);
    assert!(seen.contains(&"stderr:two".to_owned()));
}

#[actix_rt::test]
async fn wait_is_cancel_safe() {
    let (mut job, tail) =
        shell_with_tail("for i in 1 2 3 4 5; do echo $i; sleep 0.03; done; exit 2");
    let mut cancelled = 0;
    let exit = loop {
        match tokio::time::timeout(Duration::from_millis(5), job.wait()).await {
            Ok(exit) => break exit.unwrap_or_else(|error| panic!("{error}")),
            Err(_) => cancelled += 1,
        }
        assert!(cancelled < 1_000, "the job never ended");
    };
    assert!(cancelled > 3, "the wait was never cancelled");
    assert_eq!(exit.code, Some(2));
    assert_eq!(tail.text(), "1\n2\n3\n4\n5\n");
}

#[actix_rt::test]
async fn a_command_that_does_not_exist_is_an_error_with_the_os_text() {
    let spec = ProcessSpec::argv(&["/nonexistent/program", "--flag"]);
    let error = spawn(&spec, OutputOptions::new())
        .err()
        .unwrap_or_else(|| panic!("started"));
    assert_eq!(error.kind(), io::ErrorKind::NotFound);
    let message = error.to_string();
    assert!(
        message.contains("cannot start `/nonexistent/program`: No such file or directory"),
        "{message}"
    );
    let spec = ProcessSpec::argv(&["no-such-program-in-path"]);
    let message = spawn(&spec, OutputOptions::new())
        .err()
        .map(|e| e.to_string());
    assert!(
        message
            .unwrap_or_default()
            .contains("No such file or directory")
    );
}

#[actix_rt::test]
async fn a_file_that_is_not_executable_is_an_error_with_the_os_text() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n")?;
    let error = spawn(&ProcessSpec::argv(&[&script]), OutputOptions::new())
        .err()
        .unwrap_or_else(|| panic!("started"));
    assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    assert!(error.to_string().contains("Permission denied"), "{error}");
    Ok(())
}

#[actix_rt::test]
async fn a_missing_working_directory_is_named() {
    let spec = ProcessSpec::shell("true").cwd(Path::new("/nonexistent/dir"));
    let message = spawn(&spec, OutputOptions::new())
        .err()
        .map(|e| e.to_string());
    let message = message.unwrap_or_default();
    assert!(
        message.contains("working directory /nonexistent/dir"),
        "{message}"
    );
}

//! `taskgroup run FILE` and the demo, through the real binary: restarts with backoff,
//! readiness gating a later group, services, group deadlines, nesting in the report, log
//! file names from hostile job names.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::binary::{both, child, report, taskgroup, text};

/// Writes `source` as a job file in `dir` and runs it with `--quiet --json`; returns the
/// output and the report.
fn run(dir: &Path, source: &str, extra: &[&str]) -> (std::process::Output, serde_json::Value) {
    let file = dir.join("jobs.toml");
    let json = dir.join("report.json");
    std::fs::write(&file, source).unwrap_or_else(|error| panic!("{error}"));
    let output = taskgroup()
        .args(["run", "--grace", "200ms", "--quiet", "--json"])
        .arg(&json)
        .args(extra)
        .arg(&file)
        .output()
        .unwrap_or_else(|error| panic!("{error}"));
    let root = if json.exists() {
        report(&json)
    } else {
        panic!("no report: {}", both(&output))
    };
    (output, root)
}

#[test]
fn the_demo_runs_and_succeeds_with_every_feature_in_its_report() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let output = taskgroup().current_dir(dir.path()).output()?;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let stdout = text(&output.stdout);
    for line in [
        "database",
        "cancelled",
        "fetch-deps",
        "3 attempts",
        "lint",
        "failed",
        "best effort",
        "tests",
        "timed_out",
        "slow-e2e",
    ] {
        assert!(stdout.contains(line), "{line} missing:\n{stdout}");
    }
    // Off a terminal the live view is plain lines, one per event, on stderr.
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("build/fetch-deps restarting in"),
        "{stderr}"
    );
    assert!(
        stderr.contains("group tests stopping (deadline)"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn a_flaky_job_is_restarted_with_backoff_until_it_succeeds() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let (output, root) = run(
        dir.path(),
        "backoff = { base = '100ms', factor = 2.0 }\n\
         [[job]]\nname = 'flaky'\ncommand = '[ \"$TASKGROUP_ATTEMPT\" -ge 3 ]'\n\
         restart = 'transient'\nattempts = 5\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let flaky = child(&root, "flaky");
    assert_eq!(flaky["outcome"], "completed");
    assert_eq!(flaky["attempts"], 3);
    // 100 ms before the second attempt, 200 ms before the third.
    let duration = flaky["duration_ms"].as_u64().unwrap_or_default();
    assert!(duration >= 290, "{duration} ms: the backoff was not waited");
    Ok(())
}

#[test]
fn a_restart_limit_fails_the_run() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let (output, root) = run(
        dir.path(),
        "intensity = { max_restarts = 1, window = '10s' }\n\
         [[job]]\nname = 'crashy'\ncommand = 'exit 1'\nrestart = 'permanent'\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert_eq!(root["outcome"], "failed");
    assert_eq!(child(&root, "crashy")["attempts"], 2);
    let error = root["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("restart limit") || error.contains("restarted too often"),
        "{error}"
    );
    Ok(())
}

#[test]
fn readiness_gates_a_later_group_and_the_service_is_cancelled_at_the_end() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let marker = dir.path().join("service-up");
    let (output, root) = run(
        dir.path(),
        &format!(
            "ready_timeout = '5s'\n\
             [[job]]\nname = 'db'\nservice = true\nready = {{ stdout = 'listening' }}\n\
             command = 'sleep 0.3; touch {m}; echo listening; exec sleep 30'\n\
             [[group]]\nname = 'suite'\n\
             [[group.job]]\nname = 'uses-db'\ncommand = 'test -f {m}'\n",
            m = marker.display()
        ),
        &[],
    );
    // `uses-db` fails unless it started after the service said it was ready.
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(
        child(child(&root, "suite"), "uses-db")["outcome"],
        "completed"
    );
    let db = child(&root, "db");
    assert_eq!(db["outcome"], "cancelled");
    assert_eq!(db["signal"], "SIGTERM");
    Ok(())
}

#[test]
fn a_job_that_is_never_ready_fails_the_start_naming_it() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let (output, root) = run(
        dir.path(),
        "ready_timeout = '300ms'\n\
         [[job]]\nname = 'mute'\nservice = true\nready = { stdout = 'up' }\ncommand = 'exec sleep 30'\n\
         [[job]]\nname = 'after'\ncommand = 'true'\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(started.elapsed() < Duration::from_secs(3));
    let error = root["error"].as_str().unwrap_or_default();
    assert!(error.contains("mute"), "{error}");
    assert_eq!(child(&root, "after")["attempts"], 0);
    Ok(())
}

#[test]
fn a_group_deadline_keeps_what_completed_and_fails_the_run() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let (output, root) = run(
        dir.path(),
        "[[group]]\nname = 'batch'\ndeadline = '400ms'\n\
         [[group.job]]\nname = 'quick'\ncommand = 'true'\n\
         [[group.job]]\nname = 'slow'\ncommand = 'exec sleep 30'\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(started.elapsed() < Duration::from_secs(3));
    let batch = child(&root, "batch");
    assert_eq!(batch["type"], "group");
    assert_eq!(batch["outcome"], "timed_out");
    assert_eq!(child(batch, "quick")["outcome"], "completed");
    assert_eq!(child(batch, "slow")["outcome"], "cancelled");
    Ok(())
}

#[test]
fn queued_jobs_of_a_stopped_group_are_reported_as_never_started() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let (output, root) = run(
        dir.path(),
        "limit = 1\n\
         [[job]]\nname = 'boom'\ncommand = 'exit 4'\n\
         [[job]]\nname = 'waiting'\ncommand = 'true'\n\
         [[group]]\nname = 'later'\n[[group.job]]\nname = 'inner'\ncommand = 'true'\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert_eq!(child(&root, "boom")["exit_code"], 4);
    for name in ["waiting", "later"] {
        let node = child(&root, name);
        assert_eq!(
            (&node["outcome"], &node["attempts"]),
            (&"cancelled".into(), &0.into())
        );
    }
    // A group that never started still lists its jobs.
    assert_eq!(child(child(&root, "later"), "inner")["attempts"], 0);
    Ok(())
}

#[test]
fn hostile_job_names_never_write_outside_the_output_dir() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let logs = dir.path().join("out").join("logs");
    let logs_arg = logs.display().to_string();
    let (output, _) = run(
        dir.path(),
        "[[job]]\nname = '../../x'\ncommand = 'echo a'\n\
         [[job]]\nname = '/etc/passwd'\ncommand = 'echo b'\n",
        &["--output-dir", &logs_arg],
    );
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let mut names: Vec<String> = std::fs::read_dir(&logs)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    assert_eq!(names, ["0-x.1.log", "1-etc_passwd.1.log"]);
    // Only the job file, the report and `out/` are in the directory; `out/` has only `logs/`.
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 3);
    assert_eq!(std::fs::read_dir(dir.path().join("out"))?.count(), 1);
    Ok(())
}

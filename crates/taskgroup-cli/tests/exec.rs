//! `taskgroup exec`, driven through the real binary with real processes: halt policies,
//! retries, timeouts, the JSON report, stdin as a stream of jobs.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::binary::{binary, both, child, report, taskgroup, text, wait_bounded};

#[test]
fn an_empty_stdin_is_success() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let output = taskgroup()
        .args(["exec", "--quiet", "--json"])
        .arg(&json)
        .write_stdin("")
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let root = report(&json);
    assert_eq!(root["outcome"], "completed");
    assert_eq!(root["children"].as_array().map(Vec::len), Some(0));
    Ok(())
}

#[test]
fn the_json_report_has_every_field_per_line_in_input_order() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let output = taskgroup()
        .args(["exec", "--halt", "keep-going", "--grace", "200ms", "--json"])
        .arg(&json)
        .write_stdin("echo one\n\nexit 7\nkill -KILL $$\n")
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let root = report(&json);
    assert_eq!(root["name"], "exec");
    assert_eq!(root["outcome"], "failed");
    let names: Vec<&str> = root["children"]
        .as_array()
        .map(|children| children.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    // Named by line number: the blank line 2 is no job, and does not shift the names.
    assert_eq!(names, ["1", "3", "4"]);
    let one = child(&root, "1");
    assert_eq!(one["outcome"], "completed");
    assert_eq!(one["exit_code"], 0);
    assert_eq!(one["signal"], serde_json::Value::Null);
    assert_eq!(one["attempts"], 1);
    assert_eq!(one["command"], "echo one");
    assert!(one["duration_ms"].is_u64(), "{one}");
    let seven = child(&root, "3");
    assert_eq!(
        (&seven["outcome"], &seven["exit_code"]),
        (&"failed".into(), &7.into())
    );
    let killed = child(&root, "4");
    assert_eq!(killed["outcome"], "failed");
    assert_eq!(killed["exit_code"], serde_json::Value::Null);
    assert_eq!(killed["signal"], "SIGKILL");
    // Job output goes to stdout, grouped per job; the report follows it.
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("one\n"), "{stdout}");
    Ok(())
}

#[test]
fn keep_going_runs_everything_and_reports_every_failure() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let output = taskgroup()
        .args([
            "exec",
            "-j",
            "2",
            "--halt",
            "collect-all",
            "--quiet",
            "--json",
        ])
        .arg(&json)
        .write_stdin("exit 1\nexit 2\ntrue\nexit 3\n")
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let root = report(&json);
    let outcomes: Vec<&str> = ["1", "2", "3", "4"]
        .iter()
        .map(|name| child(&root, name)["outcome"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(outcomes, ["failed", "failed", "completed", "failed"]);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("3 failed"), "{stdout}");
    for code in ["exit code 1", "exit code 2", "exit code 3"] {
        assert!(stdout.contains(code), "{code} missing:\n{stdout}");
    }
    Ok(())
}

#[test]
fn first_success_ends_the_race_early() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let started = Instant::now();
    let output = taskgroup()
        .args([
            "exec",
            "-j",
            "3",
            "--halt",
            "first-success",
            "--grace",
            "200ms",
        ])
        .args(["--quiet", "--json"])
        .arg(&json)
        .write_stdin("exit 1\nsleep 0.2\nsleep 30\n")
        .output()?;
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let root = report(&json);
    assert_eq!(child(&root, "1")["outcome"], "failed");
    assert_eq!(child(&root, "2")["outcome"], "completed");
    assert_eq!(child(&root, "3")["outcome"], "cancelled");
    assert_eq!(child(&root, "3")["signal"], "SIGTERM");
    Ok(())
}

#[test]
fn retries_run_a_failed_job_again_and_count_attempts() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let output = taskgroup()
        .args([
            "exec",
            "--retries",
            "2",
            "--halt",
            "keep-going",
            "--quiet",
            "--json",
        ])
        .arg(&json)
        .write_stdin("exit 1\n[ \"$TASKGROUP_ATTEMPT\" -ge 2 ]\ntrue\n")
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let root = report(&json);
    let always = child(&root, "1");
    assert_eq!(
        (&always["outcome"], &always["attempts"]),
        (&"failed".into(), &3.into())
    );
    let second = child(&root, "2");
    assert_eq!(
        (&second["outcome"], &second["attempts"]),
        (&"completed".into(), &2.into())
    );
    assert_eq!(child(&root, "3")["attempts"], 1);
    Ok(())
}

#[test]
fn a_job_past_its_timeout_is_stopped_as_timed_out() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let started = Instant::now();
    let output = taskgroup()
        .args([
            "exec",
            "--timeout",
            "300ms",
            "--grace",
            "200ms",
            "--halt",
            "keep-going",
        ])
        .args(["--quiet", "--json"])
        .arg(&json)
        .write_stdin("sleep 30\ntrue\n")
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(started.elapsed() < Duration::from_secs(3));
    let root = report(&json);
    let slow = child(&root, "1");
    assert_eq!(slow["outcome"], "timed_out");
    assert_eq!(slow["signal"], "SIGTERM");
    assert_eq!(child(&root, "2")["outcome"], "completed");
    Ok(())
}

#[test]
fn jobs_get_dev_null_as_stdin_and_cannot_eat_the_job_lines() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let output = taskgroup()
        .args(["exec", "-j", "1", "--json"])
        .arg(&json)
        .write_stdin("cat; echo cat-read-nothing\necho second\n")
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("cat-read-nothing\nsecond\n"), "{stdout}");
    assert_eq!(report(&json)["children"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[test]
fn a_command_that_cannot_start_is_that_job_s_failure() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let not_executable = dir.path().join("script.sh");
    std::fs::write(&not_executable, "#!/bin/sh\ntrue\n")?;
    let file = dir.path().join("jobs.toml");
    std::fs::write(
        &file,
        format!(
            "policy = 'collect-all'\n[[job]]\nname = 'ghost'\ncommand = ['/nonexistent/program']\n\
             [[job]]\nname = 'locked'\ncommand = ['{}']\n\
             [[job]]\nname = 'fine'\ncommand = 'true'\n",
            not_executable.display()
        ),
    )?;
    let json = dir.path().join("report.json");
    let output = taskgroup()
        .args(["run", "--quiet", "--json"])
        .arg(&json)
        .arg(&file)
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let root = report(&json);
    let ghost = child(&root, "ghost");
    assert_eq!(ghost["outcome"], "failed");
    assert_eq!(ghost["exit_code"], serde_json::Value::Null);
    let error = ghost["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cannot start `/nonexistent/program`") && error.contains("No such file"),
        "{error}"
    );
    let locked = child(&root, "locked");
    assert_eq!(locked["outcome"], "failed");
    let error = locked["error"].as_str().unwrap_or_default();
    assert!(error.contains("Permission denied"), "{error}");
    assert_eq!(child(&root, "fine")["outcome"], "completed");
    Ok(())
}

#[test]
fn jobs_start_as_lines_arrive_while_stdin_stays_open() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let first = dir.path().join("first-ran");
    let mut runner = Command::new(binary())
        .args(["exec", "--quiet", "--json"])
        .arg(&json)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let Some(mut stdin) = runner.stdin.take() else {
        panic!("no stdin");
    };
    writeln!(stdin, "touch {}", first.display())?;
    stdin.flush()?;
    // The first job runs while stdin is still open: the runner does not wait for the end.
    assert!(
        common::eventually(|| first.exists()),
        "the first line did not run before stdin was closed"
    );
    writeln!(stdin, "echo second")?;
    drop(stdin);
    let (status, stdout, stderr) = wait_bounded(&mut runner, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    let root = report(&json);
    assert_eq!(child(&root, "1")["outcome"], "completed");
    assert_eq!(child(&root, "2")["outcome"], "completed");
    Ok(())
}

#[test]
fn output_dir_keeps_one_log_per_attempt_and_writes_only_inside() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let logs = dir.path().join("logs");
    let output = taskgroup()
        .args(["exec", "--retries", "1", "--quiet", "--output-dir"])
        .arg(&logs)
        .write_stdin("echo attempt $TASKGROUP_ATTEMPT; [ $TASKGROUP_ATTEMPT -ge 2 ]\necho ../../../x > /dev/null\n")
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let mut names: Vec<String> = std::fs::read_dir(&logs)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    assert_eq!(names, ["1-1.1.log", "1-1.2.log", "2-2.1.log"]);
    assert_eq!(
        std::fs::read_to_string(logs.join("1-1.2.log"))?,
        "attempt 2\n"
    );
    // Nothing beside the output directory.
    let beside: Vec<_> = std::fs::read_dir(dir.path())?.collect();
    assert_eq!(beside.len(), 1);
    Ok(())
}

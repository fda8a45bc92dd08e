//! Bad input gets a clear error and exit status 2, and no job starts (issue 16 §7). Every
//! file below also holds a job that would leave a marker file if anything ran.

mod common;

use std::path::Path;

use common::binary::{both, taskgroup, text};

/// Runs `taskgroup run` on `source` (with `MARKER` replaced by a path) and checks exit 2, a
/// message containing `expected`, and that the marker job never ran.
fn rejected(source: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let marker = dir.path().join("ran");
    let file = dir.path().join("jobs.toml");
    let source = format!(
        "[[job]]\nname = 'marker'\ncommand = ['touch', '{}']\n{source}",
        marker.display()
    );
    std::fs::write(&file, &source).unwrap_or_else(|error| panic!("{error}"));
    let output = taskgroup()
        .arg("run")
        .arg(&file)
        .output()
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(output.status.code(), Some(2), "{source}\n{}", both(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(expected), "{expected:?} missing:\n{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(
        !marker.exists(),
        "a job ran although the input is bad:\n{source}"
    );
}

#[test]
fn malformed_toml_names_the_line_and_column() {
    rejected("[[job]\nname = 'x'\n", "jobs.toml:4:");
}

#[test]
fn unknown_keys_are_refused() {
    rejected(
        "[[job]]\nname = 'x'\ncomand = 'true'\n",
        "unknown field `comand`",
    );
    rejected("limt = 2\n", "unknown field `limt`");
}

#[test]
fn a_job_without_a_command_is_refused() {
    rejected("[[job]]\nname = 'x'\n", "missing field `command`");
}

#[test]
fn duplicate_names_in_a_group_are_refused() {
    rejected(
        "[[job]]\nname = 'marker'\ncommand = 'true'\n",
        "duplicate name `marker`",
    );
}

#[test]
fn a_bad_duration_is_refused() {
    rejected(
        "[[job]]\nname = 'x'\ncommand = 'true'\ntimeout = '5'\n",
        "has no unit",
    );
}

#[test]
fn contradictory_settings_are_refused() {
    rejected(
        "[[job]]\nname = 'x'\ncommand = 'true'\nservice = true\nbest_effort = true\n",
        "both `service` and `best_effort`",
    );
}

#[test]
fn the_slurm_backend_without_slurm_runs_nothing() -> std::io::Result<()> {
    // No Slurm commands in PATH: the batch is refused before any job starts, locally or not.
    let dir = tempfile::tempdir()?;
    let marker = dir.path().join("ran");
    let file = dir.path().join("jobs.toml");
    let source = format!(
        "backend = 'slurm'\n[[job]]\nname = 'marker'\ncommand = ['/usr/bin/touch', '{}']\n",
        marker.display()
    );
    std::fs::write(&file, &source)?;
    let output = taskgroup()
        .arg("run")
        .arg(&file)
        .env("PATH", dir.path())
        .output()?;
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("needs `srun`"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    let output = taskgroup()
        .args(["exec", "--backend", "slurm"])
        .env("PATH", dir.path())
        .write_stdin(format!("/usr/bin/touch {}\n", marker.display()))
        .output()?;
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(!marker.exists(), "a job ran without Slurm");
    Ok(())
}

#[test]
fn a_file_that_does_not_exist_is_refused() -> std::io::Result<()> {
    let output = taskgroup()
        .args(["run", "/nonexistent/jobs.toml"])
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/nonexistent/jobs.toml"));
    Ok(())
}

#[test]
fn exec_usage_errors_run_nothing() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let marker = dir.path().join("ran");
    let line = format!("touch {}\n", marker.display());
    let missing_dir = dir.path().join("no/such/dir/report.json");
    let missing = missing_dir.display().to_string();
    for args in [
        &["exec", "-j", "0"][..],
        &["exec", "--halt", "whenever"],
        &["exec", "--timeout", "5"],
        &["exec", "--grace", "soon"],
        &["exec", "--retries", "-1"],
        &["exec", "--json", &missing],
    ] {
        let output = taskgroup().args(args).write_stdin(line.clone()).output()?;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", both(&output));
        assert!(!marker.exists(), "{args:?} ran a job");
    }
    Ok(())
}

#[test]
fn check_validates_without_running() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let marker = dir.path().join("ran");
    let file = dir.path().join("jobs.toml");
    std::fs::write(
        &file,
        format!(
            "[[job]]\nname = 'm'\ncommand = ['touch', '{}']\n",
            marker.display()
        ),
    )?;
    let output = taskgroup().arg("check").arg(&file).output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(!marker.exists());
    assert!(Path::new(&file).exists());
    Ok(())
}

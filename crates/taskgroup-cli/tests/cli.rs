//! The binary's front door: `check` and bad input, driven through the real executable.

use std::io;
use std::path::Path;

use assert_cmd::Command;

fn taskgroup() -> Command {
    Command::cargo_bin("taskgroup").unwrap_or_else(|error| panic!("{error}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_prints_the_counts_of_a_valid_file() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo.toml");
    let output = taskgroup().arg("check").arg(&demo).output();
    let output = output.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "ok: 7 jobs in 3 groups\n");
}

#[test]
fn check_of_one_job_is_singular() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("one.toml");
    std::fs::write(&file, "[[job]]\nname = 'a'\ncommand = 'true'\n")?;
    let output = taskgroup().arg("check").arg(&file).output()?;
    assert_eq!(text(&output.stdout), "ok: 1 job in 1 group\n");
    Ok(())
}

#[test]
fn a_bad_job_file_exits_2_with_the_place_and_runs_nothing() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let marker = dir.path().join("ran");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        format!(
            "[[job]]\nname = 'touch'\ncommand = ['touch', '{}']\n\n[[job]]\nname = 'x'\ncomand = 'true'\n",
            marker.display()
        ),
    )?;
    for subcommand in ["check", "run"] {
        let output = taskgroup().arg(subcommand).arg(&file).output()?;
        assert_eq!(output.status.code(), Some(2), "{subcommand}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("bad.toml:7:1: unknown field `comand`"),
            "{stderr}"
        );
        assert!(stderr.contains("7 | comand = 'true'"), "{stderr}");
        assert!(stderr.contains("nothing was run"), "{stderr}");
        assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    }
    assert!(!marker.exists(), "a job ran although the file is invalid");
    Ok(())
}

#[test]
fn a_missing_job_file_exits_2() -> io::Result<()> {
    let output = taskgroup()
        .args(["check", "/nonexistent/jobs.toml"])
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot read job file /nonexistent/jobs.toml"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn usage_errors_exit_2_with_clap_s_message() -> io::Result<()> {
    for args in [
        &["exec", "-j", "0"][..],
        &["exec", "--halt", "never"],
        &["exec", "--timeout", "soon"],
        &["run"],
        &["bogus"],
    ] {
        let output = taskgroup().args(args).output()?;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    Ok(())
}

#[test]
fn help_exits_0_and_names_every_command() -> io::Result<()> {
    let output = taskgroup().arg("--help").output()?;
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    for command in ["run", "check", "exec"] {
        assert!(help.contains(command), "{help}");
    }
    let output = taskgroup().args(["exec", "--help"]).output()?;
    let help = text(&output.stdout);
    for option in [
        "--jobs",
        "--halt",
        "--timeout",
        "--retries",
        "--grace",
        "--json",
        "--output-dir",
        "--quiet",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    Ok(())
}

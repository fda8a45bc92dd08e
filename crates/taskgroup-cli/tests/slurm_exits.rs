//! The Slurm backend against the real single-node Slurm (issue 21): exit codes and signals as
//! locally (a job exiting 137 beside one killed by SIGKILL), the report's step ids as Slurm's,
//! the resources a job asks for, a command that cannot start, an escaped process.
//!
//! Skipped with a message when no Slurm is usable; a failure with TASKGROUP_REQUIRE_SLURM=1.

mod common;

use std::path::Path;

use common::binary::{both, child, report, taskgroup, text};
use common::slurm::{in_allocation, listed, require, unique};
use serde_json::Value;

/// Runs `lines` with `exec --halt keep-going` on `backend`; returns the report.
fn exec_lines(backend: &str, lines: &[&str], dir: &Path) -> Value {
    let json = dir.join(format!("{backend}.json"));
    let output = taskgroup()
        .args([
            "exec",
            "-j",
            "2",
            "--halt",
            "keep-going",
            "--quiet",
            "--backend",
            backend,
        ])
        .arg("--json")
        .arg(&json)
        .write_stdin(lines.join("\n") + "\n")
        .output()
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    report(&json)
}

/// `(outcome, exit_code, signal)` of a job.
fn ending(job: &Value) -> (String, Value, Value) {
    (
        job["outcome"].as_str().unwrap_or_default().to_owned(),
        job["exit_code"].clone(),
        job["signal"].clone(),
    )
}

#[test]
fn exit_codes_and_signals_are_the_same_as_locally() -> std::io::Result<()> {
    let Some(_slurm) = require("exit_codes_and_signals_are_the_same_as_locally") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let lines = [
        "exit 137",
        "kill -KILL $$",
        "exit 0",
        "exit 3",
        "kill -TERM $$",
        "kill -SEGV $$",
    ];
    let local = exec_lines("local", &lines, dir.path());
    let slurm = exec_lines("slurm", &lines, dir.path());
    for number in 1..=lines.len() {
        let name = number.to_string();
        assert_eq!(
            ending(child(&slurm, &name)),
            ending(child(&local, &name)),
            "line {name}: {}",
            lines[number - 1]
        );
        // Every job ran as a step of its own job.
        assert!(child(&slurm, &name)["slurm_job_id"].is_u64(), "{slurm:#}");
        assert_eq!(child(&slurm, &name)["slurm_step_id"], 0);
        assert!(child(&local, &name).get("slurm_job_id").is_none());
    }
    // srun exits 137 for both; the report does not.
    let exited = child(&slurm, "1");
    assert_eq!(
        (&exited["exit_code"], &exited["signal"]),
        (&137.into(), &Value::Null)
    );
    let killed = child(&slurm, "2");
    assert_eq!(
        (&killed["exit_code"], &killed["signal"]),
        (&Value::Null, &"SIGKILL".into())
    );
    assert_eq!(child(&slurm, "5")["signal"], "SIGTERM");
    assert_eq!(child(&slurm, "6")["signal"], "SIGSEGV");
    assert_eq!(ending(child(&slurm, "3")).0, "completed");
    Ok(())
}

#[test]
fn the_report_s_step_ids_are_slurm_s_inside_an_allocation() -> std::io::Result<()> {
    let Some(_slurm) = require("the_report_s_step_ids_are_slurm_s_inside_an_allocation") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let root = unique("ids");
    let file = dir.path().join("jobs.toml");
    let json = dir.path().join("report.json");
    let job = |name: &str| {
        let ids = dir.path().join(name);
        format!(
            "[[job]]\nname = '{name}'\ncommand = 'echo $SLURM_JOB_ID.$SLURM_STEP_ID > {}'\n",
            ids.display()
        )
    };
    std::fs::write(
        &file,
        format!(
            "name = '{root}'\nbackend = 'slurm'\n{}{}",
            job("a"),
            job("b")
        ),
    )?;
    let output = in_allocation(2)
        .args(["run", "--quiet", "--json"])
        .arg(&json)
        .arg(&file)
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let report = report(&json);
    let mut steps = Vec::new();
    for name in ["a", "b"] {
        let written = std::fs::read_to_string(dir.path().join(name))?;
        let node = child(&report, name);
        let reported = format!("{}.{}", node["slurm_job_id"], node["slurm_step_id"]);
        assert_eq!(written.trim(), reported, "{report:#}");
        steps.push((node["slurm_job_id"].clone(), node["slurm_step_id"].clone()));
    }
    // Steps of one allocation, not jobs of their own.
    assert_eq!(steps[0].0, steps[1].0);
    assert_ne!(steps[0].1, steps[1].1);
    assert!(text(&output.stdout).contains("step "), "{}", both(&output));
    assert!(listed(&root).is_empty(), "{:?}", listed(&root));
    Ok(())
}

#[test]
fn a_job_s_resources_reach_slurm() -> std::io::Result<()> {
    let Some(_slurm) = require("a_job_s_resources_reach_slurm") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let root = unique("resources");
    let file = dir.path().join("jobs.toml");
    let seen = dir.path().join("seen");
    // The group's keys are inherited, the job's own override them.
    std::fs::write(
        &file,
        format!(
            "name = '{root}'\nbackend = 'slurm'\nmem = '100M'\ncpus_per_task = 1\n\
             [[group]]\nname = 'g'\ntime_limit = '2m'\npartition = 'debug'\n\
             [[group.job]]\nname = 'j'\ncpus_per_task = 2\n\
             command = 'squeue -h -j $SLURM_JOB_ID -o \"%C|%m|%l|%P|%j\" > {}'\n",
            seen.display()
        ),
    )?;
    let output = taskgroup().args(["run", "--quiet"]).arg(&file).output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(
        std::fs::read_to_string(&seen)?.trim(),
        format!("2|100M|2:00|debug|{root}/g/j")
    );
    Ok(())
}

#[test]
fn jobs_that_cannot_start_fail_and_say_why() -> std::io::Result<()> {
    let Some(_slurm) = require("jobs_that_cannot_start_fail_and_say_why") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("jobs.toml");
    let json = dir.path().join("report.json");
    std::fs::write(
        &file,
        "backend = 'slurm'\npolicy = 'collect-all'\n\
         [[job]]\nname = 'missing'\ncommand = ['no-such-program-here']\n\
         [[job]]\nname = 'nowhere'\npartition = 'no-such-partition'\ncommand = 'true'\n",
    )?;
    let output = taskgroup()
        .args(["run", "--quiet", "--json"])
        .arg(&json)
        .arg(&file)
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let report = report(&json);
    let missing = child(&report, "missing");
    assert_eq!(missing["outcome"], "failed");
    assert_eq!(
        (&missing["exit_code"], &missing["signal"]),
        (&Value::Null, &Value::Null)
    );
    let error = missing["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cannot start `no-such-program-here`"),
        "{error}"
    );
    // srun refused it: no step ever ran, and srun's own error says why.
    let nowhere = child(&report, "nowhere");
    assert_eq!(nowhere["outcome"], "failed");
    assert_eq!(nowhere["slurm_step_id"], Value::Null);
    let error = nowhere["error"].as_str().unwrap_or_default();
    assert!(error.contains("partition"), "{error}");
    Ok(())
}

#[test]
fn a_process_that_left_the_job_s_session_dies_with_its_step() -> std::io::Result<()> {
    let Some(_slurm) = require("a_process_that_left_the_job_s_session_dies_with_its_step") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    // setsid: a new session, out of the job's process group; it holds no pipe of the step.
    let line = format!(
        "setsid sh -c 'echo $$ >> {pids}; exec sleep 300' < /dev/null > /dev/null 2>&1 & \
         while [ ! -s {pids} ]; do sleep 0.01; done; echo done",
        pids = pids.display()
    );
    let started = std::time::Instant::now();
    let output = taskgroup()
        .args(["exec", "--backend", "slurm", "--quiet"])
        .write_stdin(line + "\n")
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let pid: i32 = std::fs::read_to_string(&pids)?.trim().parse().unwrap_or(0);
    assert!(pid > 0);
    let gone = common::eventually(|| {
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| stat.contains(") Z "))
    });
    assert!(gone, "the escaped sleep {pid} outlived its step");
    Ok(())
}

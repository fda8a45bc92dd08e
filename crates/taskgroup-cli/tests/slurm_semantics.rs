//! The library's semantics on the Slurm backend (issue 21), against the real single-node
//! Slurm: restarts are new steps, readiness is read through srun, a group deadline and a
//! service stop their steps, a limit holds.
//!
//! Skipped with a message when no Slurm is usable; a failure with TASKGROUP_REQUIRE_SLURM=1.

mod common;

use std::collections::BTreeSet;

use common::binary::{both, child, report, taskgroup};
use common::slurm::{in_allocation, listed, require, unique};

#[test]
fn restarts_run_as_new_steps_of_the_allocation() -> std::io::Result<()> {
    let Some(_slurm) = require("restarts_run_as_new_steps_of_the_allocation") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (file, json, ids) = (
        dir.path().join("jobs.toml"),
        dir.path().join("report.json"),
        dir.path().join("ids"),
    );
    let root = unique("restarts");
    std::fs::write(
        &file,
        format!(
            "name = '{root}'\nbackend = 'slurm'\nbackoff = {{ base = '50ms' }}\n\
             [[job]]\nname = 'flaky'\nrestart = 'transient'\nattempts = 5\n\
             command = 'echo $SLURM_JOB_ID.$SLURM_STEP_ID >> {ids}; [ $TASKGROUP_ATTEMPT -ge 3 ]'\n",
            ids = ids.display()
        ),
    )?;
    let output = in_allocation(1)
        .args(["run", "--quiet", "--json"])
        .arg(&json)
        .arg(&file)
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let report = report(&json);
    let flaky = child(&report, "flaky");
    assert_eq!(flaky["outcome"], "completed", "{report:#}");
    assert_eq!(flaky["attempts"], 3);
    let written = std::fs::read_to_string(&ids)?;
    let steps: Vec<&str> = written.lines().collect();
    assert_eq!(steps.len(), 3, "{written}");
    let distinct: BTreeSet<&&str> = steps.iter().collect();
    assert_eq!(distinct.len(), 3, "each attempt its own step: {written}");
    let jobs: BTreeSet<&str> = steps.iter().filter_map(|id| id.split('.').next()).collect();
    assert_eq!(jobs.len(), 1, "all in the runner's allocation: {written}");
    // The report has the last attempt's step.
    let last = format!("{}.{}", flaky["slurm_job_id"], flaky["slurm_step_id"]);
    assert_eq!(steps.last().copied(), Some(last.as_str()));
    Ok(())
}

#[test]
fn a_ready_service_gates_the_batch_and_a_deadline_cuts_a_slow_step() -> std::io::Result<()> {
    let Some(_slurm) = require("a_ready_service_gates_the_batch_and_a_deadline_cuts_a_slow_step")
    else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (file, json, order) = (
        dir.path().join("jobs.toml"),
        dir.path().join("report.json"),
        dir.path().join("order"),
    );
    let root = unique("ready");
    // `db` is ready when it prints `listening` (forwarded by srun); `suite` starts after it,
    // at most one job at once; its deadline cuts `slow`; `db` is stopped when the batch ends.
    std::fs::write(
        &file,
        format!(
            "name = '{root}'\nbackend = 'slurm'\ngrace = '300ms'\nready_timeout = '5s'\n\
             [[job]]\nname = 'db'\nservice = true\nready = {{ stdout = 'listening' }}\n\
             command = 'sleep 0.3; echo db >> {order}; echo listening; exec sleep 300'\n\
             [[group]]\nname = 'suite'\nlimit = 1\ndeadline = '1500ms'\nbest_effort = true\n\
             [[group.job]]\nname = 'quick'\ncommand = 'echo quick >> {order}'\n\
             [[group.job]]\nname = 'slow'\ncommand = 'echo slow >> {order}; exec sleep 300'\n",
            order = order.display()
        ),
    )?;
    let output = taskgroup()
        .args(["run", "--quiet", "--json"])
        .arg(&json)
        .arg(&file)
        .output()?;
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(std::fs::read_to_string(&order)?, "db\nquick\nslow\n");
    let report = report(&json);
    assert_eq!(child(&report, "db")["outcome"], "cancelled", "{report:#}");
    let suite = child(&report, "suite");
    assert_eq!(suite["outcome"], "timed_out", "{report:#}");
    assert_eq!(child(suite, "quick")["outcome"], "completed");
    let slow = child(suite, "slow");
    assert_eq!(slow["outcome"], "cancelled", "{report:#}");
    assert_eq!(slow["signal"], "SIGTERM", "{report:#}");
    assert!(
        listed(&root).is_empty(),
        "left in Slurm: {:?}",
        listed(&root)
    );
    Ok(())
}

//! The job tree printed as an indented outline, one line per group or job with its settings:
//! what `taskgroup check` shows, so the tree the runner will build can be read back.
//!
//! ```text
//! group demo (fail-fast, grace 300ms)
//!   job database: echo hi; exec sleep 30 (service, ready on stdout "listening")
//!   group build (fail-fast, limit 2)
//!     job compile: make
//! ```

use std::fmt;

use super::tree::{ChildDef, GroupDef, GroupPolicy, JobDef, RestartType};
use crate::duration::format_duration;

impl fmt::Display for GroupDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_group(f, self, 0)
    }
}

fn write_group(f: &mut fmt::Formatter<'_>, group: &GroupDef, depth: usize) -> fmt::Result {
    let indent = "  ".repeat(depth);
    let policy = match group.policy {
        GroupPolicy::FailFast => "fail-fast",
        GroupPolicy::CollectAll => "collect-all",
        GroupPolicy::FirstSuccess => "first-success",
    };
    let mut settings = vec![policy.to_owned()];
    if let Some(limit) = group.limit {
        settings.push(format!("limit {limit}"));
    }
    if let Some(deadline) = group.deadline {
        settings.push(format!("deadline {}", format_duration(deadline)));
    }
    if let Some(grace) = group.grace {
        settings.push(format!("grace {}", format_duration(grace)));
    }
    if group.best_effort {
        settings.push("best-effort".to_owned());
    }
    writeln!(f, "{indent}group {} ({})", group.name, settings.join(", "))?;
    for child in &group.children {
        match child {
            ChildDef::Job(job) => write_job(f, job, depth + 1)?,
            ChildDef::Group(nested) => write_group(f, nested, depth + 1)?,
        }
    }
    Ok(())
}

fn write_job(f: &mut fmt::Formatter<'_>, job: &JobDef, depth: usize) -> fmt::Result {
    let indent = "  ".repeat(depth);
    // A multi-line shell script is shown by its first line.
    let command = job.command.to_string();
    let first_line = command.trim().lines().next().unwrap_or_default();
    let ellipsis = if command.trim().lines().nth(1).is_some() {
        " …"
    } else {
        ""
    };
    let mut settings = Vec::new();
    match job.restart {
        RestartType::Temporary => {}
        RestartType::Transient => settings.push("transient".to_owned()),
        RestartType::Permanent => settings.push("permanent".to_owned()),
    }
    if let Some(attempts) = job.attempts {
        settings.push(format!("attempts {attempts}"));
    }
    if let Some(timeout) = job.timeout {
        settings.push(format!("timeout {}", format_duration(timeout)));
    }
    if job.best_effort {
        settings.push("best-effort".to_owned());
    }
    if job.service {
        settings.push("service".to_owned());
    }
    if let Some(ready) = &job.ready {
        settings.push(format!("ready on {} {:?}", ready.stream, ready.pattern));
    }
    write!(f, "{indent}job {}: {first_line}{ellipsis}", job.name)?;
    if !settings.is_empty() {
        write!(f, " ({})", settings.join(", "))?;
    }
    writeln!(f)
}

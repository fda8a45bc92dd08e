//! The final report (issue 16 §6): the library's [`GroupReport`] joined with the runner's
//! [`JobTable`] into one tree of [`ReportNode`]s, then printed as text ([`text`]) and
//! written as JSON ([`json`]).
//!
//! The tree follows the job tree, not the report: a group that never started (it waited for
//! a slot when its parent stopped) has no report of its own, and its jobs are still listed,
//! `cancelled` with 0 attempts. Outcomes, attempts and times are the library's; exit codes,
//! signals and commands are the table's.

pub mod json;
pub mod text;

use std::time::Duration;

use actix_taskgroup::{ChildReport, GroupErrorKind, GroupReport, OutcomeKind};

use crate::facts::{JobFacts, JobTable};
use crate::jobfile::{Backend, ChildDef, GroupDef, JobDef};
use crate::slurm::SlurmIds;

/// One group or job in the final report.
#[derive(Debug, Clone)]
pub struct ReportNode {
    /// Its name.
    pub name: String,
    /// `completed`, `failed`, `panicked`, `cancelled` or `timed_out`.
    pub outcome: &'static str,
    /// How many times it was started; 0 if never.
    pub attempts: u32,
    /// A job: from its first attempt's start to its last one's end; a group: from its start
    /// to its end. `None` if it never started.
    pub duration: Option<Duration>,
    /// Why it failed, in one line (`None` unless it failed).
    pub error: Option<String>,
    /// Its failure triggers nothing.
    pub best_effort: bool,
    /// A service, stopped when its batch ended.
    pub service: bool,
    /// A job's process facts, or a group's children.
    pub detail: NodeDetail,
}

/// What only a job or only a group has.
#[derive(Debug, Clone)]
pub enum NodeDetail {
    /// A job: its last attempt's facts.
    Job(JobFacts),
    /// A group: its children in spawn order.
    Group(Vec<ReportNode>),
}

impl ReportNode {
    /// The children of a group; none for a job.
    pub fn children(&self) -> &[ReportNode] {
        match &self.detail {
            NodeDetail::Group(children) => children,
            NodeDetail::Job(_) => &[],
        }
    }

    /// Whether the outcome is a failure (failed, panicked or timed out).
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, "failed" | "panicked" | "timed_out")
    }
}

/// The report of the run of `root`, whose library report is `report`.
pub fn build(root: &GroupDef, report: &GroupReport<()>, table: &JobTable) -> ReportNode {
    let mut next_job = 0;
    let mut node = group_node(root, Some(report), None, table, &mut next_job);
    node.outcome = match report.error() {
        None => "completed",
        Some(error) => group_error_outcome(error.kind()),
    };
    node.error = report.error().map(|error| error.to_string());
    node.attempts = 1;
    node.duration = match (report.started_at(), report.finished_at()) {
        (Some(start), Some(end)) => Some(end.saturating_duration_since(start)),
        _ => None,
    };
    node
}

fn group_error_outcome(kind: GroupErrorKind) -> &'static str {
    match kind {
        GroupErrorKind::Cancelled => "cancelled",
        GroupErrorKind::TimedOut | GroupErrorKind::StartTimedOut => "timed_out",
        _ => "failed",
    }
}

/// `def`'s node. `report` is the group's own report (`None` if it never ran), `entry` its
/// entry in its parent's report.
fn group_node(
    def: &GroupDef,
    report: Option<&GroupReport<()>>,
    entry: Option<&ChildReport<()>>,
    table: &JobTable,
    next_job: &mut usize,
) -> ReportNode {
    let mut children = Vec::with_capacity(def.children.len());
    for (position, child) in def.children.iter().enumerate() {
        let child_entry = report.and_then(|report| entry_for(report, position, child.name()));
        match child {
            ChildDef::Job(job) => {
                children.push(job_node(job, child_entry, table.get(*next_job)));
                *next_job += 1;
            }
            ChildDef::Group(group) => {
                let nested = child_entry.and_then(ChildReport::nested);
                children.push(group_node(group, nested, child_entry, table, next_job));
            }
        }
    }
    let mut outcome = entry.map_or("cancelled", |entry| entry.outcome().kind().as_str());
    // A nested group's failure reaches its parent as `failed`; its own error says why.
    if outcome == "failed"
        && let Some(error) = report.and_then(GroupReport::error)
    {
        outcome = group_error_outcome(error.kind());
    }
    ReportNode {
        name: def.name.clone(),
        outcome,
        attempts: entry.map_or(0, ChildReport::attempts),
        duration: entry.and_then(ChildReport::duration),
        error: report
            .and_then(GroupReport::error)
            .filter(|_| outcome != "completed")
            .map(|error| error.to_string()),
        best_effort: def.best_effort,
        service: false,
        detail: NodeDetail::Group(children),
    }
}

/// The entry of child `position` named `name`: at its position (children are reported in
/// spawn order), else found by name.
fn entry_for<'a>(
    report: &'a GroupReport<()>,
    position: usize,
    name: &str,
) -> Option<&'a ChildReport<()>> {
    report
        .children()
        .get(position)
        .filter(|entry| entry.name() == Some(name))
        .or_else(|| report.child_named(name))
}

fn job_node(def: &JobDef, entry: Option<&ChildReport<()>>, facts: Option<JobFacts>) -> ReportNode {
    let mut facts = facts.unwrap_or_else(|| JobFacts {
        command: def.command.to_string(),
        ..JobFacts::default()
    });
    let attempts = entry.map_or(0, ChildReport::attempts);
    if attempts == 0 {
        // Never started: whatever an earlier, refused spawn left is not a fact of this run.
        facts.exit = None;
        facts.pid = None;
        facts.slurm = None;
    }
    if def.backend == Backend::Slurm {
        // A Slurm job always has the ids in its report, null until Slurm gave them.
        facts.slurm.get_or_insert_with(SlurmIds::default);
    }
    let outcome = entry.map_or(OutcomeKind::Cancelled, |entry| entry.outcome().kind());
    let error = match (outcome, entry.and_then(|entry| entry.outcome().cause())) {
        (_, Some(cause)) => Some(format!("{cause:#}")),
        (OutcomeKind::TimedOut, None) => Some("timed out".to_owned()),
        (OutcomeKind::Panicked, None) => Some("panicked".to_owned()),
        _ => None,
    };
    ReportNode {
        name: def.name.clone(),
        outcome: outcome.as_str(),
        attempts,
        // The runner's own times: the whole job, every attempt and the backoff between them.
        duration: facts.duration(),
        error,
        best_effort: def.best_effort,
        service: def.service,
        detail: NodeDetail::Job(facts),
    }
}

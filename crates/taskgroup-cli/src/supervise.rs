//! The job tree mapped onto the library's groups: every group of the file is a
//! [`GroupSupervisor`], every job a restartable future child (DESIGN §7). Nothing here decides
//! anything at run time; it only translates settings.
//!
//! | file | library |
//! | --- | --- |
//! | `policy`, `strategy`, `limit`, `deadline`, `grace`, `intensity`, `backoff`, `ready_timeout` | the group builder's options of the same names |
//! | a job with `ready` | [`Child::signals_ready`], and its group starts its children sequentially: those after it wait until it is ready |
//! | a job with `service` | [`Child::service`], and its group ends with [`EndCondition::WhenMainDone`] |
//! | `restart`, `attempts`, `timeout`, `best_effort` | [`Child`]'s options of the same names |
//! | a nested group | [`Child::group`], `best_effort` on it |

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use actix_taskgroup::{
    Backoff, Child, EndCondition, GroupSupervisor, GroupSupervisorBuilder, Policy, Restart,
    Strategy,
};

use crate::console::Console;
use crate::facts::JobTable;
use crate::job::JobRunner;
use crate::jobfile::{
    BackoffDef, ChildDef, GroupDef, GroupPolicy, JobDef, RestartStrategy, RestartType,
};
use crate::slurm::StepContext;

/// A value a job's future returns: nothing; what the report shows of a job is in the
/// library's report and the [`JobTable`].
pub type JobValue = ();

/// "No cap" and "never" for the backoff, where the file leaves them out: a century, which no
/// run reaches and no deadline arithmetic overflows on.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// What every job of a run shares.
#[derive(Debug)]
pub struct RunContext {
    /// The jobs' facts.
    pub table: JobTable,
    /// Where output and the live view go.
    pub console: Rc<Console>,
    /// `--output-dir`.
    pub output_dir: Option<PathBuf>,
    /// The Slurm backend's shared state, when a job of the run may use it.
    pub slurm: Option<Rc<StepContext>>,
    /// The root group's name: the first part of every job's name in Slurm.
    pub root_name: String,
}

impl RunContext {
    /// The runner of job `def`, number `index` in the run, at `path` in the tree (without the
    /// root's name); `log_number` numbers its log files.
    pub fn job_runner(
        &self,
        def: JobDef,
        index: usize,
        log_number: usize,
        path: String,
    ) -> JobRunner {
        JobRunner {
            def,
            index,
            log_number,
            step_name: join_path(&self.root_name, &path),
            path,
            table: self.table.clone(),
            console: Rc::clone(&self.console),
            output_dir: self.output_dir.clone(),
            slurm: self.slurm.clone(),
        }
    }
}

/// Registers every job of `root` in `table`, depth first in file order: the numbering
/// [`group_builder`] and the report rely on.
pub fn register_jobs(root: &GroupDef, table: &JobTable) {
    for child in &root.children {
        match child {
            ChildDef::Job(job) => {
                table.register(job.command.to_string());
            }
            ChildDef::Group(group) => register_jobs(group, table),
        }
    }
}

/// The builder of the library group for `def`. `path` is its place for people (empty for the
/// root), `first_job` the number of its first job, `inherited_grace` its parent's grace (the
/// command line's `--grace` for the root).
pub fn group_builder(
    def: &GroupDef,
    path: &str,
    first_job: usize,
    inherited_grace: Duration,
    context: &Rc<RunContext>,
) -> GroupSupervisorBuilder<JobValue> {
    let grace = def.grace.unwrap_or(inherited_grace);
    // A nested group is named by its path: the library's events and errors then say where
    // in the tree they happened (`build/unit`), not just a name that siblings may share.
    let name = if path.is_empty() {
        def.name.clone()
    } else {
        path.to_owned()
    };
    let mut builder = GroupSupervisor::<JobValue>::builder()
        .name(name)
        .policy(policy(def.policy))
        .strategy(strategy(def.strategy))
        .grace(grace);
    if let Some(limit) = def.limit {
        builder = builder.limit(limit.get());
    }
    if let Some(deadline) = def.deadline {
        builder = builder.deadline(deadline);
    }
    if let Some(intensity) = def.intensity {
        builder = builder.intensity(intensity.max_restarts, intensity.window);
    }
    if let Some(backoff_def) = &def.backoff {
        builder = builder.backoff(backoff(backoff_def));
    }
    if let Some(timeout) = def.ready_timeout {
        builder = builder.ready_timeout(timeout);
    }
    let jobs = def.children.iter().filter_map(|child| match child {
        ChildDef::Job(job) => Some(job),
        ChildDef::Group(_) => None,
    });
    let (mut gated, mut services) = (false, false);
    for job in jobs {
        gated |= job.ready.is_some();
        services |= job.service;
    }
    if gated {
        builder = builder.start_sequentially();
    }
    if services {
        builder = builder.end(EndCondition::WhenMainDone);
    }
    let mut next_job = first_job;
    for child in &def.children {
        let child_path = join_path(path, child.name());
        match child {
            ChildDef::Job(job) => {
                let runner = context.job_runner(job.clone(), next_job, next_job, child_path);
                builder = builder.child(job_child(Rc::new(runner)));
                next_job += 1;
            }
            ChildDef::Group(nested) => {
                let nested_def = Rc::new(nested.clone());
                let (first, context) = (next_job, Rc::clone(context));
                let make = move || group_builder(&nested_def, &child_path, first, grace, &context);
                let mut child = Child::group(nested.name.clone(), make, |_values| ());
                if nested.best_effort {
                    child = child.best_effort();
                }
                builder = builder.child(child);
                next_job += nested.job_count();
            }
        }
    }
    builder
}

/// The library child for one job: each attempt is [`JobRunner::attempt`].
pub fn job_child(runner: Rc<JobRunner>) -> Child<JobValue> {
    let def: &JobDef = &runner.def;
    let mut child = Child::future_with(def.name.clone(), {
        let runner = Rc::clone(&runner);
        move |control| Rc::clone(&runner).attempt(control)
    })
    .restart(restart(def.restart));
    if let Some(attempts) = def.attempts {
        child = child.attempts(attempts.get());
    }
    if let Some(timeout) = def.timeout {
        child = child.timeout(timeout);
    }
    if def.best_effort {
        child = child.best_effort();
    }
    if def.service {
        child = child.service();
    }
    if def.ready.is_some() {
        child = child.signals_ready();
    }
    child
}

/// `parent/name`, or `name` at the top.
pub fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// The library's policy for a group's.
pub fn policy(policy: GroupPolicy) -> Policy {
    match policy {
        GroupPolicy::FailFast => Policy::FailFast,
        GroupPolicy::CollectAll => Policy::CollectAll,
        GroupPolicy::FirstSuccess => Policy::FirstSuccess,
    }
}

fn strategy(strategy: RestartStrategy) -> Strategy {
    match strategy {
        RestartStrategy::OneForOne => Strategy::OneForOne,
        RestartStrategy::OneForAll => Strategy::OneForAll,
        RestartStrategy::RestForOne => Strategy::RestForOne,
    }
}

fn restart(restart: RestartType) -> Restart {
    match restart {
        RestartType::Temporary => Restart::Temporary,
        RestartType::Transient => Restart::Transient,
        RestartType::Permanent => Restart::Permanent,
    }
}

fn backoff(def: &BackoffDef) -> Backoff {
    Backoff::exponential(def.base)
        .factor(def.factor)
        .max(def.max.unwrap_or(FOREVER))
        .jitter(def.jitter)
        .reset_after(def.reset_after.unwrap_or(FOREVER))
}

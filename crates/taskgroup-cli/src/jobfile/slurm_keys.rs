//! The Slurm keys of groups and jobs: `cpus_per_task`, `mem`, `partition`, `time_limit`.
//!
//! They are accepted on every group and job, whatever its backend: a file can then be run
//! locally or on Slurm (`run --backend slurm`) without an edit, and they apply only to jobs
//! that run on Slurm. A job's keys override its group's, a group's its parent's.

use toml::Spanned;

use super::raw::{RawDuration, RawGroup, RawJob};
use super::validate::Validator;
use crate::slurm::{SlurmResources, check_mem, check_partition};

/// The Slurm keys of one table, as written.
pub(super) struct RawSlurmKeys<'raw> {
    cpus_per_task: Option<&'raw Spanned<i64>>,
    mem: Option<&'raw Spanned<String>>,
    partition: Option<&'raw Spanned<String>>,
    time_limit: Option<&'raw Spanned<RawDuration>>,
}

impl RawSlurmKeys<'_> {
    pub(super) fn of_group(raw: &RawGroup) -> RawSlurmKeys<'_> {
        RawSlurmKeys {
            cpus_per_task: raw.cpus_per_task.as_ref(),
            mem: raw.mem.as_ref(),
            partition: raw.partition.as_ref(),
            time_limit: raw.time_limit.as_ref(),
        }
    }

    pub(super) fn of_job(raw: &RawJob) -> RawSlurmKeys<'_> {
        RawSlurmKeys {
            cpus_per_task: raw.cpus_per_task.as_ref(),
            mem: raw.mem.as_ref(),
            partition: raw.partition.as_ref(),
            time_limit: raw.time_limit.as_ref(),
        }
    }
}

impl Validator<'_> {
    /// The table's own Slurm resources (not yet merged with what it inherits).
    pub(super) fn slurm_keys(&mut self, raw: &RawSlurmKeys<'_>) -> SlurmResources {
        let cpus_per_task = raw.cpus_per_task.and_then(|cpus| {
            let value = self.at_least_one(cpus, "cpus_per_task", "a task needs a CPU")?;
            let value = u32::try_from(value)
                .ok()
                .and_then(std::num::NonZeroU32::new);
            if value.is_none() {
                self.problem(cpus.span(), "`cpus_per_task` is too large");
            }
            value
        });
        let mem = raw.mem.map(|mem| {
            if let Err(message) = check_mem(mem.get_ref()) {
                self.problem(mem.span(), format!("`mem`: {message}"));
            }
            mem.get_ref().clone()
        });
        let partition = raw.partition.map(|partition| {
            if let Err(message) = check_partition(partition.get_ref()) {
                self.problem(partition.span(), format!("`partition`: {message}"));
            }
            partition.get_ref().clone()
        });
        let time_limit = raw
            .time_limit
            .map(|limit| self.non_zero(limit, "time_limit"));
        SlurmResources {
            cpus_per_task,
            mem,
            partition,
            time_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::jobfile::{Backend, ChildDef, JobDef, parse, parse_with_backend};

    fn first_job(children: &[ChildDef]) -> &JobDef {
        match children.first() {
            Some(ChildDef::Job(job)) => job,
            Some(ChildDef::Group(group)) => first_job(&group.children),
            None => panic!("no job"),
        }
    }

    #[test]
    fn slurm_keys_are_inherited_and_a_job_s_own_win() {
        let source = "backend = 'slurm'\nmem = '1G'\npartition = 'debug'\n\
                      [[group]]\nname = 'g'\ncpus_per_task = 2\ntime_limit = '90s'\n\
                      [[group.job]]\nname = 'j'\ncommand = 'true'\nmem = '2G'\n";
        let root = parse(source, Path::new("jobs.toml")).unwrap_or_else(|error| panic!("{error}"));
        let job = first_job(&root.children);
        assert_eq!(job.backend, Backend::Slurm);
        assert_eq!(job.slurm.mem.as_deref(), Some("2G"));
        assert_eq!(job.slurm.partition.as_deref(), Some("debug"));
        assert_eq!(job.slurm.cpus_per_task.map(|cpus| cpus.get()), Some(2));
        assert_eq!(job.slurm.time_limit, Some(Duration::from_secs(90)));
    }

    #[test]
    fn the_command_line_sets_the_root_s_backend_and_a_group_s_own_wins() {
        let source = "[[job]]\nname = 'a'\ncommand = 'true'\n\
                      [[group]]\nname = 'g'\nbackend = 'local'\n\
                      [[group.job]]\nname = 'b'\ncommand = 'true'\n";
        let root = parse_with_backend(source, Path::new("jobs.toml"), Backend::Slurm)
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(first_job(&root.children).backend, Backend::Slurm);
        let Some(ChildDef::Group(group)) = root.children.get(1) else {
            panic!("no group");
        };
        assert_eq!(first_job(&group.children).backend, Backend::Local);
    }

    #[test]
    fn bad_slurm_values_are_all_reported() {
        let source = "cpus_per_task = 0\nmem = '4GB'\npartition = 'a b'\ntime_limit = '0s'\n\
                      [[job]]\nname = 'j'\ncommand = 'true'\nmem = 'lots'\n";
        let error = parse(source, Path::new("jobs.toml"))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        for expected in [
            "`cpus_per_task` must be at least 1",
            "`4GB` is not a memory size",
            "`lots` is not a memory size",
            "is not a partition name",
            "`time_limit` cannot be zero",
        ] {
            assert!(error.contains(expected), "{expected:?} missing:\n{error}");
        }
    }
}

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

//! What a job asks Slurm for: the job file's `cpus_per_task`, `mem`, `partition` and
//! `time_limit` (per group, inherited, or per job), `exec`'s `--cpus-per-task`, `--mem`,
//! `--partition` and `--time-limit`, and the `srun` options they become.
//!
//! ```
//! use std::num::NonZeroU32;
//! use std::time::Duration;
//! use taskgroup_cli::slurm::SlurmResources;
//!
//! let group = SlurmResources { mem: Some("2G".into()), ..SlurmResources::default() };
//! let job = SlurmResources {
//!     cpus_per_task: NonZeroU32::new(4),
//!     time_limit: Some(Duration::from_secs(90)),
//!     ..SlurmResources::default()
//! };
//! assert_eq!(
//!     job.over(&group).srun_options(),
//!     ["--cpus-per-task=4", "--mem=2G", "--time=0-00:01:30"]
//! );
//! ```

use std::num::NonZeroU32;
use std::time::Duration;

/// The resources of one job's step; every part is optional (`None`: Slurm's default, or the
/// allocation's when the runner runs inside one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlurmResources {
    /// CPUs for the job's one task (`srun --cpus-per-task`).
    pub cpus_per_task: Option<NonZeroU32>,
    /// Memory, in Slurm's syntax: a number with an optional unit `K`, `M` (the default), `G`
    /// or `T` (`srun --mem`). Checked by [`check_mem`].
    pub mem: Option<String>,
    /// The partition (`srun --partition`). Only a job that is its own allocation can choose
    /// one: inside an allocation, steps run where the allocation is.
    pub partition: Option<String>,
    /// Slurm's own time limit for the step (`srun --time`), which Slurm counts in whole
    /// minutes, rounding up. Not the runner's `timeout`.
    pub time_limit: Option<Duration>,
}

impl SlurmResources {
    /// These resources, with what they leave out taken from `inherited` (a job's own over its
    /// group's, a group's over its parent's).
    pub fn over(&self, inherited: &SlurmResources) -> SlurmResources {
        SlurmResources {
            cpus_per_task: self.cpus_per_task.or(inherited.cpus_per_task),
            mem: self.mem.clone().or_else(|| inherited.mem.clone()),
            partition: self
                .partition
                .clone()
                .or_else(|| inherited.partition.clone()),
            time_limit: self.time_limit.or(inherited.time_limit),
        }
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == SlurmResources::default()
    }

    /// The `srun` options, in a fixed order.
    pub fn srun_options(&self) -> Vec<String> {
        let mut options = Vec::new();
        if let Some(cpus) = self.cpus_per_task {
            options.push(format!("--cpus-per-task={cpus}"));
        }
        if let Some(mem) = &self.mem {
            options.push(format!("--mem={mem}"));
        }
        if let Some(partition) = &self.partition {
            options.push(format!("--partition={partition}"));
        }
        if let Some(limit) = self.time_limit {
            options.push(format!("--time={}", slurm_time(limit)));
        }
        options
    }
}

/// A duration as Slurm's `days-hours:minutes:seconds`, rounded up to whole seconds (Slurm then
/// rounds up to whole minutes).
///
/// ```
/// use std::time::Duration;
/// use taskgroup_cli::slurm::slurm_time;
///
/// assert_eq!(slurm_time(Duration::from_millis(1500)), "0-00:00:02");
/// assert_eq!(slurm_time(Duration::from_secs(26 * 3600 + 61)), "1-02:01:01");
/// ```
pub fn slurm_time(duration: Duration) -> String {
    let mut seconds = duration.as_secs();
    if duration.subsec_nanos() > 0 {
        seconds += 1;
    }
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    format!(
        "{days}-{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Checks a memory size as `srun --mem` reads it: digits, then at most one unit letter
/// (`K`, `M`, `G`, `T`, either case).
///
/// # Errors
///
/// A message saying what is wrong.
///
/// ```
/// use taskgroup_cli::slurm::check_mem;
///
/// assert!(check_mem("500").is_ok() && check_mem("4G").is_ok() && check_mem("16g").is_ok());
/// assert!(check_mem("4GB").is_err() && check_mem("").is_err() && check_mem("-1").is_err());
/// ```
pub fn check_mem(text: &str) -> Result<(), String> {
    let digits = text.trim_end_matches(|c: char| "KMGTkmgt".contains(c));
    let unit_letters = text.len() - digits.len();
    if digits.is_empty() || unit_letters > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a memory size: a number with an optional unit K, M, G or T \
             (Slurm's syntax; megabytes without a unit), e.g. \"500M\" or \"4G\""
        ));
    }
    Ok(())
}

/// Checks a partition name (or Slurm's comma-separated list of them): not blank, no
/// whitespace or control characters.
///
/// # Errors
///
/// A message saying what is wrong.
pub fn check_partition(text: &str) -> Result<(), String> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{text:?} is not a partition name (blank, or has whitespace or a control character)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_s_own_resources_win_and_the_rest_is_inherited() {
        let group = SlurmResources {
            cpus_per_task: NonZeroU32::new(2),
            partition: Some("gpu".into()),
            ..SlurmResources::default()
        };
        let job = SlurmResources {
            cpus_per_task: NonZeroU32::new(8),
            ..SlurmResources::default()
        };
        let merged = job.over(&group);
        assert_eq!(merged.cpus_per_task, NonZeroU32::new(8));
        assert_eq!(merged.partition.as_deref(), Some("gpu"));
        assert!(SlurmResources::default().is_empty() && !merged.is_empty());
        assert!(SlurmResources::default().srun_options().is_empty());
    }

    #[test]
    fn partitions_are_words() {
        assert!(check_partition("debug").is_ok());
        assert!(check_partition("debug,long").is_ok());
        assert!(check_partition("").is_err());
        assert!(check_partition("a b").is_err());
        assert!(check_partition("a\n").is_err());
    }
}

//! The validated job file: a typed tree of groups and jobs, what the runner maps onto the
//! library's groups and children.
//!
//! Everything here has passed validation (see `docs/job-file.md` for every key, its default and
//! what is rejected): names are unique within their group, numbers are in range, durations are
//! parsed, and contradictory settings were refused. Settings that inherit down the tree say so
//! on their field.

use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::process::{ProcessSpec, Stream};
use crate::slurm::SlurmResources;

/// A group: the root table of the file, or one `[[group]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDef {
    /// The group's name: the root's `name`, `"root"` when it sets none; required on nested
    /// groups; unique among its siblings (jobs and groups alike).
    pub name: String,
    /// What the group does when a child fails (`policy`, default fail-fast).
    pub policy: GroupPolicy,
    /// At most this many children run at once (`limit`); the rest wait in file order.
    /// `None`: no limit.
    pub limit: Option<NonZeroUsize>,
    /// The group's deadline, measured from its start (`deadline`). `None`: none.
    pub deadline: Option<Duration>,
    /// SIGTERM → SIGKILL grace period for the group's jobs (`grace`). `None`: the parent
    /// group's; for the root, the command line's `--grace` (5 s by default).
    pub grace: Option<Duration>,
    /// Which children a failure restarts (`strategy`, default one-for-one).
    pub strategy: RestartStrategy,
    /// The restart limit (`intensity`). `None`: the library's default.
    pub intensity: Option<IntensityDef>,
    /// The delay before a restart (`backoff`). `None`: restart at once.
    pub backoff: Option<BackoffDef>,
    /// How long the group waits for its children to be ready (`ready_timeout`). `None`: no
    /// readiness wait is bounded.
    pub ready_timeout: Option<Duration>,
    /// Where the group's jobs run (`backend`), already inherited: a group that sets none has
    /// its parent's; the root's default is [`Backend::Local`] (or `run --backend`).
    pub backend: Backend,
    /// What the group's jobs ask Slurm for (`cpus_per_task`, `mem`, `partition`,
    /// `time_limit`), already inherited: the group's own keys over its parent's. Used only
    /// by jobs that run on the Slurm backend.
    pub slurm: SlurmResources,
    /// The nested group's failure (a timed-out deadline included) is recorded in the report
    /// but triggers nothing in its parent (`best_effort`, default false; never on the root).
    pub best_effort: bool,
    /// The group's jobs and groups, in file order (`[[job]]` and `[[group]]` tables
    /// interleaved as written).
    pub children: Vec<ChildDef>,
    /// The line of the file where the group is defined (1 for the root), for messages.
    pub line: usize,
}

/// One child of a group, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum ChildDef {
    /// A `[[job]]`.
    Job(JobDef),
    /// A nested `[[group]]`.
    Group(GroupDef),
}

impl ChildDef {
    /// The child's name, unique within its group.
    pub fn name(&self) -> &str {
        match self {
            ChildDef::Job(job) => &job.name,
            ChildDef::Group(group) => &group.name,
        }
    }
}

/// A job: one process, possibly run several times (restarts, attempts).
#[derive(Debug, Clone, PartialEq)]
pub struct JobDef {
    /// The job's name, unique within its group.
    pub name: String,
    /// What to run.
    pub command: CommandDef,
    /// The working directory, as written (a relative path is relative to the directory the
    /// runner was started in). `None`: the runner's.
    pub cwd: Option<PathBuf>,
    /// Variables added to the runner's environment.
    pub env: BTreeMap<String, String>,
    /// The per-attempt timeout (`timeout`), from each attempt's start. `None`: none.
    pub timeout: Option<Duration>,
    /// When the job is restarted (`restart`, default temporary).
    pub restart: RestartType,
    /// At most this many attempts in all (`attempts`). With the default restart type a failed
    /// attempt is retried until this many have run (what `exec --retries` does). `None`: no
    /// per-job limit (only the group's intensity bounds restarts).
    pub attempts: Option<NonZeroU32>,
    /// A failure is recorded but triggers nothing (`best_effort`, default false).
    pub best_effort: bool,
    /// Runs beside the batch and is stopped, `cancelled`, once the group's other children have
    /// ended (`service`, default false).
    pub service: bool,
    /// When the job counts as ready (`ready`). `None`: as soon as it has started.
    pub ready: Option<ReadyDef>,
    /// Where the job runs: its group's backend.
    pub backend: Backend,
    /// What the job asks Slurm for: its own keys over its group's (used only on the Slurm
    /// backend).
    pub slurm: SlurmResources,
    /// The line of the file where the job is defined, for messages.
    pub line: usize,
}

impl JobDef {
    /// The process to start for attempt `attempt` (1, 2, …): the command with the job's
    /// working directory and environment, plus `TASKGROUP_JOB` and `TASKGROUP_ATTEMPT`.
    pub fn process_spec(&self, attempt: u32) -> ProcessSpec {
        let spec = match &self.command {
            CommandDef::Argv(argv) => ProcessSpec::argv(argv),
            CommandDef::Shell(line) => ProcessSpec::shell(line),
        };
        let spec = match &self.cwd {
            Some(cwd) => spec.cwd(cwd),
            None => spec,
        };
        self.env
            .iter()
            .fold(spec, |spec, (key, value)| spec.env(key, value))
            .attempt_of(&self.name, attempt)
    }
}

/// A job's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandDef {
    /// `command = ["prog", "arg", …]`: run directly, no shell. Never empty; the program is not
    /// an empty string.
    Argv(Vec<String>),
    /// `command = "…"`: run by `/bin/sh -c`. Never blank.
    Shell(String),
}

impl fmt::Display for CommandDef {
    /// The command as one line a shell would read the same way: a shell command as written, an
    /// argv with each argument quoted where needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandDef::Shell(line) => f.write_str(line),
            CommandDef::Argv(argv) => {
                for (position, argument) in argv.iter().enumerate() {
                    if position > 0 {
                        f.write_str(" ")?;
                    }
                    write_shell_quoted(f, argument)?;
                }
                Ok(())
            }
        }
    }
}

/// Writes `argument` as a shell word: unchanged when it holds only safe characters, otherwise
/// in single quotes (a `'` inside becomes `'\''`).
fn write_shell_quoted(f: &mut fmt::Formatter<'_>, argument: &str) -> fmt::Result {
    let safe = !argument.is_empty()
        && argument
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        f.write_str(argument)
    } else {
        write!(f, "'{}'", argument.replace('\'', r"'\''"))
    }
}

/// When a job counts as ready: the first line of `stream` that contains `pattern`.
///
/// The pattern is a plain substring, not a regular expression: it covers "ready when `listening
/// on` appears" without a regex engine in the binary, and cannot be written wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyDef {
    /// The stream to watch.
    pub stream: Stream,
    /// The substring to look for; never empty.
    pub pattern: String,
}

impl ReadyDef {
    /// Whether `line`, read from `stream`, makes the job ready.
    pub fn matches(&self, stream: Stream, line: &str) -> bool {
        stream == self.stream && line.contains(&self.pattern)
    }
}

/// A group's restart limit: more than `max_restarts` restarts within `window` fail the group
/// (DESIGN R12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntensityDef {
    /// Restarts allowed within the window.
    pub max_restarts: u32,
    /// The sliding window; never zero.
    pub window: Duration,
}

/// Exponential backoff before a restart: `base × factor^(n-1)`, capped at `max`, with random
/// jitter of ±`jitter` × the delay, reset once the child has run for `reset_after`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffDef {
    /// The first delay.
    pub base: Duration,
    /// The growth per restart; at least 1 (default 2).
    pub factor: f64,
    /// The cap on the delay; `None`: uncapped. Never below `base`.
    pub max: Option<Duration>,
    /// The jitter fraction, in `0.0..=1.0` (default 0: none).
    pub jitter: f64,
    /// A child that ran this long starts the backoff over; `None`: never.
    pub reset_after: Option<Duration>,
}

/// What a group does when one of its children fails (`policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupPolicy {
    /// The first failure cancels every sibling (the default).
    #[default]
    FailFast,
    /// No sibling is cancelled; every failure is reported. `keep-going` is accepted as an
    /// alias, as on `exec --halt`.
    #[serde(alias = "keep-going")]
    CollectAll,
    /// A race: the first child to complete wins and cancels the rest.
    FirstSuccess,
}

/// Which children a failure restarts (`strategy`, OTP's restart strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartStrategy {
    /// Only the failed child (the default).
    #[default]
    OneForOne,
    /// Every child: the others are stopped, then all start again.
    OneForAll,
    /// The failed child and those started after it.
    RestForOne,
}

/// When a job is restarted (`restart`, OTP's restart types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartType {
    /// Never restarted by the strategy (the default); `attempts` still retries a failure.
    #[default]
    Temporary,
    /// Restarted after a failure (non-zero exit, signal, timeout), not after success.
    Transient,
    /// Always restarted, after a success too.
    Permanent,
}

/// Where a group's jobs run (`backend`, `run --backend`, `exec --backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Processes on this machine (the default).
    #[default]
    Local,
    /// Slurm job steps (`srun`): of the runner's allocation when it runs in one, else each
    /// job its own allocation (`crate::slurm`).
    Slurm,
}

impl GroupDef {
    /// Jobs in this group and every group below it.
    pub fn job_count(&self) -> usize {
        self.children
            .iter()
            .map(|child| match child {
                ChildDef::Job(_) => 1,
                ChildDef::Group(group) => group.job_count(),
            })
            .sum()
    }

    /// This group and every group below it.
    pub fn group_count(&self) -> usize {
        1 + self
            .children
            .iter()
            .map(|child| match child {
                ChildDef::Job(_) => 0,
                ChildDef::Group(group) => group.group_count(),
            })
            .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_commands_print_as_one_shell_line() {
        let command = CommandDef::Argv(vec![
            "grep".into(),
            "-r".into(),
            "it's here".into(),
            "".into(),
            "src/".into(),
        ]);
        assert_eq!(command.to_string(), r"grep -r 'it'\''s here' '' src/");
        assert_eq!(
            CommandDef::Shell("echo a | wc".into()).to_string(),
            "echo a | wc"
        );
    }

    #[test]
    fn readiness_is_a_substring_of_the_chosen_stream() {
        let ready = ReadyDef {
            stream: Stream::Stdout,
            pattern: "listening on".into(),
        };
        assert!(ready.matches(Stream::Stdout, "2024 listening on :8080"));
        assert!(!ready.matches(Stream::Stderr, "listening on :8080"));
        assert!(!ready.matches(Stream::Stdout, "listening"));
    }
}

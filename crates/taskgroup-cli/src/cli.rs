//! The command line (issue 16 §3): `taskgroup`, `taskgroup run FILE`, `taskgroup check FILE`
//! and `taskgroup exec`.
//!
//! Parsing only: a usage error is a [`clap::Error`] whose `exit()` prints clap's message and
//! exits with status 2 (`--help` and `--version` exit 0).
//!
//! ```
//! use std::time::Duration;
//! use taskgroup_cli::cli::{Command, Halt, parse_from};
//!
//! let Command::Exec(exec) = parse_from(["taskgroup", "exec", "-j", "8", "--halt", "keep-going"])?
//! else { unreachable!() };
//! assert_eq!(exec.jobs.get(), 8);
//! assert_eq!(exec.halt, Halt::KeepGoing);
//! assert_eq!(exec.grace, Duration::from_secs(5));
//! # Ok::<(), clap::Error>(())
//! ```

use std::ffi::OsString;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration::parse_duration;
use crate::jobfile::{Backend, GroupPolicy};
use crate::slurm::{Proctrack, SlurmResources, check_mem, check_partition};

/// The default grace period between SIGTERM and SIGKILL (`--grace`).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// What the runner was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// No arguments: run the embedded demo batch.
    Demo,
    /// `taskgroup run FILE`: run a job file.
    Run(RunArgs),
    /// `taskgroup check FILE`: validate a job file without running it.
    Check(CheckArgs),
    /// `taskgroup exec`: run one shell command per line of stdin, as one group.
    Exec(ExecArgs),
    /// `taskgroup slurm-step NONCE -- COMMAND…` (hidden): the wrapper inside a Slurm step
    /// ([`crate::slurm::wrapper`]).
    SlurmStep(SlurmStepArgs),
}

/// Parses the runner's arguments (`args[0]` is the program name).
///
/// # Errors
///
/// A [`clap::Error`] for a usage error (exit status 2 through [`clap::Error::exit`]) and for
/// `--help` / `--version` (status 0).
pub fn parse_from<I, T>(args: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    Ok(match cli.command {
        None => Command::Demo,
        Some(Subcommands::Run(run)) => Command::Run(run),
        Some(Subcommands::Check(check)) => Command::Check(check),
        Some(Subcommands::Exec(exec)) => {
            let slurm = exec.slurm.resources();
            if exec.backend != Backend::Slurm && !slurm.is_empty() {
                let mut command = <Cli as clap::CommandFactory>::command();
                return Err(command.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "--cpus-per-task, --mem, --partition and --time-limit need --backend slurm",
                ));
            }
            Command::Exec(ExecArgs {
                jobs: exec.jobs.unwrap_or_else(default_jobs),
                halt: exec.halt,
                timeout: exec.timeout,
                retries: exec.retries,
                grace: exec.grace,
                backend: exec.backend,
                slurm,
                output: exec.output,
            })
        }
        Some(Subcommands::SlurmStep(step)) => Command::SlurmStep(step),
    })
}

/// The number of CPUs, `-j`'s default (1 when it cannot be known).
pub fn default_jobs() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Structured concurrency for processes: run batches of jobs as a supervision tree.
///
/// With no arguments, runs a short demo batch.
#[derive(Debug, Parser)]
#[command(name = "taskgroup", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Subcommands>,
}

#[derive(Debug, Subcommand)]
enum Subcommands {
    /// Run the batch described by a job file (TOML).
    Run(RunArgs),
    /// Validate a job file without running anything.
    Check(CheckArgs),
    /// Run one shell command per line of standard input, as one group.
    Exec(RawExecArgs),
    /// The wrapper inside a Slurm step (the Slurm backend runs it; not for people).
    #[command(hide = true)]
    SlurmStep(SlurmStepArgs),
}

/// `taskgroup run FILE`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct RunArgs {
    /// The job file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// SIGTERM → SIGKILL grace period for groups whose file sets no `grace`.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub grace: Duration,
    /// Where jobs run, for groups whose file sets no `backend` [default: local].
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<Backend>,
    /// Report and output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `taskgroup slurm-step NONCE -- COMMAND…`: what runs inside a Slurm step.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct SlurmStepArgs {
    /// How Slurm tracks the step's processes (`ProctrackType` without `proctrack/`).
    #[arg(long, value_enum, default_value_t = Proctrack::Cgroup)]
    pub proctrack: Proctrack,
    /// stdin is the runner's pipe: end-of-file means the runner is gone.
    #[arg(long)]
    pub watch_stdin: bool,
    /// The run's marker nonce, for the status lines.
    #[arg(value_name = "NONCE")]
    pub nonce: String,
    /// The job's command: the program and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND", value_parser = clap::value_parser!(OsString))]
    pub command: Vec<OsString>,
}

/// `taskgroup check FILE`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CheckArgs {
    /// The job file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `taskgroup exec`, with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecArgs {
    /// At most this many jobs at once (`-j`; default: the number of CPUs).
    pub jobs: NonZeroUsize,
    /// What a failure does (`--halt`).
    pub halt: Halt,
    /// Per-job timeout (`--timeout`).
    pub timeout: Option<Duration>,
    /// A failed job is run again up to this many more times (`--retries`).
    pub retries: u32,
    /// SIGTERM → SIGKILL grace period (`--grace`, default 5 s).
    pub grace: Duration,
    /// Where the jobs run (`--backend`, default local).
    pub backend: Backend,
    /// What each job asks Slurm for (`--cpus-per-task`, `--mem`, `--partition`,
    /// `--time-limit`); only with the Slurm backend.
    pub slurm: SlurmResources,
    /// Report and output options.
    pub output: OutputArgs,
}

/// `exec` as clap reads it; `jobs` is resolved to the CPU count afterwards, so that the
/// default is computed only when it is used.
#[derive(Debug, Args)]
struct RawExecArgs {
    /// Run at most N jobs at once [default: the number of CPUs].
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<NonZeroUsize>,
    /// What a failed job does to the others.
    #[arg(long, value_enum, default_value_t = Halt::FailFast, value_name = "POLICY")]
    halt: Halt,
    /// Stop a job that runs longer than this (e.g. 500ms, 5s, 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Run a failed job again, up to N more times.
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Time between SIGTERM and SIGKILL when a job is stopped.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    grace: Duration,
    /// Where the jobs run: local processes, or Slurm job steps.
    #[arg(long, value_enum, default_value_t = Backend::Local, value_name = "BACKEND")]
    backend: Backend,
    #[command(flatten)]
    slurm: SlurmArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// `exec`'s Slurm resources, per job (with `--backend slurm`).
#[derive(Debug, Args)]
struct SlurmArgs {
    /// Slurm: CPUs per job (srun --cpus-per-task).
    #[arg(long, value_name = "N", value_parser = parse_cpus)]
    cpus_per_task: Option<NonZeroU32>,
    /// Slurm: memory per job, e.g. 500M or 4G (srun --mem).
    #[arg(long, value_name = "SIZE", value_parser = parse_mem)]
    mem: Option<String>,
    /// Slurm: the partition, for jobs that are their own allocation (srun --partition).
    #[arg(long, value_name = "NAME", value_parser = parse_partition)]
    partition: Option<String>,
    /// Slurm: Slurm's time limit per job, e.g. 30m (srun --time; whole minutes, rounded up).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    time_limit: Option<Duration>,
}

impl SlurmArgs {
    fn resources(&self) -> SlurmResources {
        SlurmResources {
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            partition: self.partition.clone(),
            time_limit: self.time_limit,
        }
    }
}

/// The options `run` and `exec` share.
#[derive(Debug, Clone, PartialEq, Eq, Default, Args)]
pub struct OutputArgs {
    /// Write the report as JSON to PATH (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Keep every job attempt's full output in a file under DIR.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print only the final report.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `exec --halt`: what a failed job does to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Halt {
    /// The first failure stops every other job.
    FailFast,
    /// Every job runs; every failure is reported.
    #[value(alias = "collect-all")]
    KeepGoing,
    /// The first job to succeed stops the others.
    FirstSuccess,
}

impl Halt {
    /// The group policy this halt mode is.
    pub fn policy(self) -> GroupPolicy {
        match self {
            Halt::FailFast => GroupPolicy::FailFast,
            Halt::KeepGoing => GroupPolicy::CollectAll,
            Halt::FirstSuccess => GroupPolicy::FirstSuccess,
        }
    }
}

/// `--cpus-per-task N`: a positive count.
fn parse_cpus(text: &str) -> Result<NonZeroU32, String> {
    let count: u32 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of CPUs"))?;
    NonZeroU32::new(count).ok_or_else(|| "must be at least 1".to_owned())
}

fn parse_mem(text: &str) -> Result<String, String> {
    check_mem(text).map(|()| text.to_owned())
}

fn parse_partition(text: &str) -> Result<String, String> {
    check_partition(text).map(|()| text.to_owned())
}

/// `-j N`: a positive count.
fn parse_jobs(text: &str) -> Result<NonZeroUsize, String> {
    let count: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of jobs"))?;
    NonZeroUsize::new(count).ok_or_else(|| "must be at least 1".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Command {
        let args = std::iter::once("taskgroup").chain(args.iter().copied());
        parse_from(args).unwrap_or_else(|error| panic!("{error}"))
    }

    fn usage_error(args: &[&str]) -> clap::Error {
        let args = std::iter::once("taskgroup").chain(args.iter().copied());
        match parse_from(args) {
            Ok(command) => panic!("accepted: {command:?}"),
            Err(error) => error,
        }
    }

    fn exec(args: &[&str]) -> ExecArgs {
        let args: Vec<&str> = std::iter::once("exec")
            .chain(args.iter().copied())
            .collect();
        match parse(&args) {
            Command::Exec(exec) => exec,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_arguments_is_the_demo() {
        assert_eq!(parse(&[]), Command::Demo);
    }

    #[test]
    fn clap_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn run_and_check_take_a_file() {
        let Command::Run(run) = parse(&["run", "jobs.toml", "--grace", "200ms", "--quiet"]) else {
            panic!("not run");
        };
        assert_eq!(run.file, PathBuf::from("jobs.toml"));
        assert_eq!(run.grace, Duration::from_millis(200));
        assert!(run.output.quiet);
        let Command::Run(run) =
            parse(&["run", "x.toml", "--json", "r.json", "--output-dir", "logs"])
        else {
            panic!("not run");
        };
        assert_eq!(run.grace, DEFAULT_GRACE);
        assert_eq!(run.output.json, Some(PathBuf::from("r.json")));
        assert_eq!(run.output.output_dir, Some(PathBuf::from("logs")));
        assert_eq!(
            parse(&["check", "jobs.toml"]),
            Command::Check(CheckArgs {
                file: "jobs.toml".into()
            })
        );
    }

    #[test]
    fn exec_defaults() {
        let exec = exec(&[]);
        assert_eq!(exec.jobs, default_jobs());
        assert_eq!(exec.halt, Halt::FailFast);
        assert_eq!(
            (exec.timeout, exec.retries, exec.grace),
            (None, 0, DEFAULT_GRACE)
        );
        assert_eq!(exec.output, OutputArgs::default());
    }

    #[test]
    fn exec_options_with_their_exact_names() {
        let exec = exec(&[
            "--jobs",
            "3",
            "--halt",
            "first-success",
            "--timeout",
            "1.5s",
            "--retries",
            "2",
            "--grace",
            "0s",
            "--json",
            "out.json",
            "--output-dir",
            "logs",
            "--quiet",
        ]);
        assert_eq!(exec.jobs.get(), 3);
        assert_eq!(exec.halt, Halt::FirstSuccess);
        assert_eq!(exec.timeout, Some(Duration::from_millis(1500)));
        assert_eq!((exec.retries, exec.grace), (2, Duration::ZERO));
        assert_eq!(exec.output.json, Some(PathBuf::from("out.json")));
        assert!(exec.output.quiet);
    }

    #[test]
    fn halt_accepts_collect_all_as_keep_going() {
        assert_eq!(exec(&["--halt", "collect-all"]).halt, Halt::KeepGoing);
        assert_eq!(Halt::KeepGoing.policy(), GroupPolicy::CollectAll);
        assert_eq!(Halt::FailFast.policy(), GroupPolicy::FailFast);
        assert_eq!(Halt::FirstSuccess.policy(), GroupPolicy::FirstSuccess);
    }

    #[test]
    fn usage_errors_exit_2_with_a_message() {
        for args in [
            &["exec", "-j", "0"][..],
            &["exec", "-j", "many"],
            &["exec", "--halt", "sometimes"],
            &["exec", "--timeout", "5"],
            &["exec", "--grace", "-1s"],
            &["exec", "--retries", "-1"],
            &["run"],
            &["check"],
            &["frobnicate"],
            &["exec", "--bogus"],
        ] {
            let error = usage_error(args);
            assert_eq!(error.exit_code(), 2, "{args:?}: {error}");
        }
        let message = usage_error(&["exec", "-j", "0"]).to_string();
        assert!(message.contains("must be at least 1"), "{message}");
        let message = usage_error(&["exec", "--timeout", "5"]).to_string();
        assert!(message.contains("has no unit"), "{message}");
    }

    #[test]
    fn backends_and_slurm_resources() {
        let slurm = exec(&[
            "--backend",
            "slurm",
            "--cpus-per-task",
            "2",
            "--mem",
            "1G",
            "--partition",
            "debug",
            "--time-limit",
            "90s",
        ]);
        assert_eq!(slurm.backend, Backend::Slurm);
        assert_eq!(
            slurm.slurm.srun_options(),
            [
                "--cpus-per-task=2",
                "--mem=1G",
                "--partition=debug",
                "--time=0-00:01:30"
            ]
        );
        assert_eq!(exec(&[]).backend, Backend::Local);
        for args in [
            &["exec", "--mem", "1G"][..],
            &["exec", "--backend", "local", "--cpus-per-task", "2"],
            &["exec", "--backend", "slurm", "--mem", "lots"],
            &["exec", "--backend", "slurm", "--cpus-per-task", "0"],
            &["exec", "--backend", "cloud"],
        ] {
            assert_eq!(usage_error(args).exit_code(), 2, "{args:?}");
        }
        let Command::Run(run) = parse(&["run", "x.toml", "--backend", "slurm"]) else {
            panic!("not run");
        };
        assert_eq!(run.backend, Some(Backend::Slurm));
        let Command::SlurmStep(step) = parse(&["slurm-step", "abc", "--", "sh", "-c", "true"])
        else {
            panic!("not the wrapper");
        };
        assert_eq!(step.nonce, "abc");
        assert_eq!(step.command, ["sh", "-c", "true"]);
    }

    #[test]
    fn help_and_version_are_not_failures() {
        assert_eq!(usage_error(&["--help"]).kind(), ErrorKind::DisplayHelp);
        assert_eq!(usage_error(&["--help"]).exit_code(), 0);
        assert_eq!(usage_error(&["--version"]).exit_code(), 0);
    }
}

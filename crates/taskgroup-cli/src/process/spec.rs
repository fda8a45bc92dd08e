//! What to start for one attempt of a job: program, arguments, working directory, environment.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The shell that runs string commands (`command = "…"`, every `exec` line). `/bin/sh` is the
/// one path POSIX promises.
pub const SHELL: &str = "/bin/sh";

/// The variable that holds the job's name in its environment (see [`ProcessSpec::attempt_of`]).
pub const ENV_JOB_NAME: &str = "TASKGROUP_JOB";

/// The variable that holds the attempt's number, 1 for the first run.
pub const ENV_ATTEMPT: &str = "TASKGROUP_ATTEMPT";

/// A process to start: built from a job file's job or an `exec` line, given to
/// [`spawn`](super::spawn).
///
/// ```
/// use taskgroup_cli::process::ProcessSpec;
///
/// let spec = ProcessSpec::shell("make -j4").cwd("build").env("CC", "clang");
/// assert_eq!(spec.program(), "/bin/sh");
/// assert_eq!(spec.args(), ["-c", "make -j4"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    hold_stdin: bool,
}

impl ProcessSpec {
    /// `argv[0]` with arguments `argv[1..]`, run directly (no shell); `argv[0]` is looked up
    /// in `PATH` when it has no `/`. An empty `argv` gives a spec that fails to start.
    pub fn argv<S: AsRef<OsStr>>(argv: &[S]) -> ProcessSpec {
        let mut words = argv.iter().map(|word| word.as_ref().to_owned());
        ProcessSpec {
            program: words.next().unwrap_or_default(),
            args: words.collect(),
            cwd: None,
            env: Vec::new(),
            hold_stdin: false,
        }
    }

    /// `line` run by `/bin/sh -c`.
    pub fn shell(line: impl AsRef<OsStr>) -> ProcessSpec {
        ProcessSpec::argv(&[OsStr::new(SHELL), OsStr::new("-c"), line.as_ref()])
    }

    /// Runs the process in `cwd` (relative paths are relative to the runner's directory).
    pub fn cwd(mut self, cwd: impl AsRef<Path>) -> ProcessSpec {
        self.cwd = Some(cwd.as_ref().to_owned());
        self
    }

    /// Adds (or overrides) one variable of the environment the process inherits.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> ProcessSpec {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Marks the process as attempt `attempt` (1, 2, …) of the job `name`: sets
    /// `TASKGROUP_JOB` and `TASKGROUP_ATTEMPT`, which every job finds in its environment
    /// (docs/job-file.md), so that a job can tell a retry from its first run.
    ///
    /// ```
    /// use taskgroup_cli::process::ProcessSpec;
    ///
    /// let spec = ProcessSpec::shell("./fetch").attempt_of("fetch", 2);
    /// assert!(spec.envs().iter().any(|(key, value)| key == "TASKGROUP_ATTEMPT" && value == "2"));
    /// ```
    pub fn attempt_of(self, name: &str, attempt: u32) -> ProcessSpec {
        self.env(ENV_JOB_NAME, name)
            .env(ENV_ATTEMPT, attempt.to_string())
    }

    /// Gives the process a pipe as stdin instead of `/dev/null`: the runner holds it open and
    /// never writes to it, so the process reads end-of-file only once the runner is gone
    /// (even killed by SIGKILL). The Slurm backend's `srun` forwards it to the step's
    /// wrapper, which then stops the job (`crate::slurm::wrapper`).
    pub fn hold_stdin(mut self) -> ProcessSpec {
        self.hold_stdin = true;
        self
    }

    /// Whether stdin is such a pipe ([`hold_stdin`](Self::hold_stdin)).
    pub fn holds_stdin(&self) -> bool {
        self.hold_stdin
    }

    /// The program to run.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// Its arguments (without the program).
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    /// The working directory, if one was set.
    pub fn working_dir(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// The variables added to the inherited environment, in the order they were set.
    pub fn envs(&self) -> &[(OsString, OsString)] {
        &self.env
    }
}

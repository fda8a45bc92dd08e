//! One job as a child of a library group: the future that runs each attempt as a process.
//!
//! The library decides everything about the job's life (DESIGN §7): when it starts (limits,
//! readiness, backoff), whether it is restarted, when it is stopped and how long it has after
//! being asked. The future only runs the process and translates:
//!
//! - exit code 0 → `Ok(())`, anything else → a [`JobFailed`] error carrying the exit;
//! - the group's stop request ([`ChildControl::stop_requested`]) → SIGTERM to the job's
//!   process group, then keep waiting; when the grace period ends the library drops the
//!   future and [`crate::process::RunningJob`]'s `Drop` sends SIGKILL;
//! - a line matching the job's `ready` text → [`ChildControl::ready`].
//!
//! A job on the Slurm backend runs the same way as a step ([`crate::slurm`]): the stop
//! request is `scancel --signal=TERM`, the drop `scancel`.
//!
//! A job that ends after it was asked to stop returns `Ok(())` whatever its exit (the group
//! stopped it: its outcome is `cancelled`, or `timed_out` when its own timeout asked), so that
//! the SIGTERM the runner sent is not counted as a failure of its own.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use actix_taskgroup::ChildControl;

use crate::console::Console;
use crate::facts::JobTable;
use crate::jobfile::{Backend, JobDef};
use crate::naming::log_file_path;
use crate::process::{
    DEFAULT_TAIL_BYTES, ExitInfo, OutputOptions, OutputTail, ProcessSpec, RunningJob,
    run_until_stopped, spawn,
};
use crate::slurm::{RunningStep, SlurmIds, StepContext, StepEnd};

/// Why an attempt of a job failed: the error the library keeps as the job's cause. The report
/// downcasts it to show the exit code or signal.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobFailed {
    /// The process ended with a non-zero code, or was killed by a signal.
    #[error("{0}")]
    Exit(ExitInfo),
    /// The process could not be started (the OS error: not found, not executable, …).
    #[error("{0}")]
    Start(String),
    /// The runner lost track of the process (an OS error while waiting for it).
    #[error("cannot wait for the process: {0}")]
    Wait(String),
    /// A Slurm step ended without the job's status: never read as a success.
    #[error("{0}")]
    Lost(String),
}

/// Everything one job's attempts need, shared by the factory the library calls once per
/// attempt.
#[derive(Debug)]
pub struct JobRunner {
    /// The job as the file (or `exec`'s input line) describes it.
    pub def: JobDef,
    /// Its number in the run: its key in the [`JobTable`].
    pub index: usize,
    /// The number in its log file names, unique in the run: the job's number for a job file,
    /// the line number for `exec`.
    pub log_number: usize,
    /// Its place in the tree for people, `build/compile` (the root's name left out).
    pub path: String,
    /// Where its facts go.
    pub table: JobTable,
    /// Where its output goes when an attempt ends.
    pub console: Rc<Console>,
    /// `--output-dir`: one log file per attempt.
    pub output_dir: Option<PathBuf>,
    /// The run's Slurm backend, when it has one; used when the job's backend is Slurm.
    pub slurm: Option<Rc<StepContext>>,
    /// The job's name in Slurm (`srun --job-name`): its path with the root's name,
    /// `ci/tests/unit`.
    pub step_name: String,
}

impl JobRunner {
    /// Runs one attempt (its number is `control.attempt()`).
    ///
    /// # Errors
    ///
    /// [`JobFailed`] when the process could not be started or did not exit with code 0,
    /// unless the group had asked it to stop.
    pub async fn attempt(self: Rc<Self>, control: ChildControl) -> Result<(), JobFailed> {
        let attempt = control.attempt();
        let tail = OutputTail::new(DEFAULT_TAIL_BYTES);
        let mut options = OutputOptions::new().tail(tail.clone());
        let log = self
            .output_dir
            .as_ref()
            .map(|dir| log_file_path(dir, self.log_number, &self.def.name, attempt));
        if let Some(log) = &log {
            options = options.log_file(log);
        }
        if let Some(ready) = self.def.ready.clone() {
            let control = control.clone();
            options = options.on_line(move |stream, line| {
                // Saying it again is harmless, but matching every later line is not free.
                if !control.is_stop_requested() && ready.matches(stream, line) {
                    control.ready();
                }
            });
        }
        self.table.begin_attempt(self.index, attempt, tail.clone());
        // Records the end and prints the output however the attempt ends, dropped by the
        // library at its grace deadline included.
        let mut end = AttemptEnd {
            runner: Rc::clone(&self),
            attempt,
            tail,
            started: Instant::now(),
            exit: None,
            start_error: None,
            log,
            process: None,
        };
        let spec = self.def.process_spec(attempt);
        match &self.slurm {
            Some(slurm) if self.def.backend == Backend::Slurm => {
                let slurm = Rc::clone(slurm);
                self.run_step(&slurm, &spec, options, &control, &mut end)
                    .await
            }
            _ => self.run_local(&spec, options, &control, &mut end).await,
        }
    }

    /// The attempt as a local process.
    async fn run_local(
        &self,
        spec: &ProcessSpec,
        options: OutputOptions,
        control: &ChildControl,
        end: &mut AttemptEnd,
    ) -> Result<(), JobFailed> {
        let process = match spawn(spec, options) {
            Ok(process) => end.process.insert(process),
            Err(error) => {
                let message = error.to_string();
                end.start_error = Some(message.clone());
                return Err(JobFailed::Start(message));
            }
        };
        let pid = process.pid();
        self.table.update(self.index, |facts| facts.pid = Some(pid));
        let exit = run_until_stopped(process, control.stop_requested()).await;
        let exit = exit.map_err(|error| JobFailed::Wait(error.to_string()))?;
        end.exit = Some(exit);
        if exit.success() || control.is_stop_requested() {
            Ok(())
        } else {
            Err(JobFailed::Exit(exit))
        }
    }

    /// The attempt as a Slurm step ([`crate::slurm`]): the same translation, with the
    /// job's status as the step's wrapper reported it.
    async fn run_step(
        &self,
        context: &Rc<StepContext>,
        spec: &ProcessSpec,
        options: OutputOptions,
        control: &ChildControl,
        end: &mut AttemptEnd,
    ) -> Result<(), JobFailed> {
        let (table, index) = (self.table.clone(), self.index);
        table.update(index, |facts| facts.slurm = Some(SlurmIds::default()));
        let on_ids = move |ids| table.update(index, |facts| facts.slurm = Some(ids));
        let started = RunningStep::start(
            context,
            spec,
            &self.step_name,
            &self.def.slurm,
            options,
            on_ids,
        );
        let mut step = match started {
            Ok(step) => step,
            Err(error) => {
                let message = error.to_string();
                end.start_error = Some(message.clone());
                return Err(JobFailed::Start(message));
            }
        };
        let pid = step.pid();
        self.table.update(self.index, |facts| facts.pid = pid);
        let ended = step.run(control.stop_requested()).await;
        let ended = ended.map_err(|error| JobFailed::Wait(error.to_string()))?;
        let stopped = control.is_stop_requested();
        let failure = match ended {
            StepEnd::Exited(exit) => {
                end.exit = Some(exit);
                (!exit.success()).then_some(JobFailed::Exit(exit))
            }
            StepEnd::NotStarted(message) => {
                end.start_error = Some(message.clone());
                Some(JobFailed::Start(message))
            }
            StepEnd::Lost(message) => {
                end.exit = Some(ExitInfo {
                    code: None,
                    signal: None,
                });
                Some(JobFailed::Lost(message))
            }
        };
        match failure {
            Some(failure) if !stopped => Err(failure),
            _ => Ok(()),
        }
    }
}

/// The end of one attempt, recorded when it is dropped: at the end of the future, or when the
/// library drops the future (a local process is then killed by `RunningJob`'s `Drop`, here).
struct AttemptEnd {
    runner: Rc<JobRunner>,
    attempt: u32,
    tail: OutputTail,
    started: Instant,
    exit: Option<ExitInfo>,
    start_error: Option<String>,
    /// The attempt's log file, with `--output-dir`.
    log: Option<PathBuf>,
    /// The attempt's local process, once started: owned here so that how its log fared is
    /// known however the attempt ends.
    process: Option<RunningJob>,
}

/// What `RunningJob`'s `Drop` does to a process that is still running.
const KILLED: ExitInfo = ExitInfo {
    code: None,
    signal: Some(nix::libc::SIGKILL),
};

impl Drop for AttemptEnd {
    fn drop(&mut self) {
        // A full disk stops the log, not the job: the report says the log is incomplete.
        let log_error = self.process.take().and_then(|process| {
            let error = process.log_error()?;
            let path = self
                .log
                .as_deref()
                .unwrap_or(std::path::Path::new("the log"));
            Some(format!("{}: {error}", path.display()))
        });
        let runner = &self.runner;
        let started = runner
            .table
            .get(runner.index)
            .is_some_and(|facts| facts.pid.is_some());
        let start_error = self.start_error.take();
        // Started and not ended by itself: the library dropped the attempt, and the process
        // (or the step) was killed.
        let exit = match self.exit {
            Some(exit) => Some(exit),
            None if started && start_error.is_none() => Some(KILLED),
            None => None,
        };
        let ended = match (&exit, &start_error) {
            (Some(exit), _) => exit.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => "stopped".to_owned(),
        };
        runner.table.update(runner.index, |facts| {
            facts.exit = exit;
            facts.start_error = start_error;
            facts.log_error = log_error;
            facts.ended = Some(Instant::now());
        });
        runner.console.job_output(
            &runner.path,
            self.attempt,
            &ended,
            self.started.elapsed(),
            &self.tail,
        );
    }
}

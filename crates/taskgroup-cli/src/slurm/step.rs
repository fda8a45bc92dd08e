//! One attempt of a job as a Slurm step: `srun … -- taskgroup slurm-step NONCE -- COMMAND`,
//! started as a local process ([`spawn`]), so output, readiness and
//! log files work as they do locally; only starting and stopping differ.
//!
//! Stopping (measured on Slurm 22.05, `docs/slurm-facts.md`): SIGTERM to a running srun makes
//! Slurm SIGKILL the task at once, so srun itself is never asked to stop a running step.
//!
//! - **Graceful** ([`RunningStep::run`], when its stop future resolves): `scancel
//!   --signal=TERM J.S` once the step id is known (the wrapper passes the TERM on to the
//!   whole job); TERM only, Slurm never escalates it. A job that srun says is still queued
//!   (or a step waiting for resources) runs nothing yet: srun is sent SIGTERM, which
//!   withdraws the request. Otherwise the stop waits for the step's id.
//! - **Forced** (`Drop`, when the library drops the future after the grace period):
//!   `scancel J.S`, Slurm's immediate SIGKILL of every process of the step; or SIGTERM to
//!   srun when the step id is not known (it kills a task that has just started at once, and
//!   withdraws a request that is still waiting). Handed to the run's [`Cleanup`], which waits
//!   for srun to exit.

use std::future::Future;
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use super::cleanup::{Cleanup, scancel};
use super::protocol::Marker;
use super::resources::SlurmResources;
use super::state::{SharedStep, SlurmIds, StepEnd, StepId, step_filter};
use super::wrapper::Proctrack;
use crate::process::{OutputOptions, ProcessSpec, RunningJob, spawn};

/// How long a forced stop waits for srun to exit before it kills srun itself (which makes
/// Slurm kill the task within 0.1 s).
const SRUN_EXIT_BOUND: Duration = Duration::from_secs(8);

/// What a run's steps share.
#[derive(Debug)]
pub struct StepContext {
    /// The wrapper's status lines' marker.
    pub marker: Marker,
    /// The `taskgroup` binary that runs as the step's task.
    pub wrapper: std::path::PathBuf,
    /// Whether the runner runs inside an allocation (`SLURM_JOB_ID` set): steps are created
    /// in it. Otherwise each job is its own allocation.
    pub in_allocation: bool,
    /// How Slurm tracks the step's processes: how the wrapper runs the job.
    pub proctrack: Proctrack,
    /// Forced stops, and what the run started.
    pub cleanup: Rc<Cleanup>,
}

/// A running step: its srun process, and what srun has said about it.
pub struct RunningStep {
    /// `None` once handed to the cleanup (in `Drop`).
    srun: Option<RunningJob>,
    shared: Rc<SharedStep>,
    context: Rc<StepContext>,
}

/// What a stop can do now.
enum StopTarget {
    /// The step runs: stop it through Slurm.
    Step(StepId),
    /// Nothing runs yet (srun waits for resources): srun can withdraw its request.
    Srun,
    /// srun is starting the step: its id will come.
    NotYet,
}

impl RunningStep {
    /// Starts `spec` (a job's process: command, working directory, environment) as a step
    /// named `name`, with `resources`. `on_ids` is called whenever the step's Slurm ids become
    /// known.
    ///
    /// # Errors
    ///
    /// srun could not be started (as [`spawn`] says), e.g. a working directory that does not
    /// exist.
    pub fn start(
        context: &Rc<StepContext>,
        spec: &ProcessSpec,
        name: &str,
        resources: &SlurmResources,
        output: OutputOptions,
        on_ids: impl Fn(SlurmIds) + 'static,
    ) -> io::Result<RunningStep> {
        let cleanup = Rc::clone(&context.cleanup);
        let in_allocation = context.in_allocation;
        let shared = SharedStep::new(move |ids| {
            let step = ids
                .job
                .zip(ids.step)
                .map(|(job, step)| StepId { job, step });
            cleanup.started(step, ids.job.filter(|_| !in_allocation));
            on_ids(ids);
        });
        let filter = step_filter(Rc::clone(&shared), context.marker.clone());
        let srun = spawn(
            &srun_spec(context, spec, name, resources),
            output.filter(filter),
        )?;
        Ok(RunningStep {
            srun: Some(srun),
            shared,
            context: Rc::clone(context),
        })
    }

    /// srun's pid.
    pub fn pid(&self) -> Option<u32> {
        self.srun.as_ref().map(RunningJob::pid)
    }

    /// Runs the step until it ends; when `stop` resolves first, stops it gracefully and goes
    /// on waiting (the caller's grace period then drops this: the forced stop).
    ///
    /// # Errors
    ///
    /// As for [`RunningJob::wait`].
    pub async fn run(&mut self, stop: impl Future<Output = ()>) -> io::Result<StepEnd> {
        let Some(srun) = self.srun.as_mut() else {
            return Err(io::Error::other("the step was already stopped"));
        };
        let exit = {
            let wait = srun.wait();
            tokio::pin!(stop);
            tokio::select! {
                biased;
                exit = wait => Some(exit?),
                () = &mut stop => None,
            }
        };
        let exit = match exit {
            Some(exit) => exit,
            None => stop_gracefully(srun, &self.shared).await?,
        };
        Ok(self.shared.state().conclude(exit))
    }
}

/// The graceful stop: TERM through Slurm once the step runs (see the module's notes).
async fn stop_gracefully(
    srun: &mut RunningJob,
    shared: &SharedStep,
) -> io::Result<crate::process::ExitInfo> {
    let mut asked = false;
    let mut term: Option<std::pin::Pin<Box<dyn Future<Output = io::Result<()>>>>> = None;
    loop {
        if !asked {
            match stop_target(shared) {
                StopTarget::Step(id) => {
                    term = Some(Box::pin(scancel(id, Some("TERM"))));
                    asked = true;
                }
                StopTarget::Srun => {
                    // Nothing runs: SIGTERM makes srun withdraw its request and exit.
                    let _ = srun.terminate();
                    asked = true;
                }
                StopTarget::NotYet => {}
            }
        }
        tokio::select! {
            exit = srun.wait() => return exit,
            () = shared.changed(), if !asked => {}
            sent = async {
                match term.as_mut() {
                    Some(term) => term.await,
                    None => std::future::pending().await,
                }
            }, if term.is_some() => {
                term = None;
                if let Err(error) = sent {
                    crate::runner::warn(format_args!(
                        "taskgroup: scancel --signal=TERM failed: {error}"
                    ));
                }
            }
        }
    }
}

fn stop_target(shared: &SharedStep) -> StopTarget {
    let state = shared.state();
    match (state.step, state.waiting) {
        (Some(id), _) => StopTarget::Step(id),
        (None, true) => StopTarget::Srun,
        (None, false) => StopTarget::NotYet,
    }
}

impl Drop for RunningStep {
    fn drop(&mut self) {
        let Some(mut srun) = self.srun.take() else {
            return;
        };
        if srun.has_exited() {
            return;
        }
        let target = stop_target(&self.shared);
        self.context.cleanup.push(async move {
            match target {
                StopTarget::Step(id) => {
                    if let Err(error) = scancel(id, None).await {
                        crate::runner::warn(format_args!(
                            "taskgroup: scancel {id} failed: {error}"
                        ));
                        let _ = srun.terminate();
                    }
                }
                StopTarget::Srun | StopTarget::NotYet => {
                    let _ = srun.terminate();
                }
            }
            // Dropping a srun that is still running SIGKILLs it, and Slurm kills its task.
            let _ = tokio::time::timeout(SRUN_EXIT_BOUND, srun.wait()).await;
        });
    }
}

/// `srun` with the job's resources, running the wrapper around the job's command, in the
/// job's working directory and with its environment (srun exports its own to the task).
fn srun_spec(
    context: &StepContext,
    spec: &ProcessSpec,
    name: &str,
    resources: &SlurmResources,
) -> ProcessSpec {
    let mut argv: Vec<std::ffi::OsString> = vec![
        "srun".into(),
        // One task on one node, whatever SLURM_NTASKS the allocation exported.
        "--ntasks=1".into(),
        "--nodes=1".into(),
        // Only the resources asked for, so that steps run side by side in an allocation
        // instead of each taking all of it (Slurm's default).
        "--exact".into(),
        format!("--job-name={name}").into(),
    ];
    argv.extend(resources.srun_options().into_iter().map(Into::into));
    argv.push("--".into());
    argv.push(context.wrapper.clone().into_os_string());
    argv.push("slurm-step".into());
    argv.push("--watch-stdin".into());
    argv.push(format!("--proctrack={}", context.proctrack.name()).into());
    argv.push(context.marker.nonce().into());
    argv.push("--".into());
    argv.push(spec.program().to_owned());
    argv.extend(spec.args().iter().cloned());
    // srun's stdin: the runner's pipe, the wrapper's sign that the runner is still there.
    let mut srun = ProcessSpec::argv(&argv).hold_stdin();
    if let Some(cwd) = spec.working_dir() {
        srun = srun.cwd(cwd);
    }
    spec.envs()
        .iter()
        .fold(srun, |srun, (key, value)| srun.env(key, value))
}

/// Whether `program` is found: a path that exists, or a name in `PATH`.
pub fn in_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

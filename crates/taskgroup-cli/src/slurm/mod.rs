//! The Slurm backend (issue 21, DESIGN §7): every job runs as a Slurm job step, and is still a
//! child of the library's groups, so policies, restarts, timeouts, deadlines, limits,
//! readiness and the report are the same as locally. Only how an attempt starts and stops
//! changes. `docs/slurm.md` is the user's side of this.
//!
//! - **Where.** Inside the runner's allocation when `SLURM_JOB_ID` is set (under `salloc` or
//!   `sbatch`): each attempt is a step of it, `srun --exact`, so steps take only what they
//!   ask for and run side by side. Otherwise each attempt is a job of its own, which `srun`
//!   creates and whose only step is `J.0`; the jobs are then scheduled by Slurm like any.
//! - **How** ([`step`]): a local `srun` process per attempt, whose task is the runner's own
//!   binary as a wrapper ([`wrapper`]) that reports the step id and the job's real exit or
//!   signal on stderr behind a per-run marker ([`protocol`], [`state`]).
//! - **Stopping** ([`step`], [`cleanup`]): `scancel --signal=TERM J.S`, the group's grace,
//!   then `scancel J.S`; never SIGTERM to a running srun (Slurm then SIGKILLs the task at
//!   once). At the end of the run every forced stop is waited for, and, after anything was
//!   stopped by force or the run was interrupted, `squeue` is asked until nothing of the run
//!   is left.
//! - **Resources** ([`resources`]): `cpus_per_task`, `mem`, `partition`, `time_limit`.

pub mod cleanup;
pub mod protocol;
pub mod resources;
pub mod state;
pub mod step;
pub mod wrapper;

use std::path::PathBuf;
use std::rc::Rc;

pub use cleanup::Cleanup;
pub use protocol::{Marker, SrunLine, TaskStatus, WrapperLine};
pub use resources::{SlurmResources, check_mem, check_partition, slurm_time};
pub use state::{SlurmIds, StepEnd, StepId, StepState};
pub use step::{RunningStep, StepContext};
pub use wrapper::Proctrack;

/// The variable that names the wrapper binary to run inside steps, for clusters where the
/// runner's own path is not visible on the compute nodes. Default: the runner's own binary.
pub const ENV_WRAPPER: &str = "TASKGROUP_SLURM_WRAPPER";

/// The Slurm commands the backend runs.
const COMMANDS: [&str; 4] = ["srun", "scancel", "squeue", "scontrol"];

/// The cluster's `ProctrackType` (`proctrack/cgroup`, …), from `scontrol show config`;
/// `None` when it cannot be asked.
pub fn proctrack() -> Option<String> {
    let output = std::process::Command::new("scontrol")
        .args(["show", "config"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "ProctrackType").then(|| value.trim().to_owned())
    })
}

/// The Slurm backend of one run, once started on the run's arbiter.
#[derive(Debug)]
pub struct SlurmBackend {
    context: Rc<StepContext>,
    worker: tokio::task::JoinHandle<()>,
}

impl SlurmBackend {
    /// Checks, before anything runs, that Slurm's commands and the wrapper are there, and
    /// settles where the steps go.
    ///
    /// # Errors
    ///
    /// A message for the user (exit status 2, nothing run).
    pub fn check() -> Result<StepContext, String> {
        for command in COMMANDS {
            if !step::in_path(command) {
                return Err(format!(
                    "the Slurm backend needs `{command}`, which is not in PATH"
                ));
            }
        }
        let wrapper = match std::env::var_os(ENV_WRAPPER) {
            Some(path) => PathBuf::from(path),
            None => std::env::current_exe()
                .map_err(|error| format!("cannot find the taskgroup binary: {error}"))?,
        };
        if !wrapper.is_file() {
            return Err(format!(
                "the step wrapper {} does not exist (set {ENV_WRAPPER})",
                wrapper.display()
            ));
        }
        Ok(StepContext {
            marker: Marker::fresh(),
            wrapper,
            in_allocation: std::env::var_os("SLURM_JOB_ID").is_some(),
            proctrack: Proctrack::of_plugin(proctrack().as_deref()),
            cleanup: Rc::new(Cleanup::default()),
        })
    }

    /// Starts the backend's cleanup worker; call it on the run's arbiter.
    pub fn start(context: StepContext) -> SlurmBackend {
        let context = Rc::new(context);
        let worker = actix_rt::spawn(Rc::clone(&context.cleanup).work());
        SlurmBackend { context, worker }
    }

    /// What the run's steps share.
    pub fn context(&self) -> &Rc<StepContext> {
        &self.context
    }

    /// The end of the run: waits for every forced stop, and makes sure nothing of the run is
    /// left in Slurm ([`Cleanup::settle`]).
    pub async fn settle(self, interrupted: bool) {
        self.context.cleanup.settle(self.worker, interrupted).await;
    }
}

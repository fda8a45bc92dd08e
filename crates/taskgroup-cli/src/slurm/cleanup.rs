//! Stopping steps through Slurm, and making sure at the end that none is left.
//!
//! - [`scancel`]: `scancel [--signal=SIG] J.S`, awaited.
//! - [`Cleanup`]: the forced stops in flight. A step's future is dropped by the library when
//!   its grace period is over, and a `Drop` cannot wait: it hands its `srun` over here, and a
//!   worker task ([`Cleanup::work`]) runs `scancel J.S` and waits for srun to exit, many at
//!   once. At the end of the run [`Cleanup::settle`] waits for all of them, then (when
//!   anything was stopped by force, or the run was interrupted) asks `squeue` whether a step
//!   or job of this run is still there, cancels any that is, and waits until none is: when
//!   the runner exits, nothing it started is queued or running in Slurm.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::state::StepId;

/// How long the end of a run waits for the forced stops still in flight: `scancel` takes tens
/// of milliseconds, srun exits about 30 ms later, and says it waits "up to 5 seconds for job
/// step to finish" at worst.
const SETTLE_BOUND: Duration = Duration::from_secs(10);

/// How long the final check waits for Slurm to forget what was cancelled.
const GONE_BOUND: Duration = Duration::from_secs(5);

/// Sends `signal` (a name like `TERM`) to step `id`, or kills it (`None`: Slurm's immediate
/// SIGKILL of every process of the step).
///
/// # Errors
///
/// `scancel` could not be run. Its own failure (the step has just ended) is not an error.
pub async fn scancel(id: StepId, signal: Option<&str>) -> io::Result<()> {
    let mut command = tokio::process::Command::new("scancel");
    if let Some(signal) = signal {
        command.arg(format!("--signal={signal}"));
    }
    command
        .arg(id.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.status().await.map(drop)
}

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// The forced stops of a run, and what the run started in Slurm.
#[derive(Default)]
pub struct Cleanup {
    pending: RefCell<Vec<Task>>,
    wake: Notify,
    closed: Cell<bool>,
    forced: Cell<usize>,
    /// Every step this run's jobs ran in.
    steps: RefCell<BTreeSet<StepId>>,
    /// Every Slurm job this run created (a job that is its own allocation), queued ones
    /// included.
    jobs: RefCell<BTreeSet<u64>>,
}

impl std::fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cleanup")
            .field("pending", &self.pending.borrow().len())
            .field("forced", &self.forced.get())
            .field("steps", &self.steps.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Cleanup {
    /// Hands over a forced stop (from a `Drop`): it starts at the worker's next turn.
    pub fn push(&self, task: impl Future<Output = ()> + 'static) {
        self.forced.set(self.forced.get() + 1);
        self.pending.borrow_mut().push(Box::pin(task));
        self.wake.notify_one();
    }

    /// Records a step of this run (and, when it is its own allocation, its job).
    pub fn started(&self, step: Option<StepId>, own_job: Option<u64>) {
        if let Some(step) = step {
            self.steps.borrow_mut().insert(step);
        }
        if let Some(job) = own_job {
            self.jobs.borrow_mut().insert(job);
        }
    }

    /// Runs the forced stops as they come, concurrently, until [`settle`](Self::settle)
    /// closes it and they are done. Spawn it once, on the run's arbiter.
    pub async fn work(self: std::rc::Rc<Self>) {
        let mut running = JoinSet::new();
        loop {
            for task in self.pending.take() {
                running.spawn_local(task);
            }
            if self.closed.get() && running.is_empty() {
                return;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
    }

    /// Waits for the forced stops in flight (`worker` is the task running
    /// [`work`](Self::work)); then, if anything was stopped by force or `interrupted`,
    /// makes sure that Slurm has nothing of this run left.
    pub async fn settle(&self, worker: tokio::task::JoinHandle<()>, interrupted: bool) {
        self.closed.set(true);
        self.wake.notify_one();
        if tokio::time::timeout(SETTLE_BOUND, worker).await.is_err() {
            crate::runner::warn(format_args!(
                "taskgroup: srun processes did not end within {SETTLE_BOUND:?} of being cancelled"
            ));
        }
        if self.forced.get() > 0 || interrupted {
            self.verify_gone().await;
        }
    }

    /// Polls `squeue` until no step or job of this run is listed, cancelling what is.
    async fn verify_gone(&self) {
        let deadline = Instant::now() + GONE_BOUND;
        let mut cancelled = false;
        loop {
            let left = match self.still_listed().await {
                Ok(left) => left,
                Err(error) => {
                    crate::runner::warn(format_args!(
                        "taskgroup: cannot ask squeue what is left: {error}"
                    ));
                    return;
                }
            };
            if left.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                crate::runner::warn(format_args!(
                    "taskgroup: still in Slurm {GONE_BOUND:?} after being cancelled: {}",
                    left.join(" ")
                ));
                return;
            }
            if !cancelled {
                // Whatever is listed was missed: cancel it all at once (a job id cancels the
                // whole job, which is this run's own).
                let _ = tokio::process::Command::new("scancel")
                    .args(&left)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .await;
                cancelled = true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// This run's steps and jobs that `squeue` still lists.
    async fn still_listed(&self) -> io::Result<Vec<String>> {
        let mut left = Vec::new();
        let steps: BTreeSet<String> = self.steps.borrow().iter().map(StepId::to_string).collect();
        if !steps.is_empty() {
            left.extend(
                squeue(&["--steps"])
                    .await?
                    .into_iter()
                    .filter(|id| steps.contains(id)),
            );
        }
        let jobs: BTreeSet<String> = self.jobs.borrow().iter().map(u64::to_string).collect();
        if !jobs.is_empty() {
            left.extend(
                squeue(&[])
                    .await?
                    .into_iter()
                    .filter(|id| jobs.contains(id)),
            );
        }
        Ok(left)
    }
}

/// The ids `squeue --me` lists (with `--steps`, steps as `J.S`).
async fn squeue(extra: &[&str]) -> io::Result<Vec<String>> {
    let output = tokio::process::Command::new("squeue")
        .args(["--me", "--noheader", "--format=%i"])
        .args(extra)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .await?;
    if !output.status.success() {
        return Err(io::Error::other(format!("squeue: {}", output.status)));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

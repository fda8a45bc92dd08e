//! What the runner knows about one step while its `srun` runs, read from srun's stderr
//! ([`step_filter`]), and how the step ended ([`StepState::conclude`]).
//!
//! Where a job's exit code and signal come from, in order:
//!
//! 1. the wrapper's `exit N` / `signal N` line: the job's own wait status (the truth);
//! 2. the wrapper's `start-error` line: the command could not be started, as locally;
//! 3. no `step` line at all: srun never started the wrapper (a bad partition, no such
//!    allocation, the wrapper missing on the node): the job did not start, and srun's last
//!    error line says why;
//! 4. a `step` line but no status: the wrapper was killed with its whole step (`scancel`, the
//!    time limit, the OOM killer): srun's `task 0: <signal text>` line, or its 128 + n exit,
//!    gives the signal;
//! 5. anything else, an srun exit of 0 included, is **not** a success: the step is reported
//!    as lost (with proctrack `linuxproc`/`pgid`, srun can return 0 after "Timed out waiting
//!    for job step to complete").

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use nix::sys::signal::Signal;
use tokio::sync::Notify;

use super::protocol::{Marker, SrunLine, TaskStatus, WrapperLine};
use crate::process::{ExitInfo, LineVerdict, Stream};

/// A step: `J.S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId {
    /// The Slurm job id.
    pub job: u64,
    /// The step id within the job.
    pub step: u64,
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.job, self.step)
    }
}

/// The Slurm ids of a job's last attempt, for the report: the job id as soon as srun names
/// it, the step id once the step runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlurmIds {
    /// The Slurm job id (`slurm_job_id`).
    pub job: Option<u64>,
    /// The step id within it (`slurm_step_id`).
    pub step: Option<u64>,
}

/// What srun's stderr has said so far about one step.
#[derive(Debug, Clone, Default)]
pub struct StepState {
    /// The Slurm job id, once known.
    pub job: Option<u64>,
    /// The step, once the wrapper runs in it.
    pub step: Option<StepId>,
    /// srun said that it waits (a queued job, or a step waiting for resources), and has not
    /// said since that it got them: nothing of the job runs yet.
    pub waiting: bool,
    /// The wrapper's last status line (`exit`, `signal` or `start-error`).
    pub status: Option<WrapperLine>,
    /// srun's `task 0: …` line.
    pub task: Option<TaskStatus>,
    /// srun's last other error line, said when the step never started.
    pub srun_error: Option<String>,
}

/// How a step ended, as the runner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEnd {
    /// The job's command ended so.
    Exited(ExitInfo),
    /// The job never started (why, in one line).
    NotStarted(String),
    /// The step ended without saying how the job did: never a success.
    Lost(String),
}

impl StepState {
    /// How the step ended, given how srun did (see the module's list).
    pub fn conclude(&self, srun: ExitInfo) -> StepEnd {
        match &self.status {
            Some(WrapperLine::StartError(message)) => {
                return StepEnd::NotStarted(message.clone());
            }
            Some(line) => {
                if let Some(exit) = line.exit_info() {
                    return StepEnd::Exited(exit);
                }
            }
            None => {}
        }
        if self.step.is_none() {
            return StepEnd::NotStarted(match &self.srun_error {
                Some(error) => error.clone(),
                None => format!("srun ended ({srun}) before the step started"),
            });
        }
        let killed_by = |signal: i32| {
            StepEnd::Exited(ExitInfo {
                code: None,
                signal: Some(signal),
            })
        };
        match (&self.task, srun.code) {
            (Some(TaskStatus::Signal(signal)), _) => killed_by(*signal),
            (None, Some(code)) if code > 128 && Signal::try_from(code - 128).is_ok() => {
                killed_by(code - 128)
            }
            _ => StepEnd::Lost(format!(
                "the step ended without the job's status (srun: {srun}): Slurm lost track of \
                 it (e.g. \"Timed out waiting for job step to complete\"); not a success"
            )),
        }
    }

    fn read_srun(&mut self, line: &str, message: SrunLine) {
        match message {
            SrunLine::Waiting { job } => {
                self.job.get_or_insert(job);
                self.waiting = self.step.is_none();
            }
            SrunLine::Granted { job } => {
                self.job.get_or_insert(job);
                self.waiting = false;
            }
            SrunLine::Task(status) => self.task = Some(status),
            SrunLine::Error => self.srun_error = Some(line.to_owned()),
        }
    }
}

/// One step's state, shared by the filter that reads srun's stderr and the future that runs
/// and stops the step.
pub struct SharedStep {
    state: RefCell<StepState>,
    /// Woken whenever the state changes (a stop request waits for the step id).
    changed: Notify,
    on_ids: Box<dyn Fn(SlurmIds)>,
}

impl SharedStep {
    /// A step nothing is known about yet; `on_ids` is called whenever its ids change.
    pub fn new(on_ids: impl Fn(SlurmIds) + 'static) -> Rc<SharedStep> {
        Rc::new(SharedStep {
            state: RefCell::new(StepState::default()),
            changed: Notify::new(),
            on_ids: Box::new(on_ids),
        })
    }

    /// A copy of the state.
    pub fn state(&self) -> StepState {
        self.state.borrow().clone()
    }

    /// Resolves at the next change of the state (at once if one happened since the last
    /// call).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    fn update(&self, change: impl FnOnce(&mut StepState)) {
        let ids = {
            let mut state = self.state.borrow_mut();
            let before = (state.job, state.step);
            change(&mut state);
            ((state.job, state.step) != before).then_some(SlurmIds {
                job: state.job,
                step: state.step.map(|id| id.step),
            })
        };
        if let Some(ids) = ids {
            (self.on_ids)(ids);
        }
        self.changed.notify_one();
    }
}

/// The output filter of a step's srun: takes the wrapper's status lines out of the job's
/// stderr and reads srun's own messages (which stay in the output).
pub fn step_filter(
    shared: Rc<SharedStep>,
    marker: Marker,
) -> impl FnMut(Stream, &str) -> LineVerdict + 'static {
    move |stream, line| {
        if stream != Stream::Stderr {
            return LineVerdict::Keep;
        }
        if let Some((at, status)) = marker.find(line) {
            shared.update(|state| match status {
                WrapperLine::Step { job, step } => {
                    state.job = Some(job);
                    state.step = Some(StepId { job, step });
                    state.waiting = false;
                }
                WrapperLine::Unknown => {}
                other => state.status = Some(other),
            });
            return match at {
                0 => LineVerdict::Drop,
                _ => LineVerdict::Replace(line[..at].to_owned()),
            };
        }
        let Some(message) = SrunLine::parse(line) else {
            return LineVerdict::Keep;
        };
        // srun's "task 0: Exited with exit code N" is the wrapper's exit, 128 + n for a job
        // killed by signal n: the wrapper's own line says it better. Its other lines stay.
        let verdict = match message {
            SrunLine::Task(TaskStatus::Exited(_)) => LineVerdict::Drop,
            _ => LineVerdict::Keep,
        };
        shared.update(|state| state.read_srun(line, message));
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: Option<i32>, signal: Option<i32>) -> ExitInfo {
        ExitInfo { code, signal }
    }

    fn read(lines: &[&str]) -> (StepState, Vec<LineVerdict>) {
        let marker = Marker::from_nonce("t");
        let shared = SharedStep::new(|_| {});
        let mut filter = step_filter(Rc::clone(&shared), marker.clone());
        let verdicts = lines
            .iter()
            .map(|line| filter(Stream::Stderr, &line.replace("MARK", marker.as_str())))
            .collect();
        (shared.state(), verdicts)
    }

    #[test]
    fn the_wrapper_s_status_is_the_truth_and_leaves_the_output() {
        let (state, verdicts) = read(&[
            "MARK step 31.2",
            "job's own line",
            "srun: error: vm: task 0: Exited with exit code 137",
            "MARK exit 137",
        ]);
        assert_eq!(state.step, Some(StepId { job: 31, step: 2 }));
        assert_eq!(
            verdicts,
            [
                LineVerdict::Drop,
                LineVerdict::Keep,
                LineVerdict::Drop,
                LineVerdict::Drop
            ]
        );
        let end = state.conclude(exit(Some(137), None));
        assert_eq!(end, StepEnd::Exited(exit(Some(137), None)));
        let (state, _) = read(&["MARK step 31.3", "MARK signal 9"]);
        assert_eq!(
            state.conclude(exit(Some(137), None)),
            StepEnd::Exited(exit(None, Some(9)))
        );
    }

    #[test]
    fn a_wrapper_killed_with_its_step_reports_the_signal() {
        let (state, _) = read(&["MARK step 4.0", "srun: error: vm: task 0: Killed"]);
        assert_eq!(
            state.conclude(exit(Some(137), None)),
            StepEnd::Exited(exit(None, Some(9)))
        );
        let (state, _) = read(&["MARK step 4.0"]);
        assert_eq!(
            state.conclude(exit(Some(143), None)),
            StepEnd::Exited(exit(None, Some(15)))
        );
    }

    #[test]
    fn srun_returning_0_without_the_status_is_not_a_success() {
        let (state, _) = read(&[
            "MARK step 5.0",
            "srun: error: Timed out waiting for job step to complete",
        ]);
        assert!(matches!(
            state.conclude(exit(Some(0), None)),
            StepEnd::Lost(_)
        ));
    }

    #[test]
    fn a_step_that_never_started_says_why() {
        let error = "srun: error: Unable to allocate resources: Invalid partition name specified";
        let (state, _) = read(&[error]);
        assert_eq!(
            state.conclude(exit(Some(1), None)),
            StepEnd::NotStarted(error.to_owned())
        );
        let (state, _) = read(&["MARK step 6.0", "MARK start-error cannot start `x`: gone"]);
        assert_eq!(
            state.conclude(exit(Some(127), None)),
            StepEnd::NotStarted("cannot start `x`: gone".to_owned())
        );
    }

    #[test]
    fn a_queued_job_waits_until_srun_says_it_got_resources() {
        let (state, _) = read(&["srun: job 63 queued and waiting for resources"]);
        assert!(state.waiting && state.job == Some(63) && state.step.is_none());
        let (state, _) = read(&[
            "srun: job 63 queued and waiting for resources",
            "srun: job 63 has been allocated resources",
        ]);
        assert!(!state.waiting);
        let (_, verdicts) = read(&["partial MARK exit 0"]);
        assert_eq!(verdicts, [LineVerdict::Replace("partial ".into())]);
    }
}

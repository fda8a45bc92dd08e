//! The process facts of every job, kept beside the library's report.
//!
//! The library's report says how each child ended, how many attempts it took and when it ran
//! (DESIGN §7: the report's data come from the library). What only the runner knows — the
//! command line, the pid, the exit code or signal of the last attempt, the last lines of its
//! output — is written here by the job's own future and read when the report is rendered.
//!
//! Jobs are numbered in the order a depth-first walk of the tree meets them (the file order;
//! `exec`'s line order), and that number is their key here, in their log file names and in
//! the walk that renders the report: one `Vec` index, no lookups by name.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::process::{ExitInfo, OutputTail};
use crate::slurm::SlurmIds;

/// What the runner knows about one job's last attempt.
#[derive(Debug, Clone, Default)]
pub struct JobFacts {
    /// The command, as one shell line (the report's `command`).
    pub command: String,
    /// The attempt the facts are about (1, 2, …); 0 while none has started.
    pub attempt: u32,
    /// The last attempt's pid, once its process started (on Slurm: its `srun`'s).
    pub pid: Option<u32>,
    /// The last attempt's Slurm job and step ids; `None` for a job on the local backend.
    pub slurm: Option<SlurmIds>,
    /// How the last attempt's process ended; `None` while it runs, or when it never started.
    pub exit: Option<ExitInfo>,
    /// Why the last attempt's process could not be started (not found, not executable, …).
    pub start_error: Option<String>,
    /// Why the last attempt's log file (`--output-dir`) is incomplete: its path and the error
    /// that stopped it (a full disk). The job went on.
    pub log_error: Option<String>,
    /// The last lines of the last attempt's output.
    pub tail: Option<OutputTail>,
    /// When the first attempt began.
    pub first_started: Option<Instant>,
    /// When the last attempt ended.
    pub ended: Option<Instant>,
}

impl JobFacts {
    /// From the first attempt's start to the last one's end (backoff between attempts
    /// included): how long the job took. `None` until it has started and ended.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.ended?.saturating_duration_since(self.first_started?))
    }
}

/// Every job's facts, indexed by job number: a cheap shared handle for the jobs' futures
/// (single-threaded, like the runner's arbiter).
#[derive(Debug, Clone, Default)]
pub struct JobTable {
    jobs: Rc<RefCell<Vec<JobFacts>>>,
}

impl JobTable {
    /// An empty table.
    pub fn new() -> JobTable {
        JobTable::default()
    }

    /// Adds a job that has not started yet and returns its number.
    pub fn register(&self, command: String) -> usize {
        let mut jobs = self.jobs.borrow_mut();
        jobs.push(JobFacts {
            command,
            ..JobFacts::default()
        });
        jobs.len() - 1
    }

    /// How many jobs are registered.
    pub fn len(&self) -> usize {
        self.jobs.borrow().len()
    }

    /// Whether no job is registered.
    pub fn is_empty(&self) -> bool {
        self.jobs.borrow().is_empty()
    }

    /// A copy of job `index`'s facts (`None` for an unknown number).
    pub fn get(&self, index: usize) -> Option<JobFacts> {
        self.jobs.borrow().get(index).cloned()
    }

    /// Changes job `index`'s facts; an unknown number is ignored.
    pub fn update(&self, index: usize, change: impl FnOnce(&mut JobFacts)) {
        if let Some(facts) = self.jobs.borrow_mut().get_mut(index) {
            change(facts);
        }
    }

    /// A new attempt of job `index` begins: the previous attempt's facts are forgotten.
    pub fn begin_attempt(&self, index: usize, attempt: u32, tail: OutputTail) {
        self.update(index, |facts| {
            facts.attempt = attempt;
            facts.pid = None;
            facts.slurm = None;
            facts.exit = None;
            facts.start_error = None;
            facts.log_error = None;
            facts.tail = Some(tail);
            facts.first_started.get_or_insert_with(Instant::now);
            facts.ended = None;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_numbered_in_registration_order_and_attempts_start_afresh() {
        let table = JobTable::new();
        assert!(table.is_empty());
        assert_eq!(table.register("true".into()), 0);
        assert_eq!(table.register("false".into()), 1);
        table.update(1, |facts| {
            facts.pid = Some(7);
            facts.exit = Some(ExitInfo {
                code: Some(1),
                signal: None,
            });
        });
        table.begin_attempt(1, 2, OutputTail::new(16));
        let facts = table.get(1).unwrap_or_default();
        assert_eq!((facts.attempt, facts.pid, facts.exit), (2, None, None));
        assert_eq!(facts.command, "false");
        assert_eq!(table.len(), 2);
        assert!(table.get(2).is_none());
    }
}

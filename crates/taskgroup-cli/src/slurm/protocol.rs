//! The lines the runner reads out of an `srun`'s stderr.
//!
//! - The **wrapper's status lines** ([`WrapperLine`]), behind a marker that is new for every
//!   run ([`Marker`]), so that a job's own output cannot be taken for one by accident:
//!   `step J.S` when the step starts, then `exit N`, `signal N` or `start-error MESSAGE`.
//!   They are taken out of the job's output.
//! - **srun's own messages** ([`SrunLine`]): that the job is queued or the step waits for
//!   resources (so nothing runs yet, and a stop need not wait for it to start), and its
//!   per-task line `srun: error: NODE: task 0: TEXT`. These stay in the job's output, except
//!   `task 0: Exited with exit code N`: that is the wrapper's exit (128 + n for a job killed
//!   by signal n), which the wrapper's own line says better.
//!
//! ```
//! use taskgroup_cli::slurm::{Marker, SrunLine, TaskStatus, WrapperLine};
//!
//! let marker = Marker::from_nonce("0123");
//! let line = marker.line(&WrapperLine::Step { job: 31, step: 2 });
//! assert_eq!(marker.find(&line), Some((0, WrapperLine::Step { job: 31, step: 2 })));
//! assert_eq!(
//!     SrunLine::parse("srun: error: vm: task 0: Killed"),
//!     Some(SrunLine::Task(TaskStatus::Signal(9)))
//! );
//! ```

use std::fmt;

use crate::process::ExitInfo;

/// The prefix of the wrapper's status lines in one run: `@@taskgroup-<nonce>@@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    nonce: String,
    text: String,
}

impl Marker {
    /// A marker with a fresh nonce: 16 hex digits from `/dev/urandom` (the clock and the pid
    /// where it cannot be read: the nonce only has to differ from what jobs print).
    pub fn fresh() -> Marker {
        let mut bytes = [0u8; 8];
        let random = std::fs::File::open("/dev/urandom")
            .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut bytes));
        let value = match random {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| since.as_nanos());
                // Truncation is fine: any 64 bits that differ between runs will do.
                (now as u64) ^ (u64::from(std::process::id()) << 40)
            }
        };
        Marker::from_nonce(&format!("{value:016x}"))
    }

    /// The marker for a given nonce (the wrapper gets it on its command line).
    pub fn from_nonce(nonce: &str) -> Marker {
        Marker {
            nonce: nonce.to_owned(),
            text: format!("@@taskgroup-{nonce}@@"),
        }
    }

    /// The nonce, what the wrapper is given on its command line.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The marker itself, as it starts a status line.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The line the wrapper writes for `what`.
    pub fn line(&self, what: &WrapperLine) -> String {
        format!("{} {what}", self.text)
    }

    /// Where the marker starts in `line` and what follows it, if it is there. The marker may
    /// come after a part of a line the job wrote without its newline; whatever follows the
    /// marker and is not understood is still the wrapper's (`None` only without a marker).
    pub fn find(&self, line: &str) -> Option<(usize, WrapperLine)> {
        let at = line.find(&self.text)?;
        let rest = line[at + self.text.len()..].trim_start();
        let parsed = WrapperLine::parse(rest).unwrap_or(WrapperLine::Unknown);
        Some((at, parsed))
    }
}

/// One status line of the in-step wrapper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrapperLine {
    /// The step runs: `$SLURM_JOB_ID.$SLURM_STEP_ID`.
    Step {
        /// The Slurm job id.
        job: u64,
        /// The step id within the job.
        step: u64,
    },
    /// The job's command exited with this code.
    Exit(i32),
    /// The job's command was killed by this signal.
    Signal(i32),
    /// The job's command could not be started (the OS's message).
    StartError(String),
    /// A line behind the marker that this runner does not understand.
    Unknown,
}

impl WrapperLine {
    /// The job's wait status, for [`Exit`](Self::Exit) and [`Signal`](Self::Signal).
    pub fn exit_info(&self) -> Option<ExitInfo> {
        match self {
            WrapperLine::Exit(code) => Some(ExitInfo {
                code: Some(*code),
                signal: None,
            }),
            WrapperLine::Signal(signal) => Some(ExitInfo {
                code: None,
                signal: Some(*signal),
            }),
            _ => None,
        }
    }

    /// The status line for how a command ended.
    pub fn of_exit(exit: ExitInfo) -> WrapperLine {
        match (exit.code, exit.signal) {
            (_, Some(signal)) => WrapperLine::Signal(signal),
            (Some(code), None) => WrapperLine::Exit(code),
            (None, None) => WrapperLine::Unknown,
        }
    }

    fn parse(text: &str) -> Option<WrapperLine> {
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        match word {
            "step" => {
                let (job, step) = rest.trim().split_once('.')?;
                Some(WrapperLine::Step {
                    job: job.parse().ok()?,
                    step: step.parse().ok()?,
                })
            }
            "exit" => Some(WrapperLine::Exit(rest.trim().parse().ok()?)),
            "signal" => Some(WrapperLine::Signal(rest.trim().parse().ok()?)),
            "start-error" => Some(WrapperLine::StartError(rest.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for WrapperLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WrapperLine::Step { job, step } => write!(f, "step {job}.{step}"),
            WrapperLine::Exit(code) => write!(f, "exit {code}"),
            WrapperLine::Signal(signal) => write!(f, "signal {signal}"),
            // One line: a message with a newline would end the status line early.
            WrapperLine::StartError(message) => {
                write!(f, "start-error {}", message.replace(['\n', '\r'], " "))
            }
            WrapperLine::Unknown => f.write_str("unknown"),
        }
    }
}

/// A message of `srun` itself about the job or its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrunLine {
    /// `srun: job J queued and waiting for resources`, or `srun: Job J step creation
    /// temporarily disabled, retrying (…)`: nothing of the job runs yet.
    Waiting {
        /// The Slurm job id.
        job: u64,
    },
    /// `srun: job J has been allocated resources`, or `srun: Step created for job J`: the
    /// step is being launched.
    Granted {
        /// The Slurm job id.
        job: u64,
    },
    /// `srun: error: NODE: task N: TEXT`: how srun saw the task end.
    Task(TaskStatus),
    /// Another error of srun's (`srun: error: …`, `srun: fatal: …`): kept to say why a step
    /// never started.
    Error,
}

/// How srun reports a task's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    /// `Exited with exit code N`.
    Exited(i32),
    /// The text of a signal (`Killed`, `Terminated`, `Segmentation fault`, …).
    Signal(i32),
    /// Anything else.
    Other(String),
}

impl SrunLine {
    /// The message `line` is, if it is one of srun's that the runner reads.
    pub fn parse(line: &str) -> Option<SrunLine> {
        let message = line.strip_prefix("srun: ")?;
        if let Some(rest) = message.strip_prefix("job ") {
            let (job, rest) = rest.split_once(' ')?;
            let job = job.parse().ok()?;
            return match rest {
                "queued and waiting for resources" => Some(SrunLine::Waiting { job }),
                "has been allocated resources" => Some(SrunLine::Granted { job }),
                _ => None,
            };
        }
        if let Some(rest) = message.strip_prefix("Job ") {
            let (job, rest) = rest.split_once(' ')?;
            let waiting = rest.starts_with("step creation temporarily disabled")
                || rest.starts_with("step creation still disabled");
            return waiting.then_some(SrunLine::Waiting {
                job: job.parse().ok()?,
            });
        }
        if let Some(job) = message.strip_prefix("Step created for job ") {
            return Some(SrunLine::Granted {
                job: job.trim().parse().ok()?,
            });
        }
        if let Some(error) = message.strip_prefix("error: ") {
            return Some(match task_status(error) {
                Some(status) => SrunLine::Task(status),
                None => SrunLine::Error,
            });
        }
        message.starts_with("fatal: ").then_some(SrunLine::Error)
    }
}

/// `NODE: task N: TEXT` → the status.
fn task_status(error: &str) -> Option<TaskStatus> {
    let (_, rest) = error.split_once(": task ")?;
    let (tasks, text) = rest.split_once(": ")?;
    if !tasks
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b',')
    {
        return None;
    }
    if let Some(code) = text.strip_prefix("Exited with exit code ") {
        return Some(TaskStatus::Exited(code.trim().parse().ok()?));
    }
    let text = text.trim_end_matches(" (core dumped)");
    Some(match signal_of_text(text) {
        Some(signal) => TaskStatus::Signal(signal),
        None => TaskStatus::Other(text.to_owned()),
    })
}

/// The signal whose description (glibc's `strsignal`, which srun prints) is `text`.
fn signal_of_text(text: &str) -> Option<i32> {
    const TEXTS: [(&str, i32); 20] = [
        ("Hangup", 1),
        ("Interrupt", 2),
        ("Quit", 3),
        ("Illegal instruction", 4),
        ("Trace/breakpoint trap", 5),
        ("Aborted", 6),
        ("Bus error", 7),
        ("Floating point exception", 8),
        ("Killed", 9),
        ("User defined signal 1", 10),
        ("Segmentation fault", 11),
        ("User defined signal 2", 12),
        ("Broken pipe", 13),
        ("Alarm clock", 14),
        ("Terminated", 15),
        ("CPU time limit exceeded", 24),
        ("File size limit exceeded", 25),
        ("Virtual timer expired", 26),
        ("Profiling timer expired", 27),
        ("Bad system call", 31),
    ];
    TEXTS
        .iter()
        .find(|(known, _)| *known == text)
        .map(|&(_, signal)| signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_lines_round_trip_and_survive_a_partial_line_before_them() {
        let marker = Marker::from_nonce("ab");
        for what in [
            WrapperLine::Step { job: 7, step: 0 },
            WrapperLine::Exit(137),
            WrapperLine::Signal(9),
            WrapperLine::StartError("cannot start `x`: No such file".into()),
        ] {
            let line = format!("no newline{}", marker.line(&what));
            assert_eq!(marker.find(&line), Some((10, what)));
        }
        assert_eq!(
            marker.find(&format!("{} frobnicate", marker.as_str())),
            Some((0, WrapperLine::Unknown))
        );
        assert_eq!(marker.find("@@taskgroup-other@@ exit 0"), None);
        assert_ne!(Marker::fresh(), Marker::fresh());
    }

    #[test]
    fn srun_messages_are_read() {
        let parse = SrunLine::parse;
        assert_eq!(
            parse("srun: job 63 queued and waiting for resources"),
            Some(SrunLine::Waiting { job: 63 })
        );
        assert_eq!(
            parse("srun: job 66 has been allocated resources"),
            Some(SrunLine::Granted { job: 66 })
        );
        assert_eq!(
            parse(
                "srun: Job 69 step creation temporarily disabled, retrying (Requested nodes are busy)"
            ),
            Some(SrunLine::Waiting { job: 69 })
        );
        assert_eq!(
            parse("srun: Step created for job 69"),
            Some(SrunLine::Granted { job: 69 })
        );
        assert_eq!(
            parse("srun: error: vm: task 0: Exited with exit code 137"),
            Some(SrunLine::Task(TaskStatus::Exited(137)))
        );
        assert_eq!(
            parse("srun: error: vm: task 0: Segmentation fault (core dumped)"),
            Some(SrunLine::Task(TaskStatus::Signal(11)))
        );
        assert_eq!(
            parse("srun: error: vm: task 0: Something new"),
            Some(SrunLine::Task(TaskStatus::Other("Something new".into())))
        );
        assert_eq!(
            parse("srun: error: Unable to allocate resources: Invalid partition name specified"),
            Some(SrunLine::Error)
        );
        assert_eq!(parse("srun: Force Terminated StepId=23.0"), None);
        assert_eq!(parse("job 63 queued and waiting for resources"), None);
    }
}

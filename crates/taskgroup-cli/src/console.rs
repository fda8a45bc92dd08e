//! Where the runner writes while jobs run: the live view on stderr and each job's output when
//! an attempt ends (issue 16 §5, §6).
//!
//! Three modes, chosen once at start ([`ViewMode::choose`]):
//!
//! - [`ViewMode::Tty`]: stderr is a terminal. An `indicatif` view ([`TtyView`]) redrawn from
//!   the library's snapshots; job output is printed above it.
//! - [`ViewMode::Plain`]: stderr is not a terminal. One timestamped line per library event
//!   ([`PlainLines`](crate::plain::PlainLines), a `tracing` layer), and job output.
//! - [`ViewMode::Quiet`] (`--quiet`): nothing but the final report.
//!
//! A job's output is printed when its attempt ends, grouped (GNU parallel's `--group`): the
//! lines it wrote to stdout go to the runner's stdout and those it wrote to stderr to the
//! runner's stderr, in the order they were read. On a terminal a header line on stderr says
//! whose output follows.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use actix_taskgroup::Snapshot;

use crate::process::{OutputTail, Stream};
use crate::tty::TtyView;

/// How the runner shows a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    /// `--quiet`: only the final report.
    Quiet,
    /// Plain timestamped lines, one per event (stderr is not a terminal).
    Plain,
    /// The live `indicatif` view (stderr is a terminal).
    Tty,
}

impl ViewMode {
    /// `Quiet` when asked, else `Tty` if stderr is a terminal, else `Plain`.
    pub fn choose(quiet: bool) -> ViewMode {
        if quiet {
            ViewMode::Quiet
        } else if io::stderr().is_terminal() {
            ViewMode::Tty
        } else {
            ViewMode::Plain
        }
    }
}

/// The runner's writer while jobs run.
#[derive(Debug)]
pub struct Console {
    mode: ViewMode,
    tty: Option<TtyView>,
}

impl Console {
    /// A console in `mode` (the `indicatif` view is drawn only in [`ViewMode::Tty`]).
    pub fn new(mode: ViewMode) -> Console {
        let tty = (mode == ViewMode::Tty).then(TtyView::new);
        Console { mode, tty }
    }

    /// The mode.
    pub fn mode(&self) -> ViewMode {
        self.mode
    }

    /// Prints what one attempt of job `path` wrote (nothing when quiet or when it wrote
    /// nothing). `ended` says how it ended, for the header.
    pub fn job_output(
        &self,
        path: &str,
        attempt: u32,
        ended: &str,
        elapsed: Duration,
        tail: &OutputTail,
    ) {
        if self.mode == ViewMode::Quiet {
            return;
        }
        let lines = tail.lines();
        if lines.is_empty() {
            return;
        }
        let write = || {
            let stdout = io::stdout();
            let stderr = io::stderr();
            let (mut out, mut err) = (stdout.lock(), stderr.lock());
            // Output is best effort: a closed stdout (`| head`) must not stop the run.
            if self.mode == ViewMode::Tty {
                let _ = writeln!(
                    err,
                    "\x1b[2m── {path} (attempt {attempt}, {ended}, {:.1}s) ──\x1b[0m",
                    elapsed.as_secs_f64()
                );
            }
            if tail.omitted_lines() > 0 {
                let _ = writeln!(
                    err,
                    "[{path}: {} earlier lines not kept]",
                    tail.omitted_lines()
                );
            }
            for line in &lines {
                let _ = match line.stream {
                    Stream::Stdout => {
                        let _ = err.flush();
                        writeln!(out, "{}", line.text)
                    }
                    Stream::Stderr => {
                        let _ = out.flush();
                        writeln!(err, "{}", line.text)
                    }
                };
            }
            let _ = out.flush();
            let _ = err.flush();
        };
        match &self.tty {
            Some(tty) => tty.suspend(write),
            None => write(),
        }
    }

    /// Redraws the live view from `snapshot` (`total`: the jobs known so far). Only the
    /// terminal view draws; the plain lines come from the library's events.
    pub fn tick(&self, snapshot: &Snapshot, total: usize) {
        if let Some(tty) = &self.tty {
            tty.update(snapshot, total);
        }
    }

    /// Removes the live view, before the final report is printed.
    pub fn finish(&self) {
        if let Some(tty) = &self.tty {
            tty.clear();
        }
    }
}

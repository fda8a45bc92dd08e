//! The live view on a terminal (issue 16 §5): an `indicatif` multi-progress view redrawn from
//! the library's [`Snapshot`] of the whole tree.
//!
//! ```text
//! ⠹ 00:02 [██████████░░░░░░░░░░░░] 4/7 jobs · 2 running · 3 done · 1 failed · 2 restarted
//!   database  running 2.1s
//!   ▾ build
//!     compile  running 0.8s
//!     fetch-deps  restarting in 300ms (attempt 2)
//! ```
//!
//! The overall bar counts finished jobs; one line per running job (its elapsed time, its
//! attempt once restarted) under one line per running group, indented by depth, so the tree's
//! shape shows. Lines are a pool of bars whose messages are rewritten at each tick, so the
//! order on screen is always the tree's order.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;

use crate::supervise::join_path;
use actix_taskgroup::{ChildKind, ChildState, GroupState, Snapshot};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// At most this many job and group lines are drawn; the rest are counted on one line.
const MAX_LINES: usize = 20;

/// The terminal view.
#[derive(Debug)]
pub struct TtyView {
    multi: MultiProgress,
    overall: ProgressBar,
    lines: RefCell<Vec<ProgressBar>>,
    spinner: RefCell<usize>,
    /// The last counts seen of each nested group, by its name (its path, unique in the run).
    /// A nested group's snapshot goes with it when it ends; its jobs still count.
    ended_groups: RefCell<HashMap<String, Counts>>,
}

/// Job counts of one subtree.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    running: u64,
    done: u64,
    failed: u64,
    restarted: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.running += other.running;
        self.done += other.done;
        self.failed += other.failed;
        self.restarted += other.restarted;
    }
}

/// What a walk of the snapshot found: the lines to draw.
#[derive(Debug, Default)]
struct Tally {
    lines: Vec<String>,
    hidden: usize,
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

impl TtyView {
    /// A view drawn on stderr (drawing nothing if stderr is not a terminal).
    pub fn new() -> TtyView {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(20));
        let style = ProgressStyle::with_template(
            "{prefix} {elapsed_precise} [{bar:24.cyan/blue}] {pos}/{len} jobs · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("█▉░");
        let overall = multi.add(ProgressBar::new(0).with_style(style));
        TtyView {
            multi,
            overall,
            lines: RefCell::new(Vec::new()),
            spinner: RefCell::new(0),
            ended_groups: RefCell::new(HashMap::new()),
        }
    }

    /// Redraws from `snapshot`; `total` is the number of jobs known so far.
    pub fn update(&self, snapshot: &Snapshot, total: usize) {
        let mut tally = Tally::default();
        let counts = walk(
            snapshot,
            "",
            0,
            &mut tally,
            &mut self.ended_groups.borrow_mut(),
        );
        let mut frame = self.spinner.borrow_mut();
        *frame = (*frame + 1) % SPINNER.len();
        self.overall.set_prefix(SPINNER[*frame]);
        self.overall
            .set_length(u64::try_from(total).unwrap_or(u64::MAX));
        self.overall.set_position(counts.done + counts.failed);
        self.overall.set_message(format!(
            "{} running · {} done · {} failed · {} restarted",
            counts.running, counts.done, counts.failed, counts.restarted
        ));
        if tally.hidden > 0 {
            tally.lines.push(format!("  … and {} more", tally.hidden));
        }
        let mut lines = self.lines.borrow_mut();
        while lines.len() < tally.lines.len() {
            let bar = ProgressBar::new(1).with_style(
                ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            lines.push(self.multi.add(bar));
        }
        while lines.len() > tally.lines.len() {
            if let Some(bar) = lines.pop() {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
        for (bar, text) in lines.iter().zip(tally.lines) {
            bar.set_message(text);
        }
    }

    /// Runs `write` with the view cleared, then redraws it: output printed meanwhile stays
    /// above the view instead of being drawn over.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        self.multi.suspend(write)
    }

    /// Removes the view from the terminal.
    pub fn clear(&self) {
        for bar in self.lines.borrow_mut().drain(..) {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Default for TtyView {
    fn default() -> Self {
        TtyView::new()
    }
}

/// Counts the jobs of `snapshot` and writes the lines of what runs, depth first. `prefix`
/// is the group's path (empty for the root); `ended` keeps the last counts of every nested
/// group seen, by path, for when it has ended.
fn walk(
    snapshot: &Snapshot,
    prefix: &str,
    depth: usize,
    tally: &mut Tally,
    ended: &mut HashMap<String, Counts>,
) -> Counts {
    let mut counts = Counts {
        restarted: snapshot.counters.restarted,
        ..Counts::default()
    };
    for child in &snapshot.children {
        let name = child.name.as_deref().unwrap_or("?");
        let indent = "  ".repeat(depth + 1);
        if let Some(nested) = &child.nested {
            if nested.state != GroupState::Finished
                && !matches!(child.state, ChildState::Stopped(_))
            {
                let mut line = format!("{indent}▾ {name}");
                if let Some(left) = nested.deadline_in {
                    let _ = write!(line, "  (deadline in {:.1}s)", left.as_secs_f64());
                }
                if nested.state == GroupState::Stopping {
                    line.push_str("  stopping");
                }
                push_line(tally, line);
            }
            let path = join_path(prefix, name);
            let inner = walk(nested, &path, depth + 1, tally, ended);
            ended.insert(path, inner);
            counts.add(inner);
            continue;
        }
        if child.kind == ChildKind::Group {
            // Ended: what it ran last has ended too. Not started yet: nothing to count.
            if matches!(child.state, ChildState::Stopped(_))
                && let Some(last) = ended.get(&join_path(prefix, name))
            {
                let mut last = *last;
                last.done += std::mem::take(&mut last.running);
                counts.add(last);
            }
            continue;
        }
        match child.state {
            ChildState::Stopped(outcome) if outcome.is_failure() => counts.failed += 1,
            ChildState::Stopped(_) => counts.done += 1,
            ChildState::Queued => {}
            state => {
                counts.running += 1;
                let mut line = format!("{indent}{name}  {state}");
                if let Some(age) = child.age
                    && !matches!(state, ChildState::Restarting { .. })
                {
                    let _ = write!(line, " {:.1}s", age.as_secs_f64());
                }
                if child.attempts > 1 {
                    let _ = write!(line, " (attempt {})", child.attempts);
                }
                push_line(tally, line);
            }
        }
    }
    counts
}

fn push_line(tally: &mut Tally, line: String) {
    if tally.lines.len() < MAX_LINES {
        tally.lines.push(line);
    } else {
        tally.hidden += 1;
    }
}

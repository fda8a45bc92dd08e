//! The report as people read it, on stdout at the end of a run: one line per group and job,
//! indented as the tree, with outcome, exit code or signal, attempts and duration; the last
//! lines of each failed job's output when asked (on a terminal); then a summary line and the
//! library's error tree when the run failed.
//!
//! ```text
//! demo                 completed                       2.31s
//!   database           cancelled  SIGTERM   1 attempt  2.30s  service
//!   build              completed                       1.62s
//!     fetch-deps       completed  exit 0   3 attempts  0.52s
//!     lint             failed     exit 3    1 attempt  0.30s  best effort
//! 6 jobs: 4 completed, 1 failed, 1 cancelled
//! ```

use std::fmt::Write as _;

use super::{NodeDetail, ReportNode};

/// How many lines of a failed job's output the report shows.
pub const TAIL_LINES: usize = 5;

/// Options of the text report.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Show the last lines of each failed job's output under it.
    pub failed_tails: bool,
}

/// The whole text report, ending with a newline.
pub fn render(root: &ReportNode, options: TextOptions) -> String {
    let width = name_width(root, 0).max(8) + 2;
    let mut out = String::new();
    write_node(&mut out, root, 0, width, options);
    let mut counts = Counts::default();
    count(root, &mut counts);
    let _ = writeln!(out, "{}", counts.summary());
    if let Some(error) = &root.error
        && root.outcome != "completed"
    {
        let _ = writeln!(out, "error: {error}");
    }
    out
}

fn name_width(node: &ReportNode, depth: usize) -> usize {
    let own = 2 * depth + node.name.chars().count();
    node.children()
        .iter()
        .map(|child| name_width(child, depth + 1))
        .fold(own, usize::max)
}

fn write_node(
    out: &mut String,
    node: &ReportNode,
    depth: usize,
    width: usize,
    options: TextOptions,
) {
    let indent = "  ".repeat(depth);
    let name = format!("{indent}{}", node.name);
    let (exit, attempts) = match &node.detail {
        NodeDetail::Job(facts) => {
            let exit = match (facts.exit, &facts.start_error) {
                (Some(exit), _) => match exit.signal_name() {
                    Some(signal) => signal.to_owned(),
                    None => exit
                        .code
                        .map_or_else(|| exit.to_string(), |code| format!("exit {code}")),
                },
                (None, Some(_)) => "not started".to_owned(),
                (None, None) => String::new(),
            };
            let attempts = match node.attempts {
                1 => "1 attempt".to_owned(),
                n => format!("{n} attempts"),
            };
            (exit, attempts)
        }
        NodeDetail::Group(_) => (String::new(), String::new()),
    };
    let duration = node
        .duration
        .map_or_else(|| "-".to_owned(), |d| format!("{:.2}s", d.as_secs_f64()));
    let mut line = format!(
        "{name:<width$}{:<10} {exit:<11} {attempts:>10} {duration:>7}",
        node.outcome
    );
    if let NodeDetail::Job(facts) = &node.detail
        && let Some(ids) = facts.slurm
    {
        match (ids.job, ids.step) {
            (Some(job), Some(step)) => {
                let _ = write!(line, "  step {job}.{step}");
            }
            (Some(job), None) => {
                let _ = write!(line, "  slurm job {job}");
            }
            _ => {}
        }
    }
    if node.service {
        line.push_str("  service");
    }
    if node.best_effort {
        line.push_str("  best effort");
    }
    let _ = writeln!(out, "{}", line.trim_end());
    if let NodeDetail::Job(facts) = &node.detail
        && let Some(error) = &facts.log_error
    {
        let _ = writeln!(out, "{indent}  │ log incomplete: {error}");
    }
    if let NodeDetail::Job(facts) = &node.detail
        && node.is_failure()
    {
        if let Some(error) = facts.start_error.as_ref().or(node.error.as_ref())
            && facts.exit.is_none()
        {
            let _ = writeln!(out, "{indent}  │ {error}");
        }
        if options.failed_tails
            && let Some(tail) = &facts.tail
        {
            let lines = tail.lines();
            for line in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
                let _ = writeln!(out, "{indent}  │ {}", line.text);
            }
        }
    }
    for child in node.children() {
        write_node(out, child, depth + 1, width, options);
    }
}

#[derive(Debug, Default)]
struct Counts {
    jobs: usize,
    by_outcome: Vec<(&'static str, usize)>,
}

impl Counts {
    fn summary(&self) -> String {
        let plural = if self.jobs == 1 { "" } else { "s" };
        let rank = |outcome: &str| {
            ["completed", "failed", "timed_out", "panicked", "cancelled"]
                .iter()
                .position(|known| *known == outcome)
        };
        let mut by_outcome = self.by_outcome.clone();
        by_outcome.sort_by_key(|(outcome, _)| rank(outcome));
        let parts: Vec<String> = by_outcome
            .iter()
            .map(|(outcome, count)| format!("{count} {}", outcome.replace('_', " ")))
            .collect();
        if parts.is_empty() {
            format!("{} job{plural}", self.jobs)
        } else {
            format!("{} job{plural}: {}", self.jobs, parts.join(", "))
        }
    }
}

fn count(node: &ReportNode, counts: &mut Counts) {
    match &node.detail {
        NodeDetail::Job(_) => {
            counts.jobs += 1;
            match counts
                .by_outcome
                .iter_mut()
                .find(|(outcome, _)| *outcome == node.outcome)
            {
                Some((_, count)) => *count += 1,
                None => counts.by_outcome.push((node.outcome, 1)),
            }
        }
        NodeDetail::Group(children) => children.iter().for_each(|child| count(child, counts)),
    }
}

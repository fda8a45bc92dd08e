//! From the raw TOML tables to the typed tree, with every check that needs more than one value:
//! ranges, names, duplicates and contradictory settings. Every problem is collected (not just
//! the first), so one run of `taskgroup check` shows them all.

use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::error::{Location, Problem};
use super::raw::{RawBackoff, RawCommand, RawDuration, RawGroup, RawIntensity, RawJob, RawReady};
use super::slurm_keys::RawSlurmKeys;
use super::tree::{
    Backend, BackoffDef, ChildDef, CommandDef, GroupDef, GroupPolicy, IntensityDef, JobDef,
    ReadyDef,
};
use crate::process::Stream;
use crate::slurm::SlurmResources;

/// The root group's name when the file sets none.
pub const DEFAULT_ROOT_NAME: &str = "root";

/// The backoff's growth per restart when `factor` is not set.
const DEFAULT_BACKOFF_FACTOR: f64 = 2.0;

/// Validates the root table of `source` into the tree, or returns every problem found.
/// `root_backend` is the root's backend when the file sets none.
pub(super) fn validate(
    source: &str,
    root: RawGroup,
    root_backend: Backend,
) -> Result<GroupDef, Vec<Problem>> {
    let mut validator = Validator {
        source,
        problems: Vec::new(),
    };
    let inherited = Inherited {
        backend: root_backend,
        slurm: SlurmResources::default(),
    };
    let root = validator.group(root, None, None, &inherited);
    if validator.problems.is_empty() {
        Ok(root)
    } else {
        Err(validator.problems)
    }
}

pub(super) struct Validator<'source> {
    source: &'source str,
    problems: Vec<Problem>,
}

/// What a group passes down to its children.
struct Inherited {
    backend: Backend,
    slurm: SlurmResources,
}

impl Validator<'_> {
    pub(super) fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem::at(self.source, span, message));
    }

    /// A problem at `span`, or of the whole file when there is no span (the root group).
    fn problem_at(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        match span {
            Some(span) => self.problem(span, message),
            None => self.problems.push(Problem::whole_file(message)),
        }
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        Location::of_span(self.source, span.clone()).line
    }

    /// Validates one group. `header` is the span of its `[[group]]` header (empty for the
    /// root); `parent` is the parent group's name, `None` for the root.
    fn group(
        &mut self,
        raw: RawGroup,
        header: Option<Range<usize>>,
        parent: Option<&str>,
        inherited: &Inherited,
    ) -> GroupDef {
        let name = match (&raw.name, parent) {
            (Some(name), _) => self.name(name, "group"),
            (None, None) => DEFAULT_ROOT_NAME.to_owned(),
            (None, Some(parent)) => {
                self.problem_at(
                    header.clone(),
                    format!("a group in `{parent}` has no `name`: every nested group needs one"),
                );
                String::new()
            }
        };
        let policy = raw.policy.unwrap_or_default();
        let limit = raw.limit.as_ref().and_then(|limit| {
            let value = self.at_least_one(limit, "limit", "how many children may run at once")?;
            NonZeroUsize::new(usize::try_from(value).ok()?)
        });
        let deadline = raw.deadline.as_ref().map(|d| self.non_zero(d, "deadline"));
        let ready_timeout = raw
            .ready_timeout
            .as_ref()
            .map(|d| self.non_zero(d, "ready_timeout"));
        let intensity = raw.intensity.as_ref().map(|i| self.intensity(i));
        let backoff = raw.backoff.as_ref().map(|b| self.backoff(b));
        let backend = raw.backend.unwrap_or(inherited.backend);
        let slurm = self
            .slurm_keys(&RawSlurmKeys::of_group(&raw))
            .over(&inherited.slurm);
        let passed_down = Inherited {
            backend,
            slurm: slurm.clone(),
        };
        let best_effort = raw.best_effort.as_ref().is_some_and(|flag| *flag.get_ref());
        if let (true, None, Some(flag)) = (best_effort, parent, &raw.best_effort) {
            self.problem(
                flag.span(),
                "the root group cannot be `best_effort`: it has no parent to spare its failure",
            );
        }

        // Jobs and groups are two TOML arrays; their spans give back the order they were
        // written in, which is the spawn order (DESIGN R4).
        let mut positioned: Vec<(usize, Range<usize>, ChildDef)> = Vec::new();
        for job in raw.job {
            let span = job.span();
            let name_span = job.get_ref().name.span();
            let job = self.job(job.into_inner(), span.clone(), &name, policy, &passed_down);
            positioned.push((span.start, name_span, ChildDef::Job(job)));
        }
        for group in raw.group {
            let span = group.span();
            let name_span = group
                .get_ref()
                .name
                .as_ref()
                .map_or(span.clone(), Spanned::span);
            let group = self.group(
                group.into_inner(),
                Some(span.clone()),
                Some(&name),
                &passed_down,
            );
            positioned.push((span.start, name_span, ChildDef::Group(group)));
        }
        positioned.sort_by_key(|(start, _, _)| *start);
        self.unique_names(&positioned, &name);
        let children: Vec<ChildDef> = positioned.into_iter().map(|(_, _, child)| child).collect();
        self.services_have_a_batch(&children, &name, header.clone());

        GroupDef {
            name,
            policy,
            limit,
            deadline,
            grace: raw.grace.map(|RawDuration(grace)| grace),
            strategy: raw.strategy.unwrap_or_default(),
            intensity,
            backoff,
            ready_timeout,
            backend,
            slurm,
            best_effort,
            children,
            line: header.map_or(1, |header| self.line_of(&header)),
        }
    }

    fn job(
        &mut self,
        raw: RawJob,
        span: Range<usize>,
        group: &str,
        policy: GroupPolicy,
        inherited: &Inherited,
    ) -> JobDef {
        let name = self.name(&raw.name, "job");
        let command = self.command(&raw.command);
        let cwd = raw.cwd.as_ref().map(|cwd| {
            if cwd.get_ref().is_empty() {
                self.problem(
                    cwd.span(),
                    "`cwd` is empty: leave it out to use the runner's",
                );
            }
            self.no_nul(cwd, "`cwd`");
            PathBuf::from(cwd.get_ref())
        });
        let mut env = std::collections::BTreeMap::new();
        for (key, value) in &raw.env {
            let key_text = key.get_ref();
            if key_text.is_empty() || key_text.contains('=') {
                self.problem(
                    key.span(),
                    format!("`{key_text}` is not an environment variable name (empty or has `=`)"),
                );
            }
            self.no_nul(key, "an environment variable name");
            self.no_nul(value, "an environment variable");
            env.insert(key_text.clone(), value.get_ref().clone());
        }
        let timeout = raw.timeout.as_ref().map(|t| self.non_zero(t, "timeout"));
        let attempts = raw.attempts.as_ref().and_then(|attempts| {
            let value = self.at_least_one(attempts, "attempts", "it counts the first run")?;
            let value = u32::try_from(value).ok().and_then(NonZeroU32::new);
            if value.is_none() {
                self.problem(attempts.span(), "`attempts` is too large");
            }
            value
        });
        let best_effort = raw.best_effort.as_ref().is_some_and(|flag| *flag.get_ref());
        let service = raw.service.as_ref().is_some_and(|flag| *flag.get_ref());
        if let (true, true, Some(flag)) = (best_effort, service, &raw.service) {
            self.problem(
                flag.span(),
                format!(
                    "job `{name}` is both `service` and `best_effort`: a service is stopped when \
                     the batch ends, so it is never a batch result; drop `best_effort`"
                ),
            );
        }
        if let (true, GroupPolicy::FirstSuccess, Some(flag)) = (service, policy, &raw.service) {
            self.problem(
                flag.span(),
                format!(
                    "job `{name}` is a `service` in group `{group}`, whose policy is \
                     first-success: a race has no batch for a service to run beside"
                ),
            );
        }
        let ready = raw.ready.as_ref().and_then(|ready| self.ready(ready));
        let slurm = self
            .slurm_keys(&RawSlurmKeys::of_job(&raw))
            .over(&inherited.slurm);
        JobDef {
            name,
            command,
            cwd,
            env,
            timeout,
            restart: raw.restart.unwrap_or_default(),
            attempts,
            best_effort,
            service,
            ready,
            backend: inherited.backend,
            slurm,
            line: self.line_of(&span),
        }
    }

    /// A job or group name: not blank, no control characters (names are printed in the live
    /// view and the report, and a newline would forge a line there).
    fn name(&mut self, name: &Spanned<String>, what: &str) -> String {
        let text = name.get_ref();
        if text.trim().is_empty() {
            self.problem(name.span(), format!("a {what} name cannot be blank"));
        } else if text.chars().any(char::is_control) {
            self.problem(
                name.span(),
                format!("{what} name {text:?} has a control character (newline, tab, …)"),
            );
        }
        text.clone()
    }

    fn command(&mut self, command: &Spanned<RawCommand>) -> CommandDef {
        let span = command.span();
        match command.get_ref() {
            RawCommand::Shell(line) => {
                if line.trim().is_empty() {
                    self.problem(span.clone(), "`command` is blank: say what the job runs");
                }
                if line.contains('\0') {
                    self.problem(span, "`command` contains a NUL character");
                }
                CommandDef::Shell(line.clone())
            }
            RawCommand::Argv(argv) => {
                match argv.first() {
                    None => self.problem(
                        span.clone(),
                        "`command` is an empty array: it needs at least the program",
                    ),
                    Some(program) if program.is_empty() => self.problem(
                        span.clone(),
                        "`command`'s first element (the program) is empty",
                    ),
                    Some(_) => {}
                }
                if argv.iter().any(|argument| argument.contains('\0')) {
                    self.problem(span, "`command` contains a NUL character");
                }
                CommandDef::Argv(argv.clone())
            }
        }
    }

    fn no_nul(&mut self, text: &Spanned<String>, what: &str) {
        if text.get_ref().contains('\0') {
            self.problem(
                text.span(),
                format!("{what} cannot contain a NUL character"),
            );
        }
    }

    /// A count that must be at least 1; `None` (after recording the problem) otherwise.
    pub(super) fn at_least_one(
        &mut self,
        value: &Spanned<i64>,
        key: &str,
        why: &str,
    ) -> Option<i64> {
        let number = *value.get_ref();
        if number < 1 {
            self.problem(
                value.span(),
                format!("`{key}` must be at least 1 ({why}), not {number}"),
            );
            return None;
        }
        Some(number)
    }

    pub(super) fn non_zero(&mut self, duration: &Spanned<RawDuration>, key: &str) -> Duration {
        let RawDuration(value) = *duration.get_ref();
        if value.is_zero() {
            self.problem(
                duration.span(),
                format!("`{key}` cannot be zero: leave it out for none"),
            );
        }
        value
    }

    fn intensity(&mut self, raw: &RawIntensity) -> IntensityDef {
        let count = *raw.max_restarts.get_ref();
        let max_restarts = u32::try_from(count).unwrap_or_else(|_| {
            self.problem(
                raw.max_restarts.span(),
                format!(
                    "`max_restarts` must be between 0 and {}, not {count}",
                    u32::MAX
                ),
            );
            0
        });
        IntensityDef {
            max_restarts,
            window: self.non_zero(&raw.window, "window"),
        }
    }

    fn backoff(&mut self, raw: &Spanned<RawBackoff>) -> BackoffDef {
        let backoff = raw.get_ref();
        let RawDuration(base) = backoff.base;
        let factor = match &backoff.factor {
            Some(factor) if !(factor.get_ref().is_finite() && *factor.get_ref() >= 1.0) => {
                self.problem(
                    factor.span(),
                    "`factor` must be a number of at least 1 (1 keeps the delay constant)",
                );
                DEFAULT_BACKOFF_FACTOR
            }
            Some(factor) => *factor.get_ref(),
            None => DEFAULT_BACKOFF_FACTOR,
        };
        let jitter = match &backoff.jitter {
            Some(jitter) if !(0.0..=1.0).contains(jitter.get_ref()) => {
                self.problem(
                    jitter.span(),
                    "`jitter` must be between 0 and 1 (a fraction of the delay)",
                );
                0.0
            }
            Some(jitter) => *jitter.get_ref(),
            None => 0.0,
        };
        let max = backoff.max.as_ref().map(|max| {
            let RawDuration(value) = *max.get_ref();
            if value < base {
                self.problem(max.span(), "backoff `max` is below its `base`");
            }
            value
        });
        BackoffDef {
            base,
            factor,
            max,
            jitter,
            reset_after: backoff.reset_after.map(|RawDuration(value)| value),
        }
    }

    fn ready(&mut self, raw: &Spanned<RawReady>) -> Option<ReadyDef> {
        let ready = raw.get_ref();
        let (stream, pattern) = match (&ready.stdout, &ready.stderr) {
            (Some(pattern), None) => (Stream::Stdout, pattern),
            (None, Some(pattern)) => (Stream::Stderr, pattern),
            _ => {
                self.problem(
                    raw.span(),
                    "`ready` needs exactly one of `stdout` or `stderr`, e.g. \
                     ready = { stdout = \"listening\" }",
                );
                return None;
            }
        };
        if pattern.get_ref().is_empty() {
            self.problem(
                pattern.span(),
                "the `ready` text is empty: it would match any line",
            );
        }
        Some(ReadyDef {
            stream,
            pattern: pattern.get_ref().clone(),
        })
    }

    /// Names are unique among a group's children, jobs and groups alike: they identify the
    /// child in the report and the live view.
    fn unique_names(&mut self, children: &[(usize, Range<usize>, ChildDef)], group: &str) {
        let mut first_line: HashMap<&str, usize> = HashMap::new();
        for (_, name_span, child) in children {
            let (name, line) = match child {
                ChildDef::Job(job) => (job.name.as_str(), job.line),
                ChildDef::Group(group) => (group.name.as_str(), group.line),
            };
            if name.is_empty() {
                continue;
            }
            match first_line.get(name) {
                Some(first) => {
                    let message = format!(
                        "duplicate name `{name}` in group `{group}` (first used by the child on \
                         line {first}): names must be unique within a group"
                    );
                    self.problem(name_span.clone(), message);
                }
                None => {
                    first_line.insert(name, line);
                }
            }
        }
    }

    /// A group made only of services would stop them at once: a service runs beside the
    /// group's other children and is stopped when they have all ended.
    fn services_have_a_batch(
        &mut self,
        children: &[ChildDef],
        group: &str,
        header: Option<Range<usize>>,
    ) {
        let is_service = |child: &ChildDef| matches!(child, ChildDef::Job(job) if job.service);
        if !children.is_empty() && children.iter().all(is_service) {
            self.problem_at(
                header,
                format!(
                    "every child of group `{group}` is a `service`: services are stopped once the \
                     group's other children end, so these would stop at once"
                ),
            );
        }
    }
}

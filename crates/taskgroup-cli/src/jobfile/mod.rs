//! The TOML job file (issue 16 §2): a tree of groups and jobs, validated into [`GroupDef`].
//!
//! The root table is the root group; `[[job]]` and `[[group]]` tables are its children, in
//! file order, and groups nest (`[[group.job]]`, `[[group.group]]`). `docs/job-file.md`
//! documents every key, its default and what is rejected.
//!
//! ```
//! use std::path::Path;
//! use taskgroup_cli::jobfile::{self, ChildDef, GroupPolicy};
//!
//! let root = jobfile::parse(
//!     r#"
//!     policy = "collect-all"
//!
//!     [[job]]
//!     name = "lint"
//!     command = ["cargo", "clippy"]
//!
//!     [[group]]
//!     name = "tests"
//!     limit = 2
//!
//!     [[group.job]]
//!     name = "unit"
//!     command = "cargo test --lib"
//!     "#,
//!     Path::new("jobs.toml"),
//! )?;
//! assert_eq!(root.policy, GroupPolicy::CollectAll);
//! assert_eq!((root.job_count(), root.group_count()), (2, 2));
//! assert!(matches!(&root.children[1], ChildDef::Group(tests) if tests.name == "tests"));
//! # Ok::<(), taskgroup_cli::jobfile::JobFileError>(())
//! ```
//!
//! A file with problems gives a [`JobFileError`] that prints every problem with its line,
//! column and an excerpt; nothing may run then (exit status 2).

mod error;
mod outline;
mod raw;
mod slurm_keys;
mod tree;
mod validate;

use std::path::Path;

pub use error::{JobFileError, Location, Problem};
pub use tree::{
    Backend, BackoffDef, ChildDef, CommandDef, GroupDef, GroupPolicy, IntensityDef, JobDef,
    ReadyDef, RestartStrategy, RestartType,
};
pub use validate::DEFAULT_ROOT_NAME;

/// Reads and validates the job file at `path`.
///
/// # Errors
///
/// [`JobFileError`] when the file cannot be read (missing, a directory, not UTF-8) or is not
/// a valid job file.
pub fn load(path: &Path) -> Result<GroupDef, JobFileError> {
    load_with_backend(path, Backend::Local)
}

/// [`load`], with `backend` as the root group's backend when the file sets none (`run
/// --backend`).
///
/// # Errors
///
/// As for [`load`].
pub fn load_with_backend(path: &Path, backend: Backend) -> Result<GroupDef, JobFileError> {
    let source = std::fs::read_to_string(path).map_err(|cause| JobFileError::read(path, cause))?;
    parse_with_backend(&source, path, backend)
}

/// Validates `source`, the text of a job file; `path` is only used in messages.
///
/// # Errors
///
/// [`JobFileError`] with the problems found: malformed TOML, unknown keys, wrong types, bad
/// enum values and durations (the first of these, as the TOML reader stops there), or else
/// every failed check of names, ranges and settings.
pub fn parse(source: &str, path: &Path) -> Result<GroupDef, JobFileError> {
    parse_with_backend(source, path, Backend::Local)
}

/// [`parse`], with `backend` as the root group's backend when the file sets none.
///
/// # Errors
///
/// As for [`parse`].
pub fn parse_with_backend(
    source: &str,
    path: &Path,
    backend: Backend,
) -> Result<GroupDef, JobFileError> {
    let raw: raw::RawGroup = toml::from_str(source).map_err(|error| {
        let problem = match error.span() {
            Some(span) => Problem::at(source, span, error.message()),
            None => Problem::whole_file(error.message()),
        };
        JobFileError::invalid(path, vec![problem])
    })?;
    validate::validate(source, raw, backend)
        .map_err(|problems| JobFileError::invalid(path, problems))
}

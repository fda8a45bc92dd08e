//! The `taskgroup` job runner's building blocks.
//!
//! The binary (`src/main.rs`) only parses, builds the tree and renders (DESIGN §2, §7); these
//! modules are what it is made of, a library so that integration tests can drive them:
//!
//! - [`cli`]: the command line (`taskgroup`, `run`, `check`, `exec`).
//! - [`duration`]: `500ms`, `5s`, `2m` for the command line and the job file.
//! - [`jobfile`]: the TOML job file, validated into a typed tree of groups and jobs.
//! - [`naming`]: job names made safe as file names under `--output-dir`.
//! - [`process`]: one job as a real process in its own process group, with its output.
//! - [`reaper`]: the runner as a child subreaper, and the final sweep of descendants.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod duration;
pub mod jobfile;
pub mod naming;
pub mod process;
pub mod reaper;

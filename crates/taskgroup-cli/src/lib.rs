//! The `taskgroup` job runner's building blocks.
//!
//! The binary (`src/main.rs`) only parses, builds the tree and renders (DESIGN §2, §7): the
//! supervision — policies, restarts, deadlines, limits, readiness, the report's data — is the
//! `actix-taskgroup` library's. These modules are what the binary is made of, a library so
//! that integration tests can drive them:
//!
//! - [`cli`]: the command line (`taskgroup`, `run`, `check`, `exec`).
//! - [`duration`]: `500ms`, `5s`, `2m` for the command line and the job file.
//! - [`jobfile`]: the TOML job file, validated into a typed tree of groups and jobs.
//! - [`naming`]: job names made safe as file names under `--output-dir`.
//! - [`process`]: one job as a real process in its own process group, with its output.
//! - [`reaper`]: the runner as a child subreaper, and the final sweep of descendants.
//! - [`supervise`]: the job tree mapped onto the library's groups; [`job`]: the future that
//!   runs a job's attempts; [`facts`]: what the runner records of each process.
//! - [`exec_input`]: `exec`'s stream of job lines.
//! - [`console`], [`tty`], [`plain`]: the live view and job output while a run goes on.
//! - [`report`]: the final report, as text and JSON.
//! - [`interrupt`]: SIGINT and SIGTERM to the runner.
//! - [`slurm`]: the Slurm backend: jobs as Slurm job steps, and the wrapper inside them.
//! - [`runner`]: a run from start to exit status.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod console;
pub mod duration;
pub mod exec_input;
pub mod facts;
pub mod interrupt;
pub mod job;
pub mod jobfile;
pub mod naming;
pub mod plain;
pub mod process;
pub mod reaper;
pub mod report;
pub mod runner;
pub mod slurm;
pub mod supervise;
pub mod tty;

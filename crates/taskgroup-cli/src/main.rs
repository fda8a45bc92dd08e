//! `taskgroup`: run batches of processes as a supervision tree (issue 16, DESIGN §7).
//!
//! This file only dispatches: parse the command line, read the job file, hand the tree to the
//! runner, exit with its status. The same binary is the wrapper inside Slurm steps
//! (`taskgroup slurm-step`, hidden).

use std::io::Write;
use std::path::Path;

use taskgroup_cli::cli::{self, Command, DEFAULT_GRACE, OutputArgs};
use taskgroup_cli::jobfile::{self, Backend, ChildDef, GroupDef, JobFileError};
use taskgroup_cli::runner::{self, EXIT_BAD_INPUT, EXIT_SUCCESS};
use taskgroup_cli::slurm::{SlurmBackend, wrapper};

/// The demo batch, embedded so that `taskgroup` with no arguments works from any directory.
const DEMO: &str = include_str!("../demo.toml");

fn main() {
    let command = match cli::parse_from(std::env::args_os()) {
        Ok(command) => command,
        Err(usage) => usage.exit(),
    };
    let code = match command {
        // First and alone: it runs inside a Slurm step, for every job (issue 21).
        Command::SlurmStep(step) => wrapper::run(
            &step.nonce,
            &step.command,
            wrapper::WrapperOptions {
                proctrack: step.proctrack,
                watch_stdin: step.watch_stdin,
            },
        ),
        Command::Check(check) => match jobfile::load(&check.file) {
            Ok(root) => {
                // Not `println!`, which panics when stdout is closed or full.
                let _ = writeln!(std::io::stdout(), "ok: {}", counts(&root));
                EXIT_SUCCESS
            }
            Err(error) => bad_file(&error),
        },
        Command::Run(run) => {
            match jobfile::load_with_backend(&run.file, run.backend.unwrap_or_default()) {
                Ok(root) => run_tree(root, run.grace, &run.output),
                Err(error) => bad_file(&error),
            }
        }
        Command::Demo => match jobfile::parse(DEMO, Path::new("demo.toml")) {
            Ok(root) => run_tree(root, DEFAULT_GRACE, &OutputArgs::default()),
            Err(error) => bad_file(&error),
        },
        Command::Exec(exec) => {
            let slurm = match exec.backend {
                Backend::Slurm => SlurmBackend::check().map(Some),
                Backend::Local => Ok(None),
            };
            match slurm.and_then(|slurm| runner::prepare(&exec.output).map(|()| slurm)) {
                Ok(slurm) => runner::run_exec(&exec, slurm),
                Err(message) => bad_input(&message),
            }
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // Not a return from `main`: `exec`'s stdin may still be open, and its reader (a blocking
    // thread) would keep the runtime's shutdown waiting for a line that may never come.
    std::process::exit(i32::from(code));
}

fn run_tree(root: GroupDef, grace: std::time::Duration, output: &OutputArgs) -> u8 {
    // Checked before anything runs: a batch that cannot reach Slurm runs nothing.
    let slurm = if uses_slurm(&root) {
        SlurmBackend::check().map(Some)
    } else {
        Ok(None)
    };
    match slurm.and_then(|slurm| runner::prepare(output).map(|()| slurm)) {
        Ok(slurm) => runner::run_tree(root, grace, output, slurm),
        Err(message) => bad_input(&message),
    }
}

fn uses_slurm(group: &GroupDef) -> bool {
    group.backend == Backend::Slurm
        || group.children.iter().any(|child| match child {
            ChildDef::Group(nested) => uses_slurm(nested),
            ChildDef::Job(_) => false,
        })
}

/// `N jobs in M groups`, singular where it is one.
fn counts(root: &GroupDef) -> String {
    let plural =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    format!(
        "{} in {}",
        plural(root.job_count(), "job"),
        plural(root.group_count(), "group")
    )
}

fn bad_file(error: &JobFileError) -> u8 {
    runner::warn(format_args!("{error}\ntaskgroup: nothing was run"));
    EXIT_BAD_INPUT
}

fn bad_input(message: &str) -> u8 {
    runner::warn(format_args!(
        "taskgroup: {message}\ntaskgroup: nothing was run"
    ));
    EXIT_BAD_INPUT
}

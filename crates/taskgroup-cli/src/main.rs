//! `taskgroup`: run batches of processes as a supervision tree (issue 16).
//!
//! For now this parses and validates; running is wired to the library next.

use std::path::Path;
use std::process::ExitCode;

use taskgroup_cli::cli::{self, Command};
use taskgroup_cli::jobfile::{self, GroupDef, JobFileError};

/// The demo batch, embedded so that `taskgroup` with no arguments works from any directory.
const DEMO: &str = include_str!("../demo.toml");

/// Exit status for bad input or usage (DESIGN §7).
const EXIT_BAD_INPUT: u8 = 2;

/// Exit status while running is not wired to the library yet.
const EXIT_NOT_YET: u8 = 1;

fn main() -> ExitCode {
    let command = match cli::parse_from(std::env::args_os()) {
        Ok(command) => command,
        Err(usage) => usage.exit(),
    };
    match command {
        Command::Check(check) => match jobfile::load(&check.file) {
            Ok(root) => {
                println!("ok: {}", counts(&root));
                ExitCode::SUCCESS
            }
            Err(error) => bad_input(&error),
        },
        Command::Run(run) => match jobfile::load(&run.file) {
            Ok(root) => not_yet(&root),
            Err(error) => bad_input(&error),
        },
        Command::Demo => match jobfile::parse(DEMO, Path::new("demo.toml")) {
            Ok(root) => not_yet(&root),
            Err(error) => bad_input(&error),
        },
        Command::Exec(_) => {
            eprintln!("taskgroup exec: running jobs is not wired to the library yet");
            ExitCode::from(EXIT_NOT_YET)
        }
    }
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

fn bad_input(error: &JobFileError) -> ExitCode {
    eprintln!("{error}");
    eprintln!("taskgroup: nothing was run");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn not_yet(root: &GroupDef) -> ExitCode {
    print!("{root}");
    eprintln!("taskgroup: running jobs is not wired to the library yet");
    ExitCode::from(EXIT_NOT_YET)
}

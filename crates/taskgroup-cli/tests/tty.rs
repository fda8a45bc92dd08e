//! The live view on a terminal, checked under a pseudo-terminal (`script` from util-linux):
//! the overall bar with its counts, one line per running job under its group, job output
//! printed above the view with a header, and the failed job's output tail in the report.

mod common;

use std::process::Command;

use common::binary::binary;

#[test]
fn a_terminal_gets_the_progress_view_and_failed_tails() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("jobs.toml");
    std::fs::write(
        &file,
        "[[group]]\nname = 'build'\n\
         [[group.job]]\nname = 'compile'\ncommand = 'sleep 0.6; echo compiled-ok'\n\
         [[group.job]]\nname = 'lint'\nbest_effort = true\n\
         command = 'echo boom-line >&2; exit 3'\n",
    )?;
    let command = format!(
        "{} run --grace 200ms {}",
        binary().display(),
        file.display()
    );
    // -e: script's status is the command's; -f: flush as it goes; output is the terminal's.
    let output = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .output()
        .unwrap_or_else(|error| panic!("`script` (util-linux) is needed for this test: {error}"));
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{screen}");
    // The overall bar and its counts.
    assert!(screen.contains("/2 jobs"), "{screen}");
    assert!(screen.contains("running ·"), "{screen}");
    // One line per running job under its group, with its state and elapsed time.
    assert!(screen.contains("▾ build"), "{screen}");
    assert!(screen.contains("    compile  running"), "{screen}");
    // Output above the view, with a header saying whose it is.
    assert!(
        screen.contains("── build/compile (attempt 1, exit code 0"),
        "{screen}"
    );
    assert!(screen.contains("compiled-ok"), "{screen}");
    // The report shows the tail of the failed job's output on a terminal.
    assert!(screen.contains("│ boom-line"), "{screen}");
    // Plain event lines are for non-terminals only.
    assert!(!screen.contains("] build/compile started"), "{screen}");
    Ok(())
}

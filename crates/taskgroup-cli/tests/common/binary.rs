//! Driving the real `taskgroup` binary: commands, its JSON report, and pid files written by
//! the jobs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output};
use std::time::{Duration, Instant};

use super::{Identity, PATIENCE, identify};

/// The binary under test.
pub fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("taskgroup")
}

/// A command for the binary, with a bound on its run: a hang fails the test.
pub fn taskgroup() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(binary());
    command.timeout(Duration::from_secs(10));
    command
}

/// Its output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout and stderr, for assertion messages.
pub fn both(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// The JSON report at `path`.
pub fn report(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("no report at {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}:\n{text}"))
}

/// The child named `name` of a report node.
pub fn child<'a>(node: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    node["children"]
        .as_array()
        .and_then(|children| children.iter().find(|child| child["name"] == name))
        .unwrap_or_else(|| panic!("no child {name} in {node:#}"))
}

/// Waits (polling the file, no fixed sleep) until `file` holds at least `count` pids, one per
/// line, and returns their identities.
pub fn wait_for_pids(file: &Path, count: usize) -> Vec<Identity> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let pids: Vec<u32> = text
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        if pids.len() >= count && text.ends_with('\n') {
            return pids.into_iter().map(identify).collect();
        }
        assert!(
            Instant::now() < deadline,
            "only {pids:?} written to {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pids in `file` that are still alive, after a run that should have ended them all.
pub fn survivors(processes: &[Identity]) -> Vec<u32> {
    processes
        .iter()
        .filter(|process| super::is_alive(**process))
        .map(|process| process.pid)
        .collect()
}

/// Waits for a spawned runner, bounded; kills it (and fails) if it hangs.
pub fn wait_bounded(child: &mut Child, bound: Duration) -> (ExitStatus, String, String) {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|error| panic!("{error}")) {
            let mut stdout = String::new();
            let mut stderr = String::new();
            if let Some(out) = child.stdout.as_mut() {
                let _ = out.read_to_string(&mut stdout);
            }
            if let Some(err) = child.stderr.as_mut() {
                let _ = err.read_to_string(&mut stderr);
            }
            return (status, stdout, stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the runner did not end within {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

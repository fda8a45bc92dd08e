//! Job names and command lines made safe as file names, for `--output-dir` (issue 16 §7).
//!
//! A job's name comes from a job file or, for `exec`, from a command line, and either can hold
//! anything: `../../x`, `/etc/passwd`, a NUL, a newline, ten thousand characters. A log file's
//! name is therefore built as
//!
//! ```text
//! <index>-<sanitised name>.<attempt>.log
//! ```
//!
//! - `index` is a number the caller guarantees unique among the jobs of one run (the job's
//!   position in the tree, or `exec`'s line number): it alone makes names collision-free, so
//!   two jobs whose names sanitise alike (`a/b` and `a_b`) still get two files.
//! - the sanitised name is decoration for people: ASCII letters, digits, `-`, `_` and `.`
//!   are kept, every other run of characters becomes one `_`, leading dots are dropped and it
//!   is cut to [`MAX_NAME_BYTES`]; an empty result becomes `job`.
//! - `attempt` (1, 2, …) gives every restart its own file.
//!
//! The result is always one plain path component, never `.` or `..`, never absolute, at most
//! 120 bytes: joined to the output directory, it names a file directly inside it.
//!
//! ```
//! use taskgroup_cli::naming::log_file_name;
//!
//! assert_eq!(log_file_name(3, "build docs", 1), "3-build_docs.1.log");
//! assert_eq!(log_file_name(4, "../../etc/passwd", 2), "4-etc_passwd.2.log");
//! ```

use std::path::{Path, PathBuf};

/// The longest sanitised name kept in a file name, in bytes. With the index, the attempt and
/// the suffix the whole name stays far below the 255 bytes file systems allow.
pub const MAX_NAME_BYTES: usize = 64;

/// What an empty or entirely unsafe name becomes.
const EMPTY_NAME: &str = "job";

/// `name` reduced to characters that are safe in a file name on every common file system (see
/// the module docs). Deterministic: the same name always gives the same text.
///
/// ```
/// use taskgroup_cli::naming::sanitise;
///
/// assert_eq!(sanitise("tests (shard 1/4)"), "tests_shard_1_4_");
/// assert_eq!(sanitise(".."), "job");
/// ```
pub fn sanitise(name: &str) -> String {
    let mut safe = String::with_capacity(name.len().min(MAX_NAME_BYTES));
    let mut last_was_replacement = false;
    for character in name.chars() {
        if safe.len() >= MAX_NAME_BYTES {
            break;
        }
        if character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.') {
            // A leading dot would hide the file or spell `.`/`..`: drop it.
            if character == '.' && safe.is_empty() {
                continue;
            }
            safe.push(character);
            last_was_replacement = false;
        } else if !last_was_replacement && !safe.is_empty() {
            safe.push('_');
            last_was_replacement = true;
        }
    }
    if safe.is_empty() {
        EMPTY_NAME.to_owned()
    } else {
        safe
    }
}

/// The log file name of one attempt of one job: `<index>-<sanitised name>.<attempt>.log`.
///
/// `index` must be unique among the jobs of a run: it is what keeps names collision-free.
pub fn log_file_name(index: usize, name: &str, attempt: u32) -> String {
    format!("{index}-{}.{attempt}.log", sanitise(name))
}

/// [`log_file_name`] joined to `output_dir`: always a file directly inside `output_dir`.
pub fn log_file_path(output_dir: &Path, index: usize, name: &str, attempt: u32) -> PathBuf {
    output_dir.join(log_file_name(index, name, attempt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Component;

    /// The property that matters: the name is one normal component, so joining it to a
    /// directory can only name a file inside that directory.
    fn assert_stays_inside(file_name: &str) {
        let components: Vec<_> = Path::new(file_name).components().collect();
        assert!(
            matches!(components.as_slice(), [Component::Normal(_)]),
            "{file_name:?} is not one plain component: {components:?}"
        );
        assert!(!file_name.contains('\0'), "{file_name:?}");
        assert!(
            file_name.len() <= 120,
            "{} bytes: {file_name:?}",
            file_name.len()
        );
        let dir = Path::new("/out");
        assert_eq!(dir.join(file_name).parent(), Some(dir));
    }

    #[test]
    fn hostile_names_never_leave_the_output_dir() {
        let long = "x".repeat(10_000);
        let long_slashes = "../".repeat(1_000);
        let hostile = [
            "",
            ".",
            "..",
            "...",
            "/",
            "//",
            "../../x",
            "/etc/passwd",
            "a/../../b",
            "a\0b",
            "\0",
            "line\nbreak",
            "tab\there",
            "C:\\Windows\\system32",
            "~/.ssh/id_rsa",
            "$(rm -rf /)",
            "名前",
            "emoji 🚀 job",
            ".hidden",
            "-rf",
            &long,
            &long_slashes,
        ];
        for name in hostile {
            for attempt in [1, u32::MAX] {
                assert_stays_inside(&log_file_name(usize::MAX, name, attempt));
            }
        }
    }

    #[test]
    fn readable_names_are_kept() {
        assert_eq!(
            sanitise("compile-core_v2.release"),
            "compile-core_v2.release"
        );
        assert_eq!(log_file_name(0, "lint", 1), "0-lint.1.log");
    }

    #[test]
    fn unsafe_runs_become_one_underscore_and_leading_junk_goes() {
        assert_eq!(sanitise("../../x"), "x");
        assert_eq!(sanitise("/etc/passwd"), "etc_passwd");
        assert_eq!(sanitise("a  //  b"), "a_b");
        assert_eq!(sanitise("sh -c 'echo hi'"), "sh_-c_echo_hi_");
        assert_eq!(sanitise("名前"), "job");
        assert_eq!(sanitise(""), "job");
        assert_eq!(sanitise("..."), "job");
    }

    #[test]
    fn long_names_are_cut() {
        assert_eq!(sanitise(&"y".repeat(1_000)).len(), MAX_NAME_BYTES);
    }

    #[test]
    fn names_are_deterministic_and_distinct_indices_never_collide() {
        let names = ["a/b", "a_b", "a b", "a?b", "", "..", "/"];
        let files: HashSet<String> = names
            .iter()
            .enumerate()
            .flat_map(|(index, name)| {
                (1..=3).map(move |attempt| log_file_name(index, name, attempt))
            })
            .collect();
        assert_eq!(files.len(), names.len() * 3);
        assert_eq!(log_file_name(7, "a/b", 2), log_file_name(7, "a/b", 2));
    }

    #[test]
    fn paths_are_inside_the_output_dir() {
        let dir = Path::new("/tmp/logs");
        let path = log_file_path(dir, 1, "../../../root/.bashrc", 1);
        assert_eq!(path.parent(), Some(dir));
        assert_eq!(path, Path::new("/tmp/logs/1-root_.bashrc.1.log"));
    }
}

//! Fault matrix, the disk's side: `--output-dir` and `--json` on a full file system — a small
//! tmpfs the test mounts (`mount -t tmpfs -o size=64k`) in a temporary directory and unmounts
//! after. Mounting needs root (CAP_SYS_ADMIN): without it these tests say so and pass, except
//! under CI (`CI` set), which runs as root and must not skip.
//!
//! In every row: no process is left behind, the report says what happened to each job (a log
//! that could not be written whole included), and the report file is complete or absent.

mod faults_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use faults_support::{Scratch, complete_report, job, report_complete_or_absent};

/// A tmpfs mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs with `options` (e.g. `size=64k`), or says why it cannot and returns
    /// `None` (a failure under CI).
    fn mount(options: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(output) => String::from_utf8_lossy(&output.stderr).into_owned(),
                    Err(error) => error.to_string(),
                };
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must run the full-disk rows, but mounting a tmpfs failed: {why}"
                );
                eprintln!("skipped: cannot mount a tmpfs (needs root): {why}");
                None
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fills the file system, leaving `free_pages` 4 KiB pages free.
    fn fill_leaving(&self, free_pages: usize) {
        let path = self.path("filler");
        let mut file = std::fs::File::create(&path).unwrap_or_else(|error| panic!("{error}"));
        let page = [0u8; 4096];
        let mut written = 0usize;
        while file.write_all(&page).is_ok() && file.sync_all().is_ok() {
            written += 1;
        }
        drop(file);
        let keep = written.saturating_sub(free_pages) * 4096;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap_or_else(|error| panic!("{error}"));
        file.set_len(keep as u64)
            .unwrap_or_else(|error| panic!("{error}"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|status| status.success());
        if !unmounted {
            // Something still holds it: detach it now, it goes when released.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn an_output_dir_on_a_full_disk_is_reported_per_job_and_fails_the_run() {
    let Some(disk) = Tmpfs::mount("size=64k") else {
        return;
    };
    let scratch = Scratch::new();
    let logs = disk.path("logs");
    // One at a time, in order: `small` is logged whole, `big` fills the disk halfway through
    // its output, `after` finds it full.
    let file = scratch.job_file(
        "limit = 1\npolicy = 'collect-all'\n\
         [[job]]\nname = 'small'\ncommand = 'echo small'\n\
         [[job]]\nname = 'big'\ncommand = 'yes 0123456789abcdef | head -c 204800'\n\
         [[job]]\nname = 'after'\ncommand = 'echo after; exit 4'\n",
    );
    let json = scratch.path("report.json");
    let finished = scratch.run(&[
        "run".as_ref(),
        "--quiet".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
        "--output-dir".as_ref(),
        logs.as_os_str(),
        file.as_os_str(),
    ]);
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    let root = complete_report(&json, &["small", "big", "after"]);
    assert_eq!(text(&logs.join("0-small.1.log")), "small\n");
    assert_eq!(job(&root, "small")["log_error"], serde_json::Value::Null);
    // The job itself went on and succeeded; what failed is its log, and the report says so.
    let big = job(&root, "big");
    assert_eq!(
        (big["outcome"].as_str(), big["exit_code"].as_i64()),
        (Some("completed"), Some(0))
    );
    let log_error = big["log_error"].as_str().unwrap_or_default();
    assert!(log_error.contains("No space left on device"), "{big}");
    assert!(log_error.contains("1-big.1.log"), "{big}");
    let after = job(&root, "after");
    assert_eq!(
        (after["outcome"].as_str(), after["exit_code"].as_i64()),
        (Some("failed"), Some(4))
    );
    assert!(after["log_error"].is_string(), "{after}");
    assert!(
        finished.stderr.contains("1-big.1.log") && finished.stderr.contains("incomplete"),
        "{}",
        finished.both()
    );
    scratch.assert_no_leaks(&[]);
}

#[test]
fn an_output_dir_out_of_inodes_fails_the_job_that_cannot_log_without_starting_it() {
    // The root directory and one file.
    let Some(disk) = Tmpfs::mount("size=64k,nr_inodes=2") else {
        return;
    };
    let scratch = Scratch::new();
    let marker = scratch.path("second-ran");
    let file = scratch.job_file(&format!(
        "limit = 1\npolicy = 'collect-all'\n\
         [[job]]\nname = 'first'\ncommand = 'echo first'\n\
         [[job]]\nname = 'second'\ncommand = 'touch {}'\n",
        marker.display()
    ));
    let json = scratch.path("report.json");
    let finished = scratch.run(&[
        "run".as_ref(),
        "--quiet".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
        "--output-dir".as_ref(),
        disk.dir.path().as_os_str(),
        file.as_os_str(),
    ]);
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    let root = complete_report(&json, &["first", "second"]);
    assert_eq!(job(&root, "first")["outcome"], "completed");
    let second = job(&root, "second");
    assert_eq!(second["outcome"], "failed", "{second}");
    assert_eq!(second["pid"], serde_json::Value::Null, "{second}");
    let error = second["error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot create log file"), "{second}");
    assert!(!marker.exists(), "the job ran without its log");
    scratch.assert_no_leaks(&[]);
}

#[test]
fn a_json_report_on_a_full_disk_is_absent_not_stale_and_the_run_fails() {
    let Some(disk) = Tmpfs::mount("size=64k") else {
        return;
    };
    let scratch = Scratch::new();
    let json = disk.path("report.json");
    // A previous run's report, then no space left.
    std::fs::write(&json, "{\"name\": \"a previous run\", \"children\": []}\n")
        .unwrap_or_else(|error| panic!("{error}"));
    disk.fill_leaving(0);
    let file = scratch.job_file("[[job]]\nname = 'one'\ncommand = 'true'\n");
    let finished = scratch.run(&[
        "run".as_ref(),
        "--quiet".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
        file.as_os_str(),
    ]);
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    assert!(
        finished.stderr.contains("cannot write") && finished.stderr.contains("No space left"),
        "{}",
        finished.both()
    );
    // Not this run's report, so not left to be read as one.
    assert!(report_complete_or_absent(&json, &["one"]).is_none());
    // The text report went to stdout all the same.
    assert!(
        finished.stdout.contains("1 job: 1 completed"),
        "{}",
        finished.both()
    );
    scratch.assert_no_leaks(&[]);
}

#[test]
fn a_json_report_larger_than_the_free_space_is_never_half_written() {
    let Some(disk) = Tmpfs::mount("size=64k") else {
        return;
    };
    let scratch = Scratch::new();
    let lines = "true\n".repeat(300);
    let exec = |json: &Path| {
        let mut command = scratch.command(&[
            "exec".as_ref(),
            "-j".as_ref(),
            "4".as_ref(),
            "--quiet".as_ref(),
            "--json".as_ref(),
            json.as_os_str(),
        ]);
        command.stdin(Stdio::piped());
        let mut running = faults_support::Running::start(command);
        if let Some(mut stdin) = running.stdin() {
            stdin
                .write_all(lines.as_bytes())
                .unwrap_or_else(|error| panic!("{error}"));
        }
        running.finish(faults_support::RUN_BOUND)
    };
    let names: Vec<String> = (1..=300).map(|line| line.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // With room, the same report is far larger than what the disk will have left.
    let roomy = scratch.path("report.json");
    let finished = exec(&roomy);
    assert_eq!(finished.code(), Some(0), "{}", finished.both());
    complete_report(&roomy, &names);
    let size = std::fs::metadata(&roomy).map_or(0, |meta| meta.len());
    assert!(size > 32 * 1024, "{size} bytes");
    // Four pages free: the write fails part way.
    disk.fill_leaving(4);
    let json = disk.path("report.json");
    let finished = exec(&json);
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    assert!(
        finished.stderr.contains("No space left"),
        "{}",
        finished.both()
    );
    assert!(report_complete_or_absent(&json, &names).is_none());
    scratch.assert_no_leaks(&[]);
}

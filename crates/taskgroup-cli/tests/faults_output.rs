//! Fault matrix, the runner's own output: stdout or stderr full (`/dev/full`) or a pipe whose
//! reader is gone (`taskgroup … | head -1` after `head` exits). Whatever happens to its own
//! output, the runner never panics: `check` still exits 0 or 2, a run still runs its jobs,
//! writes its JSON report and exits with its status (130/143 when interrupted).

mod faults_support;

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use faults_support::{Running, Scratch, complete_report, job, wait_for_pids};
use nix::sys::signal::Signal;

/// Where the runner's stream goes.
#[derive(Debug, Clone, Copy)]
enum Sink {
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// A pipe whose read end is closed: every write fails with EPIPE.
    Closed,
}

impl Sink {
    fn stdio(self) -> Stdio {
        match self {
            Sink::Full => std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .map(Stdio::from)
                .unwrap_or_else(|error| panic!("/dev/full: {error}")),
            Sink::Closed => {
                let (reader, writer): (OwnedFd, OwnedFd) =
                    nix::unistd::pipe().unwrap_or_else(|error| panic!("{error}"));
                drop(reader);
                Stdio::from(writer)
            }
        }
    }
}

const SINKS: [Sink; 2] = [Sink::Full, Sink::Closed];

/// Runs the runner with `args`, its stdout going to `stdout` or its stderr to `stderr`.
fn run_with(
    scratch: &Scratch,
    args: &[&std::ffi::OsStr],
    stdout: Option<Sink>,
    stderr: Option<Sink>,
) -> faults_support::Finished {
    let mut command = scratch.command(args);
    if let Some(sink) = stdout {
        command.stdout(sink.stdio());
    }
    if let Some(sink) = stderr {
        command.stderr(sink.stdio());
    }
    Running::start(command).finish(faults_support::RUN_BOUND)
}

#[test]
fn check_exits_0_or_2_whatever_its_output_is() {
    let scratch = Scratch::new();
    let good = scratch.job_file("[[job]]\nname = 'a'\ncommand = 'true'\n");
    let bad = scratch.path("bad.toml");
    std::fs::write(&bad, "[[job]]\nname = 'a'\n").unwrap_or_else(|error| panic!("{error}"));
    for sink in SINKS {
        let finished = run_with(
            &scratch,
            &["check".as_ref(), good.as_os_str()],
            Some(sink),
            None,
        );
        assert_eq!(finished.code(), Some(0), "{sink:?}: {}", finished.both());
        assert!(!finished.stderr.contains("panicked"), "{}", finished.both());
        let finished = run_with(
            &scratch,
            &["check".as_ref(), bad.as_os_str()],
            None,
            Some(sink),
        );
        assert_eq!(finished.code(), Some(2), "{sink:?}: {}", finished.both());
        let missing = scratch.path("missing.toml");
        let finished = run_with(
            &scratch,
            &["check".as_ref(), missing.as_os_str()],
            Some(sink),
            Some(sink),
        );
        assert_eq!(finished.code(), Some(2), "{sink:?}: {}", finished.both());
    }
}

#[test]
fn a_run_whose_output_is_lost_still_runs_reports_and_exits_with_its_status() {
    let scratch = Scratch::new();
    let file = scratch.job_file(
        "policy = 'collect-all'\n\
         [[job]]\nname = 'talks'\ncommand = 'seq 1 5000; seq 1 5000 >&2'\n\
         [[job]]\nname = 'fails'\ncommand = 'echo failing; exit 3'\n",
    );
    let json = scratch.path("report.json");
    for (stdout, stderr) in [
        (Some(Sink::Full), None),
        (None, Some(Sink::Full)),
        (Some(Sink::Closed), Some(Sink::Closed)),
    ] {
        let _ = std::fs::remove_file(&json);
        // Not --quiet: the plain lines, the jobs' output and the report all meet the sink.
        let finished = run_with(
            &scratch,
            &[
                "run".as_ref(),
                "--json".as_ref(),
                json.as_os_str(),
                file.as_os_str(),
            ],
            stdout,
            stderr,
        );
        let context = format!("{stdout:?} {stderr:?}: {}", finished.both());
        assert_eq!(finished.code(), Some(1), "{context}");
        let root = complete_report(&json, &["talks", "fails"]);
        assert_eq!(job(&root, "talks")["outcome"], "completed", "{context}");
        assert_eq!(job(&root, "fails")["exit_code"], 3, "{context}");
    }
    scratch.assert_no_leaks(&[]);
}

#[test]
fn an_interrupted_run_whose_stderr_is_gone_still_exits_130() {
    let scratch = Scratch::new();
    let file = scratch.job_file(
        "grace = '200ms'\n[[job]]\nname = 'sleeper'\ncommand = 'echo $$ >> {pids}; exec sleep 30'\n",
    );
    let json = scratch.path("report.json");
    // The message `interrupted by SIGINT` is the last thing written, to a closed pipe: what
    // `taskgroup run … 2>&1 | head` meets on Ctrl-C.
    for sink in SINKS {
        let _ = std::fs::remove_file(scratch.pids());
        let mut command = scratch.command(&[
            "run".as_ref(),
            "--json".as_ref(),
            json.as_os_str(),
            file.as_os_str(),
        ]);
        command.stdout(sink.stdio()).stderr(sink.stdio());
        let running = Running::start(command);
        let processes = wait_for_pids(&scratch.pids(), 1);
        running.signal(Signal::SIGINT);
        let finished = running.finish(faults_support::RUN_BOUND);
        assert_eq!(finished.code(), Some(130), "{sink:?}: {}", finished.both());
        complete_report(&json, &["sleeper"]);
        scratch.assert_no_leaks(&processes);
    }
}

#[test]
fn exec_with_its_output_gone_runs_every_line() {
    let scratch = Scratch::new();
    let json = scratch.path("report.json");
    for sink in SINKS {
        let _ = std::fs::remove_file(&json);
        let mut command = scratch.command(&[
            "exec".as_ref(),
            "--halt".as_ref(),
            "keep-going".as_ref(),
            "--json".as_ref(),
            json.as_os_str(),
        ]);
        command
            .stdin(Stdio::piped())
            .stdout(sink.stdio())
            .stderr(sink.stdio());
        let mut running = Running::start(command);
        if let Some(mut stdin) = running.stdin() {
            use std::io::Write;
            stdin
                .write_all(b"echo one\necho two >&2\nexit 5\n")
                .unwrap_or_else(|error| panic!("{error}"));
        }
        let finished = running.finish(faults_support::RUN_BOUND);
        assert_eq!(finished.code(), Some(1), "{sink:?}: {}", finished.both());
        let root = complete_report(&json, &["1", "2", "3"]);
        assert_eq!(job(&root, "3")["exit_code"], 5);
    }
    scratch.assert_no_leaks(&[]);
}

#[test]
fn a_json_target_that_is_not_a_regular_file_is_refused_before_anything_runs() {
    use std::os::unix::fs::FileTypeExt;
    let scratch = Scratch::new();
    let file = scratch.job_file("[[job]]\nname = 'a'\ncommand = 'touch {dir}/ran'\n");
    // What `--json /dev/stdout` is: a link to a device. Renaming the report over it would
    // replace the link (as root, the machine's /dev/stdout) with a regular file.
    let link = scratch.path("link.json");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap_or_else(|error| panic!("{error}"));
    let fifo = scratch.path("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    for target in [&link, &fifo] {
        let finished = scratch.run(&[
            "run".as_ref(),
            "--json".as_ref(),
            target.as_os_str(),
            file.as_os_str(),
        ]);
        assert_eq!(finished.code(), Some(2), "{}", finished.both());
        assert!(
            finished.stderr.contains("not a regular file")
                && finished.stderr.contains("nothing was run"),
            "{}",
            finished.both()
        );
        assert!(!scratch.path("ran").exists(), "a job ran");
    }
    let link_type = std::fs::symlink_metadata(&link).map(|meta| meta.file_type());
    assert!(
        link_type.as_ref().is_ok_and(|kind| kind.is_symlink()),
        "{link_type:?}"
    );
    let fifo_type = std::fs::symlink_metadata(&fifo).map(|meta| meta.file_type());
    assert!(
        fifo_type.as_ref().is_ok_and(|kind| kind.is_fifo()),
        "{fifo_type:?}"
    );
}

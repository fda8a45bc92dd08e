//! Fault matrix, the jobs' side: jobs that misbehave as real programs do, run by the real
//! binary. Every row checks that no process is left behind (by pid and by the run's token,
//! reading `/proc`), that the report says what happened to each job, and that the report file
//! is complete. Rows already covered elsewhere are not repeated: fail-fast and SIGINT against a
//! SIGTERM-ignoring, double-forking or `setsid` job are in `stopping.rs`, the process-level
//! output cases in `process.rs`.

mod faults_support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use faults_support::{
    PATIENCE, Proc, Running, Scratch, complete_report, eventually, job, pids_in, wait_for_pids,
};

/// `run --json report.json FILE` with a short grace, the extra arguments first.
fn run_args<'a>(scratch: &Scratch, file: &'a std::path::Path, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = ["run", "--grace", "200ms", "--json"]
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
    args.push(scratch.path("report.json").display().to_string());
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args.push(file.display().to_string());
    args
}

/// Every pid written to `{dir}/*.pids` and `{pids}`, as the processes they were (those
/// already reaped are left out: gone is what is checked).
fn recorded(scratch: &Scratch) -> Vec<Proc> {
    let mut processes = Vec::new();
    for entry in std::fs::read_dir(scratch.dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "pids") || path == scratch.pids() {
            processes.extend(pids_in(&path).into_iter().filter_map(Proc::find));
        }
    }
    processes
}

#[test]
fn a_job_that_ignores_sigterm_is_killed_at_its_timeout_with_its_children() {
    let scratch = Scratch::new();
    // The trap is inherited: the background sleep ignores SIGTERM too.
    let file = scratch.job_file(
        "policy = 'collect-all'\n\
         [[job]]\nname = 'stubborn'\ntimeout = '300ms'\n\
         command = \"trap '' TERM; echo $$ >> {pids}; sleep 30 & echo $! >> {pids}; while :; do sleep 0.02; done\"\n\
         [[job]]\nname = 'fine'\ncommand = 'true'\n",
    );
    let running = Running::start(scratch.command(&run_args(&scratch, &file, &["--quiet"])));
    let processes = wait_for_pids(&scratch.pids(), 2);
    let started = Instant::now();
    let finished = running.finish(faults_support::RUN_BOUND);
    // Timeout 300 ms, then SIGTERM (ignored), then 200 ms of grace, then SIGKILL.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    let root = complete_report(&scratch.path("report.json"), &["stubborn", "fine"]);
    let stubborn = job(&root, "stubborn");
    assert_eq!(stubborn["outcome"], "timed_out", "{stubborn}");
    assert_eq!(stubborn["signal"], "SIGKILL", "{stubborn}");
    assert_eq!(stubborn["exit_code"], serde_json::Value::Null);
    assert_eq!(job(&root, "fine")["outcome"], "completed");
    scratch.assert_no_leaks(&processes);
}

#[test]
fn daemons_that_double_fork_or_setsid_are_gone_after_the_run() {
    let scratch = Scratch::new();
    // Each job writes down what it leaves, then ends without waiting for it.
    let file = scratch.job_file(
        "policy = 'collect-all'\n\
         [[job]]\nname = 'double-fork'\n\
         command = '(sleep 30 & echo $! >> {dir}/a.pids); echo $$ >> {dir}/a.pids'\n\
         [[job]]\nname = 'daemonize'\n\
         command = \"setsid sh -c 'sleep 30 & echo $! >> {dir}/b.pids' & wait\"\n\
         [[job]]\nname = 'escapes-twice'\n\
         command = \"setsid sh -c 'setsid sleep 30 & echo $! >> {dir}/c.pids; echo $$ >> {dir}/c.pids; exec sleep 30' & \
                    while [ \\\"$(wc -l < {dir}/c.pids 2>/dev/null || echo 0)\\\" -lt 2 ]; do sleep 0.01; done\"\n\
         [[job]]\nname = 'setsid-then-timeout'\ntimeout = '300ms'\n\
         command = 'setsid sleep 30 & echo $! >> {dir}/d.pids; exec sleep 30'\n",
    );
    let running = Running::start(scratch.command(&run_args(&scratch, &file, &["--quiet"])));
    let mut processes = wait_for_pids(&scratch.path("a.pids"), 2);
    processes.extend(wait_for_pids(&scratch.path("b.pids"), 1));
    processes.extend(wait_for_pids(&scratch.path("c.pids"), 2));
    processes.extend(wait_for_pids(&scratch.path("d.pids"), 1));
    let finished = running.finish(faults_support::RUN_BOUND);
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    let root = complete_report(
        &scratch.path("report.json"),
        &[
            "double-fork",
            "daemonize",
            "escapes-twice",
            "setsid-then-timeout",
        ],
    );
    for name in ["double-fork", "daemonize", "escapes-twice"] {
        let node = job(&root, name);
        assert_eq!(node["outcome"], "completed", "{node}");
        assert_eq!(node["exit_code"], 0, "{node}");
    }
    let timed_out = job(&root, "setsid-then-timeout");
    assert_eq!(timed_out["outcome"], "timed_out", "{timed_out}");
    assert_eq!(timed_out["signal"], "SIGTERM", "{timed_out}");
    scratch.assert_no_leaks(&processes);
}

#[test]
fn jobs_killed_by_signals_are_failures_that_name_the_signal() {
    let scratch = Scratch::new();
    let file = scratch.job_file(
        "policy = 'collect-all'\n\
         [[job]]\nname = 'segv'\ncommand = 'ulimit -c 0; kill -SEGV $$'\n\
         [[job]]\nname = 'abort'\ncommand = 'ulimit -c 0; kill -ABRT $$'\n\
         [[job]]\nname = 'kill'\ncommand = 'kill -KILL $$'\n\
         [[job]]\nname = 'term'\ncommand = 'kill -TERM $$'\n\
         [[job]]\nname = 'usr1'\ncommand = 'kill -USR1 $$'\n\
         [[job]]\nname = 'code-137'\ncommand = 'exit 137'\n\
         [[job]]\nname = 'retried'\nattempts = 2\ncommand = 'kill -KILL $$'\n",
    );
    let finished = scratch.run(&run_args(&scratch, &file, &[]));
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    let root = complete_report(
        &scratch.path("report.json"),
        &[
            "segv", "abort", "kill", "term", "usr1", "code-137", "retried",
        ],
    );
    for (name, signal) in [
        ("segv", "SIGSEGV"),
        ("abort", "SIGABRT"),
        ("kill", "SIGKILL"),
        // Not asked to stop: a SIGTERM from elsewhere is a failure, not a cancellation.
        ("term", "SIGTERM"),
        ("usr1", "SIGUSR1"),
        ("retried", "SIGKILL"),
    ] {
        let node = job(&root, name);
        assert_eq!(node["outcome"], "failed", "{node}");
        assert_eq!(node["signal"], signal, "{node}");
        assert_eq!(node["exit_code"], serde_json::Value::Null, "{node}");
        assert!(finished.stdout.contains(signal), "{}", finished.both());
    }
    let code = job(&root, "code-137");
    assert_eq!(
        (code["exit_code"].as_i64(), code["signal"].as_str()),
        (Some(137), None)
    );
    assert_eq!(job(&root, "retried")["attempts"], 2);
    scratch.assert_no_leaks(&[]);
}

#[test]
fn megabytes_of_output_on_both_streams_are_logged_whole_and_never_held_in_memory() {
    let scratch = Scratch::new();
    let logs = scratch.path("logs");
    // 16 MiB of 16-byte lines, half on each stream at once, and 4 MiB with no newline at all.
    let file = scratch.job_file(
        "[[job]]\nname = 'both-streams'\n\
         command = 'yes 0123456789abcde | head -c 8388608 & yes 0123456789ABCDE | head -c 8388608 >&2; wait'\n\
         [[job]]\nname = 'one-long-line'\ncommand = \"head -c 4194304 /dev/zero | tr '\\\\0' x\"\n",
    );
    let args = run_args(
        &scratch,
        &file,
        &["--output-dir", &logs.display().to_string()],
    );
    let started = Instant::now();
    let finished = scratch.run(&args);
    assert_eq!(finished.code(), Some(0), "{}", finished.both());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    complete_report(
        &scratch.path("report.json"),
        &["both-streams", "one-long-line"],
    );
    let size = |name: &str| {
        std::fs::metadata(logs.join(name))
            .map(|meta| meta.len())
            .ok()
    };
    assert_eq!(size("0-both-streams.1.log"), Some(16 << 20));
    assert_eq!(size("1-one-long-line.1.log"), Some(4 << 20));
    // Without --quiet, each job's last 64 KiB of lines are printed, stdout's to stdout and
    // stderr's to stderr, and the lines before them counted.
    assert!(
        finished.stderr.contains("0123456789ABCDE\n"),
        "{}",
        finished.both()
    );
    assert!(
        finished.stdout.contains(&"x".repeat(16 * 1024)),
        "{}",
        finished.both()
    );
    assert!(
        finished
            .stderr
            .contains("[one-long-line: 252 earlier lines not kept]"),
        "{}",
        finished.both()
    );
    // 20 MiB went through the runner; it keeps a 64 KiB tail per job and a 64 KiB buffer.
    assert!(
        finished.peak_kib > 0 && finished.peak_kib < 48 * 1024,
        "peak RSS {} KiB",
        finished.peak_kib
    );
    scratch.assert_no_leaks(&[]);
}

#[test]
fn jobs_that_close_their_output_early_are_waited_for_until_they_exit() {
    let scratch = Scratch::new();
    let file = scratch.job_file(
        "policy = 'collect-all'\n\
         [[job]]\nname = 'closes-stdout'\ncommand = 'echo before; exec >&-; sleep 0.3; echo after >&2; exit 3'\n\
         [[job]]\nname = 'closes-both'\ncommand = 'exec >&- 2>&-; sleep 0.3; exit 0'\n\
         [[job]]\nname = 'escapee-holds-the-pipes'\n\
         command = 'setsid sleep 30 & echo $! >> {pids}; echo done'\n",
    );
    let running = Running::start(scratch.command(&run_args(&scratch, &file, &[])));
    let processes = wait_for_pids(&scratch.pids(), 1);
    let finished = running.finish(faults_support::RUN_BOUND);
    assert_eq!(finished.code(), Some(1), "{}", finished.both());
    let root = complete_report(
        &scratch.path("report.json"),
        &["closes-stdout", "closes-both", "escapee-holds-the-pipes"],
    );
    let closes = job(&root, "closes-stdout");
    assert_eq!(
        (closes["outcome"].as_str(), closes["exit_code"].as_i64()),
        (Some("failed"), Some(3))
    );
    // Waited for the exit, not for the end of output.
    for name in ["closes-stdout", "closes-both"] {
        let node = job(&root, name);
        assert!(node["duration_ms"].as_u64() >= Some(300), "{node}");
    }
    assert_eq!(job(&root, "closes-both")["outcome"], "completed");
    // The escapee keeps the pipes open; the job ends at its exit all the same.
    let held = job(&root, "escapee-holds-the-pipes");
    assert_eq!(held["outcome"], "completed", "{held}");
    assert!(held["duration_ms"].as_u64() < Some(1000), "{held}");
    assert!(finished.stdout.contains("before\n") && finished.stdout.contains("done\n"));
    assert!(finished.stderr.contains("after\n"), "{}", finished.both());
    scratch.assert_no_leaks(&processes);
}

#[test]
fn jobs_reading_stdin_get_dev_null_even_when_the_runner_s_stdin_stays_open() {
    let scratch = Scratch::new();
    let file = scratch.job_file(
        "[[job]]\nname = 'cat'\ncommand = 'cat; echo cat-ended'\n\
         [[job]]\nname = 'read'\ncommand = 'read line; echo read-status=$?'\n\
         [[job]]\nname = 'head'\ncommand = 'echo head-read=$(head -c 1 | wc -c)'\n\
         [[job]]\nname = 'fd0'\ncommand = 'echo fd0=$(readlink /proc/self/fd/0)'\n",
    );
    let mut command = scratch.command(&run_args(&scratch, &file, &[]));
    command.stdin(Stdio::piped());
    let mut running = Running::start(command);
    // The runner's stdin is a pipe the test holds open and never writes to.
    let stdin = running.stdin();
    let started = Instant::now();
    let finished = running.finish(faults_support::RUN_BOUND);
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    assert_eq!(finished.code(), Some(0), "{}", finished.both());
    for line in ["cat-ended", "read-status=1", "head-read=0", "fd0=/dev/null"] {
        assert!(
            finished.stdout.contains(line),
            "{line}: {}",
            finished.both()
        );
    }
    complete_report(
        &scratch.path("report.json"),
        &["cat", "read", "head", "fd0"],
    );
    drop(stdin);
    scratch.assert_no_leaks(&[]);
}

#[test]
fn zombies_are_reaped_a_job_s_own_at_its_end_and_orphans_while_the_run_goes_on() {
    let scratch = Scratch::new();
    let go = scratch.path("go");
    // `zombie-parent` ends up `sleep`, which never reaps the child it inherited from the shell
    // (that child outlives the `exec`, then dies: a zombie of the job's main process);
    // `orphans` leaves ten short-lived orphans, re-parented to the runner as they die.
    let file = scratch.job_file(
        "[[job]]\nname = 'zombie-parent'\nservice = true\n\
         command = 'sleep 0.1 & echo $! >> {dir}/z.pids; exec sleep 30'\n\
         [[job]]\nname = 'orphans'\n\
         command = 'for i in 1 2 3 4 5 6 7 8 9 10; do (true & echo $! >> {dir}/o.pids); done; \
                    while [ ! -e {dir}/go ]; do sleep 0.01; done'\n",
    );
    let running = Running::start(scratch.command(&run_args(&scratch, &file, &["--quiet"])));
    let runner = running.pid();
    let zombie = wait_for_pids(&scratch.path("z.pids"), 1);
    let orphans = wait_for_pids(&scratch.path("o.pids"), 10);
    // The job's own zombie: dead, unreaped, its parent the job's main process.
    assert!(
        eventually(PATIENCE, || zombie
            .iter()
            .all(|process| process.is_zombie()
                && process.stat().is_some_and(|stat| stat.parent != runner))),
        "{:?}",
        zombie.iter().map(Proc::stat).collect::<Vec<_>>()
    );
    // The orphans died as children of the runner, a subreaper: it reaps them while the run
    // goes on, rather than keeping one zombie per orphan until the end.
    assert!(
        eventually(PATIENCE, || orphans.iter().all(Proc::is_gone)),
        "still in the process table while the run goes on: {:?}",
        orphans
            .iter()
            .map(|process| (process.pid, process.stat()))
            .collect::<Vec<_>>()
    );
    std::fs::write(&go, "").unwrap_or_else(|error| panic!("{error}"));
    let finished = running.finish(faults_support::RUN_BOUND);
    assert_eq!(finished.code(), Some(0), "{}", finished.both());
    let root = complete_report(&scratch.path("report.json"), &["zombie-parent", "orphans"]);
    assert_eq!(job(&root, "zombie-parent")["outcome"], "cancelled");
    assert_eq!(job(&root, "orphans")["outcome"], "completed");
    scratch.assert_no_leaks(&zombie);
}

#[test]
fn a_bounded_fork_storm_is_swept_even_while_it_still_forks() {
    let scratch = Scratch::new();
    // `storm`: 60 rounds of a short-lived orphan, an escapee and an in-group sleeper (180
    // processes); `forker`: an escapee that forks up to 200 more escapees, still at it when
    // the runner is stopped.
    let file = scratch.job_file(
        "grace = '200ms'\n\
         [[job]]\nname = 'storm'\n\
         command = 'i=0; while [ $i -lt 60 ]; do (true & echo $! >> {dir}/short.pids); \
                    setsid sleep 30 & echo $! >> {dir}/escaped.pids; \
                    sleep 30 & echo $! >> {dir}/ingroup.pids; i=$((i+1)); done; wait'\n\
         [[job]]\nname = 'forker'\n\
         command = \"setsid sh -c 'i=0; while [ $i -lt 200 ]; do setsid sleep 30 & echo $! >> {dir}/late.pids; i=$((i+1)); done; wait' & wait\"\n",
    );
    let running = Running::start(scratch.command(&run_args(&scratch, &file, &["--quiet"])));
    let mut processes = wait_for_pids(&scratch.path("short.pids"), 60);
    processes.extend(wait_for_pids(&scratch.path("escaped.pids"), 60));
    processes.extend(wait_for_pids(&scratch.path("ingroup.pids"), 60));
    processes.extend(wait_for_pids(&scratch.path("late.pids"), 20));
    running.signal(nix::sys::signal::Signal::SIGTERM);
    let finished = running.finish(faults_support::RUN_BOUND);
    assert_eq!(finished.code(), Some(143), "{}", finished.both());
    let root = complete_report(&scratch.path("report.json"), &["storm", "forker"]);
    assert_eq!(job(&root, "storm")["outcome"], "cancelled");
    assert_eq!(job(&root, "forker")["outcome"], "cancelled");
    // Every pid written down, and (by the token) every one forked after the last look.
    processes.extend(recorded(&scratch));
    scratch.assert_no_leaks(&processes);
}

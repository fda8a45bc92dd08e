//! A run from start to exit status: the job tree (a file's, or `exec`'s stream of lines)
//! started as the library's groups on an actix `System`, watched by the live view, stopped by
//! SIGINT/SIGTERM, swept of stray processes, reported (DESIGN §7).
//!
//! Exit statuses: [`EXIT_SUCCESS`] 0, [`EXIT_FAILED`] 1 (the root group failed, a deadline
//! included), [`EXIT_BAD_INPUT`] 2 (nothing ran), 128 + the signal (130, 143) when
//! interrupted.

use std::cell::RefCell;
use std::fs;
use std::future::Future;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use actix::Actor;
use actix_taskgroup::{GroupHandle, GroupReport, GroupSupervisor, Join};

use crate::cli::{ExecArgs, OutputArgs};
use crate::console::{Console, ViewMode};
use crate::exec_input;
use crate::facts::JobTable;
use crate::interrupt::{self, Interrupted};
use crate::jobfile::{ChildDef, GroupDef};
use crate::reaper;
use crate::report::{self, json, text};
use crate::slurm::{SlurmBackend, StepContext};
use crate::supervise::{self, JobValue, RunContext};

/// The run succeeded.
pub const EXIT_SUCCESS: u8 = 0;
/// The run failed (a timed-out deadline included).
pub const EXIT_FAILED: u8 = 1;
/// Bad input or usage: nothing was run.
pub const EXIT_BAD_INPUT: u8 = 2;

/// How often the terminal view is redrawn from a snapshot.
const VIEW_TICK: Duration = Duration::from_millis(100);

/// Writes `line` and a newline to stderr, for the runner's own messages. Unlike `eprintln!`
/// it never panics: a stderr that is closed (`2>&1 | head`) or full loses the message, and
/// the run still ends with its own exit status (and its sweep).
pub fn warn(line: impl std::fmt::Display) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Checks the output options before anything runs: `--output-dir` is created, `--json`'s
/// directory must exist.
///
/// # Errors
///
/// A message for the user (exit status 2, nothing run).
pub fn prepare(output: &OutputArgs) -> Result<(), String> {
    if let Some(dir) = &output.output_dir {
        fs::create_dir_all(dir)
            .map_err(|error| format!("--output-dir {}: {error}", dir.display()))?;
    }
    if let Some(path) = &output.json {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(format!(
                "--json {}: the directory {} does not exist",
                path.display(),
                dir.display()
            ));
        }
        if path.is_dir() {
            return Err(format!("--json {}: is a directory", path.display()));
        }
        // The report is renamed over the path: a device or a pipe there (`/dev/stdout`) would
        // be replaced by a regular file, not written to.
        if let Ok(meta) = fs::metadata(path)
            && !meta.is_file()
        {
            return Err(format!(
                "--json {}: not a regular file (the report is written beside it and renamed \
                 over it)",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Runs the tree of a job file (or the demo); `grace` is the root's grace unless the file
/// sets one.
/// `slurm` is the Slurm backend's setup, when a job of the tree runs on Slurm.
pub fn run_tree(
    root: GroupDef,
    grace: Duration,
    output: &OutputArgs,
    slurm: Option<StepContext>,
) -> u8 {
    let root_name = root.name.clone();
    session(output, &root_name, slurm, move |context| async move {
        supervise::register_jobs(&root, &context.table);
        let supervisor = supervise::group_builder(&root, "", 0, grace, &context).build();
        let handle = supervisor.handle();
        let cancel = handle.clone();
        let interrupted = interrupt::listen(move || cancel.cancel());
        let address = supervisor.start();
        let view = live_view(&context, handle);
        let report = address.send(Join::<JobValue>::new()).await;
        if let Some(view) = view {
            view.abort();
        }
        Finished {
            root,
            report: report.map_err(|error| error.to_string()),
            interrupted,
        }
    })
}

/// Runs `exec`: one job per line of stdin, started as the lines arrive; `slurm` is the Slurm
/// backend's setup with `--backend slurm`.
pub fn run_exec(args: &ExecArgs, slurm: Option<StepContext>) -> u8 {
    let output = args.output.clone();
    let args = args.clone();
    session(
        &output,
        exec_input::ROOT_NAME,
        slurm,
        move |context| async move {
            let mut builder = GroupSupervisor::<JobValue>::builder()
                .name(exec_input::ROOT_NAME)
                .policy(supervise::policy(args.halt.policy()))
                .limit(args.jobs.get())
                .grace(args.grace)
                // Lines may keep coming: the group ends once stdin is closed and the jobs are done.
                .end(actix_taskgroup::EndCondition::Never);
            if args.retries > 0 {
                // Retries are per job (`attempts`); the group's restart limit must not cut a
                // batch of many retrying jobs short.
                builder = builder.intensity(u32::MAX, Duration::from_secs(1));
            }
            let supervisor = builder.build();
            let handle = supervisor.handle();
            let cancel = handle.clone();
            let interrupted = interrupt::listen(move || cancel.cancel());
            let address = supervisor.start();
            let jobs = Rc::new(RefCell::new(Vec::new()));
            let reader = actix_rt::spawn(exec_input::read_jobs(
                tokio::io::stdin(),
                handle.clone(),
                Rc::clone(&context),
                args.clone(),
                Rc::clone(&jobs),
            ));
            let view = live_view(&context, handle);
            let report = address.send(Join::<JobValue>::new()).await;
            // stdin may still be open (a stream of jobs): the run is over all the same.
            reader.abort();
            if let Some(view) = view {
                view.abort();
            }
            let mut root = exec_input::root_def(&args);
            root.children = jobs.take().into_iter().map(ChildDef::Job).collect();
            Finished {
                root,
                report: report.map_err(|error| error.to_string()),
                interrupted,
            }
        },
    )
}

/// What a run ended with.
struct Finished {
    root: GroupDef,
    report: Result<GroupReport<JobValue>, String>,
    interrupted: io::Result<Interrupted>,
}

/// Sets up the console, runs `body` on a new actix `System`, waits for the Slurm backend's
/// stops (when there is one), then reports and returns the exit status.
fn session<F, Fut>(output: &OutputArgs, root_name: &str, slurm: Option<StepContext>, body: F) -> u8
where
    F: FnOnce(Rc<RunContext>) -> Fut,
    Fut: Future<Output = Finished>,
{
    let mode = ViewMode::choose(output.quiet);
    if mode == ViewMode::Plain {
        // Fails only if a subscriber exists already; the run goes on without lines then.
        let _ = crate::plain::PlainLines::new(root_name).install();
    }
    // A Linux guarantee (DESIGN §7); elsewhere the runner still stops process groups.
    if let Err(error) = reaper::become_subreaper() {
        warn(format_args!(
            "taskgroup: cannot become a child subreaper ({error}): descendants that leave their job's process group may outlive the run"
        ));
    }
    let system = actix_rt::System::new();
    let output = output.clone();
    let root_name = root_name.to_owned();
    system.block_on(async move {
        let slurm = slurm.map(SlurmBackend::start);
        let context = Rc::new(RunContext {
            table: JobTable::new(),
            console: Rc::new(Console::new(mode)),
            output_dir: output.output_dir.clone(),
            slurm: slurm.as_ref().map(|slurm| Rc::clone(slurm.context())),
            root_name,
        });
        let orphans = actix_rt::spawn(reaper::reap_orphans_while_running());
        let finished = body(Rc::clone(&context)).await;
        if let Some(slurm) = slurm {
            // Before the sweep: it would SIGKILL the srun processes still ending, and an
            // srun killed while its job is queued leaves the job behind.
            let interrupted = finished
                .interrupted
                .as_ref()
                .is_ok_and(|interrupted| interrupted.signal().is_some());
            slurm.settle(interrupted).await;
        }
        orphans.abort();
        context.console.finish();
        report(finished, &context, &output)
    })
}

/// Redraws the terminal view from snapshots until aborted (only on a terminal).
fn live_view(
    context: &Rc<RunContext>,
    handle: GroupHandle<JobValue>,
) -> Option<actix_rt::task::JoinHandle<()>> {
    if context.console.mode() != ViewMode::Tty {
        return None;
    }
    let context = Rc::clone(context);
    Some(actix_rt::spawn(async move {
        let mut ticks = tokio::time::interval(VIEW_TICK);
        loop {
            ticks.tick().await;
            match handle.snapshot() {
                Some(snapshot) => context.console.tick(&snapshot, context.table.len()),
                None => return,
            }
        }
    }))
}

/// Sweeps stray processes, prints the report, writes the JSON, and gives the exit status.
fn report(finished: Finished, context: &RunContext, output: &OutputArgs) -> u8 {
    // Every job has ended or been dropped (R1): whatever is left escaped its process group.
    if let Err(error) = reaper::sweep() {
        warn(format_args!(
            "taskgroup: sweeping stray processes failed: {error}"
        ));
    }
    let interrupted = match finished.interrupted {
        Ok(interrupted) => interrupted,
        Err(error) => {
            warn(format_args!(
                "taskgroup: cannot handle SIGINT/SIGTERM: {error}"
            ));
            Interrupted::default()
        }
    };
    let library_report = match finished.report {
        Ok(report) => report,
        Err(error) => {
            warn(format_args!("taskgroup: lost the run's report: {error}"));
            return EXIT_FAILED;
        }
    };
    let tree = report::build(&finished.root, &library_report, &context.table);
    let options = text::TextOptions {
        failed_tails: io::stdout().is_terminal(),
    };
    {
        let mut stdout = io::stdout().lock();
        let _ = stdout.write_all(text::render(&tree, options).as_bytes());
        let _ = stdout.flush();
    }
    let mut code = if library_report.is_success() {
        EXIT_SUCCESS
    } else {
        EXIT_FAILED
    };
    if let Some(path) = &output.json {
        let written = json::to_json(&tree)
            .map_err(io::Error::other)
            .and_then(|text| json::write_atomically(path, &text));
        if let Err(error) = written {
            // A report from an earlier run must not pass for this run's.
            let _ = fs::remove_file(path);
            warn(format_args!(
                "taskgroup: cannot write {}: {error}; there is no JSON report",
                path.display()
            ));
            code = EXIT_FAILED;
        }
    }
    let mut incomplete = Vec::new();
    incomplete_logs(&tree, "", &mut incomplete);
    for (job, error) in &incomplete {
        warn(format_args!(
            "taskgroup: the log of {job} is incomplete: {error}"
        ));
        code = EXIT_FAILED;
    }
    if let Some(status) = interrupted.exit_code() {
        let name = interrupted
            .signal()
            .and_then(|number| nix::sys::signal::Signal::try_from(number).ok())
            .map_or("a signal", |signal| signal.as_str());
        warn(format_args!(
            "taskgroup: interrupted by {name}: every job was stopped"
        ));
        code = status;
    }
    code
}

/// Every job of `node` whose last attempt's log is incomplete, as (its path, why).
fn incomplete_logs(node: &report::ReportNode, prefix: &str, out: &mut Vec<(String, String)>) {
    for child in node.children() {
        let path = supervise::join_path(prefix, &child.name);
        match &child.detail {
            report::NodeDetail::Job(facts) => {
                if let Some(error) = &facts.log_error {
                    out.push((path, error.clone()));
                }
            }
            report::NodeDetail::Group(_) => incomplete_logs(child, &path, out),
        }
    }
}

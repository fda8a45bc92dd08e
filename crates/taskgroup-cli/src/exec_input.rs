//! `taskgroup exec`'s input: one shell command per line of stdin, each a job of one group,
//! started as its line arrives (issue 16 §3).
//!
//! A job is named by its line number (1-based) and runs its line with `/bin/sh -c`. Blank
//! lines are skipped, and the numbering still counts them, so that a name always says which
//! line it came from. Bytes that are not UTF-8 are replaced (U+FFFD) rather than refused: a
//! job list is text, and a stray byte in one line must not end the stream. Reading stops at
//! the end of stdin, which closes the group (it then ends once its jobs are done), or when
//! the group refuses a job because it is stopping (fail-fast, first-success, a signal).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::rc::Rc;

use actix_taskgroup::GroupHandle;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::cli::ExecArgs;
use crate::jobfile::{CommandDef, GroupDef, JobDef, RestartStrategy, RestartType};
use crate::supervise::{JobValue, RunContext, job_child};

/// The root group's name in `exec`'s report.
pub const ROOT_NAME: &str = "exec";

/// The root group `exec` runs, without its jobs (they are added as lines arrive).
pub fn root_def(args: &ExecArgs) -> GroupDef {
    GroupDef {
        name: ROOT_NAME.to_owned(),
        policy: args.halt.policy(),
        limit: Some(args.jobs),
        deadline: None,
        grace: Some(args.grace),
        strategy: RestartStrategy::OneForOne,
        intensity: None,
        backoff: None,
        ready_timeout: None,
        backend: args.backend,
        slurm: args.slurm.clone(),
        best_effort: false,
        children: Vec::new(),
        line: 1,
    }
}

/// The job for input line `number`.
pub fn line_job(number: usize, line: &str, args: &ExecArgs) -> JobDef {
    let retried = args.retries > 0;
    JobDef {
        name: number.to_string(),
        command: CommandDef::Shell(line.to_owned()),
        cwd: None,
        env: BTreeMap::new(),
        timeout: args.timeout,
        restart: if retried {
            RestartType::Transient
        } else {
            RestartType::Temporary
        },
        attempts: NonZeroU32::new(args.retries.saturating_add(1)).filter(|_| retried),
        best_effort: false,
        service: false,
        ready: None,
        backend: args.backend,
        slurm: args.slurm.clone(),
        line: number,
    }
}

/// Reads `input` line by line and spawns one job per line into the group of `handle`;
/// every job spawned (or refused) is appended to `jobs`, in order. Closes the group at the
/// end of the input.
pub async fn read_jobs<R: AsyncRead + Unpin>(
    input: R,
    handle: GroupHandle<JobValue>,
    context: Rc<RunContext>,
    args: ExecArgs,
    jobs: Rc<RefCell<Vec<JobDef>>>,
) {
    let mut reader = BufReader::new(input);
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                crate::runner::warn(format_args!(
                    "taskgroup exec: reading stdin failed: {error}"
                ));
                break;
            }
        }
        number += 1;
        let text = String::from_utf8_lossy(&buffer);
        let line = text.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let job = line_job(number, line, &args);
        let index = context.table.register(line.to_owned());
        jobs.borrow_mut().push(job.clone());
        let runner = context.job_runner(job, index, number, number.to_string());
        if handle.spawn_child(job_child(Rc::new(runner))).is_err() {
            // The group is stopping: this job is reported as never started, and no more
            // lines are read.
            break;
        }
    }
    handle.close();
}

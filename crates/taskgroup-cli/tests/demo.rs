//! The shipped demo's jobs behave as its comments say, run one by one as real processes: the
//! flaky job fails twice and then succeeds, the best-effort job fails, the service becomes
//! ready and stops on SIGTERM, the batch jobs succeed. (The supervision around them is the
//! library's, tested there.)

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use taskgroup_cli::jobfile::{self, ChildDef, GroupDef, JobDef};
use taskgroup_cli::process::{ExitInfo, OutputOptions, OutputTail, spawn};

fn demo() -> GroupDef {
    let source = include_str!("../demo.toml");
    jobfile::parse(source, Path::new("demo.toml")).unwrap_or_else(|error| panic!("{error}"))
}

fn find<'a>(group: &'a GroupDef, name: &str) -> &'a JobDef {
    for child in &group.children {
        match child {
            ChildDef::Job(job) if job.name == name => return job,
            ChildDef::Job(_) => {}
            ChildDef::Group(nested) => {
                if let Some(job) = try_find(nested, name) {
                    return job;
                }
            }
        }
    }
    panic!("no job {name} in the demo")
}

fn try_find<'a>(group: &'a GroupDef, name: &str) -> Option<&'a JobDef> {
    group.children.iter().find_map(|child| match child {
        ChildDef::Job(job) if job.name == name => Some(job),
        ChildDef::Job(_) => None,
        ChildDef::Group(nested) => try_find(nested, name),
    })
}

async fn run_attempt(job: &JobDef, attempt: u32) -> (ExitInfo, String) {
    let tail = OutputTail::new(4096);
    let mut process = spawn(
        &job.process_spec(attempt),
        OutputOptions::new().tail(tail.clone()),
    )
    .unwrap_or_else(|error| panic!("{}: {error}", job.name));
    let exit = tokio::time::timeout(Duration::from_secs(3), process.wait()).await;
    let exit = exit
        .unwrap_or_else(|_| panic!("{} did not end", job.name))
        .unwrap_or_else(|error| panic!("{error}"));
    (exit, tail.text())
}

#[actix_rt::test]
async fn the_flaky_job_fails_its_first_two_attempts_then_succeeds() {
    let root = demo();
    let flaky = find(&root, "fetch-deps");
    let mut codes = Vec::new();
    for attempt in 1..=3 {
        let (exit, output) = run_attempt(flaky, attempt).await;
        codes.push(exit.code);
        assert!(output.contains(&format!("attempt {attempt}")), "{output}");
    }
    assert_eq!(codes, [Some(1), Some(1), Some(0)]);
    assert!(flaky.attempts.is_some_and(|attempts| attempts.get() >= 3));
}

#[actix_rt::test]
async fn the_batch_jobs_succeed_and_the_best_effort_one_fails() {
    let root = demo();
    let runs =
        ["compile", "unit", "integration", "lint"].map(|name| run_attempt(find(&root, name), 1));
    let [compile, unit, integration, lint] = futures_join(runs).await;
    assert!(compile.0.success() && unit.0.success() && integration.0.success());
    assert_eq!(lint.0.code, Some(3));
    assert!(find(&root, "lint").best_effort);
    assert!(unit.1.contains("128 passed"), "{}", unit.1);
}

#[actix_rt::test]
async fn the_service_becomes_ready_and_stops_on_sigterm() {
    let root = demo();
    let database = find(&root, "database");
    let ready = database
        .ready
        .clone()
        .unwrap_or_else(|| panic!("no readiness"));
    let became_ready = Rc::new(Cell::new(false));
    let seen = Rc::clone(&became_ready);
    let options = OutputOptions::new().on_line(move |stream, line| {
        if ready.matches(stream, line) {
            seen.set(true);
        }
    });
    let mut process = spawn(&database.process_spec(1), options).unwrap_or_else(|e| panic!("{e}"));
    // Stop the service once it is ready (the hook runs inside the wait, so poll the flag).
    let stop = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !became_ready.get() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the service never became ready"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let exit = taskgroup_cli::process::run_until_stopped(&mut process, stop).await;
    assert_eq!(
        exit.ok().and_then(|exit| exit.signal_name()),
        Some("SIGTERM")
    );
}

#[test]
fn the_slow_job_outlasts_the_deadline_of_its_group() {
    let root = demo();
    let tests = root
        .children
        .iter()
        .find_map(|child| match child {
            ChildDef::Group(group) if group.name == "tests" => Some(group),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no tests group"));
    assert!(tests.best_effort);
    assert!(
        tests
            .deadline
            .is_some_and(|deadline| deadline < Duration::from_secs(3))
    );
    assert!(
        find(&root, "slow-e2e")
            .command
            .to_string()
            .contains("sleep 30")
    );
}

/// Runs four futures concurrently on this thread.
async fn futures_join<F: std::future::Future>(futures: [F; 4]) -> [F::Output; 4] {
    let [a, b, c, d] = futures;
    let (a, b, c, d) = tokio::join!(a, b, c, d);
    [a, b, c, d]
}

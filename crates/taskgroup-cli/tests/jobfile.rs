//! The job file: what it accepts, the tree it gives, and every kind of bad input rejected with
//! a message that says what and where.

use std::num::{NonZeroU32, NonZeroUsize};
use std::path::Path;
use std::time::Duration;

use taskgroup_cli::jobfile::{
    self, Backend, BackoffDef, ChildDef, CommandDef, GroupDef, GroupPolicy, IntensityDef, JobDef,
    RestartStrategy, RestartType,
};
use taskgroup_cli::process::Stream;

fn parse(source: &str) -> GroupDef {
    jobfile::parse(source, Path::new("jobs.toml")).unwrap_or_else(|error| panic!("{error}"))
}

/// The rendered error for `source`, which must be rejected.
fn rejected(source: &str) -> String {
    match jobfile::parse(source, Path::new("jobs.toml")) {
        Ok(tree) => panic!("accepted: {tree:#?}"),
        Err(error) => error.to_string(),
    }
}

fn assert_rejected(source: &str, expected: &[&str]) {
    let message = rejected(source);
    for part in expected {
        assert!(message.contains(part), "expected {part:?} in:\n{message}");
    }
}

fn job(child: &ChildDef) -> &JobDef {
    match child {
        ChildDef::Job(job) => job,
        ChildDef::Group(group) => panic!("expected a job, got group {}", group.name),
    }
}

fn group(child: &ChildDef) -> &GroupDef {
    match child {
        ChildDef::Group(group) => group,
        ChildDef::Job(job) => panic!("expected a group, got job {}", job.name),
    }
}

#[test]
fn the_shipped_demo_file_is_valid() {
    let demo = include_str!("../demo.toml");
    let root = parse(demo);
    assert!(root.job_count() >= 5, "{root:#?}");
    assert!(root.group_count() >= 2, "{root:#?}");
}

#[test]
fn a_minimal_file_gets_every_default() {
    let root = parse("[[job]]\nname = 'a'\ncommand = 'true'\n");
    assert_eq!(root.name, jobfile::DEFAULT_ROOT_NAME);
    assert_eq!(root.policy, GroupPolicy::FailFast);
    assert_eq!(root.strategy, RestartStrategy::OneForOne);
    assert_eq!(root.backend, Backend::Local);
    assert_eq!(
        (root.limit, root.deadline, root.grace, root.ready_timeout),
        (None, None, None, None)
    );
    assert_eq!((root.intensity, root.backoff), (None, None));
    let a = job(&root.children[0]);
    assert_eq!(a.command, CommandDef::Shell("true".into()));
    assert_eq!(a.restart, RestartType::Temporary);
    assert_eq!(
        (a.attempts, a.timeout, &a.cwd, &a.ready),
        (None, None, &None, &None)
    );
    assert!(!a.best_effort && !a.service && a.env.is_empty());
    assert_eq!(a.line, 1);
}

#[test]
fn an_empty_file_is_an_empty_root_group() {
    let root = parse("");
    assert_eq!((root.job_count(), root.group_count()), (0, 1));
}

#[test]
fn every_key_is_read() {
    let root = parse(
        r#"
        name = "nightly"
        policy = "first-success"
        limit = 4
        deadline = "2m"
        grace = "1.5s"
        strategy = "rest-for-one"
        intensity = { max_restarts = 3, window = "10s" }
        backoff = { base = "100ms", factor = 1.5, max = "5s", jitter = 0.2, reset_after = "30s" }
        ready_timeout = "20s"
        backend = "slurm"

        [[job]]
        name = "fetch"
        command = ["curl", "-fsS", "https://example.invalid"]
        cwd = "/tmp"
        env = { A = "1", B = "two" }
        timeout = "500ms"
        restart = "transient"
        attempts = 3
        best_effort = true
        ready = { stderr = "connected" }
        "#,
    );
    assert_eq!(root.name, "nightly");
    assert_eq!(root.policy, GroupPolicy::FirstSuccess);
    assert_eq!(root.limit, NonZeroUsize::new(4));
    assert_eq!(root.deadline, Some(Duration::from_secs(120)));
    assert_eq!(root.grace, Some(Duration::from_millis(1500)));
    assert_eq!(root.strategy, RestartStrategy::RestForOne);
    assert_eq!(
        root.intensity,
        Some(IntensityDef {
            max_restarts: 3,
            window: Duration::from_secs(10)
        })
    );
    assert_eq!(
        root.backoff,
        Some(BackoffDef {
            base: Duration::from_millis(100),
            factor: 1.5,
            max: Some(Duration::from_secs(5)),
            jitter: 0.2,
            reset_after: Some(Duration::from_secs(30)),
        })
    );
    assert_eq!(root.ready_timeout, Some(Duration::from_secs(20)));
    assert_eq!(root.backend, Backend::Slurm);
    let fetch = job(&root.children[0]);
    assert_eq!(
        fetch.command,
        CommandDef::Argv(vec![
            "curl".into(),
            "-fsS".into(),
            "https://example.invalid".into()
        ])
    );
    assert_eq!(fetch.cwd.as_deref(), Some(Path::new("/tmp")));
    assert_eq!(fetch.env.get("B").map(String::as_str), Some("two"));
    assert_eq!(fetch.timeout, Some(Duration::from_millis(500)));
    assert_eq!(fetch.restart, RestartType::Transient);
    assert_eq!(fetch.attempts, NonZeroU32::new(3));
    assert!(fetch.best_effort);
    let ready = fetch
        .ready
        .as_ref()
        .map(|ready| (ready.stream, ready.pattern.as_str()));
    assert_eq!(ready, Some((Stream::Stderr, "connected")));
}

#[test]
fn children_keep_file_order_across_jobs_and_groups() {
    let root = parse(
        r#"
        [[job]]
        name = "first"
        command = "true"

        [[group]]
        name = "second"

        [[group.job]]
        name = "inner-a"
        command = "true"

        [[group.group]]
        name = "inner-b"

        [[group.group.job]]
        name = "deep"
        command = "true"

        [[group.job]]
        name = "inner-c"
        command = "true"

        [[job]]
        name = "third"
        command = "true"

        [[group]]
        name = "fourth"
        "#,
    );
    let names: Vec<&str> = root.children.iter().map(ChildDef::name).collect();
    assert_eq!(names, ["first", "second", "third", "fourth"]);
    let second = group(&root.children[1]);
    let inner: Vec<&str> = second.children.iter().map(ChildDef::name).collect();
    assert_eq!(inner, ["inner-a", "inner-b", "inner-c"]);
    assert_eq!(job(&group(&second.children[1]).children[0]).name, "deep");
    assert_eq!((root.job_count(), root.group_count()), (5, 4));
}

#[test]
fn inline_arrays_of_jobs_keep_their_order_too() {
    let root = parse(
        "job = [{ name = 'a', command = 'true' }, { name = 'b', command = 'true' }]\n\
         [[group]]\nname = 'c'\n",
    );
    let names: Vec<&str> = root.children.iter().map(ChildDef::name).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn backend_and_policy_aliases() {
    let root = parse(
        "backend = 'slurm'\npolicy = 'keep-going'\n[[group]]\nname = 'g'\n\
         [[group.group]]\nname = 'h'\nbackend = 'local'\n",
    );
    assert_eq!(root.policy, GroupPolicy::CollectAll);
    let g = group(&root.children[0]);
    assert_eq!(g.backend, Backend::Slurm, "inherited from the root");
    assert_eq!(group(&g.children[0]).backend, Backend::Local);
}

#[test]
fn backoff_needs_only_a_base() {
    let root = parse("backoff = { base = '50ms' }\n");
    let backoff = root.backoff.unwrap_or_else(|| panic!("no backoff"));
    assert_eq!(backoff.base, Duration::from_millis(50));
    assert_eq!(
        (backoff.factor, backoff.jitter, backoff.max),
        (2.0, 0.0, None)
    );
}

#[test]
fn allowed_combinations_are_accepted() {
    // Attempts with the default restart type are retries; a service beside a batch is the
    // point of services; readiness on a batch job is fine.
    let root = parse(
        "[[job]]\nname='db'\ncommand='x'\nservice=true\nready={stdout='up'}\n\
         [[job]]\nname='flaky'\ncommand='x'\nattempts=3\n\
         [[job]]\nname='nightly'\ncommand='x'\nrestart='permanent'\nattempts=2\n",
    );
    assert!(job(&root.children[0]).service);
    assert_eq!(job(&root.children[1]).attempts, NonZeroU32::new(3));
}

#[test]
fn the_docs_examples_are_valid() {
    // Every ```toml block of docs/job-file.md must be a valid file on its own, unless it is
    // marked as a rejected example with a first line `# rejected`.
    let docs = include_str!("../../../docs/job-file.md");
    let mut checked = 0;
    for block in docs.split("```toml\n").skip(1) {
        let Some((source, _)) = block.split_once("```") else {
            panic!("an unterminated toml block in docs/job-file.md");
        };
        if source.starts_with("# rejected") {
            assert!(
                jobfile::parse(source, Path::new("example.toml")).is_err(),
                "documented as rejected but accepted:\n{source}"
            );
        } else if let Err(error) = jobfile::parse(source, Path::new("example.toml")) {
            panic!("a docs example is rejected:\n{source}\n{error}");
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} toml blocks found");
}

#[test]
fn the_docs_show_the_demo_file_as_shipped() {
    let docs = include_str!("../../../docs/job-file.md");
    let demo = include_str!("../demo.toml");
    assert!(
        docs.contains(&format!("```toml\n{demo}```")),
        "docs/job-file.md's demo section differs from crates/taskgroup-cli/demo.toml"
    );
}

#[test]
fn a_best_effort_group_is_a_nested_group_only() {
    let root = parse("[[group]]\nname = 'optional'\nbest_effort = true\n");
    assert!(group(&root.children[0]).best_effort);
    assert_rejected(
        "best_effort = true\n",
        &["root group cannot be `best_effort`"],
    );
}

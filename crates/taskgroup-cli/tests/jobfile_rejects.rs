//! Bad job files: every kind is rejected with a message that says what is wrong and where
//! (file, line, column, the line and a caret), and nothing runs.

use std::path::Path;

use taskgroup_cli::jobfile::{self, GroupDef};

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

#[test]
fn malformed_toml_gives_line_and_column_with_an_excerpt() {
    let message = rejected("[[job]]\nname = 'a'\ncommand = 'unterminated\n");
    assert!(message.starts_with("error: jobs.toml:3:"), "{message}");
    assert!(message.contains("3 | command = 'unterminated"), "{message}");
    assert!(message.contains('^'), "{message}");
}

#[test]
fn unknown_keys_are_named_where_they_are() {
    assert_rejected(
        "[[job]]\nname = 'a'\ncomand = 'true'\n",
        &["jobs.toml:3:1", "unknown field `comand`", "`command`"],
    );
    assert_rejected("polcy = 'fail-fast'\n", &["jobs.toml:1:1", "`polcy`"]);
    assert_rejected(
        "intensity = { max_restarts = 1, window = '1s', burst = 2 }\n",
        &["`burst`"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nready = { stdin = 'x' }\n",
        &["`stdin`"],
    );
}

#[test]
fn a_job_without_a_command_or_name_is_rejected() {
    assert_rejected(
        "[[job]]\nname = 'a'\n",
        &["jobs.toml:1:1", "missing field `command`"],
    );
    assert_rejected("[[job]]\ncommand = 'true'\n", &["missing field `name`"]);
    assert_rejected(
        "[[job]]\nname = 'a'\ncommand = '  '\n",
        &["`command` is blank"],
    );
    assert_rejected("[[job]]\nname = 'a'\ncommand = []\n", &["empty array"]);
    assert_rejected(
        "[[job]]\nname = 'a'\ncommand = ['', 'x']\n",
        &["(the program) is empty"],
    );
    assert_rejected(
        "[[job]]\nname = 'a'\ncommand = 5\n",
        &["a string run by `sh -c`"],
    );
    assert_rejected(
        "[[job]]\nname = 'a'\ncommand = ['ls', 5]\n",
        &["jobs.toml:3:18", "one argument"],
    );
}

#[test]
fn duplicate_names_in_a_group_point_at_the_second() {
    let message =
        rejected("[[job]]\nname = 'build'\ncommand = 'true'\n\n[[group]]\nname = 'build'\n");
    assert!(message.contains("jobs.toml:6:8"), "{message}");
    assert!(
        message.contains("duplicate name `build` in group `root`"),
        "{message}"
    );
    assert!(message.contains("line 1"), "{message}");
    // The same name in two different groups is fine.
    parse(
        "[[job]]\nname = 'x'\ncommand = 'true'\n[[group]]\nname = 'g'\n\
         [[group.job]]\nname = 'x'\ncommand = 'true'\n",
    );
}

#[test]
fn names_must_be_printable() {
    assert_rejected(
        "[[job]]\nname = ''\ncommand = 'true'\n",
        &["cannot be blank"],
    );
    assert_rejected(
        "[[job]]\nname = \"a\\nb\"\ncommand = 'true'\n",
        &["control character"],
    );
    assert_rejected(
        "[[group]]\nlimit = 1\n",
        &["jobs.toml:1:1", "has no `name`"],
    );
}

#[test]
fn bad_durations_and_enum_values_are_rejected_at_the_value() {
    assert_rejected("deadline = '5'\n", &["jobs.toml:1:12", "has no unit"]);
    assert_rejected("deadline = 5\n", &["a duration string"]);
    assert_rejected("grace = '-1s'\n", &["negative"]);
    assert_rejected("deadline = '0s'\n", &["`deadline` cannot be zero"]);
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\ntimeout = '0ms'\n",
        &["`timeout` cannot be zero"],
    );
    assert_rejected(
        "policy = 'fail-slow'\n",
        &[
            "jobs.toml:1:10",
            "unknown variant `fail-slow`",
            "`first-success`",
        ],
    );
    assert_rejected("strategy = 'one-for-some'\n", &["`rest-for-one`"]);
    assert_rejected("backend = 'k8s'\n", &["`slurm`"]);
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nrestart='always'\n",
        &["`permanent`"],
    );
}

#[test]
fn out_of_range_numbers_are_rejected() {
    assert_rejected(
        "limit = 0\n",
        &["jobs.toml:1:9", "`limit` must be at least 1", "not 0"],
    );
    assert_rejected("limit = -3\n", &["not -3"]);
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nattempts = 0\n",
        &["`attempts` must be"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nattempts = 99999999999\n",
        &["too large"],
    );
    assert_rejected(
        "intensity = { max_restarts = -1, window = '1s' }\n",
        &["`max_restarts`"],
    );
    assert_rejected(
        "intensity = { max_restarts = 1, window = '0s' }\n",
        &["`window` cannot"],
    );
    assert_rejected(
        "intensity = { max_restarts = 1 }\n",
        &["missing field `window`"],
    );
    assert_rejected("backoff = { base = '1s', factor = 0.5 }\n", &["`factor`"]);
    assert_rejected("backoff = { base = '1s', jitter = 1.5 }\n", &["`jitter`"]);
    assert_rejected(
        "backoff = { base = '1s', max = '10ms' }\n",
        &["below its `base`"],
    );
    assert_rejected("backoff = { factor = 2.0 }\n", &["missing field `base`"]);
}

#[test]
fn contradictory_settings_are_rejected() {
    assert_rejected(
        "[[job]]\nname='db'\ncommand='x'\nservice=true\nbest_effort=true\n\
         [[job]]\nname='b'\ncommand='x'\n",
        &["both `service` and `best_effort`"],
    );
    assert_rejected(
        "policy='first-success'\n[[job]]\nname='db'\ncommand='x'\nservice=true\n\
         [[job]]\nname='b'\ncommand='x'\n",
        &["first-success"],
    );
    assert_rejected(
        "[[group]]\nname='g'\n[[group.job]]\nname='db'\ncommand='x'\nservice=true\n",
        &["jobs.toml:1:1", "every child of group `g` is a `service`"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nready = {}\n",
        &["exactly one of `stdout` or `stderr`"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nready = { stdout = 'a', stderr = 'b' }\n",
        &["exactly one"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nready = { stdout = '' }\n",
        &["empty"],
    );
}

#[test]
fn environment_and_cwd_are_checked() {
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nenv = { 'A=B' = '1' }\n",
        &["not an environment variable name"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\nenv = { A = 1 }\n",
        &["expected a string"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand='x'\ncwd = ''\n",
        &["`cwd` is empty"],
    );
    assert_rejected(
        "[[job]]\nname='a'\ncommand=\"a\\u0000b\"\n",
        &["NUL character"],
    );
}

#[test]
fn every_validation_problem_is_reported_at_once() {
    let message = rejected(
        "limit = 0\n[[job]]\nname='a'\ncommand=''\n[[job]]\nname='a'\ncommand='x'\nattempts=0\n",
    );
    assert_eq!(message.matches("error: jobs.toml:").count(), 4, "{message}");
    // In file order.
    let lines: Vec<usize> = message
        .lines()
        .filter_map(|line| line.strip_prefix("error: jobs.toml:"))
        .filter_map(|rest| rest.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(lines, [1, 4, 6, 8]);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let error = jobfile::load(Path::new("/nonexistent/jobs.toml"))
        .err()
        .unwrap_or_else(|| panic!("a missing file was read"));
    let message = error.to_string();
    assert!(
        message.contains("cannot read job file /nonexistent/jobs.toml: No such file"),
        "{message}"
    );
}

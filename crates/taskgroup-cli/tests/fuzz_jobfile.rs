//! Input robustness: the job-file parser and `taskgroup check` fed arbitrary bytes, mutated
//! valid files and generated files (`proptest`; `cargo fuzz` would need a nightly toolchain,
//! which this project's machines cannot fetch).
//!
//! What must hold for every input:
//!
//! - the parser never panics (nor overflows its stack), and answers `Ok` or a
//!   [`JobFileError`] whose text starts with `error:` and whose every problem has a real
//!   place in the file;
//! - a tree it accepts keeps every documented rule of `docs/job-file.md` (names printable and
//!   unique among siblings, counts and durations in range, no contradictory settings), and
//!   prints as one outline line per group and job;
//! - `taskgroup check FILE` exits 0 (`ok: …` on stdout) exactly when the parser accepts the
//!   file, else 2 with the error and `nothing was run` on stderr; never a panic, never a
//!   signal.
//!
//! Inputs: arbitrary bytes (half of them built from TOML's own tokens), the seed files in
//! `tests/corpus/` mutated (bytes flipped, inserted, deleted, duplicated, spliced with tokens
//! that break things: huge numbers, `nan`, NUL, BOM, deep headers…), and job files generated
//! key by key with valid and invalid values. In-process: 5,000 / 5,000 / 2,000 cases by
//! default (and 3,000 duration strings); through the binary: 100. `PROPTEST_CASES=N` sets the in-process count of each
//! property and the binary's to N / 50 (`PROPTEST_CASES=100000 cargo test --release -p
//! taskgroup-cli --test fuzz_jobfile -- --nocapture` prints the figures). Failing inputs are
//! kept in `fuzz_jobfile.proptest-regressions` beside this file and replayed first.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRunner,
};
use taskgroup_cli::jobfile::{self, ChildDef, CommandDef, GroupDef, GroupPolicy, JobFileError};

/// The seed files, embedded so that the test needs no working directory.
const CORPUS: [(&str, &str); 8] = [
    ("demo.toml", include_str!("corpus/demo.toml")),
    ("minimal.toml", include_str!("corpus/minimal.toml")),
    ("every-key.toml", include_str!("corpus/every-key.toml")),
    ("nested.toml", include_str!("corpus/nested.toml")),
    ("inline.toml", include_str!("corpus/inline.toml")),
    ("unicode.toml", include_str!("corpus/unicode.toml")),
    (
        "rejected-many.toml",
        include_str!("corpus/rejected-many.toml"),
    ),
    (
        "rejected-syntax.toml",
        include_str!("corpus/rejected-syntax.toml"),
    ),
];

/// Snippets that break parsers: TOML's own syntax, numbers at and past the limits, durations
/// that overflow, control and invisible characters, headers that nest, keys the format knows.
const TOKENS: &[&str] = &[
    "[[job]]\n",
    "[[group]]\n",
    "[[group.job]]\n",
    "[[group.group]]\n",
    "[[group.group.group.job]]\n",
    "[job]\n",
    "name = \"x\"\n",
    "name = \"\"\n",
    "name = \"a\nb\"",
    "command = \"true\"\n",
    "command = []\n",
    "command = [\"\"]\n",
    "command = [1, 2]\n",
    "service = true\n",
    "best_effort = true\n",
    "policy = \"first-success\"\n",
    "backend = \"slurm\"\n",
    "ready = { stdout = \"a\" }\n",
    "ready = {}\n",
    "intensity = { max_restarts = 4294967296, window = \"1s\" }\n",
    "backoff = { base = \"1s\", factor = 1e308, jitter = -0.0 }\n",
    "env = { \"\" = \"\" }\n",
    "limit = 18446744073709551615\n",
    "0",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "1e400",
    "nan",
    "-inf",
    "0x7fffffffffffffff",
    "\"0s\"",
    "\"18446744073709551615s\"",
    "\"99999999999999999999h\"",
    "\"1.99999999999999999999999s\"",
    "\"5\"",
    "\"1h30m0.5s250ms\"",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\u{0}",
    "\u{feff}",
    "\u{200b}",
    "\u{85}",
    "\r\n",
    "\r",
    "\t",
    "\\",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "=",
    ".",
    ",",
    "{",
    "}",
    "[",
    "]",
    "[[",
    "]]",
    "#",
    "é",
    "🚀",
    "1979-05-27T07:32:00Z",
    "true",
    "false",
];

static ARBITRARY: AtomicU64 = AtomicU64::new(0);
static MUTATED: AtomicU64 = AtomicU64::new(0);
static GENERATED: AtomicU64 = AtomicU64::new(0);
static THROUGH_BINARY: AtomicU64 = AtomicU64::new(0);

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// Runs `test` on `cases` inputs from `strategy`, failures kept beside this file.
fn run_property<S: Strategy>(
    name: &str,
    cases: u32,
    counter: &AtomicU64,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        // ChaCha, the default, is most of the time spent in a debug build.
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |value| {
        counter.fetch_add(1, Ordering::Relaxed);
        test(value)
    });
    eprintln!(
        "fuzz_jobfile {name}: {} inputs tried",
        counter.load(Ordering::Relaxed)
    );
    if let Err(error) = result {
        panic!("{name}: {error}");
    }
}

/// Parses `bytes` as a job file and checks everything that must hold of the answer.
fn parse_and_check(bytes: &[u8]) -> Result<Option<GroupDef>, TestCaseError> {
    let source = String::from_utf8_lossy(bytes);
    match jobfile::parse(&source, Path::new("fuzz.toml")) {
        Ok(root) => {
            check_tree(&root, true)?;
            let outline = root.to_string();
            prop_assert_eq!(
                outline.lines().count(),
                root.job_count() + root.group_count(),
                "{}",
                outline
            );
            Ok(Some(root))
        }
        Err(error) => {
            check_error(&error, &source)?;
            Ok(None)
        }
    }
}

fn check_error(error: &JobFileError, source: &str) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(text.starts_with("error: fuzz.toml"), "{}", text);
    prop_assert!(!error.problems().is_empty());
    let lines = source.split('\n').count();
    for problem in error.problems() {
        prop_assert!(!problem.message.trim().is_empty());
        if let Some(location) = &problem.location {
            prop_assert!((1..=lines).contains(&location.line), "{:?}", location);
            prop_assert!(location.column >= 1);
        }
    }
    Ok(())
}

fn printable_name(name: &str) -> Result<(), TestCaseError> {
    prop_assert!(!name.trim().is_empty(), "blank name accepted");
    prop_assert!(!name.chars().any(char::is_control), "{:?}", name);
    Ok(())
}

/// The rules of `docs/job-file.md` that a validated tree must keep.
fn check_tree(group: &GroupDef, root: bool) -> Result<(), TestCaseError> {
    printable_name(&group.name)?;
    prop_assert!(!(root && group.best_effort), "a best-effort root");
    prop_assert!(group.deadline.is_none_or(|deadline| !deadline.is_zero()));
    prop_assert!(group.ready_timeout.is_none_or(|timeout| !timeout.is_zero()));
    if let Some(intensity) = &group.intensity {
        prop_assert!(!intensity.window.is_zero());
    }
    if let Some(backoff) = &group.backoff {
        prop_assert!(backoff.factor.is_finite() && backoff.factor >= 1.0);
        prop_assert!((0.0..=1.0).contains(&backoff.jitter));
        prop_assert!(backoff.max.is_none_or(|max| max >= backoff.base));
    }
    let mut names = HashSet::new();
    for child in &group.children {
        prop_assert!(names.insert(child.name()), "duplicate {:?}", child.name());
        match child {
            // (A nested group may set its own `backend`, so the tree alone cannot tell an
            // inherited one from a chosen one.)
            ChildDef::Group(nested) => check_tree(nested, false)?,
            ChildDef::Job(job) => {
                printable_name(&job.name)?;
                match &job.command {
                    CommandDef::Shell(line) => {
                        prop_assert!(!line.trim().is_empty() && !line.contains('\0'));
                    }
                    CommandDef::Argv(argv) => {
                        prop_assert!(argv.first().is_some_and(|program| !program.is_empty()));
                        prop_assert!(argv.iter().all(|argument| !argument.contains('\0')));
                    }
                }
                for (key, value) in &job.env {
                    prop_assert!(!key.is_empty() && !key.contains(['=', '\0']), "{:?}", key);
                    prop_assert!(!value.contains('\0'));
                }
                if let Some(cwd) = &job.cwd {
                    prop_assert!(!cwd.as_os_str().is_empty());
                }
                prop_assert!(job.timeout.is_none_or(|timeout| !timeout.is_zero()));
                prop_assert!(!(job.service && job.best_effort));
                prop_assert!(!(job.service && group.policy == GroupPolicy::FirstSuccess));
                if let Some(ready) = &job.ready {
                    prop_assert!(!ready.pattern.is_empty());
                }
            }
        }
    }
    let all_services = group
        .children
        .iter()
        .all(|child| matches!(child, ChildDef::Job(job) if job.service));
    prop_assert!(group.children.is_empty() || !all_services, "only services");
    Ok(())
}

/// Bytes, half of the time made of TOML tokens and the characters between them.
fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        3 => proptest::sample::select(TOKENS).prop_map(|token| token.as_bytes().to_vec()),
        2 => "[a-z_ =\\[\\]\\.\"'{},\n]{1,8}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 1..4),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(token, 0..64).prop_map(|parts| parts.concat()),
    ]
}

/// One edit of a seed file; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    InsertToken(usize, &'static str),
    ReplaceWithToken(usize, usize, &'static str),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Truncate(usize),
    /// Swaps two lines.
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = proptest::sample::select(TOKENS);
    prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip(at, byte)),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        3 => (any::<usize>(), token.clone()).prop_map(|(at, token)| Mutation::InsertToken(at, token)),
        3 => (any::<usize>(), 0..12usize, token)
            .prop_map(|(at, length, token)| Mutation::ReplaceWithToken(at, length, token)),
        1 => (any::<usize>(), 1..40usize).prop_map(|(at, length)| Mutation::Delete(at, length)),
        1 => (any::<usize>(), 1..200usize, any::<usize>())
            .prop_map(|(at, length, to)| Mutation::Duplicate(at, length, to)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        let len = bytes.len();
        let at = |position: usize| if len == 0 { 0 } else { position % (len + 1) };
        match mutation {
            Mutation::Flip(position, byte) if len > 0 => bytes[position % len] ^= byte | 1,
            Mutation::Flip(..) => {}
            Mutation::Insert(position, inserted) => {
                let at = at(*position);
                bytes.splice(at..at, inserted.iter().copied());
            }
            Mutation::InsertToken(position, token) => {
                let at = at(*position);
                bytes.splice(at..at, token.bytes());
            }
            Mutation::ReplaceWithToken(position, length, token) => {
                let start = at(*position);
                let end = (start + length).min(len);
                bytes.splice(start..end, token.bytes());
            }
            Mutation::Delete(position, length) => {
                let start = at(*position);
                let end = (start + length).min(len);
                bytes.drain(start..end);
            }
            Mutation::Duplicate(position, length, to) => {
                let start = at(*position);
                let end = (start + length).min(len);
                let copy: Vec<u8> = bytes[start..end].to_vec();
                let to = at(*to);
                bytes.splice(to..to, copy);
            }
            Mutation::Truncate(position) => bytes.truncate(at(*position)),
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> = bytes
                    .split(|&byte| byte == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                let count = lines.len();
                lines.swap(a % count, b % count);
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    (0..CORPUS.len(), proptest::collection::vec(mutation(), 1..8))
        .prop_map(|(seed, mutations)| apply(CORPUS[seed].1.as_bytes(), &mutations))
}

/// A TOML value for `key`: right four times out of five, else wrong in type or range.
fn value_for(key: &'static str) -> BoxedStrategy<String> {
    let string = prop_oneof![
        8 => "[a-z][a-z0-9-]{0,5}".prop_map(|text| format!("{text:?}")),
        1 => Just("\"é🚀 x\"".to_owned()),
        1 => proptest::sample::select(&["\"\"", "\" \"", "\"a\\tb\"", "\"a\\u0000b\"", "\"a\\nb\""][..])
            .prop_map(str::to_owned),
    ];
    let duration = prop_oneof![
        8 => (1..3000u32, proptest::sample::select(&["us", "µs", "ms", "s", "m", "h"][..]))
            .prop_map(|(number, unit)| format!("\"{number}{unit}\"")),
        1 => Just("\"1h30m0.5s\"".to_owned()),
        2 => proptest::sample::select(
            &["\"0s\"", "\"5\"", "\"-1s\"", "\"99999999999999999999h\"", "\"5.s\"", "5", "\"\""][..]
        )
        .prop_map(str::to_owned),
    ];
    let count = prop_oneof![
        8 => (1..6i64).prop_map(|number| number.to_string()),
        2 => proptest::sample::select(&["0", "-1", "4294967296", "9223372036854775807", "1.5", "\"3\""][..])
            .prop_map(str::to_owned),
    ];
    let boolean = prop_oneof![
        4 => Just("false".to_owned()),
        2 => Just("true".to_owned()),
        1 => Just("\"yes\"".to_owned()),
    ];
    let float = prop_oneof![
        8 => (1.0..3.0f64).prop_map(|number| format!("{number:.3}")),
        2 => proptest::sample::select(&["0.5", "nan", "inf", "-0.0", "1", "\"2\""][..])
            .prop_map(str::to_owned),
    ];
    let fraction = prop_oneof![
        8 => (0.0..1.0f64).prop_map(|number| format!("{number:.3}")),
        2 => proptest::sample::select(&["1.5", "-0.1", "nan", "0"][..]).prop_map(str::to_owned),
    ];
    let choice = |valid: &'static [&'static str], invalid: &'static str| {
        prop_oneof![
            9 => proptest::sample::select(valid).prop_map(|option| format!("{option:?}")),
            1 => Just(format!("{invalid:?}")),
        ]
    };
    match key {
        "name" | "cwd" => string.boxed(),
        "policy" => choice(&["fail-fast", "collect-all", "keep-going", "first-success"], "x").boxed(),
        "strategy" => choice(&["one-for-one", "one-for-all", "rest-for-one"], "all").boxed(),
        "restart" => choice(&["temporary", "transient", "permanent"], "never").boxed(),
        "backend" => choice(&["local", "local", "slurm"], "k8s").boxed(),
        "limit" | "attempts" => count.boxed(),
        "deadline" | "grace" | "ready_timeout" | "timeout" => duration.boxed(),
        "best_effort" | "service" => boolean.boxed(),
        "command" => prop_oneof![
            6 => string.clone(),
            3 => proptest::collection::vec("[a-z][a-z\\-]{0,4}", 1..4).prop_map(|words| format!("{words:?}")),
            1 => proptest::sample::select(&["[]", "[\"\"]", "[1]", "{}", "\"\""][..]).prop_map(str::to_owned),
        ]
        .boxed(),
        "env" => proptest::collection::vec(("[A-Z][A-Z_=]{0,3}", "[a-z]{0,3}"), 0..3)
            .prop_map(|pairs| {
                let pairs: Vec<String> =
                    pairs.iter().map(|(key, value)| format!("{key:?} = {value:?}")).collect();
                format!("{{ {} }}", pairs.join(", "))
            })
            .boxed(),
        "ready" => (
            proptest::sample::select(&["stdout", "stdout", "stderr", "both", ""][..]),
            string,
        )
            .prop_map(|(stream, pattern)| match stream {
                "both" => format!("{{ stdout = {pattern}, stderr = {pattern} }}"),
                "" => "{}".to_owned(),
                stream => format!("{{ {stream} = {pattern} }}"),
            })
            .boxed(),
        "intensity" => (count, duration.clone())
            .prop_map(|(restarts, window)| {
                format!("{{ max_restarts = {restarts}, window = {window} }}")
            })
            .boxed(),
        "backoff" => (duration.clone(), float, proptest::option::of(duration), fraction)
            .prop_map(|(base, factor, max, jitter)| match max {
                Some(max) => format!("{{ base = {base}, factor = {factor}, max = {max}, jitter = {jitter} }}"),
                None => format!("{{ base = {base}, factor = {factor}, jitter = {jitter} }}"),
            })
            .boxed(),
        _ => string.boxed(),
    }
}

const GROUP_KEYS: &[&str] = &[
    "name",
    "policy",
    "limit",
    "deadline",
    "grace",
    "strategy",
    "intensity",
    "backoff",
    "ready_timeout",
    "backend",
    "best_effort",
];

const JOB_KEYS: &[&str] = &[
    "name",
    "command",
    "cwd",
    "env",
    "timeout",
    "restart",
    "attempts",
    "best_effort",
    "service",
    "ready",
];

/// The settings of one table: its required keys (the first `required` of `keys`) nine times
/// out of ten each, up to three more keys, and now and then a key the format does not know.
fn settings(keys: &'static [&'static str], required: usize) -> BoxedStrategy<Vec<String>> {
    let pair = proptest::sample::select(&keys[required..])
        .prop_flat_map(|key| value_for(key).prop_map(move |value| format!("{key} = {value}")));
    let must: Vec<BoxedStrategy<Option<String>>> = keys[..required]
        .iter()
        .map(|&key| {
            proptest::option::weighted(
                0.95,
                value_for(key).prop_map(move |value| format!("{key} = {value}")),
            )
            .boxed()
        })
        .collect();
    let unknown = proptest::option::weighted(0.02, Just("comand = \"x\"".to_owned()));
    (must, proptest::collection::vec(pair, 0..4), unknown)
        .prop_map(|(must, extra, unknown)| {
            let mut settings: Vec<String> = must.into_iter().flatten().collect();
            // A key twice is a TOML error: keep the first.
            for setting in extra {
                let key = setting.split(' ').next().unwrap_or_default().to_owned();
                if !settings
                    .iter()
                    .any(|seen| seen.split(' ').next() == Some(&key))
                {
                    settings.push(setting);
                }
            }
            settings.extend(unknown);
            settings
        })
        .boxed()
}

/// A generated group: its settings, its jobs' settings, its nested groups.
#[derive(Debug, Clone)]
struct Generated {
    settings: Vec<String>,
    jobs: Vec<Vec<String>>,
    groups: Vec<Generated>,
}

fn generated_group() -> impl Strategy<Value = Generated> {
    let leaf = (
        settings(GROUP_KEYS, 1),
        proptest::collection::vec(settings(JOB_KEYS, 2), 0..4),
    )
        .prop_map(|(settings, jobs)| Generated {
            settings,
            jobs,
            groups: Vec::new(),
        });
    leaf.prop_recursive(4, 24, 3, |inner| {
        (
            settings(GROUP_KEYS, 1),
            proptest::collection::vec(settings(JOB_KEYS, 2), 0..4),
            proptest::collection::vec(inner, 0..3),
        )
            .prop_map(|(settings, jobs, groups)| Generated {
                settings,
                jobs,
                groups,
            })
    })
}

fn render(group: &Generated, path: &str, out: &mut String) {
    for setting in &group.settings {
        out.push_str(setting);
        out.push('\n');
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    };
    for job in &group.jobs {
        out.push_str(&format!("\n[[{prefix}job]]\n"));
        for setting in job {
            out.push_str(setting);
            out.push('\n');
        }
    }
    for nested in &group.groups {
        let nested_path = format!("{prefix}group");
        out.push_str(&format!("\n[[{nested_path}]]\n"));
        render(nested, &nested_path, out);
    }
}

fn generated_file() -> impl Strategy<Value = Vec<u8>> {
    generated_group().prop_map(|root| {
        let mut text = String::new();
        render(&root, "", &mut text);
        text.into_bytes()
    })
}

#[test]
fn the_seed_corpus_parses_as_expected() {
    for (name, source) in CORPUS {
        let accepted = jobfile::parse(source, Path::new(name)).is_ok();
        assert_eq!(accepted, !name.starts_with("rejected"), "{name}");
        assert!(
            parse_and_check(source.as_bytes()).is_ok(),
            "{name} breaks a rule"
        );
    }
}

#[test]
fn arbitrary_bytes_never_break_the_parser() {
    run_property(
        "arbitrary bytes",
        cases(5_000),
        &ARBITRARY,
        arbitrary_bytes(),
        |bytes| parse_and_check(&bytes).map(drop),
    );
}

#[test]
fn mutated_valid_files_never_break_the_parser() {
    run_property(
        "mutated seeds",
        cases(5_000),
        &MUTATED,
        mutated_seed(),
        |bytes| parse_and_check(&bytes).map(drop),
    );
}

#[test]
fn generated_job_files_are_accepted_only_when_they_keep_every_rule() {
    let accepted = AtomicU64::new(0);
    run_property(
        "generated files",
        cases(2_000),
        &GENERATED,
        generated_file(),
        |bytes| {
            if parse_and_check(&bytes)?.is_some() {
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        },
    );
    // The generator must reach the validator, not stop at the TOML reader every time.
    let accepted = accepted.load(Ordering::Relaxed);
    eprintln!("fuzz_jobfile generated files: {accepted} accepted");
    assert!(accepted > 0, "no generated file was ever valid");
}

#[test]
fn deep_nesting_is_refused_or_accepted_without_overflowing_the_stack() {
    for depth in [1, 10, 50, 100, 126, 127, 128, 129, 200, 1_000, 20_000] {
        let mut groups = String::new();
        for level in 1..=depth.min(300) {
            let header = vec!["group"; level].join(".");
            groups.push_str(&format!("[[{header}]]\nname = 'g{level}'\n"));
        }
        let arrays = format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let inline = format!("x = {}1{}\n", "{ a = ".repeat(depth), " }".repeat(depth));
        let dotted = format!("{} = 1\n", vec!["a"; depth.min(5_000)].join("."));
        for source in [groups, arrays, inline, dotted] {
            assert!(parse_and_check(source.as_bytes()).is_ok(), "depth {depth}");
        }
    }
}

/// Where the binary's inputs come from.
fn binary_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![arbitrary_bytes(), mutated_seed(), generated_file()]
}

#[test]
fn taskgroup_check_exits_0_or_2_with_a_message_and_agrees_with_the_parser() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let file = dir.path().join("fuzz.toml");
    let binary = assert_cmd::cargo::cargo_bin("taskgroup");
    let count = (cases(5_000) / 50).max(1);
    run_property(
        "taskgroup check",
        count,
        &THROUGH_BINARY,
        binary_input(),
        |bytes| {
            std::fs::write(&file, &bytes)
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let output = Command::new(&binary)
                .arg("check")
                .arg(&file)
                .output()
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            prop_assert!(!stderr.contains("panicked"), "{}", stderr);
            let expected = match std::str::from_utf8(&bytes) {
                Ok(source) => jobfile::parse(source, &file).is_ok(),
                // Not UTF-8: the file cannot be read as a job file.
                Err(_) => false,
            };
            match output.status.code() {
                Some(0) => {
                    prop_assert!(expected, "accepted a file the parser refuses");
                    prop_assert!(stdout.starts_with("ok: "), "{}", stdout);
                }
                Some(2) => {
                    prop_assert!(!expected, "refused a file the parser accepts: {}", stderr);
                    prop_assert!(stderr.starts_with("error: "), "{}", stderr);
                    prop_assert!(
                        stderr.ends_with("taskgroup: nothing was run\n"),
                        "{}",
                        stderr
                    );
                }
                other => prop_assert!(false, "exit {:?}: {}", other, stderr),
            }
            Ok(())
        },
    );
}

#[test]
fn durations_never_panic_and_print_back_to_themselves() {
    use taskgroup_cli::duration::{format_duration, parse_duration};
    let text = prop_oneof![
        any::<String>(),
        "[0-9.]{0,24}(us|µs|ms|s|m|h|x)?([0-9.]{0,6}(us|ms|s|m|h))?",
    ];
    static DURATIONS: AtomicU64 = AtomicU64::new(0);
    run_property("durations", cases(3_000), &DURATIONS, text, |text| {
        if let Ok(duration) = parse_duration(&text) {
            let printed = format_duration(duration);
            prop_assert_eq!(
                parse_duration(&printed),
                Ok(duration),
                "{} → {}",
                text,
                printed
            );
        }
        Ok(())
    });
}

//! The job file as TOML spells it, before validation.
//!
//! Every table denies unknown keys, so a typo (`comand`) is an error that names the key and
//! points at it, not a silently ignored setting. Values that later checks point at are kept
//! with their byte span. Type errors, bad enum values and bad durations are found by the
//! TOML deserializer itself, which reports the first one with its span; the checks that need
//! the whole tree (duplicates, contradictions, ranges) are in `validate.rs` and report all.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use super::tree::{Backend, GroupPolicy, RestartStrategy, RestartType};
use crate::duration::parse_duration;

/// A group table: the root of the file, or a `[[group]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub name: Option<Spanned<String>>,
    pub policy: Option<GroupPolicy>,
    pub limit: Option<Spanned<i64>>,
    pub deadline: Option<Spanned<RawDuration>>,
    pub grace: Option<RawDuration>,
    pub strategy: Option<RestartStrategy>,
    pub intensity: Option<RawIntensity>,
    pub backoff: Option<Spanned<RawBackoff>>,
    pub ready_timeout: Option<Spanned<RawDuration>>,
    pub backend: Option<Backend>,
    pub best_effort: Option<Spanned<bool>>,
    pub cpus_per_task: Option<Spanned<i64>>,
    pub mem: Option<Spanned<String>>,
    pub partition: Option<Spanned<String>>,
    pub time_limit: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub job: Vec<Spanned<RawJob>>,
    #[serde(default)]
    pub group: Vec<Spanned<RawGroup>>,
}

/// A `[[job]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJob {
    pub name: Spanned<String>,
    pub command: Spanned<RawCommand>,
    pub cwd: Option<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
    pub timeout: Option<Spanned<RawDuration>>,
    pub restart: Option<RestartType>,
    pub attempts: Option<Spanned<i64>>,
    pub best_effort: Option<Spanned<bool>>,
    pub service: Option<Spanned<bool>>,
    pub ready: Option<Spanned<RawReady>>,
    pub cpus_per_task: Option<Spanned<i64>>,
    pub mem: Option<Spanned<String>>,
    pub partition: Option<Spanned<String>>,
    pub time_limit: Option<Spanned<RawDuration>>,
}

/// `intensity = { max_restarts = N, window = "10s" }`: both keys required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIntensity {
    pub max_restarts: Spanned<i64>,
    pub window: Spanned<RawDuration>,
}

/// `backoff = { base = "100ms", factor = 2.0, max = "5s", jitter = 0.2, reset_after = "30s" }`:
/// only `base` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackoff {
    pub base: RawDuration,
    pub factor: Option<Spanned<f64>>,
    pub max: Option<Spanned<RawDuration>>,
    pub jitter: Option<Spanned<f64>>,
    pub reset_after: Option<RawDuration>,
}

/// `ready = { stdout = "…" }` or `ready = { stderr = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReady {
    pub stdout: Option<Spanned<String>>,
    pub stderr: Option<Spanned<String>>,
}

/// A duration string, parsed while deserializing so that a bad one is reported at its span.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawDuration(pub Duration);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(r#"a duration string such as "500ms", "5s" or "2m""#)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawDuration, E> {
                parse_duration(text).map(RawDuration).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A command: a string for `sh -c`, or an array of strings.
#[derive(Debug, Clone)]
pub(super) enum RawCommand {
    Shell(String),
    Argv(Vec<String>),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;

        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = RawCommand;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(
                    "a command: a string run by `sh -c`, or an array of strings \
                     (the program and its arguments)",
                )
            }

            fn visit_str<E: de::Error>(self, line: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Shell(line.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(ArgvItem(argument)) = items.next_element()? {
                    argv.push(argument);
                }
                Ok(RawCommand::Argv(argv))
            }
        }

        deserializer.deserialize_any(CommandVisitor)
    }
}

/// One element of an argv array, with a message that says where it belongs.
struct ArgvItem(String);

impl<'de> Deserialize<'de> for ArgvItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgvItemVisitor;

        impl Visitor<'_> for ArgvItemVisitor {
            type Value = ArgvItem;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string (every element of a command array is one argument)")
            }

            fn visit_str<E: de::Error>(self, argument: &str) -> Result<ArgvItem, E> {
                Ok(ArgvItem(argument.to_owned()))
            }
        }

        deserializer.deserialize_any(ArgvItemVisitor)
    }
}

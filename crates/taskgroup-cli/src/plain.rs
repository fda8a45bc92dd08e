//! The live view off a terminal (issue 16 §5): one timestamped line on stderr per lifecycle
//! event of the library (its `tracing` events, target `actix_taskgroup`).
//!
//! ```text
//! [  0.003s] database started
//! [  0.005s] database ready
//! [  0.161s] build/fetch-deps failed: exit code 1
//! [  0.161s] build/fetch-deps restarting in 150ms (attempt 2)
//! [  0.803s] build/lint failed: exit code 3
//! [  0.803s] build/lint ended: failed after 310ms
//! [  1.502s] group tests stopping (deadline)
//! [  2.310s] group demo completed (7 spawned, 6 completed, 1 failed, 2 restarted, 1 cancelled)
//! ```
//!
//! Every event from DEBUG up is a line: started, ready, failed, restarting, restarted,
//! stopping, force-stopped, stopped, group stopping, group ended. The TRACE ones (spawned,
//! queued) are left out: they say nothing a person acts on, and a 10,000-line `exec` would
//! print them all at once. A job is named by its path in the tree, from the group names the
//! runner gives the library (a nested group is named by its path), `build/fetch-deps`; the
//! root group's name is left out of paths.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// The library's `tracing` target.
const TARGET: &str = "actix_taskgroup";

/// The layer that prints the plain lines.
#[derive(Debug)]
pub struct PlainLines {
    start: Instant,
    root: String,
}

impl PlainLines {
    /// A layer whose timestamps count from now, for a tree whose root group is `root`.
    pub fn new(root: impl Into<String>) -> PlainLines {
        PlainLines {
            start: Instant::now(),
            root: root.into(),
        }
    }

    /// Installs the layer as the process's subscriber.
    ///
    /// # Errors
    ///
    /// A subscriber was installed already.
    pub fn install(self) -> Result<(), tracing::subscriber::SetGlobalDefaultError> {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(self))
    }
}

/// The fields of one event that the lines use.
#[derive(Default)]
struct Fields {
    message: String,
    group: String,
    child: Option<String>,
    text: Vec<(&'static str, String)>,
}

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "group" | "name" => self.group = value.to_owned(),
            "child" => self.child = Some(value.to_owned()),
            name => self.text.push((name, value.to_owned())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "group" | "name" => self.group = format!("{value:?}"),
            "child" => self.child = Some(format!("{value:?}")),
            name => self.text.push((name, format!("{value:?}"))),
        }
    }
}

impl<S: Subscriber> Layer<S> for PlainLines {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target() == TARGET && *metadata.level() <= Level::DEBUG
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = describe(&self.root, &fields);
        let elapsed = self.start.elapsed().as_secs_f64();
        // Best effort: a closed stderr must not stop the run.
        let _ = writeln!(std::io::stderr().lock(), "[{elapsed:>8.3}s] {line}");
    }
}

/// The line for one event; `root` is the root group's name, left out of job paths.
fn describe(root: &str, fields: &Fields) -> String {
    let group = fields.group.as_str();
    let path = match &fields.child {
        Some(child) if group == root => child.clone(),
        Some(child) => format!("{group}/{child}"),
        None => group.to_owned(),
    };
    let group_path = group;
    let mut line = String::new();
    let field = |name| fields.get(name).unwrap_or("?");
    let _ = match fields.message.as_str() {
        "failed" => write!(line, "{path} failed: {}", field("cause")),
        "restarting" => write!(
            line,
            "{path} restarting in {}ms (attempt {})",
            field("delay_ms"),
            field("attempt")
        ),
        "restarted" => write!(line, "{path} restarted (attempt {})", field("incarnation")),
        "stopping" => write!(line, "{path} stopping ({})", field("reason")),
        "force-stopped" => write!(
            line,
            "{path} killed: still running {}ms after being asked to stop",
            field("grace_ms")
        ),
        "stopped" => match fields.get("duration_ms") {
            Some(ms) => write!(line, "{path} ended: {} after {ms}ms", field("outcome")),
            None => write!(line, "{path} ended: {}", field("outcome")),
        },
        "group stopping" => write!(line, "group {group_path} stopping ({})", field("reason")),
        "group ended" => write!(
            line,
            "group {group_path} {} ({} spawned, {} completed, {} failed, {} restarted, {} \
             cancelled)",
            field("outcome"),
            field("spawned"),
            field("completed"),
            field("failed"),
            field("restarted"),
            field("cancelled")
        ),
        "started" => match fields.get("incarnation") {
            Some(attempt) if attempt != "1" => write!(line, "{path} started (attempt {attempt})"),
            _ => write!(line, "{path} started"),
        },
        other => write!(line, "{path} {other}"),
    };
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(message: &str, child: Option<&str>, text: &[(&'static str, &str)]) -> Fields {
        Fields {
            message: message.to_owned(),
            group: String::new(),
            child: child.map(str::to_owned),
            text: text.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn paths_leave_the_root_out() {
        let mut failed = fields("failed", Some("fetch"), &[("cause", "exit code 1")]);
        failed.group = "build".into();
        assert_eq!(describe("demo", &failed), "build/fetch failed: exit code 1");
        let mut started = fields("started", Some("db"), &[]);
        started.group = "demo".into();
        assert_eq!(describe("demo", &started), "db started");
        let mut stopping = fields("group stopping", None, &[("reason", "deadline")]);
        stopping.group = "build/unit".into();
        assert_eq!(
            describe("demo", &stopping),
            "group build/unit stopping (deadline)"
        );
        let mut restarted = fields("started", Some("db"), &[("incarnation", "2")]);
        restarted.group = "demo".into();
        assert_eq!(describe("demo", &restarted), "db started (attempt 2)");
    }
}

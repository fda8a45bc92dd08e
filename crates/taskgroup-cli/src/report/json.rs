//! The report as JSON (`--json PATH`, DESIGN §7): one object, the root group, with
//! `children` in spawn order, written atomically.
//!
//! ```json
//! {"name": "demo", "type": "group", "outcome": "completed", "attempts": 1,
//!  "duration_ms": 2310, "children": [
//!    {"name": "database", "type": "job", "outcome": "cancelled", "exit_code": null,
//!     "signal": "SIGTERM", "attempts": 1, "duration_ms": 2300,
//!     "command": "echo listening; exec sleep 30", "pid": 4242}, …]}
//! ```
//!
//! Every node has `name`, `type` (`group` or `job`), `outcome` (`completed` | `failed` |
//! `panicked` | `cancelled` | `timed_out`), `attempts` (0 for one that never started),
//! `duration_ms` (0 for one that never started) and `error` (a string, or null). Jobs add
//! `exit_code` (or null), `signal` (a name like `"SIGKILL"`, or null), `command` and `pid`
//! (the last attempt's, or null); jobs on the Slurm backend add `slurm_job_id` and
//! `slurm_step_id` (the last attempt's step `J.S`, each null until Slurm gave it; `pid` is
//! then the local `srun`'s); a job whose last attempt's `--output-dir` log could not be
//! written whole adds `log_error` (its path and the error, e.g. a full disk); groups add
//! `children`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::{NodeDetail, ReportNode};

/// One node as JSON.
#[derive(Debug, Serialize)]
struct JsonNode<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<Option<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<Option<&'static str>>,
    attempts: u32,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slurm_job_id: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slurm_step_id: Option<Option<u64>>,
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Vec<JsonNode<'a>>>,
}

fn json_node(node: &ReportNode) -> JsonNode<'_> {
    let duration_ms = node
        .duration
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut json = JsonNode {
        name: &node.name,
        kind: "group",
        outcome: node.outcome,
        exit_code: None,
        signal: None,
        attempts: node.attempts,
        duration_ms,
        command: None,
        pid: None,
        slurm_job_id: None,
        slurm_step_id: None,
        error: node.error.as_deref(),
        log_error: None,
        children: None,
    };
    match &node.detail {
        NodeDetail::Job(facts) => {
            json.kind = "job";
            json.exit_code = Some(facts.exit.and_then(|exit| exit.code));
            json.signal = Some(facts.exit.and_then(|exit| exit.signal_name()));
            json.command = Some(&facts.command);
            json.pid = Some(facts.pid);
            json.log_error = facts.log_error.as_deref();
            json.slurm_job_id = facts.slurm.map(|ids| ids.job);
            json.slurm_step_id = facts.slurm.map(|ids| ids.step);
        }
        NodeDetail::Group(children) => {
            json.children = Some(children.iter().map(json_node).collect());
        }
    }
    json
}

/// The report as pretty-printed JSON, ending with a newline.
///
/// # Errors
///
/// Serialisation failed (it does not, for these types; the error is passed on rather than
/// assumed away).
pub fn to_json(root: &ReportNode) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(&json_node(root))?;
    text.push('\n');
    Ok(text)
}

/// Writes `text` to `path` atomically: to a temporary file in the same directory, flushed to
/// disk, then renamed over `path`. A reader sees the old file or the whole new one, never a
/// part; a failed write leaves no temporary file behind.
///
/// # Errors
///
/// The directory cannot be written, the disk is full, or the rename fails.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = dir.join(temporary_name);
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_nothing_else() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("report.json");
        fs::write(&path, "old")?;
        write_atomically(&path, "{}\n")?;
        assert_eq!(fs::read_to_string(&path)?, "{}\n");
        let names: Vec<_> = fs::read_dir(dir.path())?
            .filter_map(|entry| entry.ok().map(|entry| entry.file_name()))
            .collect();
        assert_eq!(names, ["report.json"]);
        let missing = dir.path().join("no/such/dir/report.json");
        assert!(write_atomically(&missing, "{}").is_err());
        Ok(())
    }
}

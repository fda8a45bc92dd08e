//! How a job's process ended.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::sys::signal::Signal;

/// How a process ended: its exit code, or the signal that killed it (exactly one is set).
///
/// ```
/// use taskgroup_cli::process::ExitInfo;
///
/// let killed = ExitInfo { code: None, signal: Some(9) };
/// assert_eq!(killed.signal_name(), Some("SIGKILL"));
/// assert_eq!(killed.to_string(), "killed by SIGKILL");
/// assert!(ExitInfo { code: Some(0), signal: None }.success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitInfo {
    /// The exit code, when the process exited by itself.
    pub code: Option<i32>,
    /// The signal number, when a signal killed it.
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// Whether the process exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The signal's name, like `"SIGKILL"` (the report's `signal` field); `None` when no
    /// signal killed the process or the number is not a known signal.
    pub fn signal_name(&self) -> Option<&'static str> {
        let signal = Signal::try_from(self.signal?).ok()?;
        Some(signal.as_str())
    }
}

impl From<ExitStatus> for ExitInfo {
    fn from(status: ExitStatus) -> ExitInfo {
        ExitInfo {
            code: status.code(),
            signal: status.signal(),
        }
    }
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal, self.signal_name()) {
            (Some(code), _, _) => write!(f, "exit code {code}"),
            (None, _, Some(name)) => write!(f, "killed by {name}"),
            (None, Some(number), None) => write!(f, "killed by signal {number}"),
            (None, None, None) => f.write_str("ended without an exit code"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_signals_print_as_people_say_them() {
        let exit = |code, signal| ExitInfo { code, signal };
        assert_eq!(exit(Some(3), None).to_string(), "exit code 3");
        assert_eq!(exit(None, Some(15)).to_string(), "killed by SIGTERM");
        assert_eq!(exit(None, Some(15)).signal_name(), Some("SIGTERM"));
        assert_eq!(exit(None, Some(200)).to_string(), "killed by signal 200");
        assert_eq!(exit(None, Some(200)).signal_name(), None);
        assert_eq!(exit(Some(1), None).signal_name(), None);
        assert!(!exit(Some(1), None).success() && !exit(None, Some(9)).success());
    }

    #[test]
    fn exit_statuses_convert() {
        // A wait status: exit code in the high byte, or the signal number in the low bits.
        assert_eq!(
            ExitInfo::from(ExitStatus::from_raw(2 << 8)),
            ExitInfo {
                code: Some(2),
                signal: None
            }
        );
        assert_eq!(
            ExitInfo::from(ExitStatus::from_raw(9)),
            ExitInfo {
                code: None,
                signal: Some(9)
            }
        );
    }
}

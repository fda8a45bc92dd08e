//! Which of a job's two output streams a line came from.

use std::fmt;

/// One of a job's output streams. A job's stdin is always `/dev/null` (DESIGN §7), so these
/// two are all there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The job's standard output.
    Stdout,
    /// The job's standard error.
    Stderr,
}

impl Stream {
    /// `"stdout"` or `"stderr"`, as the job file spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

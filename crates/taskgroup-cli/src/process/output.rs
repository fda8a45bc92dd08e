//! What happens to a job's output: a bounded tail kept in memory, an optional log file with
//! everything, and a per-line hook (readiness, the live view).
//!
//! The bytes are read by [`RunningJob::wait`](super::RunningJob::wait) inside the job's own
//! future (no thread per job); this module only records what was read.
//!
//! # The log file
//!
//! The log is written with a plain [`std::fs::File`] behind a 64 KiB [`BufWriter`], on the
//! runner's thread. A write to a regular file lands in the page cache and returns in
//! microseconds, and the buffer makes one system call per 64 KiB of output, so a job printing
//! megabytes costs the thread little. `tokio::fs` was the alternative: it hands every write to
//! the blocking thread pool, a thread hop per write, slower for this pattern and no better
//! bounded. If writing the log fails (disk full), logging stops, the job goes on, and the
//! error is kept for [`RunningJob::log_error`](super::RunningJob::log_error).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::stream::Stream;

/// The tail size the runner keeps per job when told nothing else: enough to show why a job
/// failed, small enough for thousands of jobs.
pub const DEFAULT_TAIL_BYTES: usize = 64 * 1024;

/// A line longer than this is delivered in pieces of this size, so that a job printing a
/// gigabyte without a newline cannot grow the runner's memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// The log file's write buffer.
const LOG_BUFFER_BYTES: usize = 64 * 1024;

/// The hook called for every line of output, without its line ending. Invalid UTF-8 is
/// replaced (U+FFFD). Called on the runner's thread, in the order the lines were read.
pub type LineHook = Box<dyn FnMut(Stream, &str)>;

/// A filter that sees every line before the tail, the log and the hook do, and may take it
/// out of the job's output or shorten it: how the Slurm backend reads its wrapper's status
/// lines out of the job's stderr (`crate::slurm`).
pub type LineFilter = Box<dyn FnMut(Stream, &str) -> LineVerdict>;

/// What a [`LineFilter`] decided about one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineVerdict {
    /// The line is the job's: deliver it unchanged.
    Keep,
    /// The line is not the job's: drop it.
    Drop,
    /// Only this part of the line is the job's (the rest was dropped).
    Replace(String),
}

/// What to do with a job's output; every part is optional. Output is always read (a job must
/// never block on a full pipe); without any part it is discarded.
///
/// ```
/// use taskgroup_cli::process::{OutputOptions, OutputTail};
///
/// let tail = OutputTail::new(64 * 1024);
/// let options = OutputOptions::new()
///     .tail(tail.clone())
///     .log_file("/tmp/0-build.1.log")
///     .on_line(|stream, line| eprintln!("[{stream}] {line}"));
/// # drop(options);
/// ```
#[derive(Default)]
pub struct OutputOptions {
    tail: Option<OutputTail>,
    log_file: Option<PathBuf>,
    on_line: Option<LineHook>,
    filter: Option<LineFilter>,
}

impl OutputOptions {
    /// Discard the output.
    pub fn new() -> OutputOptions {
        OutputOptions::default()
    }

    /// Keep the last lines in `tail` (a shared handle: keep a clone to read it after the job,
    /// even if the future that ran it was dropped).
    pub fn tail(mut self, tail: OutputTail) -> OutputOptions {
        self.tail = Some(tail);
        self
    }

    /// Write all output, stdout and stderr interleaved as read, to a new file at `path`
    /// (truncated if it exists). The directory must exist.
    pub fn log_file(mut self, path: impl AsRef<Path>) -> OutputOptions {
        self.log_file = Some(path.as_ref().to_owned());
        self
    }

    /// Call `hook` for every line.
    pub fn on_line(mut self, hook: impl FnMut(Stream, &str) + 'static) -> OutputOptions {
        self.on_line = Some(Box::new(hook));
        self
    }

    /// Pass every line through `filter` first: what it drops reaches neither the tail, nor
    /// the hook, nor the log file. With a filter the log is written line by line (each
    /// delivered line and a newline) rather than as the raw bytes, so that a dropped line is
    /// not in it either.
    pub fn filter(
        mut self,
        filter: impl FnMut(Stream, &str) -> LineVerdict + 'static,
    ) -> OutputOptions {
        self.filter = Some(Box::new(filter));
        self
    }
}

/// One line of a job's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailLine {
    /// Where it was written.
    pub stream: Stream,
    /// The line, without its line ending.
    pub text: String,
}

/// The last lines of a job's output, at most a fixed number of bytes; a cheap shared handle
/// (clones see the same lines). Single-threaded, like the runner's arbiter.
#[derive(Debug, Clone)]
pub struct OutputTail {
    inner: Rc<RefCell<TailBuffer>>,
}

#[derive(Debug)]
struct TailBuffer {
    max_bytes: usize,
    bytes: usize,
    lines: VecDeque<TailLine>,
    omitted_lines: u64,
}

impl OutputTail {
    /// An empty tail that keeps at most `max_bytes` of line text.
    pub fn new(max_bytes: usize) -> OutputTail {
        OutputTail {
            inner: Rc::new(RefCell::new(TailBuffer {
                max_bytes,
                bytes: 0,
                lines: VecDeque::new(),
                omitted_lines: 0,
            })),
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> Vec<TailLine> {
        self.inner.borrow().lines.iter().cloned().collect()
    }

    /// The lines kept, each followed by a newline.
    pub fn text(&self) -> String {
        let buffer = self.inner.borrow();
        let mut text = String::with_capacity(buffer.bytes + buffer.lines.len());
        for line in &buffer.lines {
            text.push_str(&line.text);
            text.push('\n');
        }
        text
    }

    /// How many earlier lines were dropped to stay within the size.
    pub fn omitted_lines(&self) -> u64 {
        self.inner.borrow().omitted_lines
    }

    fn push(&self, stream: Stream, text: &str) {
        let mut buffer = self.inner.borrow_mut();
        if text.len() > buffer.max_bytes {
            buffer.omitted_lines += 1;
            return;
        }
        buffer.bytes += text.len();
        buffer.lines.push_back(TailLine {
            stream,
            text: text.to_owned(),
        });
        while buffer.bytes > buffer.max_bytes {
            let Some(oldest) = buffer.lines.pop_front() else {
                break;
            };
            buffer.bytes -= oldest.text.len();
            buffer.omitted_lines += 1;
        }
    }
}

/// Where one job's output goes: the recorder [`RunningJob`](super::RunningJob) feeds.
pub(super) struct OutputSink {
    tail: Option<OutputTail>,
    log: Option<BufWriter<File>>,
    log_error: Option<io::Error>,
    on_line: Option<LineHook>,
    filter: Option<LineFilter>,
    stdout_line: Vec<u8>,
    stderr_line: Vec<u8>,
}

impl OutputSink {
    /// Opens the log file, if one was asked for.
    pub(super) fn open(options: OutputOptions) -> io::Result<OutputSink> {
        let log = match &options.log_file {
            Some(path) => {
                let file = File::create(path).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("cannot create log file {}: {error}", path.display()),
                    )
                })?;
                Some(BufWriter::with_capacity(LOG_BUFFER_BYTES, file))
            }
            None => None,
        };
        Ok(OutputSink {
            tail: options.tail,
            log,
            log_error: None,
            on_line: options.on_line,
            filter: options.filter,
            stdout_line: Vec::new(),
            stderr_line: Vec::new(),
        })
    }

    /// Records `bytes` read from `stream`: to the log as they are, and line by line to the
    /// tail and the hook.
    pub(super) fn record(&mut self, stream: Stream, bytes: &[u8]) {
        if self.filter.is_none() {
            self.write_log(|log| log.write_all(bytes));
        }
        let mut pending = std::mem::take(self.pending(stream));
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|&byte| byte == b'\n') {
            pending.extend_from_slice(&rest[..newline]);
            self.deliver(stream, &pending);
            pending.clear();
            rest = &rest[newline + 1..];
        }
        pending.extend_from_slice(rest);
        while pending.len() >= MAX_LINE_BYTES {
            self.deliver(stream, &pending[..MAX_LINE_BYTES]);
            pending.drain(..MAX_LINE_BYTES);
        }
        *self.pending(stream) = pending;
    }

    /// The stream ended: a last line without a newline is still a line.
    pub(super) fn end_of(&mut self, stream: Stream) {
        let pending = std::mem::take(self.pending(stream));
        if !pending.is_empty() {
            self.deliver(stream, &pending);
        }
    }

    /// Both streams ended (or were given up): deliver what is pending, flush the log.
    pub(super) fn finish(&mut self) {
        self.end_of(Stream::Stdout);
        self.end_of(Stream::Stderr);
        self.write_log(|log| log.flush());
    }

    pub(super) fn log_error(&self) -> Option<&io::Error> {
        self.log_error.as_ref()
    }

    fn pending(&mut self, stream: Stream) -> &mut Vec<u8> {
        match stream {
            Stream::Stdout => &mut self.stdout_line,
            Stream::Stderr => &mut self.stderr_line,
        }
    }

    fn deliver(&mut self, stream: Stream, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut text = String::from_utf8_lossy(line);
        if let Some(filter) = &mut self.filter {
            match filter(stream, &text) {
                LineVerdict::Keep => {}
                LineVerdict::Drop => return,
                LineVerdict::Replace(kept) => text = kept.into(),
            }
            self.write_log(|log| {
                log.write_all(text.as_bytes())?;
                log.write_all(b"\n")
            });
        }
        if let Some(tail) = &self.tail {
            tail.push(stream, &text);
        }
        if let Some(hook) = &mut self.on_line {
            hook(stream, &text);
        }
    }

    /// Runs `write` on the log; the first error stops logging and is kept.
    fn write_log(&mut self, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) {
        if let Some(log) = &mut self.log
            && let Err(error) = write(log)
        {
            self.log = None;
            self.log_error = Some(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink_with(tail: &OutputTail, seen: &Rc<RefCell<Vec<(Stream, String)>>>) -> OutputSink {
        let seen = Rc::clone(seen);
        let options = OutputOptions::new()
            .tail(tail.clone())
            .on_line(move |stream, line| seen.borrow_mut().push((stream, line.to_owned())));
        match OutputSink::open(options) {
            Ok(sink) => sink,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn lines_are_split_across_reads_and_per_stream() {
        let tail = OutputTail::new(1024);
        let seen = Rc::default();
        let mut sink = sink_with(&tail, &seen);
        sink.record(Stream::Stdout, b"hel");
        sink.record(Stream::Stderr, b"oops\r\n");
        sink.record(Stream::Stdout, b"lo\nwor");
        sink.finish();
        let expected = vec![
            (Stream::Stderr, "oops".to_owned()),
            (Stream::Stdout, "hello".to_owned()),
            (Stream::Stdout, "wor".to_owned()),
        ];
        assert_eq!(*seen.borrow(), expected);
        assert_eq!(tail.text(), "oops\nhello\nwor\n");
    }

    #[test]
    fn the_tail_keeps_the_newest_lines_within_its_size() {
        let tail = OutputTail::new(10);
        let seen = Rc::default();
        let mut sink = sink_with(&tail, &seen);
        sink.record(Stream::Stdout, b"1111\n2222\n3333\n");
        assert_eq!(tail.text(), "2222\n3333\n");
        assert_eq!(tail.omitted_lines(), 1);
        // A line bigger than the whole tail is counted, not kept.
        sink.record(Stream::Stdout, b"0123456789abc\n");
        assert_eq!(tail.text(), "2222\n3333\n");
        assert_eq!(tail.omitted_lines(), 2);
    }

    #[test]
    fn a_huge_line_is_delivered_in_bounded_pieces() {
        let tail = OutputTail::new(DEFAULT_TAIL_BYTES);
        let seen: Rc<RefCell<Vec<(Stream, String)>>> = Rc::default();
        let mut sink = sink_with(&tail, &seen);
        let huge = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        sink.record(Stream::Stdout, &huge);
        assert_eq!(seen.borrow().len(), 2, "two full pieces so far");
        sink.finish();
        let lengths: Vec<usize> = seen.borrow().iter().map(|(_, line)| line.len()).collect();
        assert_eq!(lengths, [MAX_LINE_BYTES, MAX_LINE_BYTES, 10]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_an_error() {
        let tail = OutputTail::new(1024);
        let seen = Rc::default();
        let mut sink = sink_with(&tail, &seen);
        sink.record(Stream::Stdout, b"caf\xc3\n\xff\n");
        assert_eq!(tail.text(), "caf\u{fffd}\n\u{fffd}\n");
    }

    #[test]
    fn the_log_gets_the_raw_bytes() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("job.log");
        let mut sink = OutputSink::open(OutputOptions::new().log_file(&path))?;
        sink.record(Stream::Stdout, b"out\r\n");
        sink.record(Stream::Stderr, b"err without newline");
        sink.finish();
        assert_eq!(std::fs::read(&path)?, b"out\r\nerr without newline");
        assert!(sink.log_error().is_none());
        Ok(())
    }

    #[test]
    fn a_filter_takes_lines_out_of_the_tail_the_hook_and_the_log() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("job.log");
        let tail = OutputTail::new(1024);
        let seen: Rc<RefCell<Vec<(Stream, String)>>> = Rc::default();
        let hook_seen = Rc::clone(&seen);
        let options = OutputOptions::new()
            .tail(tail.clone())
            .log_file(&path)
            .on_line(move |stream, line| hook_seen.borrow_mut().push((stream, line.to_owned())))
            .filter(|_, line| match line.find("@@") {
                None => LineVerdict::Keep,
                Some(0) => LineVerdict::Drop,
                Some(at) => LineVerdict::Replace(line[..at].to_owned()),
            });
        let mut sink = OutputSink::open(options)?;
        sink.record(Stream::Stderr, b"one\n@@ status\npartial@@ status\n");
        sink.finish();
        assert_eq!(tail.text(), "one\npartial\n");
        assert_eq!(seen.borrow().len(), 2);
        assert_eq!(std::fs::read_to_string(&path)?, "one\npartial\n");
        Ok(())
    }

    #[test]
    fn a_log_file_that_cannot_be_created_names_its_path() {
        let options = OutputOptions::new().log_file("/nonexistent-dir/x.log");
        let error = OutputSink::open(options)
            .err()
            .map(|error| error.to_string());
        let message = error.unwrap_or_default();
        assert!(
            message.contains("cannot create log file /nonexistent-dir/x.log"),
            "{message}"
        );
    }
}

//! Why a job file was rejected, printed as one screen: the file, line and column of each
//! problem, the offending line and a caret under the offending part.
//!
//! ```text
//! error: jobs.toml:3:1: unknown field `comand`, expected one of `name`, `command`, …
//!   |
//! 3 | comand = "make"
//!   | ^^^^^^
//! ```

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// At most this many problems are printed; the rest are counted, so the error stays one screen.
const MAX_SHOWN: usize = 10;

/// An excerpt line longer than this is shown as a window around the problem.
const MAX_EXCERPT_CHARS: usize = 120;

/// A job file that could not be read or is not valid. Nothing may run when this is returned:
/// the runner prints it and exits with status 2.
#[derive(Debug)]
pub struct JobFileError {
    path: PathBuf,
    kind: JobFileErrorKind,
}

#[derive(Debug)]
enum JobFileErrorKind {
    /// The file could not be read (missing, a directory, not UTF-8, no permission).
    Read(io::Error),
    /// The file was read and has these problems, in file order. Never empty.
    Invalid(Vec<Problem>),
}

/// One problem in a job file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where: 1-based line and column, and the excerpt to print. `None` when the problem has
    /// no single place.
    pub location: Option<Location>,
}

/// Where a problem is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The line's text (cut to a window around the problem when long).
    excerpt: String,
    /// The caret line under `excerpt`: spaces (tabs kept, so it lines up) and `^`s.
    carets: String,
}

impl Location {
    /// The location of the byte range `span` in `source`. The carets cover the span's part on
    /// its first line, at least one character.
    pub fn of_span(source: &str, span: Range<usize>) -> Location {
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |newline| newline + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |offset| start + offset);
        let line = source[..start].matches('\n').count() + 1;
        let before: Vec<char> = source[line_start..start].chars().collect();
        let marked = source[start..end.min(line_end)].chars().count().max(1);
        let rest: Vec<char> = source[start..line_end].chars().collect();

        // Keep a window of the line around the problem so a very long line stays one row.
        let skip = before.len().saturating_sub(MAX_EXCERPT_CHARS / 2);
        let before = &before[skip..];
        let shown_rest = MAX_EXCERPT_CHARS.saturating_sub(before.len()).max(marked);
        let excerpt: String = before
            .iter()
            .chain(rest.iter().take(shown_rest))
            .map(|&c| if c == '\r' { ' ' } else { c })
            .collect();
        let carets: String = before
            .iter()
            .map(|&c| if c == '\t' { '\t' } else { ' ' })
            .chain(std::iter::repeat_n('^', marked.min(shown_rest)))
            .collect();
        Location {
            line,
            column: skip + before.len() + 1,
            excerpt,
            carets,
        }
    }
}

/// The largest char boundary at or below `index` (`str::floor_char_boundary` is unstable).
fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl Problem {
    /// A problem at `span` of `source`.
    pub fn at(source: &str, span: Range<usize>, message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            location: Some(Location::of_span(source, span)),
        }
    }

    /// A problem of the whole file.
    pub fn whole_file(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            location: None,
        }
    }
}

impl JobFileError {
    /// The file could not be read.
    pub fn read(path: &Path, source: io::Error) -> JobFileError {
        JobFileError {
            path: path.to_owned(),
            kind: JobFileErrorKind::Read(source),
        }
    }

    /// The file has `problems` (at least one).
    pub fn invalid(path: &Path, mut problems: Vec<Problem>) -> JobFileError {
        if problems.is_empty() {
            problems.push(Problem::whole_file("invalid job file"));
        }
        problems.sort_by_key(|problem| {
            problem
                .location
                .as_ref()
                .map(|location| (location.line, location.column))
        });
        JobFileError {
            path: path.to_owned(),
            kind: JobFileErrorKind::Invalid(problems),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The problems found, in file order; empty when the file could not be read.
    pub fn problems(&self) -> &[Problem] {
        match &self.kind {
            JobFileErrorKind::Read(_) => &[],
            JobFileErrorKind::Invalid(problems) => problems,
        }
    }
}

impl fmt::Display for JobFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        let problems = match &self.kind {
            // The cause is printed here, so `source()` returns none (DESIGN R3's convention).
            JobFileErrorKind::Read(cause) => {
                return write!(f, "error: cannot read job file {path}: {cause}");
            }
            JobFileErrorKind::Invalid(problems) => problems,
        };
        for (index, problem) in problems.iter().take(MAX_SHOWN).enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            match &problem.location {
                None => write!(f, "error: {path}: {}", problem.message)?,
                Some(location) => {
                    let number = location.line.to_string();
                    let gutter = " ".repeat(number.len());
                    write!(
                        f,
                        "error: {path}:{}:{}: {}\n{gutter} |\n{number} | {}\n{gutter} | {}",
                        location.line,
                        location.column,
                        problem.message,
                        location.excerpt,
                        location.carets
                    )?;
                }
            }
        }
        if problems.len() > MAX_SHOWN {
            write!(f, "\n… and {} more problems", problems.len() - MAX_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for JobFileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_becomes_line_column_and_carets() {
        let source = "a = 1\nbad = \"x\"\n";
        let location = Location::of_span(source, 12..15);
        assert_eq!((location.line, location.column), (2, 7));
        assert_eq!(location.excerpt, "bad = \"x\"");
        assert_eq!(location.carets, "      ^^^");
    }

    #[test]
    fn carets_stay_on_the_first_line_and_mark_at_least_one_character() {
        let source = "[[job]]\nname = 'a'\n";
        assert_eq!(Location::of_span(source, 0..source.len()).carets, "^^^^^^^");
        assert_eq!(Location::of_span(source, 3..3).carets, "   ^");
        let at_end = Location::of_span(source, source.len()..source.len());
        assert_eq!(at_end.line, 3);
    }

    #[test]
    fn tabs_and_wide_characters_keep_the_carets_aligned() {
        let source = "\tnamé = 'x'";
        let location = Location::of_span(source, source.find('\'').unwrap_or(0)..source.len());
        assert_eq!(location.column, 9);
        assert_eq!(location.carets, "\t       ^^^");
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_problem() {
        let source = format!("{}BAD{}", "x".repeat(1_000), "y".repeat(1_000));
        let location = Location::of_span(&source, 1_000..1_003);
        assert_eq!(location.column, 1_001);
        assert!(location.excerpt.chars().count() <= MAX_EXCERPT_CHARS);
        let caret_at = location.carets.find('^').unwrap_or(0);
        assert_eq!(&location.excerpt[caret_at..caret_at + 3], "BAD");
    }

    #[test]
    fn the_display_names_the_file_and_stays_one_screen() {
        let source = "x\n".repeat(20);
        let problems = (0..15).map(|line| Problem::at(&source, line * 2..line * 2 + 1, "bad"));
        let error = JobFileError::invalid(Path::new("jobs.toml"), problems.collect());
        let text = error.to_string();
        assert!(
            text.starts_with("error: jobs.toml:1:1: bad\n  |\n1 | x\n  | ^"),
            "{text}"
        );
        assert!(text.ends_with("… and 5 more problems"), "{text}");
        assert_eq!(text.matches("error:").count(), MAX_SHOWN);
    }

    #[test]
    fn a_read_error_names_the_file_and_the_os_error() {
        let cause = io::Error::from(io::ErrorKind::NotFound);
        let text = JobFileError::read(Path::new("missing.toml"), cause).to_string();
        assert!(
            text.starts_with("error: cannot read job file missing.toml: "),
            "{text}"
        );
    }
}

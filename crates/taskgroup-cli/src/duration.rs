//! Durations as people write them: `500ms`, `5s`, `1.5s`, `2m`, `1h30m`.
//!
//! One grammar serves the command line (`--timeout`, `--grace`) and the job file (`timeout`,
//! `deadline`, `grace`, …), so a value that works in one place works in the other.
//!
//! # Grammar
//!
//! One or more *parts*, written without spaces; each part is a decimal number (digits, with an
//! optional fraction: `1.5`, `0.25`; no sign, no exponent) followed by a unit:
//!
//! | unit | meaning      |
//! |------|--------------|
//! | `us` | microseconds (`µs` also accepted) |
//! | `ms` | milliseconds |
//! | `s`  | seconds      |
//! | `m`  | minutes      |
//! | `h`  | hours        |
//!
//! Parts add up: `1m30s` is 90 seconds. `0s` is a valid duration (the job file rejects zero
//! where it makes no sense, such as a timeout). A bare number is rejected, because `5` could
//! mean seconds or milliseconds and a wrong guess is a silent bug. Fractions finer than a
//! nanosecond are dropped. Values too large for [`Duration`] are rejected, not saturated.
//!
//! ```
//! use std::time::Duration;
//! use taskgroup_cli::duration::parse_duration;
//!
//! assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
//! assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
//! assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
//! assert!(parse_duration("5").is_err());
//! ```

use std::time::Duration;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// The units, longest spelling first so that `ms` is not read as `m` followed by garbage.
const UNITS: [(&str, u128); 6] = [
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", NANOS_PER_SECOND),
    ("m", 60 * NANOS_PER_SECOND),
    ("h", 3600 * NANOS_PER_SECOND),
];

/// Digits of a fraction beyond this many cannot change the value by a nanosecond, even for
/// hours (10^-20 h is far below 1 ns), and keeping them bounded keeps the arithmetic in `u128`.
const MAX_FRACTION_DIGITS: usize = 20;

/// Why a duration was rejected. The message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text was empty.
    #[error("empty duration: expected a number with a unit, like `500ms`, `5s` or `2m`")]
    Empty,
    /// A minus sign: durations cannot be negative.
    #[error("`{0}` is negative: a duration cannot be")]
    Negative(String),
    /// A number without a unit.
    #[error("`{0}` has no unit: write it as `{0}s` or `{0}ms` (units: us, ms, s, m, h)")]
    MissingUnit(String),
    /// Something that is neither a number nor a known unit.
    #[error("`{text}` is not a duration: {problem} (expected e.g. `500ms`, `5s`, `1.5m`, `1h30m`)")]
    Invalid {
        /// The whole text given.
        text: String,
        /// What was wrong with it.
        problem: String,
    },
    /// The value does not fit in a [`Duration`].
    #[error("`{0}` is too large for a duration")]
    Overflow(String),
}

/// Parses a duration such as `500ms`, `5s`, `1.5s`, `2m`, `1h` or `1h30m` (see the module
/// docs for the grammar).
///
/// # Errors
///
/// [`DurationError`] for an empty text, a negative value, a number without a unit, an unknown
/// unit or stray characters, and a value too large for [`Duration`].
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative(text.to_owned()));
    }
    let invalid = |problem: String| DurationError::Invalid {
        text: text.to_owned(),
        problem,
    };

    let mut total_nanos: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let (whole, fraction, after_number) =
            split_number(rest).ok_or_else(|| invalid(format!("expected a number at `{rest}`")))?;
        let (unit_nanos, after_unit) = split_unit(after_number).ok_or_else(|| {
            if after_number.is_empty() && rest.len() == text.len() {
                DurationError::MissingUnit(text.to_owned())
            } else if after_number.is_empty() {
                invalid(format!("the last number `{rest}` has no unit"))
            } else {
                invalid(format!(
                    "unknown unit at `{after_number}` (units: us, ms, s, m, h)"
                ))
            }
        })?;
        let part = part_nanos(whole, fraction, unit_nanos)
            .ok_or_else(|| DurationError::Overflow(text.to_owned()))?;
        total_nanos = total_nanos
            .checked_add(part)
            .ok_or_else(|| DurationError::Overflow(text.to_owned()))?;
        rest = after_unit;
    }
    nanos_to_duration(total_nanos).ok_or_else(|| DurationError::Overflow(text.to_owned()))
}

/// Splits a leading `digits[.digits]` off `text`: returns the whole digits, the fraction digits
/// (possibly empty) and what follows. `None` when `text` does not start with a digit, or a
/// point is not followed by a digit (`5.s`).
fn split_number(text: &str) -> Option<(&str, &str, &str)> {
    let whole_len = text.bytes().take_while(u8::is_ascii_digit).count();
    if whole_len == 0 {
        return None;
    }
    let (whole, after_whole) = text.split_at(whole_len);
    let Some(after_point) = after_whole.strip_prefix('.') else {
        return Some((whole, "", after_whole));
    };
    let fraction_len = after_point.bytes().take_while(u8::is_ascii_digit).count();
    if fraction_len == 0 {
        return None;
    }
    let (fraction, rest) = after_point.split_at(fraction_len);
    Some((whole, fraction, rest))
}

/// Splits a leading unit off `text`: its length in nanoseconds and what follows.
fn split_unit(text: &str) -> Option<(u128, &str)> {
    UNITS
        .iter()
        .find_map(|(name, nanos)| text.strip_prefix(name).map(|rest| (*nanos, rest)))
}

/// `whole.fraction` units in nanoseconds, or `None` on overflow.
fn part_nanos(whole: &str, fraction: &str, unit_nanos: u128) -> Option<u128> {
    let whole_value = parse_digits(whole)?;
    let mut nanos = whole_value.checked_mul(unit_nanos)?;
    let fraction = &fraction[..fraction.len().min(MAX_FRACTION_DIGITS)];
    if !fraction.is_empty() {
        let numerator = parse_digits(fraction)?;
        let denominator = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        // numerator < 10^20 and unit_nanos < 2^42, so the product fits in u128 (2^128 > 10^38).
        nanos = nanos.checked_add(numerator.checked_mul(unit_nanos)? / denominator)?;
    }
    Some(nanos)
}

/// Decimal digits as a `u128`, or `None` on overflow.
fn parse_digits(digits: &str) -> Option<u128> {
    digits.bytes().try_fold(0u128, |value, digit| {
        value.checked_mul(10)?.checked_add(u128::from(digit - b'0'))
    })
}

fn nanos_to_duration(nanos: u128) -> Option<Duration> {
    let seconds = u64::try_from(nanos / NANOS_PER_SECOND).ok()?;
    // The remainder is below 10^9, so it fits in u32.
    let subsec = u32::try_from(nanos % NANOS_PER_SECOND).ok()?;
    Some(Duration::new(seconds, subsec))
}

/// Formats a duration the way [`parse_duration`] reads it back, in the unit a person would
/// pick (`250ms`, `1.5s`, `1m30s`, `0s`): for printing the parsed job tree and in messages.
///
/// ```
/// use std::time::Duration;
/// use taskgroup_cli::duration::format_duration;
///
/// assert_eq!(format_duration(Duration::from_millis(1_500)), "1.5s");
/// assert_eq!(format_duration(Duration::from_millis(90_250)), "1m30.25s");
/// assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
/// assert_eq!(format_duration(Duration::ZERO), "0s");
/// ```
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    const MICRO: u128 = 1_000;
    const MILLI: u128 = 1_000_000;
    const MINUTE: u128 = 60 * NANOS_PER_SECOND;
    const HOUR: u128 = 60 * MINUTE;
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < MILLI {
        return format!("{}us", decimal(nanos, MICRO));
    }
    if nanos < NANOS_PER_SECOND {
        return format!("{}ms", decimal(nanos, MILLI));
    }
    let mut text = String::new();
    let (hours, rest) = (nanos / HOUR, nanos % HOUR);
    let (minutes, rest) = (rest / MINUTE, rest % MINUTE);
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if rest > 0 {
        text.push_str(&format!("{}s", decimal(rest, NANOS_PER_SECOND)));
    }
    text
}

/// `nanos / unit` as a decimal without trailing zeros (`1.5`, `250`, `0.001`).
fn decimal(nanos: u128, unit: u128) -> String {
    let whole = nanos / unit;
    let fraction = nanos % unit;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = unit.ilog10() as usize;
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        parse_duration(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn every_unit_reads_as_documented() {
        assert_eq!(ok("250us"), Duration::from_micros(250));
        assert_eq!(ok("250µs"), Duration::from_micros(250));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
    }

    #[test]
    fn fractions_and_compound_parts_add_up() {
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("0.25m"), Duration::from_secs(15));
        assert_eq!(ok("1h30m"), Duration::from_secs(5400));
        assert_eq!(ok("1m0.5s"), Duration::from_millis(60_500));
        assert_eq!(ok("0s"), Duration::ZERO);
        // Digits below a nanosecond are dropped, not an error.
        assert_eq!(ok("1.0000000019s"), Duration::new(1, 1));
        assert_eq!(
            ok("0.1234567890123456789012345s"),
            Duration::new(0, 123_456_789)
        );
    }

    #[test]
    fn bad_texts_are_rejected_with_what_was_wrong() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative(_))
        ));
        assert!(matches!(
            parse_duration("5"),
            Err(DurationError::MissingUnit(_))
        ));
        assert!(matches!(
            parse_duration("1.5"),
            Err(DurationError::MissingUnit(_))
        ));
        for garbage in [
            "s", "5x", "5 s", " 5s", "5s ", "5.s", ".5s", "5sec", "1e3s", "+5s", "5s5",
        ] {
            let error = parse_duration(garbage).expect_err(garbage);
            assert!(
                matches!(
                    error,
                    DurationError::Invalid { .. } | DurationError::MissingUnit(_)
                ),
                "{garbage}: {error:?}"
            );
        }
    }

    #[test]
    fn too_large_values_are_rejected_not_saturated() {
        assert!(matches!(
            parse_duration("99999999999999999999999999999999999999999h"),
            Err(DurationError::Overflow(_))
        ));
        // u64::MAX seconds is the largest Duration; one hour more does not fit.
        let max_secs = format!("{}s", u64::MAX);
        assert_eq!(ok(&max_secs), Duration::from_secs(u64::MAX));
        assert!(matches!(
            parse_duration(&format!("{max_secs}1h")),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn messages_name_the_text_and_the_fix() {
        let message = parse_duration("5").unwrap_err().to_string();
        assert!(message.contains("`5s`"), "{message}");
        let message = parse_duration("5x").unwrap_err().to_string();
        assert!(message.contains("unknown unit at `x`"), "{message}");
    }

    #[test]
    fn formatting_reads_back_to_the_same_duration() {
        for duration in [
            Duration::ZERO,
            Duration::from_micros(250),
            Duration::from_millis(1500),
            Duration::from_secs(5400),
            Duration::new(3723, 4_005_000),
            Duration::from_nanos(5),
            Duration::new(59, 999_999_999),
        ] {
            assert_eq!(ok(&format_duration(duration)), duration);
        }
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_nanos(1_500)), "1.5us");
        assert_eq!(format_duration(Duration::from_nanos(5)), "0.005us");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(3601)), "1h1s");
    }
}

//! The arithmetic of restarts (R12): the intensity window and the backoff delay. Pure: no
//! runtime, no clock of its own (every instant is passed in), unit-tested on its own.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How many restarts a group allows in a sliding window before it gives up (OTP's
/// `intensity` and `period`).
///
/// More than `max_restarts` restarts within `window` fails the group. A restart counts while
/// its age is at most `window` (OTP: `Now - Then =< Period`), so exactly `max_restarts` within
/// the window is allowed, and restarts spread wider than the window never add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Intensity {
    pub(crate) max_restarts: u32,
    pub(crate) window: Duration,
}

impl Default for Intensity {
    /// Elixir's default: three restarts in five seconds. (OTP's is one in five.)
    fn default() -> Self {
        Intensity {
            max_restarts: 3,
            window: Duration::from_secs(5),
        }
    }
}

/// The restarts a group has made recently, oldest first.
///
/// Restarts made at the same instant share one entry: the group reads its clock once per
/// turn of the arbiter, so a child that fails at once and is restarted many times in a turn
/// costs one entry, not one per restart (a window of 10,000 entries per second grew, copied
/// and faulted in pages for each group: docs/PERFORMANCE.md).
#[derive(Debug, Default)]
pub(crate) struct RestartWindow {
    recent: VecDeque<(Instant, u64)>,
    /// The restarts in `recent`.
    count: u64,
}

impl RestartWindow {
    /// Counts one restart at `now`. Returns how many restarts are within the window, this one
    /// included, or `Err` with that count if it is more than the intensity allows.
    ///
    /// Amortised O(1): each entry is pushed once and popped at most once.
    pub(crate) fn record(&mut self, intensity: Intensity, now: Instant) -> Result<u32, u32> {
        match self.recent.back_mut() {
            // The same turn as the last restart: no age has changed.
            Some((last, restarts)) if *last == now => *restarts += 1,
            _ => {
                while let Some(&(oldest, restarts)) = self.recent.front() {
                    if now.saturating_duration_since(oldest) > intensity.window {
                        self.recent.pop_front();
                        self.count -= restarts;
                    } else {
                        break;
                    }
                }
                self.recent.push_back((now, 1));
            }
        }
        self.count += 1;
        // Only the last `max_restarts + 1` can ever matter.
        let keep = u64::from(intensity.max_restarts) + 1;
        while self.count > keep {
            let Some((_, oldest)) = self.recent.front_mut() else {
                break;
            };
            let excess = self.count - keep;
            if *oldest > excess {
                *oldest -= excess;
                self.count = keep;
            } else {
                self.count -= *oldest;
                self.recent.pop_front();
            }
        }
        let count = u32::try_from(self.count).unwrap_or(u32::MAX);
        if self.count > u64::from(intensity.max_restarts) {
            Err(count)
        } else {
            Ok(count)
        }
    }
}

/// An exponential delay before each restart, with jitter and a cap, reset after a quiet period.
///
/// The `n`-th consecutive restart of a child waits
/// `min(max, base · factor^(n−1)) · (1 − jitter · U)`, with `U` uniform in `[0, 1)`. A child
/// that ran for `reset_after` without failing starts again from `n = 1`.
///
/// ```
/// use actix_taskgroup::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::exponential(Duration::from_millis(100))
///     .factor(2.0)
///     .max(Duration::from_secs(5))
///     .jitter(0.2)
///     .reset_after(Duration::from_secs(30));
/// assert_eq!(backoff.base(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    factor: f64,
    max: Duration,
    jitter: f64,
    reset_after: Duration,
}

impl Backoff {
    /// Doubles from `base` at each consecutive restart, capped at 30 s, with no jitter, reset
    /// after 60 s without a failure.
    pub fn exponential(base: Duration) -> Self {
        Backoff {
            base,
            factor: 2.0,
            max: Duration::from_secs(30),
            jitter: 0.0,
            reset_after: Duration::from_secs(60),
        }
    }

    /// The same delay before every restart.
    pub fn constant(delay: Duration) -> Self {
        Backoff {
            factor: 1.0,
            max: delay,
            ..Backoff::exponential(delay)
        }
    }

    /// The growth per consecutive restart (at least 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The longest delay, before jitter.
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The fraction of the delay that is random: each delay is cut by up to this fraction
    /// (clamped to `0.0..=1.0`), so that children restarted together spread out.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// How long a child must run without failing for its delays to start again from `base`.
    pub fn reset_after(mut self, quiet: Duration) -> Self {
        self.reset_after = quiet;
        self
    }

    /// The delay before the first restart.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The delay before the `n`-th consecutive restart (`n ≥ 1`), given `unit`, a number in
    /// `[0, 1)`.
    pub(crate) fn delay(&self, n: u32, unit: f64) -> Duration {
        let exponent = n.saturating_sub(1).min(1024) as i32;
        let grown = self.base.as_secs_f64() * self.factor.powi(exponent);
        let capped = if grown.is_finite() {
            grown.min(self.max.as_secs_f64())
        } else {
            self.max.as_secs_f64()
        };
        let cut = 1.0 - self.jitter * unit.clamp(0.0, 1.0);
        Duration::try_from_secs_f64(capped * cut).unwrap_or(self.max)
    }

    pub(crate) fn quiet_period(&self) -> Duration {
        self.reset_after
    }
}

/// One child's run of consecutive restarts, for its backoff.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Streak {
    /// Consecutive restarts so far.
    count: u32,
    /// When the incarnation that just ended had started.
    last_start: Option<Instant>,
}

impl Streak {
    /// Notes that an incarnation started at `at`.
    pub(crate) fn started(&mut self, at: Instant) {
        self.last_start = Some(at);
    }

    /// The number of this restart in the current streak (1 for the first), after resetting
    /// the streak if the incarnation that just ended ran quietly for `quiet` or longer.
    pub(crate) fn next(&mut self, now: Instant, quiet: Duration) -> u32 {
        if let Some(start) = self.last_start
            && now.saturating_duration_since(start) >= quiet
        {
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count
    }
}

/// A small, fast pseudo-random source for jitter (splitmix64): jitter needs spread, not
/// secrecy, and a dependency for it would cost every build.
#[derive(Debug, Clone)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn seeded(seed: u64) -> Self {
        Jitter(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits make a double in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn intensity(max_restarts: u32, window_ms: u64) -> Intensity {
        Intensity {
            max_restarts,
            window: ms(window_ms),
        }
    }

    #[test]
    fn exactly_max_restarts_within_the_window_is_allowed_one_more_is_not() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        let limit = intensity(3, 1000);
        assert_eq!(window.record(limit, t0), Ok(1));
        assert_eq!(window.record(limit, t0 + ms(100)), Ok(2));
        assert_eq!(window.record(limit, t0 + ms(200)), Ok(3));
        assert_eq!(window.record(limit, t0 + ms(300)), Err(4));
    }

    #[test]
    fn a_restart_counts_while_its_age_is_at_most_the_window() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        let limit = intensity(1, 1000);
        assert_eq!(window.record(limit, t0), Ok(1));
        // Age exactly 1000 ms: still counts (OTP: Now - Then =< Period).
        assert_eq!(window.record(limit, t0 + ms(1000)), Err(2));
        let mut window = RestartWindow::default();
        assert_eq!(window.record(limit, t0), Ok(1));
        // Age 1001 ms: out of the window.
        assert_eq!(window.record(limit, t0 + ms(1001)), Ok(1));
    }

    #[test]
    fn restarts_spread_wider_than_the_window_never_add_up() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        let limit = intensity(2, 100);
        for i in 0..1000 {
            assert!(window.record(limit, t0 + ms(60 * i)).is_ok(), "restart {i}");
        }
    }

    #[test]
    fn restarts_at_one_instant_share_an_entry_and_each_still_counts() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        let limit = intensity(3, 100);
        assert_eq!(window.record(limit, t0), Ok(1));
        assert_eq!(window.record(limit, t0), Ok(2));
        assert_eq!(window.record(limit, t0), Ok(3));
        assert_eq!(window.recent.len(), 1);
        assert_eq!(window.record(limit, t0 + ms(50)), Err(4));
        // The three at t0 age out together; the one at 50 ms stays.
        assert_eq!(window.record(limit, t0 + ms(120)), Ok(2));
    }

    #[test]
    fn a_shared_entry_is_trimmed_to_what_can_still_matter() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        let limit = intensity(2, 1000);
        for _ in 0..10 {
            let _ = window.record(limit, t0);
        }
        // Only max_restarts + 1 are kept, however many shared the instant.
        assert_eq!(window.count, 3);
        assert_eq!(window.record(limit, t0 + ms(10)), Err(3));
        assert_eq!(window.recent.len(), 2);
    }

    #[test]
    fn an_unbounded_intensity_counts_without_overflow() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        let limit = intensity(u32::MAX, 1000);
        for _ in 0..1000 {
            assert!(window.record(limit, t0).is_ok());
        }
        assert_eq!(window.record(limit, t0), Ok(1001));
        assert_eq!(window.recent.len(), 1);
    }

    #[test]
    fn zero_restarts_allowed_fails_at_the_first() {
        let mut window = RestartWindow::default();
        assert_eq!(window.record(intensity(0, 1000), Instant::now()), Err(1));
    }

    #[test]
    fn without_jitter_the_delay_doubles_up_to_the_cap() {
        let backoff = Backoff::exponential(ms(100)).max(ms(700));
        let delays: Vec<_> = (1..=5).map(|n| backoff.delay(n, 0.5)).collect();
        assert_eq!(delays, [ms(100), ms(200), ms(400), ms(700), ms(700)]);
    }

    #[test]
    fn a_huge_streak_stays_at_the_cap() {
        let backoff = Backoff::exponential(ms(100)).max(ms(700));
        assert_eq!(backoff.delay(u32::MAX, 0.0), ms(700));
    }

    #[test]
    fn jitter_cuts_the_delay_by_at_most_its_fraction() {
        let backoff = Backoff::exponential(ms(1000)).jitter(0.25);
        let mut jitter = Jitter::seeded(7);
        let (mut low, mut high) = (Duration::MAX, Duration::ZERO);
        for _ in 0..10_000 {
            let delay = backoff.delay(1, jitter.unit());
            assert!(delay > ms(750) && delay <= ms(1000), "{delay:?}");
            low = low.min(delay);
            high = high.max(delay);
        }
        // The draws spread over the whole band.
        assert!(low < ms(760) && high > ms(990), "{low:?}..{high:?}");
    }

    #[test]
    fn jitter_units_are_in_the_unit_interval() {
        let mut jitter = Jitter::seeded(0);
        for _ in 0..100_000 {
            let u = jitter.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn a_streak_resets_after_a_quiet_period() {
        let t0 = Instant::now();
        let mut streak = Streak::default();
        streak.started(t0);
        assert_eq!(streak.next(t0 + ms(10), ms(1000)), 1);
        streak.started(t0 + ms(10));
        assert_eq!(streak.next(t0 + ms(20), ms(1000)), 2);
        streak.started(t0 + ms(20));
        // This incarnation ran for exactly the quiet period: the streak starts again.
        assert_eq!(streak.next(t0 + ms(1020), ms(1000)), 1);
    }

    #[test]
    fn factor_and_jitter_are_clamped() {
        let backoff = Backoff::exponential(ms(100)).factor(0.1).jitter(7.0);
        assert_eq!(backoff.delay(3, 0.0), ms(100), "factor below 1 is 1");
        assert_eq!(backoff.delay(1, 0.999_999), Duration::from_nanos(100));
    }
}

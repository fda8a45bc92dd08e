//! Rounds, medians and spreads: every figure is a ratio against a baseline measured in the
//! same process, the contenders interleaved round by round.

use std::time::{Duration, Instant};

/// The samples of one contender in one workload.
#[derive(Default, Clone)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    /// Times one round of `n` children, from a settled allocator; the round returns how many
    /// it handled.
    pub async fn time(&mut self, n: usize, round: impl Future<Output = usize>) {
        crate::workloads::settle_allocator();
        let start = Instant::now();
        let handled = std::hint::black_box(round.await);
        let elapsed = start.elapsed();
        assert_eq!(handled, n, "a round must handle every child");
        self.0.push(per_child(elapsed, n));
    }

    pub fn push(&mut self, value: f64) {
        self.0.push(value);
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

pub fn per_child(elapsed: Duration, n: usize) -> f64 {
    elapsed.as_nanos() as f64 / n as f64
}

/// The ratio of two contenders' medians, and its spread: the range of the per-round ratios
/// between the first and third quartiles (rounds are paired: round i of each).
pub fn ratio(group: &Samples, baseline: &Samples) -> (f64, f64, f64) {
    let mut ratios: Vec<f64> = group
        .0
        .iter()
        .zip(&baseline.0)
        .map(|(g, b)| g / b)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| {
        ratios
            .get(((ratios.len() - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    (group.median() / baseline.median(), at(0.25), at(0.75))
}

/// A ratio as printed: the median and, in brackets, the spread.
pub fn ratio_cell((median, low, high): (f64, f64, f64)) -> String {
    format!("{median:.2} [{low:.2}-{high:.2}]")
}

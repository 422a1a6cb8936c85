//! What every quality evaluation shares: the two halves of a dev set and the paired bootstrap
//! that says whether a change helps on both.
//!
//! Half A of a set is the ids whose sha256 (of the id string) starts with an even byte, half B
//! the rest. Tune on A; keep a change only when the 95% interval of the per-item difference
//! lies above zero on A and not below zero on B.

use sha2::{Digest, Sha256};

/// Which half of a dev set an item belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Half {
    /// The ids whose sha256 starts with an even byte: the half to tune on.
    A,
    /// The rest: the half that confirms.
    B,
}

impl Half {
    /// The half of the item with this id.
    pub fn of(id: &str) -> Half {
        if Sha256::digest(id.as_bytes())[0] % 2 == 0 {
            Half::A
        } else {
            Half::B
        }
    }

    /// "A" or "B", for reports.
    pub fn name(self) -> &'static str {
        match self {
            Half::A => "A",
            Half::B => "B",
        }
    }
}

/// The mean of the paired differences and its 95% bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Mean of `after - before` over the items.
    pub mean: f64,
    /// 2.5th percentile of the resampled means.
    pub low: f64,
    /// 97.5th percentile of the resampled means.
    pub high: f64,
}

impl Interval {
    /// "+0.0123 [+0.0010, +0.0240]".
    pub fn show(&self) -> String {
        format!("{:+.4} [{:+.4}, {:+.4}]", self.mean, self.low, self.high)
    }
}

/// A paired bootstrap of per-item differences (`after[i] - before[i]`) with `resamples`
/// resamples drawn by a fixed-seed generator, so a report is the same on every run.
pub fn paired_bootstrap(before: &[f64], after: &[f64], resamples: usize) -> Option<Interval> {
    let diffs: Vec<f64> = before.iter().zip(after).map(|(b, a)| a - b).collect();
    if diffs.is_empty() || resamples == 0 {
        return None;
    }
    let n = diffs.len();
    let mean = diffs.iter().sum::<f64>() / n as f64;
    let mut rng = SplitMix64(0x5eed_1d9e_57a1_0001);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let total: f64 = (0..n).map(|_| diffs[rng.below(n)]).sum();
            total / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Some(Interval {
        mean,
        low: at(0.025),
        high: at(0.975),
    })
}

/// SplitMix64: a tiny, well-mixed generator, enough for resampling indices.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (n > 0); the modulo bias is negligible for dev-set sizes.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_follow_the_first_byte_of_the_ids_sha256() {
        // sha256("a") starts with 0xca (even), sha256("1") with 0x6b (odd).
        assert_eq!(Half::of("a"), Half::A);
        assert_eq!(Half::of("1"), Half::B);
    }

    #[test]
    fn an_improvement_on_every_item_has_an_interval_above_zero() {
        let before: Vec<f64> = (0..200).map(|i| (i % 7) as f64 / 10.0).collect();
        let after: Vec<f64> = before.iter().map(|b| b + 0.05).collect();
        let interval = paired_bootstrap(&before, &after, 1000).expect("items");
        assert!(interval.low > 0.0, "{interval:?}");
        assert!((interval.mean - 0.05).abs() < 1e-9);
    }

    #[test]
    fn noise_around_zero_gives_an_interval_that_straddles_zero() {
        let before: Vec<f64> = vec![0.5; 400];
        let after: Vec<f64> = (0..400)
            .map(|i| if i % 2 == 0 { 0.6 } else { 0.4 })
            .collect();
        let interval = paired_bootstrap(&before, &after, 1000).expect("items");
        assert!(interval.low < 0.0 && interval.high > 0.0, "{interval:?}");
    }

    #[test]
    fn nothing_to_resample_gives_no_interval() {
        assert_eq!(paired_bootstrap(&[], &[], 1000), None);
    }
}

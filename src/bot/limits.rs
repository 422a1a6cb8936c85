//! Per-user and per-chat limits on links answered, so nobody can spend the bot on their own.

use std::time::Instant;

use dashmap::DashMap;

/// A token bucket per id: `per_minute` links a minute, with bursts up to the same number.
pub struct RateLimiter {
    per_minute: u32,
    buckets: DashMap<i64, Bucket>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// Allows `per_minute` links a minute per id; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: DashMap::new(),
        }
    }

    /// Takes `count` links from the id's allowance; false (and nothing taken) when it has
    /// fewer left.
    pub fn allow(&self, id: i64, count: usize) -> bool {
        self.allow_at(id, count, Instant::now())
    }

    fn allow_at(&self, id: i64, count: usize, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        if self.buckets.len() > 100_000 {
            // Full buckets hold no information; drop them to bound memory.
            self.buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let mut bucket = self.buckets.entry(id).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        let wanted = count as f64;
        if bucket.tokens + 1e-9 < wanted {
            return false;
        }
        bucket.tokens -= wanted;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_up_to_the_limit_then_refused() {
        let limiter = RateLimiter::new(5);
        let now = Instant::now();
        assert!(limiter.allow_at(1, 3, now));
        assert!(limiter.allow_at(1, 2, now));
        assert!(!limiter.allow_at(1, 1, now));
        assert!(limiter.allow_at(2, 5, now), "ids are separate");
    }

    #[test]
    fn the_allowance_refills_over_a_minute() {
        let limiter = RateLimiter::new(6);
        let start = Instant::now();
        assert!(limiter.allow_at(1, 6, start));
        assert!(!limiter.allow_at(1, 1, start + Duration::from_secs(5)));
        assert!(limiter.allow_at(1, 1, start + Duration::from_secs(11)));
        assert!(limiter.allow_at(1, 5, start + Duration::from_secs(120)));
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        assert!((0..1000).all(|_| limiter.allow(1, 3)));
    }
}

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

    /// Takes `count` from both allowances, or from neither when either has too few left.
    pub fn allow_both(a: (&RateLimiter, i64), b: (&RateLimiter, i64), count: usize) -> bool {
        let now = Instant::now();
        let enough = a.0.left_at(a.1, now) + 1e-9 >= count as f64
            && b.0.left_at(b.1, now) + 1e-9 >= count as f64;
        enough && a.0.allow_at(a.1, count, now) && b.0.allow_at(b.1, count, now)
    }

    /// Takes `count` from the id's allowance, or nothing when it has too few left.
    pub fn allow(&self, id: i64, count: usize) -> bool {
        self.allow_at(id, count, Instant::now())
    }

    /// Links the id may still have answered now.
    fn left_at(&self, id: i64, now: Instant) -> f64 {
        if self.per_minute == 0 {
            return f64::INFINITY;
        }
        let capacity = f64::from(self.per_minute);
        self.buckets.get(&id).map_or(capacity, |b| {
            let refill = now.saturating_duration_since(b.at).as_secs_f64() * capacity / 60.0;
            (b.tokens + refill).min(capacity)
        })
    }

    /// Takes `count` links from the id's allowance at `now`; false (and nothing taken) when
    /// it has fewer left.
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
    fn a_refusal_by_one_limit_takes_nothing_from_the_other() {
        let (users, chats) = (RateLimiter::new(5), RateLimiter::new(2));
        assert!(RateLimiter::allow_both((&users, 1), (&chats, 9), 2));
        assert!(!RateLimiter::allow_both((&users, 1), (&chats, 9), 2));
        assert!(
            RateLimiter::allow_both((&users, 1), (&chats, 8), 2),
            "user 1 still has 3"
        );
        assert!(!RateLimiter::allow_both((&users, 1), (&chats, 7), 2));
        assert!(
            RateLimiter::allow_both((&users, 2), (&chats, 7), 2),
            "chat 7 lost nothing to user 1's refusal"
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        let other = RateLimiter::new(0);
        assert!((0..1000).all(|_| RateLimiter::allow_both((&limiter, 1), (&other, 1), 3)));
    }
}

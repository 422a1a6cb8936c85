//! Per-key state that expires (link allowances, "already answered here" marks, send
//! windows): one small trait, [`PerKey`], with a local backend for one instance and a Redis
//! backend ([`crate::redis_state::RedisPerKey`]) that makes several instances one bot.
//!
//! Both backends keep the same window semantics: an allowance is a token bucket of
//! `capacity` refilled evenly over its window; a mark lives for its window; a send slot comes
//! at least `gap` after the previous one and at most `limit` fall in any window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::BotConfig;

/// Per-key state shared by everything that answers for one bot.
#[async_trait::async_trait]
pub trait PerKey: Send + Sync {
    /// Takes `count` from every bucket `(key, capacity)`, each refilled over `window`, or
    /// nothing at all when any of them has fewer left; true when taken.
    async fn take(&self, buckets: &[(&str, u32)], count: u32, window: Duration) -> bool;

    /// Marks `key` for `window`; true when it was not marked already.
    async fn mark(&self, key: &str, window: Duration) -> bool;

    /// Removes the mark on `key` (its answer failed), so the next try counts as new.
    async fn unmark(&self, key: &str);

    /// Reserves the next send slot of `key`: at least `gap` after the previous one, and at
    /// most `limit` slots in any `window` (0: no such cap). Returns how long to wait for it.
    async fn reserve(&self, key: &str, gap: Duration, limit: u32, window: Duration) -> Duration;
}

/// A bounded map of values that expire: the one generic helper behind every local
/// per-key state. Operations run under one short lock, so multi-key updates are atomic.
pub struct Expiring<V> {
    entries: Mutex<HashMap<String, (V, Instant)>>,
    capacity: usize,
}

impl<V> Expiring<V> {
    /// An empty map that holds about `capacity` keys at most.
    pub fn new(capacity: usize) -> Self {
        Expiring {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Runs `f` on the unexpired entries as of `now`, under the map's lock.
    pub fn with<R>(&self, now: Instant, f: impl FnOnce(&mut Entries<'_, V>) -> R) -> R {
        // A poisoned lock only means a panic elsewhere; the entries are still valid.
        let mut map = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.len() > self.capacity {
            map.retain(|_, (_, expires)| *expires > now);
            if map.len() > self.capacity {
                // Still full of live keys: drop those closest to expiring.
                let mut by_expiry: Vec<(Instant, String)> =
                    map.iter().map(|(k, (_, e))| (*e, k.clone())).collect();
                let excess = (map.len() - self.capacity + self.capacity / 10).min(map.len());
                by_expiry.select_nth_unstable(excess - 1);
                for (_, key) in &by_expiry[..excess] {
                    map.remove(key);
                }
            }
        }
        f(&mut Entries { map: &mut map, now })
    }

    /// How many keys are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The unexpired entries of an [`Expiring`] map, as seen at one instant.
pub struct Entries<'a, V> {
    map: &'a mut HashMap<String, (V, Instant)>,
    now: Instant,
}

impl<V> Entries<'_, V> {
    /// The instant this view was taken at.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The value of `key` unless it has expired.
    pub fn get(&mut self, key: &str) -> Option<&mut V> {
        let now = self.now;
        self.map
            .get_mut(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value)
    }

    /// Sets `key` to `value` until `expires`.
    pub fn set(&mut self, key: &str, value: V, expires: Instant) {
        self.map.insert(key.to_owned(), (value, expires));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.map.remove(key);
    }
}

/// What the local backend keeps under one key.
enum State {
    Bucket {
        tokens: f64,
        at: Instant,
    },
    Mark,
    Slots {
        next: Instant,
        recent: VecDeque<Instant>,
    },
}

/// Per-key state in this process's memory: one instance alone (today's behaviour), and the
/// fallback of the Redis backend while Redis is away.
pub struct Local {
    state: Expiring<State>,
}

impl Default for Local {
    /// As many keys as [`BotConfig`]'s default `per_key_capacity`.
    fn default() -> Self {
        Local::with_capacity(BotConfig::default().per_key_capacity)
    }
}

impl Local {
    /// Keeps `capacity` keys before expired ones are swept (and, if still over, the soonest
    /// to expire).
    pub fn with_capacity(capacity: usize) -> Self {
        Local {
            state: Expiring::new(capacity),
        }
    }

    /// Tokens left in a bucket of `capacity` refilled over `window`, as of `now`.
    fn left(state: Option<&mut State>, capacity: u32, window: Duration, now: Instant) -> f64 {
        let capacity = f64::from(capacity);
        match state {
            Some(State::Bucket { tokens, at }) => {
                let elapsed = now.saturating_duration_since(*at).as_secs_f64();
                let refill = elapsed * capacity / window.as_secs_f64().max(1e-9);
                (*tokens + refill).min(capacity)
            }
            _ => capacity,
        }
    }

    /// [`PerKey::take`] at `now`.
    pub fn take_at(
        &self,
        buckets: &[(&str, u32)],
        count: u32,
        window: Duration,
        now: Instant,
    ) -> bool {
        let buckets: Vec<(&str, u32)> = buckets.iter().copied().filter(|(_, c)| *c > 0).collect();
        let wanted = f64::from(count);
        self.state.with(now, |entries| {
            let left: Vec<f64> = buckets
                .iter()
                .map(|(key, capacity)| Self::left(entries.get(key), *capacity, window, now))
                .collect();
            if left.iter().any(|tokens| tokens + 1e-9 < wanted) {
                return false;
            }
            for ((key, _), tokens) in buckets.iter().zip(left) {
                // A bucket left alone for a window is full again: forgetting it loses nothing.
                let state = State::Bucket {
                    tokens: tokens - wanted,
                    at: now,
                };
                entries.set(key, state, now + window);
            }
            true
        })
    }

    /// [`PerKey::mark`] at `now`.
    pub fn mark_at(&self, key: &str, window: Duration, now: Instant) -> bool {
        self.state.with(now, |entries| {
            if entries.get(key).is_some() {
                return false;
            }
            entries.set(key, State::Mark, now + window);
            true
        })
    }

    /// [`PerKey::reserve`] at `now`: the slot reserved (at or after `now`).
    pub fn reserve_at(
        &self,
        key: &str,
        gap: Duration,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Instant {
        let limit = limit as usize;
        self.state.with(now, |entries| {
            let (mut slot, mut recent) = match entries.get(key) {
                Some(State::Slots { next, recent }) => (now.max(*next), std::mem::take(recent)),
                _ => (now, VecDeque::new()),
            };
            if limit > 0 && recent.len() >= limit {
                slot = slot.max(recent[recent.len() - limit] + window);
            }
            if limit > 0 {
                recent.push_back(slot);
                while recent.len() > limit {
                    recent.pop_front();
                }
            }
            let next = slot + gap;
            entries.set(key, State::Slots { next, recent }, slot + gap.max(window));
            slot
        })
    }
}

#[async_trait::async_trait]
impl PerKey for Local {
    async fn take(&self, buckets: &[(&str, u32)], count: u32, window: Duration) -> bool {
        self.take_at(buckets, count, window, Instant::now())
    }

    async fn mark(&self, key: &str, window: Duration) -> bool {
        self.mark_at(key, window, Instant::now())
    }

    async fn unmark(&self, key: &str) {
        self.state
            .with(Instant::now(), |entries| entries.remove(key));
    }

    async fn reserve(&self, key: &str, gap: Duration, limit: u32, window: Duration) -> Duration {
        let now = Instant::now();
        self.reserve_at(key, gap, limit, window, now) - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_bucket_allows_a_burst_up_to_its_capacity_then_refills_over_the_window() {
        let local = Local::default();
        let now = Instant::now();
        assert!(local.take_at(&[("u1", 6)], 6, MINUTE, now));
        assert!(!local.take_at(&[("u1", 6)], 1, MINUTE, now + Duration::from_secs(5)));
        assert!(local.take_at(&[("u1", 6)], 1, MINUTE, now + Duration::from_secs(11)));
        assert!(
            local.take_at(&[("u2", 6)], 6, MINUTE, now),
            "keys are separate"
        );
        assert!(local.take_at(&[("u1", 6)], 5, MINUTE, now + 2 * MINUTE));
    }

    #[test]
    fn a_refusal_by_one_bucket_takes_nothing_from_the_others() {
        let local = Local::default();
        let now = Instant::now();
        assert!(local.take_at(&[("user", 5), ("chat9", 2)], 2, MINUTE, now));
        assert!(!local.take_at(&[("user", 5), ("chat9", 2)], 2, MINUTE, now));
        assert!(local.take_at(&[("user", 5), ("chat8", 2)], 2, MINUTE, now));
        assert!(!local.take_at(&[("user", 5), ("chat7", 2)], 2, MINUTE, now));
        assert!(
            local.take_at(&[("other", 5), ("chat7", 2)], 2, MINUTE, now),
            "chat7 lost nothing to the refusal"
        );
        assert!(
            local.take_at(&[("user", 0), ("chat6", 0)], 1000, MINUTE, now),
            "0 means no limit"
        );
    }

    #[test]
    fn a_mark_lasts_its_window_and_can_be_removed() {
        let local = Local::default();
        let now = Instant::now();
        assert!(local.mark_at("k", MINUTE, now));
        assert!(!local.mark_at("k", MINUTE, now + Duration::from_secs(59)));
        assert!(local.mark_at("k", MINUTE, now + MINUTE));
        local.state.with(now, |e| e.remove("k"));
        assert!(local.mark_at("k", MINUTE, now));
    }

    #[test]
    fn slots_keep_their_gap_and_at_most_limit_per_window() {
        let local = Local::default();
        let now = Instant::now();
        let gap = Duration::from_millis(10);
        let slots: Vec<Instant> = (0..4)
            .map(|_| local.reserve_at("g", gap, 3, MINUTE, now))
            .collect();
        assert_eq!(slots[0], now);
        assert_eq!(slots[1] - slots[0], gap);
        assert_eq!(
            slots[3],
            slots[0] + MINUTE,
            "the 4th waits for the 1st to age out"
        );
        let private: Vec<Instant> = (0..4)
            .map(|_| local.reserve_at("p", gap, 0, MINUTE, now))
            .collect();
        assert_eq!(private[3], now + 3 * gap, "no cap when the limit is 0");
    }

    #[test]
    fn the_map_stays_bounded() {
        let map: Expiring<u32> = Expiring::new(100);
        let now = Instant::now();
        for i in 0..5_000u32 {
            map.with(now, |e| e.set(&i.to_string(), i, now + MINUTE));
            assert!(map.len() <= 101, "{} keys after {i}", map.len());
        }
        map.with(now, |e| assert_eq!(e.get("4999").copied(), Some(4999)));
    }
}

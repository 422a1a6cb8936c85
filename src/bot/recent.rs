//! Links recently answered in each group, so a repost gets no second digest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// How many marks between sweeps of expired entries.
const SWEEP_EVERY: usize = 1024;

/// Remembers (chat, link) pairs for a time window.
pub struct RecentLinks {
    window: Duration,
    seen: DashMap<(i64, String), Instant>,
    marks: AtomicUsize,
}

impl RecentLinks {
    /// Remembers each link for `window`.
    pub fn new(window: Duration) -> Self {
        RecentLinks {
            window,
            seen: DashMap::new(),
            marks: AtomicUsize::new(0),
        }
    }

    /// Marks the link as posted in the chat; true when it was not posted there recently.
    pub fn first_time(&self, chat: i64, key: &str) -> bool {
        let now = Instant::now();
        if self.marks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.seen
                .retain(|_, at| now.duration_since(*at) < self.window);
        }
        let mut fresh = true;
        self.seen
            .entry((chat, key.to_owned()))
            .and_modify(|at| {
                if now.duration_since(*at) < self.window {
                    fresh = false;
                } else {
                    *at = now;
                }
            })
            .or_insert(now);
        fresh
    }

    /// Forgets the link in the chat (its digest failed), so a repost is tried again.
    pub fn forget(&self, chat: i64, key: &str) {
        self.seen.remove(&(chat, key.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repost_within_the_window_is_not_new() {
        let recent = RecentLinks::new(Duration::from_secs(60));
        assert!(recent.first_time(1, "k"));
        assert!(!recent.first_time(1, "k"));
        assert!(recent.first_time(2, "k"), "other chats are separate");
        recent.forget(1, "k");
        assert!(recent.first_time(1, "k"));
    }

    #[test]
    fn entries_expire_after_the_window() {
        let recent = RecentLinks::new(Duration::ZERO);
        assert!(recent.first_time(1, "k"));
        assert!(recent.first_time(1, "k"));
    }
}

//! Logging of drops that cannot flood the log: a flood of updates causes a flood of drops,
//! so each kind of drop is logged at most once a second, with how many went unlogged.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The shortest time between two log lines of one kind of drop.
const EVERY: Duration = Duration::from_secs(1);

/// Counts one kind of drop and says when the next log line is due; cheap (two atomics, no
/// allocation), meant to live in a `static` at the place that drops.
pub struct DropLog {
    /// Milliseconds since `start()` when a line was last logged, plus one (0: never).
    last: AtomicU64,
    /// Drops since that line.
    unlogged: AtomicU64,
}

impl DropLog {
    /// A counter that has logged nothing yet.
    pub const fn new() -> Self {
        DropLog {
            last: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
        }
    }

    /// Counts a drop; `Some(n)` when it should be logged now, `n` being the drops of this
    /// kind left unlogged since the last line (to put in that line).
    pub fn due(&self) -> Option<u64> {
        let now = start().elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        let every = EVERY.as_millis() as u64;
        if last != 0 && now < last + every {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // Only one caller wins the line; the others count.
        if self
            .last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.unlogged.swap(0, Ordering::Relaxed))
    }
}

impl Default for DropLog {
    fn default() -> Self {
        Self::new()
    }
}

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_once_with_its_count_then_again_after_a_second() {
        let log = DropLog::new();
        assert_eq!(log.due(), Some(0), "the first drop is logged");
        for _ in 0..299 {
            assert_eq!(log.due(), None);
        }
        std::thread::sleep(EVERY + Duration::from_millis(20));
        assert_eq!(
            log.due(),
            Some(299),
            "the next line counts the unlogged ones"
        );
        assert_eq!(log.due(), None);
    }
}

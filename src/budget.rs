//! The CPU budget of one link: a [`Deadline`] that long loops check as they go.
//!
//! A blocking thread cannot be cancelled from outside, so the work itself asks. The deadline
//! is set for the current thread by [`Deadline::run`]; the extractor's walker, the summarizer
//! and a document reader (page by page) call [`expired`] or [`check`] and stop early, without
//! any change to their signatures.

use std::cell::Cell;
use std::time::{Duration, Instant};

use thiserror::Error;

/// The work on a page ran past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the page took too long to process")]
pub struct Expired;

/// A point in time after which the work on one link stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
}

thread_local! {
    static CURRENT: Cell<Option<Instant>> = const { Cell::new(None) };
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline {
            at: Instant::now() + budget,
        }
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.at
    }

    /// Runs `work` on this thread with this deadline in force for [`expired`] and [`check`];
    /// `Err(Expired)` when the deadline passed before the work ended (its result is partial).
    pub fn run<T>(self, work: impl FnOnce() -> T) -> Result<T, Expired> {
        let outer = CURRENT.with(|c| c.replace(Some(self.at)));
        // put the outer deadline back even if `work` panics
        struct Restore(Option<Instant>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(outer);
        let out = work();
        if self.expired() {
            Err(Expired)
        } else {
            Ok(out)
        }
    }

    /// The deadline in force on this thread, if any.
    pub fn current() -> Option<Deadline> {
        CURRENT.with(Cell::get).map(|at| Deadline { at })
    }
}

/// Whether the deadline in force on this thread has passed (never, without one).
pub fn expired() -> bool {
    CURRENT
        .with(Cell::get)
        .is_some_and(|at| Instant::now() >= at)
}

/// `Err(Expired)` once the deadline in force on this thread has passed: for loops that
/// return a `Result`, such as a reader going page by page.
pub fn check() -> Result<(), Expired> {
    if expired() { Err(Expired) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_within_the_budget_returns_its_result() {
        let out = Deadline::after(Duration::from_secs(60)).run(|| {
            assert!(!expired());
            assert!(check().is_ok());
            42
        });
        assert_eq!(out, Ok(42));
    }

    #[test]
    fn a_loop_that_checks_stops_at_the_deadline() {
        let out = Deadline::after(Duration::from_millis(20)).run(|| {
            let mut rounds = 0u64;
            while check().is_ok() {
                rounds += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            rounds
        });
        assert_eq!(out, Err(Expired));
    }

    #[test]
    fn without_a_deadline_nothing_expires_and_the_outer_one_comes_back() {
        assert!(!expired());
        let outer = Deadline::after(Duration::from_secs(60));
        outer
            .run(|| {
                let _ = Deadline::after(Duration::ZERO).run(|| assert!(expired()));
                assert_eq!(Deadline::current(), Some(outer));
            })
            .unwrap();
        assert_eq!(Deadline::current(), None);
    }
}

//! Links recently answered in each group, so a repost gets no second digest. The marks live
//! in [`PerKey`] state: this process's memory, or Redis when several instances answer for
//! one bot (then a link posted through two instances at once is still answered once).

use std::sync::Arc;
use std::time::Duration;

use crate::perkey::PerKey;

/// Remembers (chat, link) pairs for a time window.
pub struct RecentLinks {
    state: Arc<dyn PerKey>,
    window: Duration,
}

impl RecentLinks {
    /// Remembers each link for `window`.
    pub fn new(state: Arc<dyn PerKey>, window: Duration) -> Self {
        RecentLinks { state, window }
    }

    /// Marks the link as posted in the chat; true when it was not posted there recently.
    pub async fn first_time(&self, chat: i64, key: &str) -> bool {
        self.state.mark(&mark_key(chat, key), self.window).await
    }

    /// Forgets the link in the chat (its digest or its reply failed), so a repost is tried
    /// again.
    pub async fn forget(&self, chat: i64, key: &str) {
        self.state.unmark(&mark_key(chat, key)).await;
    }
}

fn mark_key(chat: i64, key: &str) -> String {
    format!("recent:{chat}:{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perkey::Local;

    fn recent(window: Duration) -> RecentLinks {
        RecentLinks::new(Arc::new(Local::default()), window)
    }

    #[tokio::test]
    async fn a_repost_within_the_window_is_not_new() {
        let recent = recent(Duration::from_secs(60));
        assert!(recent.first_time(1, "k").await);
        assert!(!recent.first_time(1, "k").await);
        assert!(recent.first_time(2, "k").await, "other chats are separate");
        recent.forget(1, "k").await;
        assert!(recent.first_time(1, "k").await);
    }

    #[tokio::test]
    async fn entries_expire_after_the_window() {
        let recent = recent(Duration::ZERO);
        assert!(recent.first_time(1, "k").await);
        assert!(recent.first_time(1, "k").await);
    }
}

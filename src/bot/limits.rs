//! Per-user and per-chat limits on links and commands answered, so nobody can spend the bot
//! on their own. The allowances live in [`PerKey`] state: this process's memory, or Redis when several
//! instances answer for one bot.

use std::sync::Arc;
use std::time::Duration;

use teloxide::types::Message;

use crate::perkey::PerKey;

/// Allowances of one kind (links, commands) per sender and per chat: a token bucket each,
/// `per_window` refilled evenly over `window`, with bursts up to the same number.
pub struct Limits {
    state: Arc<dyn PerKey>,
    kind: &'static str,
    per_user: u32,
    per_chat: u32,
    window: Duration,
}

impl Limits {
    /// Allows `per_user` of `kind` (a key prefix: "link", "command") per sender and
    /// `per_chat` per chat in each `window`; 0 turns a limit off.
    pub fn new(
        state: Arc<dyn PerKey>,
        kind: &'static str,
        per_user: u32,
        per_chat: u32,
        window: Duration,
    ) -> Self {
        Limits {
            state,
            kind,
            per_user,
            per_chat,
            window,
        }
    }

    /// Takes `count` from the sender's allowance alone (an inline message has no chat), or
    /// nothing when too few are left.
    pub async fn allow_sender(&self, sender: i64, count: usize) -> bool {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let user_key = format!("limit:{}:user:{sender}", self.kind);
        let buckets = [(user_key.as_str(), self.per_user)];
        self.state.take(&buckets, count, self.window).await
    }

    /// Takes `count` from the allowances of the message's sender (see [`sender_of`]) and
    /// chat, or from neither. With Redis this asks it: call it from the chat's lane, not
    /// from a handler.
    pub async fn allow_message(&self, msg: &Message, count: usize) -> bool {
        self.allow(sender_of(msg), msg.chat.id.0, count).await
    }

    /// Takes `count` from both the sender's and the chat's allowance, or from neither
    /// when either has too few left.
    pub async fn allow(&self, sender: i64, chat: i64, count: usize) -> bool {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let user_key = format!("limit:{}:user:{sender}", self.kind);
        let chat_key = format!("limit:{}:chat:{chat}", self.kind);
        let buckets = [
            (user_key.as_str(), self.per_user),
            (chat_key.as_str(), self.per_chat),
        ];
        self.state.take(&buckets, count, self.window).await
    }
}

/// Who sent a message, for limits: the sender chat (anonymous admins, channels), else the
/// user, else the chat.
pub(super) fn sender_of(msg: &Message) -> i64 {
    msg.sender_chat
        .as_ref()
        .map(|c| c.id.0)
        .or_else(|| {
            msg.from
                .as_ref()
                .map(|u| i64::try_from(u.id.0).unwrap_or(i64::MAX))
        })
        .unwrap_or(msg.chat.id.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perkey::Local;

    fn limits(per_user: u32, per_chat: u32, window: Duration) -> Limits {
        Limits::new(
            Arc::new(Local::default()),
            "link",
            per_user,
            per_chat,
            window,
        )
    }

    #[tokio::test]
    async fn a_refusal_by_one_limit_takes_nothing_from_the_other() {
        let limits = limits(5, 2, Duration::from_secs(60));
        assert!(limits.allow(1, 9, 2).await);
        assert!(!limits.allow(1, 9, 2).await);
        assert!(limits.allow(1, 8, 2).await, "user 1 still has 3");
        assert!(!limits.allow(1, 7, 2).await);
        assert!(
            limits.allow(2, 7, 2).await,
            "chat 7 lost nothing to user 1's refusal"
        );
    }

    #[tokio::test]
    async fn a_sender_is_not_a_chat_with_the_same_id() {
        let limits = limits(1, 1, Duration::from_secs(60));
        assert!(limits.allow(5, 6, 1).await);
        assert!(limits.allow(6, 5, 1).await);
    }

    #[tokio::test]
    async fn kinds_have_allowances_of_their_own() {
        let state: Arc<dyn PerKey> = Arc::new(Local::default());
        let window = Duration::from_secs(60);
        let links = Limits::new(Arc::clone(&state), "link", 1, 1, window);
        let commands = Limits::new(state, "command", 1, 1, window);
        assert!(links.allow(1, 1, 1).await);
        assert!(
            commands.allow(1, 1, 1).await,
            "links took nothing from commands"
        );
        assert!(!commands.allow(1, 1, 1).await);
    }

    #[tokio::test]
    async fn the_allowance_comes_back_after_its_window() {
        let limits = limits(2, 0, Duration::from_millis(100));
        assert!(limits.allow(1, 1, 2).await);
        assert!(!limits.allow(1, 1, 1).await);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(limits.allow(1, 1, 2).await);
    }

    #[tokio::test]
    async fn zero_means_no_limit() {
        let limits = limits(0, 0, Duration::from_secs(60));
        for _ in 0..1000 {
            assert!(limits.allow(1, 1, 3).await);
        }
    }
}

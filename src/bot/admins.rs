//! Who may change a chat's settings: admins and the owner, checked with Telegram and cached.
//! The check is split so a handler never waits for Telegram: [`AdminCache::decided`] answers
//! from what is known, and [`AdminCache::look_up`] asks Telegram in a task of its own.

use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::types::{Chat, User};

use crate::perkey::Expiring;

/// Remembers getChatMember answers for a few minutes, in this process: a handler reads
/// them without waiting, so they never live in Redis.
pub struct AdminCache {
    ttl: Duration,
    known: Expiring<bool>,
}

impl AdminCache {
    /// Trusts each answer for `ttl`, and remembers `capacity` answers before expired ones
    /// are swept (and, if still over, the soonest to expire).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        AdminCache {
            ttl,
            known: Expiring::new(capacity),
        }
    }

    /// Whether the sender may change settings in `chat`, when that is known without asking
    /// Telegram: anyone in a private chat, an anonymous admin (the chat itself as sender),
    /// nobody without a user, or a cached answer. `None`: ask with [`AdminCache::look_up`].
    pub fn decided(
        &self,
        chat: &Chat,
        user: Option<&User>,
        sender_chat: Option<&Chat>,
    ) -> Option<bool> {
        if chat.is_private() || sender_chat.is_some_and(|s| s.id == chat.id) {
            return Some(true);
        }
        let Some(user) = user else {
            return Some(false);
        };
        let key = admin_key(chat.id.0, user.id.0);
        self.known
            .with(Instant::now(), |known| known.get(&key).copied())
    }

    /// Asks Telegram whether `user` is an administrator or the owner of `chat`, and
    /// remembers the answer; false when Telegram cannot say.
    pub async fn look_up(&self, bot: &Bot, chat: ChatId, user: UserId) -> bool {
        let admin = match bot.get_chat_member(chat, user).await {
            Ok(member) => member.is_privileged(),
            Err(e) => {
                tracing::warn!(chat = chat.0, error = %e, "could not check admin rights");
                return false;
            }
        };
        let now = Instant::now();
        let key = admin_key(chat.0, user.0);
        self.known
            .with(now, |known| known.set(&key, admin, now + self.ttl));
        admin
    }
}

fn admin_key(chat: i64, user: u64) -> String {
    format!("{chat}:{user}")
}

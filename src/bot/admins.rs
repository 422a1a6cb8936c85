//! Who may change a chat's settings: admins and the owner, checked with Telegram and cached.
//! The check is split so a handler never waits for Telegram: [`AdminCache::decided`] answers
//! from what is known, and [`AdminCache::look_up`] asks Telegram in a task of its own.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use teloxide::prelude::*;
use teloxide::types::{Chat, User};

/// Remembers getChatMember answers for a few minutes.
pub struct AdminCache {
    ttl: Duration,
    known: DashMap<(i64, u64), (bool, Instant)>,
}

impl AdminCache {
    /// Trusts each answer for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        AdminCache {
            ttl,
            known: DashMap::new(),
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
        let entry = self.known.get(&(chat.id.0, user.id.0))?;
        let (admin, at) = *entry;
        (at.elapsed() < self.ttl).then_some(admin)
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
        if self.known.len() > 100_000 {
            self.known.retain(|_, (_, at)| at.elapsed() < self.ttl);
        }
        self.known.insert((chat.0, user.0), (admin, Instant::now()));
        admin
    }
}

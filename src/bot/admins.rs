//! Who may change a chat's settings: admins and the owner, checked with Telegram and cached.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use teloxide::prelude::*;
use teloxide::types::{Chat, User};

use super::TgBot;

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

    /// Whether the sender may change settings in `chat`: anyone in a private chat, an
    /// anonymous admin (the chat itself as sender), or an administrator or the owner.
    pub async fn may_change_settings(
        &self,
        bot: &TgBot,
        chat: &Chat,
        user: Option<&User>,
        sender_chat: Option<&Chat>,
    ) -> bool {
        if chat.is_private() || sender_chat.is_some_and(|s| s.id == chat.id) {
            return true;
        }
        let Some(user) = user else { return false };
        let key = (chat.id.0, user.id.0);
        if let Some(entry) = self.known.get(&key) {
            let (admin, at) = *entry;
            if at.elapsed() < self.ttl {
                return admin;
            }
        }
        let admin = match bot.get_chat_member(chat.id, user.id).await {
            Ok(member) => member.is_privileged(),
            Err(e) => {
                tracing::warn!(chat = chat.id.0, error = %e, "could not check admin rights");
                return false;
            }
        };
        if self.known.len() > 100_000 {
            self.known.retain(|_, (_, at)| at.elapsed() < self.ttl);
        }
        self.known.insert(key, (admin, Instant::now()));
        admin
    }
}

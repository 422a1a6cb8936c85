//! What every handler shares: the services, the Telegram-side settings, the limits and repeat
//! marks (local, or in Redis shared with the other instances), the chat lanes and work queue
//! beside the dispatcher, and the outbox.

use std::sync::Arc;

use teloxide::prelude::*;

use super::admins::AdminCache;
use super::limits::Limits;
use super::outbound::Outbox;
use super::recent::RecentLinks;
use super::work::{Lanes, WorkQueue};
use crate::digest::Service;
use crate::perkey::{Local, PerKey};
use crate::redis_state::RedisPerKey;
use crate::store::Store;

pub use crate::config::BotConfig;

/// Everything handlers share.
pub struct App {
    /// Makes and caches digests.
    pub digests: Arc<Service>,
    /// Chat settings and persisted digests.
    pub store: Store,
    /// The Telegram-side settings.
    pub config: BotConfig,
    pub(super) admins: AdminCache,
    pub(super) recent: RecentLinks,
    pub(super) links: Limits,
    pub(super) commands: Limits,
    pub(super) lanes: Lanes,
    pub(super) work: WorkQueue,
    pub(super) outbox: Outbox,
}

impl App {
    /// Ties the services together for the dispatcher; with Redis (the store's), limits,
    /// repeat marks and send windows are shared with the other instances.
    pub fn new(digests: Arc<Service>, store: Store, config: BotConfig) -> Self {
        let state: Arc<dyn PerKey> = match store.shared() {
            Some(redis) => Arc::new(RedisPerKey::new(redis.clone(), config.per_key_capacity)),
            None => Arc::new(Local::with_capacity(config.per_key_capacity)),
        };
        let shared_windows = store.shared().is_some().then(|| Arc::clone(&state));
        let limits = |kind, per_user, per_chat| {
            Limits::new(
                Arc::clone(&state),
                kind,
                per_user,
                per_chat,
                config.link_limit_window,
            )
        };
        App {
            admins: AdminCache::new(config.admin_cache_ttl, config.admin_cache_capacity),
            recent: RecentLinks::new(Arc::clone(&state), config.repeat_window),
            links: limits(
                "link",
                config.user_links_per_minute,
                config.chat_links_per_minute,
            ),
            commands: limits(
                "command",
                config.user_commands_per_minute,
                config.chat_commands_per_minute,
            ),
            lanes: Lanes::new(config.max_queued_work),
            work: WorkQueue::new(
                config.max_pending_work,
                config.max_queued_work,
                config.max_waiting_work,
            ),
            outbox: Outbox::new(&config, shared_windows),
            digests,
            store,
            config,
        }
    }

    /// Whether the allow-list lets `chat_id` use the bot.
    pub(super) fn chat_allowed(&self, chat_id: ChatId) -> bool {
        self.config
            .allowed_chats
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&chat_id.0))
    }

    /// Waits for the updates still in their chat's lane, then for the work in progress, then
    /// for the replies it left in the outbox.
    pub(super) async fn finish(&self) {
        self.lanes.close().await;
        self.work.close().await;
        self.outbox.close().await;
    }
}

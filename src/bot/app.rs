//! What every handler shares: the services, the Telegram-side settings, the limits and repeat
//! marks (local, or in Redis shared with the other instances), the chat lanes and work queue
//! beside the dispatcher, and the outbox.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;

use super::admins::AdminCache;
use super::limits::Limits;
use super::outbound::Outbox;
use super::recent::RecentLinks;
use super::work::{Lanes, WorkQueue};
use crate::digest::Service;
use crate::perkey::{Local, PerKey};
use crate::shared::SharedState;
use crate::store::Store;

/// Settings of the Telegram side.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// Links answered per message; the rest are ignored.
    pub max_links_per_message: usize,
    /// How long an admin check is trusted before asking Telegram again.
    pub admin_cache_ttl: Duration,
    /// A link posted again in the same group within this time gets no second digest.
    pub repeat_window: Duration,
    /// How often "typing…" is repeated while a digest is being made.
    pub typing_interval: Duration,
    /// Messages a second across all chats (Telegram allows about 30).
    pub sends_per_second: u32,
    /// Messages a second in one chat (Telegram allows about 1).
    pub sends_per_second_per_chat: u32,
    /// Messages a minute in one group (Telegram allows about 20).
    pub sends_per_minute_per_chat: u32,
    /// The window `sends_per_minute_per_chat` counts in (a minute; tests shorten it).
    pub sends_window: Duration,
    /// Chats allowed to use the bot; `None` allows every chat.
    pub allowed_chats: Option<HashSet<i64>>,
    /// Links one person may have answered a minute (0: no limit).
    pub user_links_per_minute: u32,
    /// Links one chat may have answered a minute (0: no limit).
    pub chat_links_per_minute: u32,
    /// Commands one person may have answered a minute (0: no limit); more get no reply.
    pub user_commands_per_minute: u32,
    /// Commands one chat may have answered a minute (0: no limit); more get no reply.
    pub chat_commands_per_minute: u32,
    /// The window the link and command limits refill over (a minute; tests shorten it).
    pub link_limit_window: Duration,
    /// Messages being answered at once (fetching, summarizing).
    pub max_pending_work: usize,
    /// Messages waiting for a free slot beyond those, and updates waiting for their chat's
    /// turn to be checked (limits, repeats); more are dropped (and logged).
    pub max_queued_work: usize,
    /// Replies and edits waiting to be sent to one chat; more are dropped (and logged).
    pub outbox_per_chat: usize,
    /// Button answers and admin look-ups in flight at once; more are dropped (and logged).
    pub max_background_calls: usize,
    /// Inline mode (`@bot <link>` in any chat): answers inline queries and asks for them.
    pub inline: bool,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            max_links_per_message: 3,
            admin_cache_ttl: Duration::from_secs(300),
            repeat_window: Duration::from_secs(86_400),
            typing_interval: Duration::from_secs(4),
            sends_per_second: 30,
            sends_per_second_per_chat: 1,
            sends_per_minute_per_chat: 20,
            sends_window: Duration::from_secs(60),
            allowed_chats: None,
            user_links_per_minute: 20,
            chat_links_per_minute: 20,
            user_commands_per_minute: 20,
            chat_commands_per_minute: 60,
            link_limit_window: Duration::from_secs(60),
            max_pending_work: 256,
            max_queued_work: 4096,
            outbox_per_chat: 32,
            max_background_calls: 512,
            inline: true,
        }
    }
}

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
    links: Limits,
    commands: Limits,
    pub(super) lanes: Lanes,
    pub(super) work: WorkQueue,
    pub(super) outbox: Outbox,
}

impl App {
    /// Ties the services together for the dispatcher; with Redis (the store's), limits,
    /// repeat marks and send windows are shared with the other instances.
    pub fn new(digests: Arc<Service>, store: Store, config: BotConfig) -> Self {
        let state: Arc<dyn PerKey> = match store.shared() {
            Some(redis) => Arc::new(SharedState::new(redis.clone())),
            None => Arc::new(Local::default()),
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
            admins: AdminCache::new(config.admin_cache_ttl),
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
            work: WorkQueue::new(config.max_pending_work, config.max_queued_work),
            outbox: Outbox::new(&config, shared_windows),
            digests,
            store,
            config,
        }
    }

    /// Takes `links` from the sender's and the chat's allowance; false when either is spent.
    /// With Redis this asks it: call it from the chat's lane, not from a handler.
    pub(super) async fn within_limits(&self, msg: &Message, links: usize) -> bool {
        let sender = sender_of(msg);
        let allowed = self.links.allow(sender, msg.chat.id.0, links).await;
        if !allowed {
            tracing::info!(chat = msg.chat.id.0, sender, links, "rate limited");
        }
        allowed
    }

    /// Takes one inline fetch from the person's links-a-minute allowance; false (logged)
    /// when it is spent. Inline messages have no chat, so only the person's count applies.
    pub(super) async fn inline_within_limits(&self, user: i64) -> bool {
        let allowed = self.links.allow_sender(user, 1).await;
        if !allowed {
            tracing::info!(sender = user, "inline link rate limited");
        }
        allowed
    }

    /// Takes one command from the sender's and the chat's allowance; false (logged) when
    /// either is spent, and the command then gets no reply. With Redis this asks it: call it
    /// from the chat's lane, not from a handler.
    pub(super) async fn command_within_limits(&self, msg: &Message) -> bool {
        let sender = sender_of(msg);
        let allowed = self.commands.allow(sender, msg.chat.id.0, 1).await;
        static DROPS: super::outbound::DropLog = super::outbound::DropLog::new();
        if !allowed && let Some(unlogged) = DROPS.due() {
            tracing::info!(
                chat = msg.chat.id.0,
                sender,
                unlogged,
                "command dropped: over the command limit"
            );
        }
        allowed
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

//! The Telegram side: dispatcher, handlers, commands and keyboards (teloxide lives only here).
//!
//! Handlers are thin: they parse the update, ask the digest service, render and send. Updates
//! from one chat are handled in order; chats are handled concurrently.

mod admins;
mod callbacks;
mod commands;
mod keyboards;
mod limits;
mod messages;
mod pacing;
mod recent;
mod telegram;
pub mod webhook;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use teloxide::dispatching::UpdateFilterExt;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::update_listeners::Polling;
use teloxide::utils::command::BotCommands;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::digest::Service;
use crate::perkey::{Local, PerKey};
use crate::shared::SharedState;
use crate::store::Store;

pub use commands::Command;

/// The bot handle every handler uses; replies are paced by [`App`]'s pacer.
pub type TgBot = Bot;

/// The error type of handlers; the dispatcher logs it.
type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

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
    /// The window the link limits refill over (a minute; tests shorten it).
    pub link_limit_window: Duration,
    /// Messages being answered at once; when all are busy, reading updates waits.
    pub max_pending_work: usize,
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
            link_limit_window: Duration::from_secs(60),
            max_pending_work: 256,
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
    admins: admins::AdminCache,
    recent: recent::RecentLinks,
    limits: limits::LinkLimits,
    work: TaskTracker,
    work_slots: Arc<Semaphore>,
    pacer: pacing::Pacer,
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
        App {
            admins: admins::AdminCache::new(config.admin_cache_ttl),
            recent: recent::RecentLinks::new(Arc::clone(&state), config.repeat_window),
            limits: limits::LinkLimits::new(
                state,
                config.user_links_per_minute,
                config.chat_links_per_minute,
                config.link_limit_window,
            ),
            work: TaskTracker::new(),
            pacer: pacing::Pacer::new(
                config.sends_per_second,
                config.sends_per_second_per_chat,
                config.sends_per_minute_per_chat,
            )
            .windowed(config.sends_window, shared_windows),
            work_slots: Arc::new(Semaphore::new(config.max_pending_work.max(1))),
            digests,
            store,
            config,
        }
    }

    /// Takes `links` from the sender's and the chat's allowance; false when either is spent.
    async fn within_limits(&self, msg: &Message, links: usize) -> bool {
        let sender = msg
            .sender_chat
            .as_ref()
            .map(|c| c.id.0)
            .or_else(|| {
                msg.from
                    .as_ref()
                    .map(|u| i64::try_from(u.id.0).unwrap_or(i64::MAX))
            })
            .unwrap_or(msg.chat.id.0);
        let allowed = self.limits.allow(sender, msg.chat.id.0, links).await;
        if !allowed {
            tracing::info!(chat = msg.chat.id.0, sender, links, "rate limited");
        }
        allowed
    }

    /// Replies to `msg` once Telegram's limits allow a message to its chat.
    async fn reply(
        &self,
        bot: &TgBot,
        msg: &Message,
        html: &str,
        keyboard: Option<teloxide::types::InlineKeyboardMarkup>,
    ) -> Option<Message> {
        self.pacer.wait(msg.chat.id.0).await;
        telegram::reply(bot, msg, html, keyboard).await
    }

    /// Runs slow work (fetching, summarizing, replying) beside the chat's queue, so one slow
    /// page holds up nobody; when `max_pending_work` jobs are running this waits, which slows
    /// reading updates instead of piling up work. A panic in the job stays in the job.
    async fn spawn(&self, job: impl Future<Output = ()> + Send + 'static) {
        let Ok(slot) = Arc::clone(&self.work_slots).acquire_owned().await else {
            return;
        };
        self.work.spawn(async move {
            job.await;
            drop(slot);
        });
    }

    fn chat_allowed(&self, chat_id: ChatId) -> bool {
        self.config
            .allowed_chats
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&chat_id.0))
    }
}

/// A Bot API client for `token`, talking to `api_url` when given (a local Bot API server,
/// or a test fake) instead of Telegram's.
pub fn client(token: &str, api_url: Option<&url::Url>) -> Bot {
    let bot = Bot::new(token);
    match api_url {
        Some(url) => bot.set_api_url(url.clone()),
        None => bot,
    }
}

/// How the bot receives updates.
pub enum Updates {
    /// Long polling with getUpdates: one instance, no public address needed.
    Polling {
        /// Where to serve `/healthz` and `/metrics`, if anywhere.
        ops: Option<TcpListener>,
    },
    /// Telegram posts each update to the webhook's URL, which reaches its listener
    /// (directly or through a load balancer); `/healthz` and `/metrics` are served there
    /// too unless the webhook names a listener of their own.
    Webhook(webhook::Webhook),
}

/// Why the bot stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Telegram refused or could not be reached (getMe, setWebhook).
    #[error("the Telegram Bot API failed: {0}")]
    Telegram(#[from] teloxide::RequestError),
    /// The web server's socket failed.
    #[error("the web server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the bot until `shutdown` completes, then finishes the updates in progress and
/// returns.
pub async fn run(
    bot: Bot,
    app: App,
    updates: Updates,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let me = bot.get_me().await?;
    tracing::info!(username = %me.username(), "connected to Telegram");
    if !me.can_read_all_group_messages {
        tracing::warn!(
            "privacy mode is on: in groups the bot only sees commands and replies to it; \
             turn it off with BotFather's /setprivacy, then remove and re-add the bot"
        );
    }
    // Telegram documents command names without the leading slash teloxide adds.
    let commands = Command::bot_commands().into_iter().map(|mut c| {
        c.command = c.command.trim_start_matches('/').to_owned();
        c
    });
    if let Err(e) = bot.set_my_commands(commands).await {
        tracing::warn!(error = %e, "could not register the command list");
    }

    let metrics = crate::ops::metrics();
    let app = Arc::new(app);
    let mut dispatcher = Dispatcher::builder(bot.clone(), schema())
        .dependencies(dptree::deps![Arc::clone(&app)])
        .default_handler(|_| async {})
        .build();

    let token = dispatcher.shutdown_token();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing the replies in progress");
        // The token refuses while the dispatcher is still starting; try again shortly. Its
        // "done" future is not awaited: `try_dispatch_with_listener` returning is the signal.
        while token.shutdown().is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });

    let errors = LoggingErrorHandler::with_custom_text("reading updates from Telegram failed");
    match updates {
        Updates::Polling { ops } => {
            let stopped = CancellationToken::new();
            let server = ops.map(|tcp| {
                let router = crate::ops::router(metrics);
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    axum::serve(tcp, router)
                        .with_graceful_shutdown(stopped.cancelled_owned())
                        .await
                })
            });
            let listener = Polling::builder(bot)
                .timeout(Duration::from_secs(10))
                .allowed_updates(webhook::ALLOWED_UPDATES.to_vec())
                .delete_webhook()
                .await
                .build();
            let dispatched = dispatcher
                .try_dispatch_with_listener(listener, errors)
                .await;
            stopped.cancel();
            if let Some(server) = server {
                log_server_end(server.await);
            }
            dispatched?;
        }
        Updates::Webhook(webhook) => {
            let ops = crate::ops::router(metrics);
            let (listener, servers) = webhook::start(&bot, webhook, ops).await?;
            dispatcher
                .try_dispatch_with_listener(listener, errors)
                .await?;
            servers.finish().await;
        }
    }
    // Every update taken from Telegram is answered before the bot exits.
    app.work.close();
    app.work.wait().await;
    Ok(())
}

fn log_server_end(ended: Result<std::io::Result<()>, tokio::task::JoinError>) {
    match ended {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "the web server failed"),
        Err(e) => tracing::error!(error = %e, "the web server stopped unexpectedly"),
    }
}

/// The handler tree: commands, then other messages, then button presses.
fn schema() -> teloxide::dispatching::UpdateHandler<Box<dyn std::error::Error + Send + Sync>> {
    let received = |_: Update| metrics::counter!(crate::ops::UPDATES).increment(1);
    let messages = Update::filter_message()
        .filter(|msg: Message, app: Arc<App>| app.chat_allowed(msg.chat.id))
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(commands::handle),
        )
        .branch(dptree::endpoint(messages::handle));
    let buttons = Update::filter_callback_query()
        .filter(|q: CallbackQuery, app: Arc<App>| {
            q.regular_message()
                .is_none_or(|msg| app.chat_allowed(msg.chat.id))
        })
        .endpoint(callbacks::handle);
    dptree::entry()
        .inspect(received)
        .branch(messages)
        .branch(buttons)
}

/// A message the bot should ignore: its own, other bots', and service messages from
/// channels; an anonymous admin (the chat itself as sender) is not ignored.
fn from_a_bot(msg: &Message, me: &Me) -> bool {
    if msg
        .sender_chat
        .as_ref()
        .is_some_and(|c| c.id == msg.chat.id)
    {
        return false;
    }
    msg.from
        .as_ref()
        .is_some_and(|user| user.is_bot || user.id == me.id)
        || msg.via_bot.is_some()
}

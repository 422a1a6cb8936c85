//! The Telegram side (teloxide lives only here), one way through:
//!
//! - `inbound/`: the handler tree and the handlers for messages, commands and buttons; they
//!   decide and hand on, never waiting for pacing, a slot or Telegram;
//! - `work`: beside the dispatcher, each chat's lane for the checks that may ask Redis
//!   (limits, repeat marks), and slow work (fetch, summarize) in a bounded queue;
//! - `outbound/`: every chat's bounded outbox, pacing, 429 retries and the requests;
//! - `app`: the state they share; `admins`, `limits`, `recent`: per-key state they consult;
//! - `webhook`: the webhook's own web server, in front of the dispatcher.
//!
//! Updates from one chat are handled in order; chats are handled concurrently.

mod admins;
mod app;
mod inbound;
mod keyboards;
mod limits;
mod outbound;
mod recent;
pub mod webhook;
mod work;

use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{AsUpdateStream, Polling, UpdateListener};
use teloxide::utils::command::BotCommands;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use app::{App, BotConfig};
pub use inbound::Command;

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

/// The kinds of update the bot asks Telegram for (polling and setWebhook alike); inline
/// queries and chosen inline results only when inline mode is on. Telegram remembers the
/// last list, so it is sent at every start.
pub fn allowed_updates(inline: bool) -> Vec<AllowedUpdate> {
    let mut kinds = vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery];
    if inline {
        kinds.extend([
            AllowedUpdate::InlineQuery,
            AllowedUpdate::ChosenInlineResult,
        ]);
    }
    kinds
}

/// A listener that keeps the update kinds it was built with. teloxide's dispatcher would
/// replace them with every kind its handler tree might take, which for this tree is all.
struct FixedKinds<L>(L);

impl<L: UpdateListener> UpdateListener for FixedKinds<L> {
    type Err = L::Err;

    fn stop_token(&mut self) -> teloxide::stop::StopToken {
        self.0.stop_token()
    }

    fn hint_allowed_updates(&mut self, _: &mut dyn Iterator<Item = AllowedUpdate>) {}
}

impl<'a, L: AsUpdateStream<'a>> AsUpdateStream<'a> for FixedKinds<L> {
    type StreamErr = L::StreamErr;
    type Stream = L::Stream;

    fn as_stream(&'a mut self) -> Self::Stream {
        self.0.as_stream()
    }
}

/// Whose worker handles an update: updates of one chat in order, and inline updates (which
/// have no chat) in order per user, so they never all wait in one worker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Distribution {
    Chat(i64),
    User(u64),
}

fn distribution(update: &Update) -> Option<Distribution> {
    if let Some(chat) = update.chat() {
        return Some(Distribution::Chat(chat.id.0));
    }
    update.from().map(|user| Distribution::User(user.id.0))
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

/// The dispatcher this bot runs: the handler tree, the shared state, updates of one chat in
/// order.
type BotDispatcher = Dispatcher<Bot, Box<dyn std::error::Error + Send + Sync>, Distribution>;

/// Runs the bot until `shutdown` completes, then finishes the updates in progress and
/// returns.
pub async fn run(
    bot: Bot,
    app: App,
    updates: Updates,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    introduce(&bot, &app.config).await?;
    let metrics = crate::ops::metrics();
    let app = Arc::new(app);
    let mut dispatcher = Dispatcher::builder(bot.clone(), inbound::schema())
        .dependencies(dptree::deps![Arc::clone(&app)])
        .default_handler(|_| async {})
        .distribution_function(distribution)
        // A full per-chat queue makes teloxide stop taking updates for every chat, so a
        // flooding chat gets room for a burst (its handlers only hand on, so it drains fast).
        .worker_queue_size(app.config.updates_queued_per_chat)
        .build();
    stop_on(&dispatcher, shutdown);
    let kinds = allowed_updates(app.config.inline);
    match updates {
        Updates::Polling { ops } => {
            let timeout = app.config.poll_timeout;
            poll(bot, &mut dispatcher, ops, metrics, kinds, timeout).await?
        }
        Updates::Webhook(webhook) => {
            let ops = crate::ops::router(metrics);
            serve_webhook(bot, &mut dispatcher, webhook, ops, kinds).await?;
        }
    }
    // Every update taken from Telegram is answered before the bot exits.
    app.finish().await;
    Ok(())
}

/// Says who the bot is (getMe), warns about BotFather settings that hide updates from it,
/// and registers the command list.
async fn introduce(bot: &Bot, config: &BotConfig) -> Result<(), RunError> {
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

    if config.inline && !me.supports_inline_queries {
        tracing::warn!(
            "inline mode is on here but off at BotFather: turn it on with /setinline, and \
             /setinlinefeedback at 100% so sent placeholders become digests"
        );
    }
    Ok(())
}

/// Stops the dispatcher once `shutdown` completes; it then finishes the updates it took.
fn stop_on(dispatcher: &BotDispatcher, shutdown: impl Future<Output = ()> + Send + 'static) {
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
}

fn listener_errors() -> Arc<LoggingErrorHandler> {
    LoggingErrorHandler::with_custom_text("reading updates from Telegram failed")
}

/// The polling start: getUpdates (after deleting any webhook), with `/healthz` and
/// `/metrics` on `ops` if given, until the dispatcher stops.
async fn poll(
    bot: Bot,
    dispatcher: &mut BotDispatcher,
    ops: Option<TcpListener>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    kinds: Vec<AllowedUpdate>,
    timeout: Duration,
) -> Result<(), RunError> {
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
    let listener = FixedKinds(
        Polling::builder(bot)
            .timeout(timeout)
            .allowed_updates(kinds)
            .delete_webhook()
            .await
            .build(),
    );
    let dispatched = dispatcher
        .try_dispatch_with_listener(listener, listener_errors())
        .await;
    stopped.cancel();
    if let Some(server) = server {
        log_server_end(server.await);
    }
    dispatched?;
    Ok(())
}

/// The webhook start: our web server takes Telegram's posts (setWebhook at start, never
/// deleted at stop), until the dispatcher stops; then the servers finish.
async fn serve_webhook(
    bot: Bot,
    dispatcher: &mut BotDispatcher,
    webhook: webhook::Webhook,
    ops: axum::Router,
    kinds: Vec<AllowedUpdate>,
) -> Result<(), RunError> {
    let (listener, servers) = webhook::start(&bot, webhook, ops, kinds).await?;
    dispatcher
        .try_dispatch_with_listener(listener, listener_errors())
        .await?;
    servers.finish().await;
    Ok(())
}

fn log_server_end(ended: Result<std::io::Result<()>, tokio::task::JoinError>) {
    match ended {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "the web server failed"),
        Err(e) => tracing::error!(error = %e, "the web server stopped unexpectedly"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(kind: &str, payload: serde_json::Value) -> Update {
        let mut json = serde_json::json!({"update_id": 1});
        json[kind] = payload;
        serde_json::from_str(&json.to_string()).expect("an update")
    }

    #[test]
    fn inline_updates_are_distributed_by_user_and_messages_by_chat() {
        let user = serde_json::json!({"id": 7, "is_bot": false, "first_name": "Ann"});
        let query = serde_json::json!({"id": "q", "from": user, "query": "x", "offset": ""});
        assert_eq!(
            distribution(&update("inline_query", query)),
            Some(Distribution::User(7))
        );
        let chosen = serde_json::json!({"result_id": "p:1", "from": user, "query": "x",
            "inline_message_id": "im1"});
        assert_eq!(
            distribution(&update("chosen_inline_result", chosen)),
            Some(Distribution::User(7))
        );
        let message = serde_json::json!({"message_id": 1, "date": 0, "from": user, "text": "hi",
            "chat": {"id": -5, "type": "group", "title": "G"}});
        assert_eq!(
            distribution(&update("message", message)),
            Some(Distribution::Chat(-5))
        );
    }

    #[test]
    fn inline_kinds_are_asked_for_only_with_inline_mode_on() {
        let inline = [
            AllowedUpdate::InlineQuery,
            AllowedUpdate::ChosenInlineResult,
        ];
        assert!(inline.iter().all(|k| allowed_updates(true).contains(k)));
        assert!(inline.iter().all(|k| !allowed_updates(false).contains(k)));
        assert!(allowed_updates(false).contains(&AllowedUpdate::CallbackQuery));
    }
}

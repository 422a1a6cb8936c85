//! `linkdigest run`: the Telegram bot, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use std::net::SocketAddr;

use linkdigest::bot::webhook::Webhook;
use linkdigest::bot::{self, App, Updates};
use tokio::net::TcpListener;

use super::RunArgs;
use linkdigest::config::Config;
use linkdigest::digest::Service;
use linkdigest::redis_state::RedisState;
use linkdigest::store::Store;

/// Starts the bot (long polling, or a webhook when one is configured) and runs it until a
/// shutdown signal.
pub async fn run(config: &Config, args: RunArgs) -> anyhow::Result<ExitCode> {
    let token = config.telegram_token.as_deref().context(
        "TELOXIDE_TOKEN is not set: get a token from @BotFather and put it in the environment or .env",
    )?;
    let mut store = Store::open(&config.db_path, config.store)
        .with_context(|| format!("cannot open the database {}", config.db_path.display()))?;
    let mut digests = Service::new(config)?;
    if let Some(url) = &config.redis_url {
        let shared = match RedisState::connect_within(url, config.redis_timeouts).await {
            Ok(shared) => {
                tracing::info!("sharing the cache and chat settings through Redis");
                shared
            }
            // Redis down at start: run alone rather than not at all, and share once it answers.
            Err(e) => {
                tracing::error!(error = %e, "Redis is not answering: working alone until it does");
                RedisState::connect_later(url, config.redis_timeouts)?
            }
        };
        store = store.with_shared(shared.clone());
        digests = digests.with_shared(shared);
    }
    // Digests made before a restart answer again until the cache TTL runs out.
    let digests = Arc::new(digests.with_archive(Arc::new(store.clone())));
    let app = App::new(digests, store, config.bot.clone());
    let client = bot::client(token, config.telegram_api_url.as_ref());
    let updates = updates(config, args).await?;
    bot::run(client, app, updates, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Webhook mode when a URL is given (flag or setting), else long polling.
async fn updates(config: &Config, args: RunArgs) -> anyhow::Result<Updates> {
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))
    };
    let ops = match config.metrics_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let Some(url) = args.webhook.or_else(|| config.webhook_url.clone()) else {
        return Ok(Updates::Polling { ops });
    };
    let secret = config.webhook_secret.clone().context(
        "LINKDIGEST_WEBHOOK_SECRET is not set: webhook mode needs a secret token \
         (1-256 characters of A-Z, a-z, 0-9, _ and -), the same on every instance",
    )?;
    let listener = bind(args.listen.unwrap_or(config.listen)).await?;
    tracing::info!(listen = %listener.local_addr()?, "receiving updates by webhook");
    Ok(Updates::Webhook(Webhook {
        url,
        secret,
        listener,
        ops,
        limits: config.webhook_limits.clone(),
    }))
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

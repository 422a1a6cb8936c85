//! `linkdigest run`: the Telegram bot, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use linkdigest::bot::{self, App};
use linkdigest::config::Config;
use linkdigest::digest::Service;
use linkdigest::store::Store;

/// Starts the bot with long polling and runs it until a shutdown signal.
pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let token = config.telegram_token.as_deref().context(
        "TELOXIDE_TOKEN is not set: get a token from @BotFather and put it in the environment or .env",
    )?;
    let store = Store::open(&config.db_path, config.store)
        .with_context(|| format!("cannot open the database {}", config.db_path.display()))?;
    let digests = Arc::new(Service::new(config)?);
    let app = App::new(digests, store, config.bot.clone());
    let client = bot::client(token, config.telegram_api_url.as_ref());
    bot::run(client, app, shutdown_signal())
        .await
        .context("cannot reach the Telegram Bot API (is the token right?)")?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
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

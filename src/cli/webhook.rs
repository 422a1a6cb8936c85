//! `linkdigest webhook info|delete`: the webhook as Telegram has it. Instances set it at
//! start and never delete it at stop; deleting it is this deliberate command.

use std::process::ExitCode;

use anyhow::Context;
use linkdigest::bot;
use linkdigest::config::Config;
use teloxide::prelude::*;

use super::WebhookCommand;

/// Runs `webhook info` or `webhook delete` and prints what Telegram answered.
pub async fn run(config: &Config, command: WebhookCommand) -> anyhow::Result<ExitCode> {
    let token = config.telegram_token.as_deref().context(
        "TELOXIDE_TOKEN is not set: get a token from @BotFather and put it in the environment or .env",
    )?;
    let client = bot::client(token, config.telegram_api_url.as_ref());
    match command {
        WebhookCommand::Info => {
            let info = client
                .get_webhook_info()
                .await
                .context("Telegram did not answer getWebhookInfo")?;
            match &info.url {
                None => println!("no webhook: the bot receives updates by long polling"),
                Some(url) => println!(
                    "webhook: {}://{}/…",
                    url.scheme(),
                    url.host_str().unwrap_or("")
                ),
            }
            println!("pending updates: {}", info.pending_update_count);
            if let Some(n) = info.max_connections {
                println!("max connections: {n}");
            }
            if let Some(kinds) = &info.allowed_updates {
                // Telegram's own names (message, callback_query), as serde writes them.
                let names: Vec<String> = kinds
                    .iter()
                    .filter_map(|kind| serde_json::to_value(kind).ok())
                    .filter_map(|name| name.as_str().map(str::to_owned))
                    .collect();
                println!("update kinds: {}", names.join(", "));
            }
            if let Some(error) = &info.last_error_message {
                println!("last delivery error: {error}");
            }
        }
        WebhookCommand::Delete => {
            client
                .delete_webhook()
                .await
                .context("Telegram did not answer deleteWebhook")?;
            println!("webhook deleted: no instance receives updates until one starts again");
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! Slash commands: /start, /help, /summarize, /length, /mode, /settings.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{Chat, Me, User};
use teloxide::utils::command::BotCommands;

use super::messages::{self, links_in};
use super::{App, HandlerResult, TgBot, from_a_bot, keyboards};
use crate::digest::Length;
use crate::settings::{ChatSettings, Mode};
use crate::store::StoreError;

/// The commands the bot understands (registered with setMyCommands).
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// What this bot does.
    #[command(description = "what this bot does")]
    Start,
    /// The commands and how to use them.
    #[command(description = "how to use this bot")]
    Help,
    /// Summarize a link, or the links of the message this replies to.
    #[command(description = "summarize a link (or reply to a message with one)")]
    Summarize(String),
    /// Show or set the digest length.
    #[command(description = "digest length: short, medium or long")]
    Length(String),
    /// Show or set when the bot answers links.
    #[command(description = "when to answer links: auto, manual or off")]
    Mode(String),
    /// Show the chat's settings.
    #[command(description = "this chat's settings")]
    Settings,
}

pub(super) const ONLY_ADMINS: &str = "Only group admins can change settings.";

/// Answers a command; a command someone typed always gets an answer, in groups too.
pub async fn handle(
    bot: TgBot,
    msg: Message,
    cmd: Command,
    me: Me,
    app: Arc<App>,
) -> HandlerResult {
    if from_a_bot(&msg, &me) {
        return Ok(());
    }
    let chat = msg.chat.id.0;
    match cmd {
        Command::Start | Command::Help => {
            app.reply(&bot, &msg, &help(&msg, &me), None).await;
        }
        Command::Summarize(arg) => summarize(&bot, &msg, &app, &arg).await?,
        Command::Length(arg) if arg.trim().is_empty() => {
            let current = app.store.settings(chat).await?.length;
            let text = format!("Digest length in this chat: {current}.");
            app.reply(&bot, &msg, &text, Some(keyboards::lengths(current)))
                .await;
        }
        Command::Length(arg) => {
            let answer = match arg.parse::<Length>() {
                Err(e) => format!("{}.", capitalized(&e.to_string())),
                Ok(length) => {
                    change(
                        &bot,
                        &msg,
                        &app,
                        |s| s.length = length,
                        || format!("Digests in this chat are now {length}."),
                    )
                    .await?
                }
            };
            app.reply(&bot, &msg, &answer, None).await;
        }
        Command::Mode(arg) if arg.trim().is_empty() => {
            let current = app.store.settings(chat).await?.mode;
            let text = format!("Mode in this chat: {current}. {}", explain(current));
            app.reply(&bot, &msg, &text, Some(keyboards::modes(current)))
                .await;
        }
        Command::Mode(arg) => {
            let answer = match arg.parse::<Mode>() {
                Err(e) => format!("{}.", capitalized(&e.to_string())),
                Ok(mode) => {
                    change(
                        &bot,
                        &msg,
                        &app,
                        |s| s.mode = mode,
                        || format!("Mode is now {mode}. {}", explain(mode)),
                    )
                    .await?
                }
            };
            app.reply(&bot, &msg, &answer, None).await;
        }
        Command::Settings => {
            let s = app.store.settings(chat).await?;
            let text = format!(
                "Settings for this chat:\nLength: {}\nMode: {} ({})",
                s.length,
                s.mode,
                summary(s.mode)
            );
            app.reply(&bot, &msg, &text, None).await;
        }
    }
    Ok(())
}

/// Applies `update` to the chat's settings if the sender may, returning what to say.
async fn change(
    bot: &TgBot,
    msg: &Message,
    app: &App,
    update: impl FnOnce(&mut ChatSettings),
    done: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    let changed = change_settings(
        bot,
        app,
        &msg.chat,
        msg.from.as_ref(),
        msg.sender_chat.as_ref(),
        update,
    )
    .await?;
    Ok(if changed {
        done()
    } else {
        ONLY_ADMINS.to_owned()
    })
}

/// Applies `update` to the settings of `chat` when the sender is allowed to change them;
/// false (and nothing changed) for anyone else.
pub(super) async fn change_settings(
    bot: &TgBot,
    app: &App,
    chat: &Chat,
    user: Option<&User>,
    sender_chat: Option<&Chat>,
    update: impl FnOnce(&mut ChatSettings),
) -> Result<bool, StoreError> {
    if !app
        .admins
        .may_change_settings(bot, chat, user, sender_chat)
        .await
    {
        return Ok(false);
    }
    let mut settings = app.store.settings(chat.id.0).await?;
    update(&mut settings);
    app.store.save_settings(chat.id.0, settings).await?;
    Ok(true)
}

/// `/summarize <link>`, or `/summarize` in reply to a message with links.
async fn summarize(bot: &TgBot, msg: &Message, app: &Arc<App>, arg: &str) -> HandlerResult {
    let max = app.config.max_links_per_message;
    let mut urls = links_in(msg, max);
    if urls.is_empty() {
        urls = msg
            .reply_to_message()
            .map(|replied| links_in(replied, max))
            .unwrap_or_default();
    }
    if urls.is_empty() {
        let text = if arg.trim().is_empty() {
            "Send /summarize with a link, or reply /summarize to a message that has one."
        } else {
            "I found no web link in that. Send /summarize with an http or https link."
        };
        app.reply(bot, msg, text, None).await;
        return Ok(());
    }
    if !app.within_limits(msg, urls.len()).await {
        app.reply(bot, msg, messages::SLOW_DOWN, None).await;
        return Ok(());
    }
    let length = app.store.settings(msg.chat.id.0).await?.length;
    let (bot, msg, worker) = (bot.clone(), msg.clone(), Arc::clone(app));
    app.spawn(async move {
        messages::answer(&bot, &msg, &worker, &urls, length, true).await;
    })
    .await;
    Ok(())
}

fn explain(mode: Mode) -> &'static str {
    match mode {
        Mode::Auto => "I answer every link.",
        Mode::Manual => "I answer /summarize and messages that mention me or reply to me.",
        Mode::Off => "I answer no links here, only commands.",
    }
}

/// The mode in a few words, for /settings.
fn summary(mode: Mode) -> &'static str {
    match mode {
        Mode::Auto => "every link",
        Mode::Manual => "only /summarize, mentions and replies",
        Mode::Off => "no links",
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The /start and /help text, with the privacy-mode hint in groups when it applies.
fn help(msg: &Message, me: &Me) -> String {
    let mut text = String::from(
        "I read the links you share and reply with a short digest of the article. \
         Tap <b>Expand</b> under a digest for a longer summary.\n\n\
         /summarize &lt;link&gt; — summarize a link, or reply /summarize to a message with one\n\
         /length short|medium|long — how long digests are in this chat\n\
         /mode auto|manual|off — answer every link, only when asked, or none\n\
         /settings — this chat's settings\n\n\
         In groups, only admins can change settings.",
    );
    if !msg.chat.is_private() && !me.can_read_all_group_messages {
        text.push_str(
            "\n\nI can only see commands and replies to me here. To digest every link, \
             an admin can make me an admin, or turn my privacy mode off \
             (BotFather → /setprivacy → Disable) and then remove and re-add me.",
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_and_without_the_bot_name() {
        let parse = |text| Command::parse(text, "digest_bot").ok();
        assert_eq!(parse("/length long"), Some(Command::Length("long".into())));
        assert_eq!(
            parse("/length@digest_bot"),
            Some(Command::Length(String::new()))
        );
        assert_eq!(
            parse("/summarize https://e.org/a"),
            Some(Command::Summarize("https://e.org/a".into()))
        );
        assert!(parse("/length@other_bot short").is_none());
        assert!(parse("/unknown").is_none());
    }

    #[test]
    fn error_messages_start_with_a_capital() {
        assert_eq!(capitalized("length must be short"), "Length must be short");
        assert_eq!(capitalized(""), "");
    }
}

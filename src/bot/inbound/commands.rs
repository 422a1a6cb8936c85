//! Slash commands: /start, /help, /summarize, /length, /mode, /settings.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, Me};
use teloxide::utils::command::BotCommands;

use super::HandlerResult;
use super::messages::{self, from_a_bot, links_in};
use super::settings::{self, Asker, Changed, NOT_READ, NOT_SAVED, ONLY_ADMINS};
use crate::bot::limits::sender_of;
use crate::bot::outbound::Outgoing;
use crate::bot::{App, keyboards};
use crate::digest::Length;
use crate::settings::{Mode, Setting};

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

/// Answers a command; a command someone typed always gets an answer, in groups too, unless
/// the person or the chat is over the command limit (then it is dropped and logged). The
/// limit check (Redis, when shared) and the answer run in the chat's lane.
pub async fn handle(bot: Bot, msg: Message, cmd: Command, me: Me, app: Arc<App>) -> HandlerResult {
    if from_a_bot(&msg, &me) {
        return Ok(());
    }
    let lane = Arc::clone(&app);
    app.lanes.push(msg.chat.id.0, "command", async move {
        if within_command_limits(&lane, &msg).await {
            answer(bot, msg, cmd, me, lane).await;
        }
    });
    Ok(())
}

/// Takes one command from the sender's and the chat's allowance; false (logged) when either
/// is spent, and the command then gets no reply. With Redis this asks it: call it from the
/// chat's lane, not from a handler.
async fn within_command_limits(app: &App, msg: &Message) -> bool {
    let allowed = app.commands.allow_message(msg, 1).await;
    static DROPS: crate::bot::outbound::DropLog = crate::bot::outbound::DropLog::new();
    if !allowed && let Some(unlogged) = DROPS.due() {
        tracing::info!(
            chat = msg.chat.id.0,
            sender = sender_of(msg),
            unlogged,
            "command dropped: over the command limit"
        );
    }
    allowed
}

/// Answers a command within the limit: replies go to the outbox, summaries to the work
/// queue, admin look-ups to a task of their own.
async fn answer(bot: Bot, msg: Message, cmd: Command, me: Me, app: Arc<App>) {
    let chat = msg.chat.id.0;
    let reply = |kind: &str, text: String, keyboard: Option<InlineKeyboardMarkup>| {
        let item = Outgoing::reply(&msg, text, keyboard).coalescing(kind);
        app.outbox.send(&bot, item);
    };
    match cmd {
        Command::Start | Command::Help => reply("help", help(&msg, &me), None),
        Command::Summarize(arg) => summarize(&bot, &msg, &app, &arg).await,
        Command::Length(arg) if arg.trim().is_empty() => match app.store.settings(chat).await {
            Ok(s) => {
                let text = format!("Digest length in this chat: {}.", s.length);
                reply("length", text, Some(keyboards::lengths(s.length)));
            }
            Err(e) => {
                tracing::warn!(chat, error = %e, "could not read the settings");
                reply("length", NOT_READ.to_owned(), None);
            }
        },
        Command::Length(arg) => match arg.parse::<Length>() {
            Err(e) => reply("length", format!("{}.", capitalized(&e.to_string())), None),
            Ok(length) => {
                let done = format!("Digests in this chat are now {length}.");
                change(&bot, &msg, &app, "length", Setting::Length(length), done).await;
            }
        },
        Command::Mode(arg) if arg.trim().is_empty() => match app.store.settings(chat).await {
            Ok(s) => {
                let text = format!("Mode in this chat: {}. {}", s.mode, explain(s.mode));
                reply("mode", text, Some(keyboards::modes(s.mode)));
            }
            Err(e) => {
                tracing::warn!(chat, error = %e, "could not read the settings");
                reply("mode", NOT_READ.to_owned(), None);
            }
        },
        Command::Mode(arg) => match arg.parse::<Mode>() {
            Err(e) => reply("mode", format!("{}.", capitalized(&e.to_string())), None),
            Ok(mode) => {
                let done = format!("Mode is now {mode}. {}", explain(mode));
                change(&bot, &msg, &app, "mode", Setting::Mode(mode), done).await;
            }
        },
        Command::Settings => {
            let text = match app.store.settings(chat).await {
                Ok(s) => format!(
                    "Settings for this chat:\nLength: {}\nMode: {} ({})",
                    s.length,
                    s.mode,
                    summary(s.mode)
                ),
                Err(e) => {
                    tracing::warn!(chat, error = %e, "could not read the settings");
                    NOT_READ.to_owned()
                }
            };
            reply("settings", text, None);
        }
    }
}

/// Makes `change` to the chat's settings if the sender may, then replies `done` (or why
/// not); a later reply of the same kind replaces it only while waiting and only for the same
/// sender. The admin look-up, when needed, runs off the dispatcher.
async fn change(
    bot: &Bot,
    msg: &Message,
    app: &Arc<App>,
    kind: &'static str,
    change: Setting,
    done: String,
) {
    let asker = Asker {
        chat: &msg.chat,
        user: msg.from.as_ref(),
        sender_chat: msg.sender_chat.as_ref(),
    };
    let (bot_, msg_) = (bot.clone(), msg.clone());
    let answer = move |app: &App, outcome: Changed| {
        let text = match outcome {
            Changed::Saved => done,
            Changed::NotAllowed => ONLY_ADMINS.to_owned(),
            Changed::NotSaved => NOT_SAVED.to_owned(),
        };
        // Per sender: another member's refusal must not replace a saved change's reply.
        let kind = format!("{kind} from {}", sender_of(&msg_));
        let item = Outgoing::reply(&msg_, text, None).coalescing(&kind);
        app.outbox.send(&bot_, item);
    };
    settings::change(app, bot, asker, change, answer).await;
}

/// `/summarize <link>`, or `/summarize` in reply to a message with links.
async fn summarize(bot: &Bot, msg: &Message, app: &Arc<App>, arg: &str) {
    let max = app.config.max_links_per_message;
    let mut urls = links_in(msg, max);
    if urls.is_empty() {
        urls = msg
            .reply_to_message()
            .map(|replied| links_in(replied, max))
            .unwrap_or_default();
    }
    let refusal = if urls.is_empty() {
        Some(if arg.trim().is_empty() {
            "Send /summarize with a link, or reply /summarize to a message that has one."
        } else {
            "I found no web link in that. Send /summarize with an http or https link."
        })
    } else if !messages::within_link_limits(app, msg, urls.len()).await {
        Some(messages::SLOW_DOWN)
    } else {
        None
    };
    if let Some(text) = refusal {
        let item = Outgoing::reply(msg, text, None).coalescing("summarize");
        app.outbox.send(bot, item);
        return;
    }
    let length = match app.store.settings(msg.chat.id.0).await {
        Ok(settings) => settings.length,
        Err(e) => {
            tracing::warn!(chat = msg.chat.id.0, error = %e, "could not read the settings");
            Length::default()
        }
    };
    let (worker, bot_, msg_) = (Arc::clone(app), bot.clone(), msg.clone());
    let queued = app.work.push("summarize", async move {
        messages::answer(&bot_, &msg_, &worker, &urls, length, true).await;
    });
    if !queued {
        app.outbox
            .send(bot, Outgoing::reply(msg, messages::BUSY, None));
    }
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

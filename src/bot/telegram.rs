//! Sending to Telegram: replies, edits, "typing…", and what to do when Telegram says no.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{
    ChatAction, InlineKeyboardMarkup, LinkPreviewOptions, MessageId, ParseMode, ReplyParameters,
};
use teloxide::{ApiError, RequestError};
use tokio::task::JoinHandle;

use super::TgBot;

/// How many times a request is retried after Telegram asks us to wait (HTTP 429).
const RETRIES_AFTER_429: usize = 5;

/// Runs `request`, waiting and retrying when Telegram answers 429 `retry_after`.
pub async fn with_retry<T, Fut>(mut request: impl FnMut() -> Fut) -> Result<T, RequestError>
where
    Fut: Future<Output = Result<T, RequestError>>,
{
    for _ in 0..RETRIES_AFTER_429 {
        match request().await {
            Err(RequestError::RetryAfter(wait)) => {
                tracing::warn!(seconds = wait.seconds(), "Telegram asked us to slow down");
                tokio::time::sleep(wait.duration()).await;
            }
            other => return other,
        }
    }
    request().await
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Replies to `msg` with HTML text (in its forum topic, without a link preview); failures
/// are logged and dropped, since nothing more can be done for that message.
pub async fn reply(
    bot: &TgBot,
    msg: &Message,
    html: &str,
    keyboard: Option<InlineKeyboardMarkup>,
) -> Option<Message> {
    let result = with_retry(|| {
        let mut request = bot
            .send_message(msg.chat.id, html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview())
            .reply_parameters(ReplyParameters::new(msg.id));
        if let (true, Some(thread)) = (msg.is_topic_message, msg.thread_id) {
            request = request.message_thread_id(thread);
        }
        if let Some(keyboard) = keyboard.clone() {
            request = request.reply_markup(keyboard);
        }
        request.into_future()
    })
    .await;
    match result {
        Ok(sent) => Some(sent),
        Err(e) => {
            log_dropped("reply", msg.chat.id, &e);
            None
        }
    }
}

/// Replaces the text and buttons of a message the bot sent; an unchanged message is fine.
pub async fn edit(
    bot: &TgBot,
    chat: ChatId,
    message: MessageId,
    html: &str,
    keyboard: InlineKeyboardMarkup,
) {
    let result = with_retry(|| {
        bot.edit_message_text(chat, message, html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview())
            .reply_markup(keyboard.clone())
            .into_future()
    })
    .await;
    match result {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
        Err(e) => log_dropped("edit", chat, &e),
    }
}

/// Logs a request that failed for good: the chat is gone, the message deleted or too old.
fn log_dropped(what: &str, chat: ChatId, error: &RequestError) {
    let gone = matches!(
        error,
        RequestError::Api(
            ApiError::BotBlocked
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::ChatNotFound
                | ApiError::MessageToReplyNotFound
                | ApiError::MessageToEditNotFound
                | ApiError::MessageCantBeEdited
        ) | RequestError::MigrateToChatId(_)
    );
    if gone {
        tracing::info!(chat = chat.0, error = %error, "{what} dropped: the chat or message is gone");
    } else {
        tracing::warn!(chat = chat.0, error = %error, "{what} failed");
    }
}

/// Shows "typing…" in a chat until dropped, repeating it as Telegram clears it after ~5 s.
pub struct Typing(JoinHandle<()>);

impl Typing {
    /// Starts showing "typing…" in the chat (and forum topic) of `msg`.
    pub fn start(bot: &TgBot, msg: &Message, every: Duration) -> Self {
        let bot = bot.clone();
        let chat = msg.chat.id;
        let thread = msg.thread_id.filter(|_| msg.is_topic_message);
        Typing(tokio::spawn(async move {
            loop {
                let mut action = bot.send_chat_action(chat, ChatAction::Typing);
                if let Some(thread) = thread {
                    action = action.message_thread_id(thread);
                }
                if let Err(e) = action.await {
                    tracing::debug!(chat = chat.0, error = %e, "typing indicator failed");
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }))
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

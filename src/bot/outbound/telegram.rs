//! The requests themselves: replies, edits, button answers, "typing…", and what to do when
//! Telegram says no.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{
    CallbackQueryId, ChatAction, LinkPreviewOptions, ParseMode, ReplyParameters,
};
use teloxide::{ApiError, RequestError};
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;

use super::request::What;

/// How many times a request is retried after Telegram asks us to wait (HTTP 429).
const RETRIES_AFTER_429: usize = 5;

/// How long Telegram takes the answer to a button press or an inline query: a retry later
/// than this can only fail ("query is too old"), so it is not waited for.
const QUERY_LIFETIME: Duration = Duration::from_secs(10);

/// How long a message or edit waits in all for Telegram's 429s. A flood wait can be hours:
/// waiting it out would hold the chat's outbox (its later replies are dropped meanwhile) and
/// the bot's shutdown, for a reply nobody expects any more.
const MESSAGE_PATIENCE: Duration = Duration::from_secs(300);

/// Runs `request`, waiting and retrying when Telegram answers 429 `retry_after`, while the
/// waits add up to less than [`MESSAGE_PATIENCE`].
pub async fn with_retry<T, Fut>(request: impl FnMut() -> Fut) -> Result<T, RequestError>
where
    Fut: Future<Output = Result<T, RequestError>>,
{
    retry_within(Some(MESSAGE_PATIENCE), request).await
}

/// [`with_retry`], but only while the waits add up to less than `budget` (when given): past
/// it, the 429 is the answer.
async fn retry_within<T, Fut>(
    budget: Option<Duration>,
    mut request: impl FnMut() -> Fut,
) -> Result<T, RequestError>
where
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut waited = Duration::ZERO;
    for _ in 0..RETRIES_AFTER_429 {
        match request().await {
            Err(RequestError::RetryAfter(wait))
                if budget.is_none_or(|budget| waited + wait.duration() < budget) =>
            {
                tracing::warn!(seconds = wait.seconds(), "Telegram asked us to slow down");
                tokio::time::sleep(wait.duration()).await;
                waited += wait.duration();
            }
            other => return other,
        }
    }
    request().await
}

/// Link preview off: a digest shows its own text, not the page's card.
pub fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// How a delivery ended.
pub enum Sent {
    /// Telegram took it (an unchanged edit counts).
    Done,
    /// Telegram refused it for good; logged.
    Failed,
    /// The bot can no longer write to the chat (kicked, blocked, not a member, chat gone);
    /// logged. Nothing else waiting for the chat can be sent either.
    Gone,
    /// The group became a supergroup with this id; nothing was sent.
    Moved(ChatId),
}

/// Sends a reply or edit to `chat` as Telegram's limits allow, retrying after a 429.
pub(super) async fn deliver(bot: &Bot, chat: ChatId, what: &What) -> Sent {
    send(bot, chat, what, true).await
}

/// Like [`deliver`], but a reply goes out as a plain message: after a migration the
/// replied-to message and the forum topic belong to the old chat.
pub(super) async fn deliver_unthreaded(bot: &Bot, chat: ChatId, what: &What) -> Sent {
    send(bot, chat, what, false).await
}

/// Answers an inline query or edits an inline message, retrying after a 429.
pub(super) async fn deliver_inline(bot: &Bot, what: &What) -> Sent {
    let result = match what {
        What::EditInline { id, html, keyboard } => match with_retry(|| {
            let mut request = bot
                .edit_message_text_inline(id.clone(), html.clone())
                .parse_mode(ParseMode::Html)
                // teloxide has no link_preview_options for inline edits; this is its old form.
                .disable_web_page_preview(true);
            if let Some(keyboard) = keyboard.clone() {
                request = request.reply_markup(keyboard);
            }
            request.into_future()
        })
        .await
        {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(e) => Err(e),
        },
        What::AnswerInline(answer) => retry_within(Some(QUERY_LIFETIME), || {
            let mut request = bot
                .answer_inline_query(answer.query.clone(), answer.results.clone())
                .cache_time(answer.cache_time)
                .is_personal(answer.personal);
            if let Some(button) = answer.button.clone() {
                request = request.button(button);
            }
            request.into_future()
        })
        .await
        .map(drop),
        What::Reply { .. } | What::Edit { .. } => {
            tracing::error!("a chat's reply or edit was sent as an inline one");
            return Sent::Failed;
        }
    };
    match result {
        Ok(()) => Sent::Done,
        Err(e) => {
            // A query answered late, or an inline message deleted: nothing to do about it.
            tracing::info!(error = %e, "inline answer or edit dropped");
            Sent::Failed
        }
    }
}

async fn send(bot: &Bot, chat: ChatId, what: &What, as_reply: bool) -> Sent {
    let result = match what {
        What::EditInline { .. } | What::AnswerInline(_) => return deliver_inline(bot, what).await,
        What::Reply {
            to,
            thread,
            html,
            keyboard,
        } => with_retry(|| {
            let mut request = bot
                .send_message(chat, html)
                .parse_mode(ParseMode::Html)
                .link_preview_options(no_preview());
            if as_reply {
                // A reply to a message deleted meanwhile is still worth sending.
                request = request
                    .reply_parameters(ReplyParameters::new(*to).allow_sending_without_reply());
                if let Some(thread) = thread {
                    request = request.message_thread_id(*thread);
                }
            }
            if let Some(keyboard) = keyboard.clone() {
                request = request.reply_markup(keyboard);
            }
            request.into_future()
        })
        .await
        .map(drop),
        What::Edit {
            message,
            html,
            keyboard,
        } => match with_retry(|| {
            bot.edit_message_text(chat, *message, html)
                .parse_mode(ParseMode::Html)
                .link_preview_options(no_preview())
                .reply_markup(keyboard.clone())
                .into_future()
        })
        .await
        {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => Sent::Done,
        // Only a new message can follow the group to its new id: an edit's message id means
        // nothing there.
        Err(RequestError::MigrateToChatId(to))
            if as_reply && matches!(what, What::Reply { .. }) =>
        {
            Sent::Moved(to)
        }
        Err(e) => {
            let what = match what {
                What::Reply { .. } => "reply",
                What::Edit { .. } => "edit",
                What::EditInline { .. } | What::AnswerInline(_) => "inline answer or edit",
            };
            log_dropped(what, chat, &e);
            if chat_gone(&e) {
                Sent::Gone
            } else {
                Sent::Failed
            }
        }
    }
}

/// Whether Telegram says the bot can no longer write to the chat at all (not merely that a
/// message is gone). teloxide knows some of these answers only as text.
fn chat_gone(error: &RequestError) -> bool {
    match error {
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated,
        ) => true,
        RequestError::Api(ApiError::Unknown(text)) => {
            text.starts_with("Forbidden: bot was kicked")
                || text.starts_with("Forbidden: bot is not a member")
        }
        _ => false,
    }
}

/// Answers a button press (with a pop-up text when given); a failure is only logged.
pub async fn answer_callback(bot: &Bot, id: CallbackQueryId, text: Option<&str>) {
    let result = retry_within(Some(QUERY_LIFETIME), || {
        let mut request = bot.answer_callback_query(id.clone());
        if let Some(text) = text {
            request = request.text(text);
        }
        request.into_future()
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not answer a button press");
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
pub struct Typing {
    task: JoinHandle<()>,
    _place: OwnedSemaphorePermit,
}

impl Typing {
    /// Starts showing "typing…" in the chat (and forum topic) of `msg`, holding `place`
    /// among the indicators allowed at once until dropped.
    pub(super) fn start(
        bot: &Bot,
        msg: &Message,
        every: Duration,
        place: OwnedSemaphorePermit,
    ) -> Self {
        let bot = bot.clone();
        let chat = msg.chat.id;
        let thread = msg.thread_id.filter(|_| msg.is_topic_message);
        Typing {
            task: tokio::spawn(async move {
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
            }),
            _place: place,
        }
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use teloxide::types::Seconds;

    use super::*;

    /// A request answered 429 `retry_after` `seconds` every time; counts the calls.
    async fn always_busy(calls: &AtomicUsize, seconds: u32) -> Result<(), RequestError> {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(RequestError::RetryAfter(Seconds::from_seconds(seconds)))
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_is_not_retried_after_its_query_has_expired() {
        let calls = AtomicUsize::new(0);
        let answer = retry_within(Some(QUERY_LIFETIME), || always_busy(&calls, 4)).await;
        assert!(matches!(answer, Err(RequestError::RetryAfter(_))));
        // Waits of 4 s and 4 s fit in 10 s; a third would not.
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicUsize::new(0);
        let reply = with_retry(|| always_busy(&calls, 30)).await;
        assert!(matches!(reply, Err(RequestError::RetryAfter(_))));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            RETRIES_AFTER_429 + 1,
            "a message keeps trying"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_does_not_wait_out_a_flood_wait_of_hours() {
        let calls = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let reply = with_retry(|| always_busy(&calls, 3 * 3600)).await;
        assert!(matches!(reply, Err(RequestError::RetryAfter(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
}

//! The requests that leave through the outbox: what the outbox holds and `telegram` sends,
//! apart from both so neither imports the other.

use teloxide::types::{
    InlineKeyboardMarkup, InlineQueryId, InlineQueryResult, InlineQueryResultsButton, MessageId,
    ThreadId,
};

/// The request an outbox item becomes.
pub(super) enum What {
    /// A new message replying to `to` (sent even if `to` was deleted meanwhile).
    Reply {
        to: MessageId,
        thread: Option<ThreadId>,
        html: String,
        keyboard: Option<InlineKeyboardMarkup>,
    },
    /// New text and buttons for a message the bot sent.
    Edit {
        message: MessageId,
        html: String,
        keyboard: InlineKeyboardMarkup,
    },
    /// New text (and buttons, if any) for a message sent in inline mode.
    EditInline {
        id: String,
        html: String,
        keyboard: Option<InlineKeyboardMarkup>,
    },
    /// The answer to an inline query.
    AnswerInline(InlineAnswer),
}

/// The answer to an inline query: its results, the button above them and Telegram's caching.
pub struct InlineAnswer {
    /// The query answered.
    pub query: InlineQueryId,
    /// The results, at most 50.
    pub results: Vec<InlineQueryResult>,
    /// The button shown above the results, if any.
    pub button: Option<InlineQueryResultsButton>,
    /// How long Telegram may reuse the answer for the same query.
    pub cache_time: u32,
    /// Whether Telegram may reuse it only for the same user.
    pub personal: bool,
}

//! The inbound side: the handler tree and the handlers for messages, commands and button
//! presses. Handlers decide and hand on; they never wait for pacing, a slot, Telegram or
//! Redis (the checks of limits and repeats run in the chat's lane, replies go to the outbox,
//! slow work to the work queue, admin look-ups to a task).

mod callbacks;
mod commands;
mod inline;
mod messages;
mod settings;

use std::sync::Arc;

use teloxide::dispatching::UpdateFilterExt;
use teloxide::prelude::*;

use super::App;

pub use commands::Command;

/// The answer to a press in a chat the allow-list refuses.
pub const NOT_AVAILABLE: &str = "Not available here.";

/// The error type of handlers; the dispatcher logs it.
type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The handler tree: commands, then other messages, then button presses, then (when inline
/// mode is on) inline queries and the inline results people sent.
pub fn schema() -> teloxide::dispatching::UpdateHandler<Box<dyn std::error::Error + Send + Sync>> {
    let received = |_: Update| metrics::counter!(crate::ops::UPDATES).increment(1);
    let messages = Update::filter_message()
        .filter(|msg: Message, app: Arc<App>| app.chat_allowed(msg.chat.id))
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(commands::handle),
        )
        .branch(dptree::endpoint(messages::handle));
    let buttons = Update::filter_callback_query().endpoint(callbacks::handle);
    let inline_on = |app: Arc<App>| app.config.inline;
    let inline_queries = Update::filter_inline_query()
        .filter(inline_on)
        .endpoint(inline::query);
    let chosen = Update::filter_chosen_inline_result()
        .filter(inline_on)
        .endpoint(inline::chosen);
    dptree::entry()
        .inspect(received)
        .branch(messages)
        .branch(buttons)
        .branch(inline_queries)
        .branch(chosen)
}
